import { FakeTokenRegistry, type TokenCheck, type TokenGrant } from './fake-token-registry';

interface FakeAccount {
  appSecret: string;
  readonly tokens: FakeTokenRegistry;
}

/** Whose a token is and whether it works: `appId` is set for every token the fake still knows. */
export interface TokenOwner {
  appId?: string;
  check: TokenCheck;
}

/**
 * The Official Accounts the fake serves, each with its own secret and its own tokens (classic and
 * stable tokens of one account never touch another's), and which account every live token belongs to.
 */
export class FakeAccounts {
  private readonly accounts = new Map<string, FakeAccount>();
  /** token value → appId, for every token a registry still knows. */
  private readonly owners = new Map<string, string>();

  constructor(private readonly tokenLifetimeMs: number) {}

  /** Adds an account, or gives an existing one a new secret (its tokens stay valid, as on Weixin). */
  add(appId: string, appSecret: string): void {
    if (typeof appId !== 'string' || !/^[\w-]{1,64}$/.test(appId)) {
      throw new TypeError(
        `A fake account's appId must be 1-64 letters, digits, - or _, got "${String(appId)}"`,
      );
    }
    if (typeof appSecret !== 'string' || appSecret === '') {
      throw new TypeError(`The fake account ${appId} needs a non-empty appSecret`);
    }
    const existing = this.accounts.get(appId);
    if (existing) {
      existing.appSecret = appSecret;
      return;
    }
    const tokens = new FakeTokenRegistry(this.tokenLifetimeMs, (value) => this.owners.delete(value));
    this.accounts.set(appId, { appSecret, tokens });
  }

  has(appId: string): boolean {
    return this.accounts.has(appId);
  }

  get size(): number {
    return this.accounts.size;
  }

  /** The errcode Weixin answers for these token request parameters, or undefined when they are good. */
  checkCredentials(grantType: unknown, appId: unknown, secret: unknown): number | undefined {
    if (grantType !== 'client_credential') return 40002;
    if (appId === undefined || appId === '') return 41002;
    const account = typeof appId === 'string' ? this.accounts.get(appId) : undefined;
    if (!account) return 40013;
    if (secret === undefined || secret === '') return 41004;
    if (secret !== account.appSecret) return 40125;
    return undefined;
  }

  /** `GET /cgi-bin/token` for a known account (checked with `checkCredentials` first). */
  issueClassic(appId: string, now: number): TokenGrant {
    return this.owned(appId, this.registry(appId).issueClassic(now));
  }

  /** `POST /cgi-bin/stable_token`: a grant, or the errcode for a refused forced refresh. */
  issueStable(appId: string, now: number, forceRefresh: boolean): TokenGrant | 45009 | 45011 {
    const grant = this.registry(appId).issueStable(now, forceRefresh);
    return typeof grant === 'number' ? grant : this.owned(appId, grant);
  }

  /** Whose `token` is and whether it works now. */
  check(token: string, now: number): TokenOwner {
    const appId = this.owners.get(token);
    if (appId === undefined) return { check: 40001 };
    return { appId, check: this.registry(appId).check(token, now) };
  }

  /** Every token of every account expires now. */
  expireAll(now: number): void {
    for (const { tokens } of this.accounts.values()) tokens.expireAll(now);
  }

  /** Forgets every token; the accounts stay. */
  clearTokens(): void {
    for (const { tokens } of this.accounts.values()) tokens.clear();
    this.owners.clear();
  }

  private registry(appId: string): FakeTokenRegistry {
    const account = this.accounts.get(appId);
    if (!account) throw new Error(`fake server bug: no account ${appId}`);
    return account.tokens;
  }

  private owned(appId: string, grant: TokenGrant): TokenGrant {
    this.owners.set(grant.accessToken, appId);
    return grant;
  }
}
