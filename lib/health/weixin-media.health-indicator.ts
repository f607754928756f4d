import { Inject, Injectable, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { WeixinAccounts } from '../accounts/weixin-accounts';
import { requireOptionalPeer } from '../common/optional-peer';
import { redactSecrets } from '../errors/secret-redaction';
import { WeixinApiError } from '../errors/weixin-api.error';
import type { TokenStore } from '../interfaces';
import { TemporaryMediaService } from '../temporary-media.service';
import type { ResolvedWeixinMediaOptions } from '../interfaces/resolved-weixin-media-options.interface';
import { WEIXIN_MEDIA_MODULE_OPTIONS, WEIXIN_TOKEN_STORE } from '../weixin-media.constants';
import type {
  WeixinMediaHealthDetails,
  WeixinMediaHealthOptions,
  WeixinMediaHealthResult,
} from './weixin-media-health.options';

const DEFAULT_STEP_TIMEOUT_MS = 5_000;

type Terminus = typeof import('@nestjs/terminus');

/** The part of terminus' `HealthIndicatorService` used here (its types stay out of this package's). */
export interface HealthIndicatorSessions {
  check(key: string): { up(data: object): object; down(data: object): object };
}

/**
 * A health indicator for `@nestjs/terminus`: the token store answers, an access token is obtainable, and
 * (with `minQuotaRemain`) today's upload quota is above a floor. `WeixinMediaModule` provides and exports
 * it; inject it beside terminus' `HealthCheckService` and check
 * `() => this.weixin.isHealthy('weixin', { minQuotaRemain: 1000 })`. `@nestjs/terminus` is loaded on the
 * first check, never before. The details never hold a token or a secret.
 */
@Injectable()
export class WeixinMediaHealthIndicator {
  constructor(
    protected readonly media: TemporaryMediaService,
    protected readonly accounts: WeixinAccounts,
    @Inject(WEIXIN_TOKEN_STORE) protected readonly store: TokenStore,
    @Inject(WEIXIN_MEDIA_MODULE_OPTIONS) protected readonly options: ResolvedWeixinMediaOptions,
    @Optional() protected readonly moduleRef?: ModuleRef,
  ) {}

  async isHealthy<const Key extends string>(
    key: Key,
    options: WeixinMediaHealthOptions = {},
  ): Promise<WeixinMediaHealthResult<Key>> {
    const session = this.indicators().check(key);
    const timeoutMs = options.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
    const details: WeixinMediaHealthDetails = {};
    const run = <T>(step: (signal: AbortSignal) => Promise<T>): Promise<T> =>
      options.appId === undefined
        ? withTimeout(step, timeoutMs)
        : this.accounts.run(options.appId, () => withTimeout(step, timeoutMs));
    try {
      const account = await run(() => this.accounts.current());
      details.appId = account.appId;
      details.store = 'down';
      // A read of a key nobody writes: the store answers (or not) without touching a real token. The
      // user's own store, not the module's fallback around it: calls carry on without Redis, but it is down.
      const store = this.options.tokenStore ?? this.store;
      await run(() => store.get(`${account.appId}:health-probe`));
      details.store = 'up';
      details.token = 'down';
      await run((signal) => account.tokens.getToken(signal));
      details.token = 'up';
      if (options.minQuotaRemain !== undefined) {
        const quota = await run((signal) => this.media.quota(signal));
        details.quota = { ...quota, minQuotaRemain: options.minQuotaRemain };
        if (quota.remain < options.minQuotaRemain) {
          const message = `${quota.remain} uploads left today, below the floor of ${options.minQuotaRemain}`;
          return session.down({ ...details, message }) as WeixinMediaHealthResult<Key>;
        }
      }
      return session.up({ ...details }) as WeixinMediaHealthResult<Key>;
    } catch (error) {
      return session.down({ ...details, ...describe(error) }) as WeixinMediaHealthResult<Key>;
    }
  }

  /** Terminus' own result helper: the one its module provides, else a fresh one (it keeps no state). */
  protected indicators(): HealthIndicatorSessions {
    // An optional peer: loaded on the first health check, never at import.
    const { HealthIndicatorService } = requireOptionalPeer<Terminus>(
      '@nestjs/terminus',
      'WeixinMediaHealthIndicator',
      'npm install @nestjs/terminus, and import TerminusModule',
    );
    try {
      return this.moduleRef?.get(HealthIndicatorService, { strict: false }) ?? new HealthIndicatorService();
    } catch {
      return new HealthIndicatorService();
    }
  }
}

function describe(error: unknown): Pick<WeixinMediaHealthDetails, 'message' | 'errcode' | 'hint'> {
  if (error instanceof WeixinApiError) {
    return { message: error.message, errcode: error.errcode, hint: error.hint };
  }
  // A store's own error (a Redis reply, a socket error) could quote anything: redacted as well.
  return { message: redactSecrets(error instanceof Error ? error.message : String(error)) };
}

async function withTimeout<T>(step: (signal: AbortSignal) => Promise<T>, timeoutMs: number): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`no answer within ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([step(controller.signal), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
