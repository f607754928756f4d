import { accountProblems, isAppId } from './accounts/weixin-account.rules';
import { callbackOptionsProblems, type WeixinCallbackOptions } from './callback/weixin-callback.options';
import { WeixinMediaOptionsError } from './errors/weixin-media-options.error';
import { concealSecrets } from './errors/secret-redaction';
import type { TokenMode, WeixinMediaModuleOptions } from './interfaces';
import type { ResolvedWeixinMediaOptions } from './interfaces/resolved-weixin-media-options.interface';
import {
  DEFAULT_ACCOUNT_CACHE_MS,
  DEFAULT_API_BASE_URL,
  DEFAULT_MAX_ACCOUNTS,
  DEFAULT_MAX_SOCKETS,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUT_MS,
} from './weixin-media.constants';

/** The environment variables read when an option is not given explicitly. */
export const WEIXIN_CONFIG_KEYS = {
  appId: 'WEIXIN_APP_ID',
  appSecret: 'WEIXIN_APP_SECRET',
  apiBaseUrl: 'WEIXIN_API_BASE_URL',
  tokenMode: 'WEIXIN_TOKEN_MODE',
  callbackToken: 'WEIXIN_TOKEN',
  encodingAESKey: 'WEIXIN_ENCODING_AES_KEY',
} as const;

/** What the resolver needs of `ConfigService`: reading one setting by name. */
export interface WeixinConfigReader {
  get(key: string): unknown;
}

const STORE_METHODS = ['get', 'set', 'delete', 'tryLock'] as const;
const CACHE_METHODS = ['get', 'set', 'deleteByMediaId'] as const;

/**
 * Applies configuration and defaults to the options the user gave (explicit options win),
 * and checks them all at once so one bootstrap error names every problem: theirs and `otherProblems`
 * (the mounted controller's options). With the `callback` flag, the callback secrets are read too (the flag's
 * first, then the options', then configuration) and checked with the flag.
 */
export function resolveWeixinMediaOptions(
  input: WeixinMediaModuleOptions | undefined,
  config?: WeixinConfigReader,
  otherProblems: readonly string[] = [],
  callback?: WeixinCallbackOptions,
): ResolvedWeixinMediaOptions {
  const given = input ?? {};
  const flag: Partial<WeixinCallbackOptions> =
    typeof callback === 'object' && callback !== null ? callback : {};
  const fromConfig = (key: keyof typeof WEIXIN_CONFIG_KEYS): string | undefined => {
    const value = config?.get(WEIXIN_CONFIG_KEYS[key]);
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const options: ResolvedWeixinMediaOptions = concealSecrets({
    ...given,
    // With `accounts`, a default account is optional: no appId anywhere means none.
    appId: given.appId ?? fromConfig('appId') ?? (given.accounts === undefined ? '' : undefined),
    appSecret: given.appSecret ?? (given.accessTokenProvider ? undefined : fromConfig('appSecret')),
    apiBaseUrl: (given.apiBaseUrl ?? fromConfig('apiBaseUrl') ?? DEFAULT_API_BASE_URL).replace(/\/+$/, ''),
    tokenMode: given.tokenMode ?? (fromConfig('tokenMode') as TokenMode | undefined) ?? 'stable',
    timeoutMs: given.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    accountCacheMs: given.accountCacheMs ?? DEFAULT_ACCOUNT_CACHE_MS,
    maxAccounts: given.maxAccounts ?? DEFAULT_MAX_ACCOUNTS,
    tokenRefresh: given.tokenRefresh ?? true,
    retry: { ...DEFAULT_RETRY, ...given.retry },
    maxSockets: given.maxSockets ?? DEFAULT_MAX_SOCKETS,
    callbackToken: flag.token ?? given.callbackToken ?? fromConfig('callbackToken'),
    encodingAESKey: flag.encodingAESKey ?? given.encodingAESKey ?? fromConfig('encodingAESKey'),
  });
  const problems = [
    ...findProblems(options),
    ...otherProblems,
    ...(callback === undefined ? [] : callbackOptionsProblems(callback, options)),
  ];
  if (problems.length > 0) {
    throw new WeixinMediaOptionsError(problems);
  }
  return options;
}

function findProblems(options: ResolvedWeixinMediaOptions): string[] {
  const problems: string[] = [];
  const { appId, appSecret, accessTokenProvider, apiBaseUrl, tokenMode, timeoutMs, retry } = options;

  problems.push(...accountsProblems(options));
  if (appId === undefined) {
    // No default account: `accounts` serves every call (checked above).
  } else if (typeof appId !== 'string' || appId === '') {
    problems.push(
      `appId is missing: pass { appId } to WeixinMediaModule.forRoot() or set ${WEIXIN_CONFIG_KEYS.appId}` +
        ' (or pass accounts)',
    );
  } else if (!isAppId(appId)) {
    problems.push('appId is malformed: an AppID looks like "wx" followed by 16 hexadecimal characters');
  }
  if (accessTokenProvider !== undefined && typeof accessTokenProvider !== 'function') {
    problems.push('accessTokenProvider must be a function that answers a Promise of the access token');
  }
  if (!accessTokenProvider && appId !== undefined) {
    if (appSecret === undefined || appSecret === '') {
      problems.push(
        `appSecret is missing: pass { appSecret } (or an accessTokenProvider) or set ${WEIXIN_CONFIG_KEYS.appSecret}`,
      );
    } else if (typeof appSecret !== 'string' || /\s/.test(appSecret)) {
      problems.push('appSecret is malformed: it must be a string without spaces (its value is not shown)');
    }
  }
  if (!isHttpUrl(apiBaseUrl)) {
    problems.push(
      `apiBaseUrl must be an http(s) URL (${WEIXIN_CONFIG_KEYS.apiBaseUrl}), got "${String(apiBaseUrl)}"`,
    );
  }
  if (tokenMode !== 'stable' && tokenMode !== 'classic') {
    problems.push(
      `tokenMode must be "stable" or "classic" (${WEIXIN_CONFIG_KEYS.tokenMode}), got "${String(tokenMode)}"`,
    );
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    problems.push(`timeoutMs must be a positive whole number of milliseconds, got ${String(timeoutMs)}`);
  }
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1 || retry.attempts > 10) {
    problems.push(`retry.attempts must be a whole number from 1 to 10, got ${String(retry.attempts)}`);
  }
  if (!Number.isFinite(retry.baseDelayMs) || retry.baseDelayMs < 0) {
    problems.push(`retry.baseDelayMs must be 0 or more milliseconds, got ${String(retry.baseDelayMs)}`);
  }
  if (!Number.isInteger(options.maxSockets) || options.maxSockets < 1) {
    problems.push(`maxSockets must be a whole number of 1 or more, got ${String(options.maxSockets)}`);
  }
  if (options.tokenStore !== undefined && !hasMethods(options.tokenStore, STORE_METHODS)) {
    problems.push(`tokenStore must implement TokenStore (${STORE_METHODS.join(', ')})`);
  }
  if (
    options.mediaCache !== undefined &&
    options.mediaCache !== false &&
    !hasMethods(options.mediaCache, CACHE_METHODS)
  ) {
    problems.push(`mediaCache must be false or implement MediaCache (${CACHE_METHODS.join(', ')})`);
  }
  problems.push(...fitProblems(options.fit));
  if (options.allowPrivateUrls !== undefined && typeof options.allowPrivateUrls !== 'boolean') {
    problems.push(`allowPrivateUrls must be true or false, got ${String(options.allowPrivateUrls)}`);
  }
  return problems;
}

function fitProblems(fit: WeixinMediaModuleOptions['fit']): string[] {
  if (fit === undefined) return [];
  if (typeof fit !== 'object' || fit === null) return ['fit must be an object of fit options'];
  const problems: string[] = [];
  if (fit.ffmpegPath !== undefined && (typeof fit.ffmpegPath !== 'string' || fit.ffmpegPath === '')) {
    problems.push('fit.ffmpegPath must be the path of an ffmpeg executable');
  }
  const positive: Array<[keyof typeof fit, string]> = [
    ['concurrency', 'conversions at once'],
    ['timeoutMs', 'milliseconds'],
    ['maxInputBytes', 'bytes'],
    ['maxInputPixels', 'pixels'],
  ];
  for (const [key, unit] of positive) {
    const value = fit[key];
    if (value !== undefined && (!Number.isInteger(value) || (value as number) <= 0)) {
      problems.push(`fit.${key} must be a positive whole number of ${unit}, got ${String(value)}`);
    }
  }
  return problems;
}

function accountsProblems(options: ResolvedWeixinMediaOptions): string[] {
  const { accounts, accountCacheMs, maxAccounts, tokenRefresh } = options;
  const problems: string[] = [];
  if (Array.isArray(accounts)) {
    accounts.forEach((account, index) => problems.push(...accountProblems(account, `accounts[${index}]`)));
    const seen = new Set<unknown>();
    for (const { appId } of accounts.filter((account) => typeof account === 'object' && account !== null)) {
      if (seen.has(appId)) problems.push(`accounts lists "${String(appId)}" twice: list each AppID once`);
      seen.add(appId);
    }
  } else if (accounts !== undefined && typeof accounts !== 'function') {
    problems.push(
      'accounts must be a list of { appId, appSecret | accessTokenProvider } or a resolver function',
    );
  }
  if (!Number.isInteger(accountCacheMs) || accountCacheMs < 0) {
    problems.push(`accountCacheMs must be 0 or more whole milliseconds, got ${String(accountCacheMs)}`);
  }
  if (!Number.isInteger(maxAccounts) || maxAccounts < 1) {
    problems.push(`maxAccounts must be a whole number of at least 1, got ${String(maxAccounts)}`);
  }
  if (typeof tokenRefresh !== 'boolean') {
    problems.push(`tokenRefresh must be true or false, got ${JSON.stringify(tokenRefresh)}`);
  }
  return problems;
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function hasMethods(value: unknown, methods: readonly string[]): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function')
  );
}
