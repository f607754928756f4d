import { randomBytes } from 'node:crypto';

/** Weixin's usual errmsg per errcode, so tests and clients see the texts the platform sends. */
const ERRMSGS: Record<number, string> = {
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40004: 'invalid media type',
  40005: 'invalid file type',
  40006: 'invalid meida size',
  40007: 'invalid media_id',
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
  45009: 'reach max api daily quota limit',
  45011: 'api minute-quota reach limit mustslower retry next time',
  47001: 'data format error',
  48001: 'api unauthorized',
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

export function weixinError(errcode: number, errmsg?: string): WeixinErrorBody {
  const message = errmsg ?? ERRMSGS[errcode] ?? 'fake fault';
  // 40001 is the answer clients must recognise by code alone, so it carries the rid as Weixin's does.
  const withRid = errcode === 40001 && errmsg === undefined;
  return { errcode, errmsg: withRid ? `${message} rid: ${fakeRid()}` : message };
}
