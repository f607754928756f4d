import { randomBytes } from 'node:crypto';

const MINUTE_MS = 60 * 1000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** How long a superseded classic token keeps working, and how early a stable token is renewed. */
const OVERLAP_MS = 5 * MINUTE_MS;
const FORCE_REFRESH_PER_DAY = 20;
const FORCE_REFRESH_SPACING_MS = 30 * 1000;
/** Dead tokens are forgotten after this long (then they answer 40001 rather than 42001). */
const FORGET_AFTER_MS = DAY_MS;

export type TokenKind = 'classic' | 'stable';

interface IssuedToken {
  readonly value: string;
  readonly kind: TokenKind;
  expiresAt: number;
  /** When a newer token (or a forced refresh) ended this one before its expiry. */
  supersededAt?: number;
}

export interface TokenGrant {
  accessToken: string;
  /** Whole seconds the answered token still lives. */
  expiresIn: number;
}

/** 0 when the token works, else the errcode Weixin answers for it. */
export type TokenCheck = 0 | 40001 | 42001;

/**
 * Access tokens as Weixin hands them out: classic tokens supersede each other with a 5-minute overlap;
 * the stable token is shared between callers and renewed 5 minutes before expiry; the two never interact.
 */
export class FakeTokenRegistry {
  /** Insertion order is issue order, which lets `forget` stop at the first token still worth keeping. */
  private readonly tokens = new Map<string, IssuedToken>();
  private latestClassic?: IssuedToken;
  private currentStable?: IssuedToken;
  private forceRefreshTimes: number[] = [];

  constructor(
    private readonly lifetimeMs: number,
    /** Told about every token value the registry stops knowing (forgotten or cleared). */
    private readonly onForget: (value: string) => void = () => undefined,
  ) {}

  /** `GET /cgi-bin/token`: always a new token; the previous one dies 5 minutes later. */
  issueClassic(now: number): TokenGrant {
    if (this.latestClassic) this.supersede(this.latestClassic, now + OVERLAP_MS);
    this.latestClassic = this.issue('classic', now);
    return this.grant(this.latestClassic, now);
  }

  /** `POST /cgi-bin/stable_token`: a grant, or the errcode for a refused forced refresh. */
  issueStable(now: number, forceRefresh: boolean): TokenGrant | 45009 | 45011 {
    if (forceRefresh) {
      this.forceRefreshTimes = this.forceRefreshTimes.filter((at) => now - at < DAY_MS);
      if (this.forceRefreshTimes.length >= FORCE_REFRESH_PER_DAY) return 45009;
      const last = this.forceRefreshTimes[this.forceRefreshTimes.length - 1];
      if (last !== undefined && now - last < FORCE_REFRESH_SPACING_MS) return 45011;
      this.forceRefreshTimes.push(now);
      if (this.currentStable) this.supersede(this.currentStable, now);
      this.currentStable = this.issue('stable', now);
      return this.grant(this.currentStable, now);
    }
    const current = this.currentStable;
    if (!current || this.check(current.value, now) !== 0 || now >= current.expiresAt - this.renewWindowMs()) {
      // Renewal leaves the old token alone: it lives until its own expiry.
      this.currentStable = this.issue('stable', now);
    }
    return this.grant(this.currentStable!, now);
  }

  check(value: string, now: number): TokenCheck {
    const token = this.tokens.get(value);
    if (!token) return 40001;
    // Whichever ended it first decides the code: replaced (40001) or expired (42001).
    const superseded = token.supersededAt ?? Infinity;
    if (now >= superseded && superseded < token.expiresAt) return 40001;
    return now >= token.expiresAt ? 42001 : 0;
  }

  /** Every token issued so far expires now. */
  expireAll(now: number): void {
    for (const token of this.tokens.values()) token.expiresAt = Math.min(token.expiresAt, now);
  }

  clear(): void {
    for (const value of this.tokens.keys()) this.onForget(value);
    this.tokens.clear();
    this.latestClassic = undefined;
    this.currentStable = undefined;
    this.forceRefreshTimes = [];
  }

  /** Under 10 minutes of lifetime a token is renewed at half-life, so short test lifetimes still reuse it. */
  private renewWindowMs(): number {
    return Math.min(OVERLAP_MS, this.lifetimeMs / 2);
  }

  private issue(kind: TokenKind, now: number): IssuedToken {
    this.forget(now);
    // Real tokens are ~136 URL-safe characters; clients must store at least 512.
    const value = randomBytes(102).toString('base64url');
    const token: IssuedToken = { value, kind, expiresAt: now + this.lifetimeMs };
    this.tokens.set(token.value, token);
    return token;
  }

  private supersede(token: IssuedToken, at: number): void {
    token.supersededAt = Math.min(token.supersededAt ?? Infinity, at);
  }

  private grant(token: IssuedToken, now: number): TokenGrant {
    return { accessToken: token.value, expiresIn: Math.floor((token.expiresAt - now) / 1000) };
  }

  /** Keeps the map from growing without bound when a benchmark hammers the token endpoint. */
  private forget(now: number): void {
    for (const [value, token] of this.tokens) {
      const diedAt = Math.min(token.expiresAt, token.supersededAt ?? Infinity);
      if (now - diedAt < FORGET_AFTER_MS) break;
      if (token === this.latestClassic || token === this.currentStable) continue;
      this.tokens.delete(value);
      this.onForget(value);
    }
  }
}
