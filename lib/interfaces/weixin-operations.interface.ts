/** The daily quota of `/cgi-bin/media/upload`, as Weixin counts it (resets at midnight Beijing time). */
export interface WeixinQuota {
  /** Uploads allowed a day: 100,000 on a verified account (more with followers), 500 on a sandbox account. */
  dailyLimit: number;
  /** Uploads made today. */
  used: number;
  /** Uploads left today. */
  remain: number;
}

/**
 * What Weixin recorded of a failed call, found by the `rid` in its errmsg (`WeixinApiError.rid`); kept by
 * Weixin for 7 days. Access tokens and secrets in the recorded URL and bodies are replaced by `[redacted]`.
 */
export interface WeixinRequestRecord {
  rid: string;
  /** When Weixin received the call (whole seconds). */
  invokedAt: Date;
  /** How long Weixin took to answer. */
  costMs: number;
  /** The query string of the call, e.g. `access_token=[redacted]&type=image`. */
  requestUrl: string;
  /** The body of a POST with a JSON body; '' for uploads and GETs. */
  requestBody: string;
  /** What Weixin answered, e.g. `{"errcode":45009,...}`. */
  responseBody: string;
  /** The caller's address as Weixin saw it (the one an IP allow-list must hold). */
  clientIp: string;
}
