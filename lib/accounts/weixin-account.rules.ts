import type { WeixinAccount } from '../interfaces';

/** What an AppID looks like; anything else is never looked up (it may come from a request). */
export const APP_ID_PATTERN = /^[\w-]{1,64}$/;

export function isAppId(value: unknown): value is string {
  return typeof value === 'string' && APP_ID_PATTERN.test(value);
}

/**
 * Everything wrong with one account's credentials, each sentence starting with `label` (e.g.
 * `accounts[2]`). The secret's value is never shown.
 */
export function accountProblems(account: unknown, label: string): string[] {
  if (typeof account !== 'object' || account === null) {
    return [`${label} must be an object { appId, appSecret? | accessTokenProvider?, tokenMode? }`];
  }
  const { appId, appSecret, accessTokenProvider, tokenMode } = account as Partial<WeixinAccount>;
  const problems: string[] = [];
  if (!isAppId(appId)) {
    problems.push(
      `${label}.appId is malformed: an AppID looks like "wx" followed by 16 hexadecimal characters`,
    );
  }
  if (accessTokenProvider !== undefined && typeof accessTokenProvider !== 'function') {
    problems.push(
      `${label}.accessTokenProvider must be a function that answers a Promise of the access token`,
    );
  } else if (accessTokenProvider === undefined) {
    if (appSecret === undefined || appSecret === '') {
      problems.push(`${label}.appSecret is missing: give it an appSecret or an accessTokenProvider`);
    } else if (typeof appSecret !== 'string' || /\s/.test(appSecret)) {
      problems.push(
        `${label}.appSecret is malformed: it must be a string without spaces (its value is not shown)`,
      );
    }
  }
  if (tokenMode !== undefined && tokenMode !== 'stable' && tokenMode !== 'classic') {
    problems.push(`${label}.tokenMode must be "stable" or "classic", got "${String(tokenMode)}"`);
  }
  return problems;
}
