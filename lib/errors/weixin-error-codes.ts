/**
 * The Weixin errcodes this library reads or answers, by name. Every other file uses these names, so a
 * reader finds in one place what a code means and how the library treats it.
 */
export const WeixinErrorCode = {
  /** "system error" / "system busy": a passing fault. */
  SYSTEM_BUSY: -1,
  OK: 0,
  /** "invalid credential, access_token is invalid or not latest". */
  INVALID_CREDENTIAL: 40001,
  INVALID_GRANT_TYPE: 40002,
  /** An openid that is not a user of this Official Account. */
  INVALID_OPENID: 40003,
  INVALID_MEDIA_TYPE: 40004,
  INVALID_FILE_TYPE: 40005,
  /** "invalid meida size" (sic): too large or empty. */
  INVALID_MEDIA_SIZE: 40006,
  /** Unknown, expired (older than 3 days) or another account's media_id. */
  INVALID_MEDIA_ID: 40007,
  /** A customer-service message of a msgtype Weixin does not send. */
  INVALID_MESSAGE_TYPE: 40008,
  INVALID_APPID: 40013,
  INVALID_ACCESS_TOKEN: 40014,
  /** "invalid args": Weixin's answer for any other malformed request. */
  INVALID_ARGS: 40035,
  INVALID_APPSECRET: 40125,
  /** "invalid ip ... not in whitelist": the caller is outside the account's IP allow-list. */
  INVALID_IP: 40164,
  ACCESS_TOKEN_MISSING: 41001,
  MEDIA_DATA_MISSING: 41005,
  ACCESS_TOKEN_EXPIRED: 42001,
  /** A text message without content. */
  EMPTY_CONTENT: 44004,
  /** A text message over Weixin's length. */
  CONTENT_TOO_LONG: 45002,
  DAILY_QUOTA_REACHED: 45009,
  MINUTE_QUOTA_REACHED: 45011,
  /** The 48 hours after the user's last interaction have passed, or the user unfollowed. */
  RESPONSE_OUT_OF_TIME: 45015,
  /** More customer-service messages than Weixin allows after one interaction. */
  RESPONSE_COUNT_LIMIT: 45047,
  /** Typing: a `command` other than Typing or CancelTyping. */
  INVALID_TYPING_COMMAND: 45072,
  /** Typing: the user has not interacted in the last 30 seconds. */
  TYPING_OUT_OF_TIME: 45080,
  /** Typing: the user already sees the typing state. */
  ALREADY_TYPING: 45081,
  API_UNAUTHORIZED: 48001,
} as const;

export type WeixinErrorCode = (typeof WeixinErrorCode)[keyof typeof WeixinErrorCode];

/** What a code means and how a client treats it. */
export interface WeixinErrorCodeInfo {
  /** Weixin's meaning, in a few words. */
  meaning: string;
  /** The access token used is no longer good: drop exactly that token, fetch a new one, retry once. */
  tokenInvalid?: boolean;
  /** A passing fault: worth another try after a backoff. */
  retryable?: boolean;
  /** A quota ran out: never retry at once, it only burns more calls. */
  quota?: boolean;
  /** The module's settings are wrong: nothing at request time can fix it. */
  configuration?: boolean;
}

const CODE = WeixinErrorCode;

/** The table: every named code with its meaning and treatment. */
export const WEIXIN_ERROR_CODES: Readonly<Record<WeixinErrorCode, WeixinErrorCodeInfo>> = {
  [CODE.SYSTEM_BUSY]: { meaning: 'system busy', retryable: true },
  [CODE.OK]: { meaning: 'ok' },
  [CODE.INVALID_CREDENTIAL]: { meaning: 'access_token is invalid or not latest', tokenInvalid: true },
  [CODE.INVALID_GRANT_TYPE]: { meaning: 'invalid grant_type', configuration: true },
  [CODE.INVALID_OPENID]: { meaning: "an openid not of this account's users" },
  [CODE.INVALID_MEDIA_TYPE]: { meaning: 'invalid media type' },
  [CODE.INVALID_FILE_TYPE]: { meaning: 'invalid file type' },
  [CODE.INVALID_MEDIA_SIZE]: { meaning: 'invalid media size' },
  [CODE.INVALID_MEDIA_ID]: { meaning: 'invalid media_id' },
  [CODE.INVALID_MESSAGE_TYPE]: { meaning: 'invalid message type' },
  [CODE.INVALID_APPID]: { meaning: 'invalid appid', configuration: true },
  [CODE.INVALID_ACCESS_TOKEN]: { meaning: 'invalid access_token', tokenInvalid: true },
  [CODE.INVALID_ARGS]: { meaning: 'invalid args' },
  [CODE.INVALID_APPSECRET]: { meaning: 'invalid appsecret', configuration: true },
  [CODE.INVALID_IP]: { meaning: 'caller IP not in the allow-list', configuration: true },
  [CODE.ACCESS_TOKEN_MISSING]: { meaning: 'access_token missing' },
  [CODE.MEDIA_DATA_MISSING]: { meaning: 'media data missing' },
  [CODE.ACCESS_TOKEN_EXPIRED]: { meaning: 'access_token expired', tokenInvalid: true },
  [CODE.EMPTY_CONTENT]: { meaning: 'empty content' },
  [CODE.CONTENT_TOO_LONG]: { meaning: 'content size out of limit' },
  [CODE.DAILY_QUOTA_REACHED]: { meaning: 'daily API quota reached', quota: true },
  [CODE.MINUTE_QUOTA_REACHED]: { meaning: 'per-minute API quota reached', quota: true },
  [CODE.RESPONSE_OUT_OF_TIME]: { meaning: '48-hour window closed or user unfollowed' },
  [CODE.RESPONSE_COUNT_LIMIT]: { meaning: 'too many messages since the user last interacted' },
  [CODE.INVALID_TYPING_COMMAND]: { meaning: 'invalid typing command' },
  [CODE.TYPING_OUT_OF_TIME]: { meaning: 'no interaction in the last 30 s' },
  [CODE.ALREADY_TYPING]: { meaning: 'already typing' },
  [CODE.API_UNAUTHORIZED]: { meaning: 'API unauthorized for this account', configuration: true },
};

function infoOf(errcode: number): WeixinErrorCodeInfo | undefined {
  return (WEIXIN_ERROR_CODES as Record<number, WeixinErrorCodeInfo | undefined>)[errcode];
}

/** 40001, 40014, 42001: the token used is no longer good. */
export function isTokenInvalidErrcode(errcode: number): boolean {
  return infoOf(errcode)?.tokenInvalid === true;
}

/** -1: system busy, worth another try. */
export function isRetryableErrcode(errcode: number): boolean {
  return infoOf(errcode)?.retryable === true;
}

/** 45009, 45011: a quota ran out. */
export function isQuotaErrcode(errcode: number): boolean {
  return infoOf(errcode)?.quota === true;
}
