import type { FakeExchange } from './fake-exchange';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Weixin's quotas reset at midnight Beijing time (UTC+8). */
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;
/** A verified account's daily media/upload quota. */
export const DEFAULT_DAILY_UPLOAD_QUOTA = 100_000;
const UPLOAD_CGI_PATH = '/cgi-bin/media/upload';
/** Weixin's answer for a `cgi_path` it keeps no quota for. */
const CGI_PATH_NOT_FOUND = 76021;

export interface FakeQuota {
  daily_limit: number;
  used: number;
  remain: number;
}

/**
 * The daily upload quota per account, as `POST /cgi-bin/openapi/quota/get` reports it: every upload the
 * fake accepted counts, the count starts again at midnight Beijing time on the fake clock, and once it
 * reaches the limit uploads answer 45009.
 */
export class FakeQuotaLedger {
  /** appId → [Beijing day number, uploads that day]. */
  private readonly uploads = new Map<string, [day: number, used: number]>();

  constructor(readonly dailyUploadLimit: number = DEFAULT_DAILY_UPLOAD_QUOTA) {
    if (!(Number.isInteger(dailyUploadLimit) && dailyUploadLimit >= 0)) {
      throw new RangeError(`dailyUploadQuota must be a whole number >= 0, got ${dailyUploadLimit}`);
    }
  }

  /** Uploads `appId` made today (fake clock, Beijing day). */
  used(appId: string, now: number): number {
    const entry = this.uploads.get(appId);
    return entry && entry[0] === beijingDay(now) ? entry[1] : 0;
  }

  /** False once the day's uploads reached the limit: the upload answers 45009. */
  allowsUpload(appId: string, now: number): boolean {
    return this.used(appId, now) < this.dailyUploadLimit;
  }

  recordUpload(appId: string, now: number): void {
    this.uploads.set(appId, [beijingDay(now), this.used(appId, now) + 1]);
  }

  quota(appId: string, now: number): FakeQuota {
    const used = this.used(appId, now);
    return { daily_limit: this.dailyUploadLimit, used, remain: Math.max(0, this.dailyUploadLimit - used) };
  }

  clear(): void {
    this.uploads.clear();
  }

  /** `POST /cgi-bin/openapi/quota/get` `{ cgi_path }` for the account `appId` (already authenticated). */
  async answer(exchange: FakeExchange, appId: string, now: number): Promise<void> {
    const body = await exchange.readJsonObject();
    if (body === 'aborted') return;
    if (!body || typeof body.cgi_path !== 'string') return exchange.error(47001);
    if (body.cgi_path !== UPLOAD_CGI_PATH) return exchange.error(CGI_PATH_NOT_FOUND);
    exchange.json(200, { errcode: 0, errmsg: 'ok', quota: this.quota(appId, now) });
  }
}

function beijingDay(now: number): number {
  return Math.floor((now + BEIJING_OFFSET_MS) / DAY_MS);
}
