/** What `WeixinMediaHealthIndicator.isHealthy` checks beyond a token and the token store. */
export interface WeixinMediaHealthOptions {
  /**
   * Report down when fewer uploads than this are left today (`quota()`); unset: the quota is not asked.
   * A floor above 0 warns before 45009 stops every upload until midnight Beijing time.
   */
  minQuotaRemain?: number;
  /**
   * The account to check (`forAccount(appId)`).
   * @default the default account
   */
  appId?: string;
  /**
   * The longest each step (store, token, quota) may take before the check reports down.
   * @default 5000
   */
  timeoutMs?: number;
}

/** One health check's details, as terminus shows them under the indicator's key. */
export interface WeixinMediaHealthDetails {
  appId?: string;
  store?: 'up' | 'down';
  token?: 'up' | 'down';
  quota?: { dailyLimit: number; used: number; remain: number; minQuotaRemain: number };
  /** What failed, without secrets: the error's (redacted) message. */
  message?: string;
  errcode?: number;
  hint?: string;
}

/**
 * A terminus `HealthIndicatorResult`, spelled here so the package's types never need `@nestjs/terminus`.
 */
export type WeixinMediaHealthResult<Key extends string = string> = Record<
  Key,
  WeixinMediaHealthDetails & { status: 'up' | 'down' }
>;
