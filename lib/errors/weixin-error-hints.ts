import { isIP } from 'node:net';
import { WeixinErrorCode as CODE } from './weixin-error-codes';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Weixin's quotas reset at midnight Beijing time, UTC+8 (no daylight saving). */
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;
/** 40164's errmsg names the caller: "invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist". */
const CALLER_IP_PATTERN = /invalid ip ([0-9a-fA-F.:]+)/;

/** When Weixin's daily quotas next reset: the next midnight in Beijing (UTC+8). */
export function nextQuotaReset(now: Date = new Date()): Date {
  const beijingDay = Math.floor((now.getTime() + BEIJING_OFFSET_MS) / DAY_MS);
  return new Date((beijingDay + 1) * DAY_MS - BEIJING_OFFSET_MS);
}

/** The caller IP Weixin reported in a 40164 errmsg; only a well-formed address, never other text. */
export function callerIpOf(errmsg: string): string | undefined {
  const candidate = CALLER_IP_PATTERN.exec(errmsg)?.[1];
  return candidate && isIP(candidate) ? candidate : undefined;
}

/**
 * One sentence on what to do about `errcode`, or undefined when there is no clear fix. Built only from
 * the code, the API path, the time and (40164) a parsed IP address: never from free text that could
 * carry a secret.
 */
export function weixinErrorHint(
  errcode: number,
  errmsg: string,
  path: string,
  now: Date = new Date(),
): string | undefined {
  switch (errcode) {
    case CODE.INVALID_IP: {
      const ip = callerIpOf(errmsg);
      const who = ip ? `${ip} (the address Weixin saw for this server)` : "this server's public IP";
      return (
        `Add ${who} to the Official Account's IP allow-list (IP白名单, admin console: Settings and ` +
        'Development > Basic Configuration), or let only allow-listed nodes fetch tokens and share them through a token store.'
      );
    }
    case CODE.INVALID_APPID:
      return (
        "Check the appId setting (WEIXIN_APP_ID, or the account's appId): Weixin knows no Official Account " +
        'with this AppID.'
      );
    case CODE.INVALID_APPSECRET:
      return (
        "Check the appSecret setting (WEIXIN_APP_SECRET, or the account's appSecret): it does not belong to " +
        'this AppID, or it was reset in the admin console and the new one is not set yet.'
      );
    case CODE.API_UNAUTHORIZED:
      return (
        `The Official Account has no permission for ${path}: check its API permissions (接口权限) in the ` +
        'admin console; unverified accounts lack many of them.'
      );
    case CODE.DAILY_QUOTA_REACHED:
      return (
        `The daily quota for ${path} is used up: do not retry; it resets at midnight Beijing time (UTC+8), ` +
        `next at ${nextQuotaReset(now).toISOString()}; quota() shows what is left, and Weixin's ` +
        'clear_quota resets it at most 10 times a month.'
      );
    case CODE.MINUTE_QUOTA_REACHED:
      return `The per-minute quota for ${path} is used up: slow down and try again after the minute, not in a loop.`;
    case CODE.INVALID_MEDIA_ID:
      return (
        'This account cannot use the media_id: temporary media expire 3 days after upload, a media_id works ' +
        'only for the Official Account that uploaded it, and an API that wants permanent material refuses a ' +
        'temporary id; upload the file again with this account, or add it as permanent material.'
      );
    case CODE.RESPONSE_OUT_OF_TIME:
      return (
        'Customer-service messages reach a user only within 48 hours of their last interaction (a message, a ' +
        'menu click, following, a QR scan) and only while they follow the account: do not retry; reach them ' +
        'with a template message or a subscribe message instead.'
      );
    case CODE.RESPONSE_COUNT_LIMIT:
      return (
        'This user was sent as many customer-service messages as Weixin allows since they last interacted: ' +
        'do not retry; wait for their next message, or combine what you send.'
      );
    case CODE.INVALID_OPENID:
      return (
        'The openid is not a user of this Official Account: openids differ per account, so send with the ' +
        "account the user wrote to (forAccount(appId)), using the FromUserName of that account's callback."
      );
    case CODE.TYPING_OUT_OF_TIME:
      return (
        'The typing state can be shown only within 30 seconds of the user interacting with the account: ' +
        'send the message without it.'
      );
    case CODE.INVALID_TYPING_COMMAND:
      return 'The typing command must be "Typing" or "CancelTyping".';
    case CODE.INVALID_CREDENTIAL:
    case CODE.INVALID_ACCESS_TOKEN:
    case CODE.ACCESS_TOKEN_EXPIRED:
      return (
        'Weixin rejected the access token even after a refresh: another program with the same AppID is ' +
        "fetching its own tokens (each classic token request ends the last one's life); share one token " +
        "store across them or use tokenMode 'stable'."
      );
    default:
      return undefined;
  }
}
