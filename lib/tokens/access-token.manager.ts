import { Inject, Injectable, Logger } from '@nestjs/common';
import { WeixinApiError } from '../errors/weixin-api.error';
import { WeixinNetworkError } from '../errors/weixin-network.error';
import { traced } from '../telemetry';
import type { WeixinTokenSource } from '../weixin-api/account-tokens';
import type { RetryBudget } from '../weixin-api/request-attempts';
import { abortReason, raceAbort, sleep } from '../weixin-api/retry-policy';
import { type WeixinCall, WeixinTransport } from '../weixin-api/weixin-transport';
import type { StoredAccessToken, TokenStore } from '../interfaces';
import type { ResolvedWeixinMediaOptions } from '../interfaces/resolved-weixin-media-options.interface';
import { WEIXIN_MEDIA_MODULE_OPTIONS, WEIXIN_TOKEN_STORE } from '../weixin-media.constants';
import { WeixinErrorCode } from '../errors/weixin-error-codes';

interface TokenAnswer {
  access_token: string;
  expires_in: number;
}

/** How often a process waiting for another's refresh looks at the store again. */
const LOCK_POLL_MS = 40;
/** The lock holder gives up its fetch this long before its lease ends, so two holders never overlap. */
const LEASE_SAFETY_MS = 1_000;

/**
 * Owns the access token: serves it from the store, refreshes it ahead of expiry with one request at a
 * time (single flight in the process, a store lock across processes), and drops exactly the token
 * Weixin rejected.
 */
@Injectable()
export class AccessTokenManager implements WeixinTokenSource {
  protected readonly logger = new Logger(AccessTokenManager.name);
  protected readonly storeKey: string;
  protected pending?: Promise<string>;

  constructor(
    @Inject(WEIXIN_MEDIA_MODULE_OPTIONS) protected readonly options: ResolvedWeixinMediaOptions,
    protected readonly transport: WeixinTransport,
    @Inject(WEIXIN_TOKEN_STORE) protected readonly store: TokenStore,
  ) {
    this.storeKey = `${options.appId}:${options.tokenMode}`;
  }

  /**
   * A token that is valid now; waits for a refresh when there is none. A refresh this call starts
   * spends the call's `budget` (callers that join it spend nothing: one request serves them all).
   */
  async getToken(signal?: AbortSignal, budget?: RetryBudget): Promise<string> {
    if (signal?.aborted) {
      throw abortReason(signal);
    }
    if (!this.options.accessTokenProvider) {
      const cached = await this.store.get(this.storeKey);
      if (cached && cached.expiresAt > Date.now()) {
        return cached.token;
      }
    }
    this.pending ??= this.refresh(budget).finally(() => (this.pending = undefined));
    return raceAbort(this.pending, signal);
  }

  /** Drops `token` after Weixin rejected it, unless another caller already replaced it. */
  async invalidate(token: string): Promise<void> {
    if (!this.options.accessTokenProvider) {
      await this.store.delete(this.storeKey, token);
    }
  }

  protected async refresh(budget?: RetryBudget): Promise<string> {
    const provider = this.options.accessTokenProvider;
    if (provider) {
      return provider();
    }
    if (this.options.appId === undefined) {
      throw new Error('No default account: this module has no top-level appId; use forAccount(appId)');
    }
    if (!this.options.tokenRefresh) {
      return this.awaitSharedToken();
    }
    for (;;) {
      const cached = await this.store.get(this.storeKey);
      if (cached && cached.expiresAt > Date.now()) {
        return cached.token;
      }
      const lock = await this.store.tryLock(this.storeKey, this.lockLeaseMs());
      if (lock) {
        try {
          // Another process may have refreshed between our read and our lock.
          const current = await this.store.get(this.storeKey);
          if (current && current.expiresAt > Date.now()) {
            return current.token;
          }
          const fresh = await this.fetchToken(this.lockLeaseMs() - LEASE_SAFETY_MS, budget);
          await this.store.set(this.storeKey, fresh);
          return fresh.token;
        } finally {
          await lock.release();
        }
      }
      await sleep(LOCK_POLL_MS + Math.random() * LOCK_POLL_MS);
    }
  }

  /**
   * `tokenRefresh: false`: this instance may not ask Weixin (it is outside the IP allow-list), so it
   * waits for a token that an instance which may refresh writes into the shared store.
   */
  protected async awaitSharedToken(): Promise<string> {
    const { timeoutMs, tokenMode, appId } = this.options;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const cached = await this.store.get(this.storeKey);
      if (cached && cached.expiresAt > Date.now()) {
        return cached.token;
      }
      if (Date.now() >= deadline) {
        throw new WeixinNetworkError(
          `no ${tokenMode} access token for ${appId} appeared in the token store within ${timeoutMs} ms; ` +
            'this instance has tokenRefresh: false and never asks Weixin itself, so an instance that may ' +
            'refresh must share its tokenStore (e.g. RedisTokenStore) and be running',
          tokenMode === 'classic' ? '/cgi-bin/token' : '/cgi-bin/stable_token',
          undefined,
          'ETIMEDOUT',
        );
      }
      await sleep(Math.min(LOCK_POLL_MS + Math.random() * LOCK_POLL_MS, Math.max(1, deadline - Date.now())));
    }
  }

  /**
   * Asks Weixin for a token, retries included, within `budgetMs`. Stable mode never forces a refresh
   * (that would kill the token the rest of the fleet is using).
   */
  protected fetchToken(budgetMs: number, retries?: RetryBudget): Promise<StoredAccessToken> {
    const { appId, tokenMode } = this.options;
    return traced('weixin.token.fetch', { appId, tokenMode }, async (span) => {
      const fetched = await this.requestToken(budgetMs, retries);
      span.set({ outcome: 'fetched' });
      return fetched;
    });
  }

  protected async requestToken(budgetMs: number, retries?: RetryBudget): Promise<StoredAccessToken> {
    const { appId = '', appSecret = '', tokenMode, timeoutMs } = this.options;
    const credentials = { grant_type: 'client_credential', appid: appId, secret: appSecret };
    // The token fetch goes without a token; it may be repeated (stable mode answers the same token).
    const request: WeixinCall & { answer: 'json' } =
      tokenMode === 'classic'
        ? { method: 'GET', path: '/cgi-bin/token', query: credentials, answer: 'json', repeatable: true }
        : {
            method: 'POST',
            path: '/cgi-bin/stable_token',
            json: { ...credentials, force_refresh: false },
            answer: 'json',
            repeatable: true,
          };
    const fetchedAt = Date.now();
    const budget = new AbortController();
    const timer = setTimeout(
      () =>
        budget.abort(
          new WeixinNetworkError(
            `no access token within ${budgetMs} ms`,
            request.path,
            undefined,
            'ETIMEDOUT',
          ),
        ),
      budgetMs,
    );
    const data = await this.transport
      .request<TokenAnswer>(
        { ...request, budget: retries, timeoutMs: Math.min(timeoutMs, budgetMs) },
        budget.signal,
      )
      .finally(() => clearTimeout(timer));
    if (typeof data?.access_token !== 'string' || !(data.expires_in > 0)) {
      throw new WeixinApiError(
        WeixinErrorCode.SYSTEM_BUSY,
        'the token answer had no access_token or expires_in',
        request.path,
      );
    }
    this.logger.debug(`Fetched a ${tokenMode} access token for ${appId}, valid ${data.expires_in} s`);
    return { token: data.access_token, expiresAt: fetchedAt + this.usableLifetimeMs(data.expires_in) };
  }

  /** Refresh ahead of expiry: a tenth of the lifetime early, at most 5 minutes. */
  protected usableLifetimeMs(expiresInSeconds: number): number {
    const lifetimeMs = expiresInSeconds * 1000;
    return lifetimeMs - Math.min(5 * 60_000, lifetimeMs / 10);
  }

  /** A crashed lock holder blocks the others for at most this long. */
  protected lockLeaseMs(): number {
    return Math.min(this.options.timeoutMs, 15_000) + 5_000;
  }
}
