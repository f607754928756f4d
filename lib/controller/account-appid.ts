import type { HttpException } from '@nestjs/common';
import { invalidAppIdResponse } from '../errors/weixin-error-response';
import { weixinHttpException } from '../validation/media-validation-http';

/** What an AppID looks like (`wx` and 16 hexadecimal characters in practice): checked before any use. */
export const APPID_PATTERN = /^[\w-]{1,64}$/;

/** A 400 with Weixin's "invalid appid" errcode (40013): the appid is malformed or given in conflicting ways. */
export function invalidAppIdHttpException(detail: string): HttpException {
  return weixinHttpException(invalidAppIdResponse(detail));
}

/**
 * The `appid` of the query, checked for its shape; undefined when there is none (the default account).
 * Guards see exactly this value as `request.query.appid`, so it is the one that decides the account.
 */
export function queryAppId(query: Record<string, unknown> | undefined): string | undefined {
  const appId = query?.appid;
  if (appId === undefined) return undefined;
  if (Array.isArray(appId)) {
    throw invalidAppIdHttpException(`appid is given ${appId.length} times in the URL; send one appid`);
  }
  return checkedAppId(appId, 'in the URL');
}

/** The `appid` form field, checked for its shape; undefined when there is none. */
export function checkedAppId(appId: unknown, where: string): string {
  if (typeof appId !== 'string' || !APPID_PATTERN.test(appId)) {
    throw invalidAppIdHttpException(
      `the appid ${where} must be 1 to 64 letters, digits, - or _ (like "wx" and 16 hexadecimal characters)`,
    );
  }
  return appId;
}
