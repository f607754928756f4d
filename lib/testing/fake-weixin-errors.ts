import { randomBytes } from 'node:crypto';

/** Weixin's usual errmsg per errcode, so tests and clients see the texts the platform sends. */
const ERRMSGS: Record<number, string> = {
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40004: 'invalid media type',
  40005: 'invalid file type',
  40006: 'invalid meida size',
  40007: 'invalid media_id',
  40008: 'invalid message type',
  40013: 'invalid appid',
  40014: 'invalid access_token',
  40125: 'invalid appsecret',
  40164: 'invalid ip, not in whitelist',
  41001: 'access_token missing',
  41002: 'appid missing',
  41004: 'appsecret missing',
  41005: 'media data missing',
  41006: 'media_id missing',
  42001: 'access_token expired',
  43001: 'require GET method',
  43002: 'require POST method',
  44004: 'empty content',
  45002: 'content size out of limit',
  45009: 'reach max api daily quota limit',
  45011: 'api minute-quota reach limit mustslower retry next time',
  45015: 'response out of time limit or subscription is canceled',
  45047: 'out of response count limit',
  45072: 'command field invalid',
  45080: 'the user has not interacted in the last 30 seconds',
  45081: 'already typing',
  47001: 'data format error',
  48001: 'api unauthorized',
  76001: 'rid not found',
  76021: 'cgi_path not found, please check',
};

export interface WeixinErrorBody {
  errcode: number;
  errmsg: string;
}

/** Newer Weixin answers carry a request id in errmsg; clients parse it, so the fake sends one too. */
export function fakeRid(): string {
  const hex = randomBytes(12).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 16)}-${hex.slice(16)}`;
}

const RID_PATTERN = /rid: ([\w-]+)/;

/** The rid an errmsg carries, if any. */
export function ridOf(errmsg: string): string | undefined {
  return RID_PATTERN.exec(errmsg)?.[1];
}

/**
 * Weixin's error body. Weixin's own texts carry a fresh rid, as the platform's do (the fake's rid log
 * records the call by it); an explicit errmsg is sent as given. 40164 names the caller's address.
 */
export function weixinError(errcode: number, errmsg?: string, callerIp = '127.0.0.1'): WeixinErrorBody {
  if (errmsg !== undefined) return { errcode, errmsg };
  const message =
    errcode === 40164
      ? `invalid ip ${callerIp} ipv6 ::ffff:${callerIp}, not in whitelist`
      : (ERRMSGS[errcode] ?? 'fake fault');
  return { errcode, errmsg: `${message} rid: ${fakeRid()}` };
}
