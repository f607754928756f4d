import { Inject, Injectable } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { BoundedLruMap } from '../common/bounded-lru-map';
import { AccountResolverTimeoutError } from '../errors/account-resolver-timeout.error';
import { UnknownAccountError } from '../errors/unknown-account.error';
import { concealSecrets } from '../errors/secret-redaction';
import type { TokenStore, WeixinAccount, WeixinAccountResolver } from '../interfaces';
import type { ResolvedWeixinMediaOptions } from '../interfaces/resolved-weixin-media-options.interface';
import { AccessTokenManager } from '../tokens/access-token.manager';
import { AccountTokens } from '../weixin-api/account-tokens';
import { raceAbort } from '../weixin-api/retry-policy';
import { WeixinTransport } from '../weixin-api/weixin-transport';
import { WEIXIN_MEDIA_MODULE_OPTIONS, WEIXIN_TOKEN_STORE } from '../weixin-media.constants';
import { accountProblems, isAppId } from './weixin-account.rules';

/** One account as the module acts for it: its AppID and its own token state. */
export interface ResolvedAccount {
  readonly appId: string;
  readonly tokens: AccessTokenManager;
  /** The callback secrets the account brings (listed or answered); the default account's are the module's. */
  readonly callback?: Readonly<Pick<WeixinAccount, 'callbackToken' | 'encodingAESKey'>>;
}

interface CachedAccount extends ResolvedAccount {
  /** Epoch ms after which the resolver is asked again. */
  readonly staleAt: number;
}

/**
 * The Official Accounts the module acts for: the default (top-level `appId`), the `accounts` list, and
 * what the accounts resolver answers. Each account has its own token manager (its own store key, lock
 * and single flight), so one account's refreshes and failures never touch another's. Resolutions are
 * single-flight per AppID, cached for `accountCacheMs`, and kept in an LRU of `maxAccounts`; a resolver that
 * does not answer within `timeoutMs` fails the calls waiting on it, and the next call asks it again.
 * Every wait ends when the call's signal aborts.
 * Which account a call is for travels with the call (an async context), so every service method,
 * including ones added later, runs for the account `forAccount()` bound it to.
 */
@Injectable()
export class WeixinAccounts implements AccountTokens {
  protected readonly context = new AsyncLocalStorage<string>();
  protected readonly cache: BoundedLruMap<string, CachedAccount>;
  protected readonly resolving = new Map<string, Promise<ResolvedAccount>>();
  protected readonly listed?: ReadonlyMap<string, WeixinAccount>;
  protected readonly defaultAccount?: ResolvedAccount;

  constructor(
    @Inject(WEIXIN_MEDIA_MODULE_OPTIONS) protected readonly options: ResolvedWeixinMediaOptions,
    protected readonly transport: WeixinTransport,
    @Inject(WEIXIN_TOKEN_STORE) protected readonly store: TokenStore,
    defaultTokens: AccessTokenManager,
  ) {
    this.cache = new BoundedLruMap(options.maxAccounts, 'WeixinAccounts');
    if (Array.isArray(options.accounts)) {
      this.listed = new Map(
        options.accounts.map((account) => [account.appId, concealSecrets({ ...account })]),
      );
    }
    if (options.appId !== undefined) {
      this.defaultAccount = { appId: options.appId, tokens: defaultTokens };
    }
  }

  /** Runs `call` (and everything it awaits) for the account `appId`. */
  run<T>(appId: string, call: () => T): T {
    return this.context.run(appId, call);
  }

  /** The AppID the current call is for: the one bound by `run()`, else the default account. */
  currentAppId(): string {
    const appId = this.context.getStore() ?? this.options.appId;
    if (appId === undefined) {
      throw new Error(
        'No default account: this module has accounts but no top-level appId, so say which account ' +
          'a call is for with service.forAccount(appId)',
      );
    }
    return appId;
  }

  /** The account the current call is for; rejects with `UnknownAccountError` when there is none. */
  current(signal?: AbortSignal): Promise<ResolvedAccount> {
    try {
      return this.resolve(this.currentAppId(), signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The account for `appId`, resolved once for all concurrent callers and cached. `signal` ends this
   * caller's wait only: the others keep waiting for the resolution.
   */
  resolve(appId: string, signal?: AbortSignal): Promise<ResolvedAccount> {
    if (this.defaultAccount && appId === this.defaultAccount.appId) {
      return Promise.resolve(this.defaultAccount);
    }
    const cached = this.cache.get(appId);
    if (cached && cached.staleAt > Date.now()) return Promise.resolve(cached);
    let pending = this.resolving.get(appId);
    if (!pending) {
      const loading: Promise<ResolvedAccount> = this.load(appId).then(
        (account) => {
          // forget() during the resolution: its answer is not kept.
          if (this.resolving.get(appId) === loading) {
            this.resolving.delete(appId);
            this.remember(account);
          }
          return account;
        },
        (error: unknown) => {
          // An unknown or failed account is never cached: the next call asks again.
          if (this.resolving.get(appId) === loading) this.resolving.delete(appId);
          throw error;
        },
      );
      this.resolving.set(appId, loading);
      pending = loading;
    }
    return raceAbort(pending, signal);
  }

  /** Drops what is cached for `appId` (credentials rotated, account removed); asked again next time. */
  forget(appId: string): void {
    this.cache.delete(appId);
    this.resolving.delete(appId);
  }

  protected async load(appId: string): Promise<CachedAccount> {
    if (!isAppId(appId)) throw new UnknownAccountError(appId);
    const { accounts } = this.options;
    const answer = typeof accounts === 'function' ? await this.ask(accounts, appId) : this.listed?.get(appId);
    if (answer === undefined || answer === null) throw new UnknownAccountError(appId);
    const problems = accountProblems(answer, `the account answered for "${appId}"`);
    if (answer.appId !== appId) {
      problems.push(`the accounts resolver was asked for "${appId}" and answered "${String(answer.appId)}"`);
    }
    if (problems.length > 0) {
      throw new TypeError(`The accounts resolver answered an unusable account: ${problems.join('; ')}`);
    }
    const { callbackToken, encodingAESKey } = answer;
    return {
      appId,
      tokens: this.createTokens(answer),
      callback: concealSecrets({ callbackToken, encodingAESKey }),
      // A list does not change: only a resolver's answer goes stale.
      staleAt: typeof accounts === 'function' ? Date.now() + this.options.accountCacheMs : Infinity,
    };
  }

  /** The resolver's answer within `timeoutMs`: one that never answers must not wedge its AppID. */
  protected ask(resolver: WeixinAccountResolver, appId: string): Promise<WeixinAccount | undefined> {
    const limit = this.options.timeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new AccountResolverTimeoutError(appId, limit)), limit);
      // A wedged resolver must not hold a closing app's process open either.
      timer.unref();
      Promise.resolve()
        .then(() => resolver(appId))
        .then(resolve, reject)
        .finally(() => clearTimeout(timer));
    });
  }

  protected createTokens(account: WeixinAccount): AccessTokenManager {
    return new AccessTokenManager(
      {
        ...this.options,
        appId: account.appId,
        appSecret: account.appSecret,
        accessTokenProvider: account.accessTokenProvider,
        tokenMode: account.tokenMode ?? this.options.tokenMode,
      },
      this.transport,
      this.store,
    );
  }

  protected remember(account: CachedAccount): void {
    this.cache.set(account.appId, account);
  }
}
