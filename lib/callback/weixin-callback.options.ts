import type { ResolvedWeixinMediaOptions } from '../interfaces/resolved-weixin-media-options.interface';
import { callbackSettingProblems } from './callback-crypto';
import type { CallbackReplySender } from './callback-reply-sender';
import type { CallbackStore } from './callback-store.interface';

/** The `callback` shape flag of `forRoot`/`forRootAsync`: the module serves Weixin's message callback. */
export interface WeixinCallbackOptions {
  /**
   * Where the callback is served: `{path}` for the default account, `{path}/:appId` for each account.
   * @default 'weixin/callback'
   */
  path?: string;
  /**
   * The Token of the default account's server settings (3-32 letters and digits).
   * @default the module option `callbackToken`, else `WEIXIN_TOKEN`
   */
  token?: string;
  /**
   * The EncodingAESKey (43 characters): compat and safe mode; plain requests are then refused.
   * @default the module option `encodingAESKey`, else `WEIXIN_ENCODING_AES_KEY`
   */
  encodingAESKey?: string;
  /**
   * A request whose `timestamp` is further from now is refused (401), in milliseconds.
   * @default 300000
   */
  maxClockSkewMs?: number;
  /**
   * A handler (with its uploads) not done by then is answered `success` and its reply goes later through
   * `replySender`, in milliseconds. Weixin waits 5 s.
   * @default 4500
   */
  replyWithinMs?: number;
  /**
   * Show the user "typing" while a late reply is prepared.
   * @default true
   */
  typing?: boolean;
  /**
   * Handled messages and their answers (kept 60 s), so a retry runs nothing again.
   * @default a `RedisCallbackStore` on the client of a `RedisTokenStore` given as `tokenStore`, else in memory
   */
  store?: CallbackStore;
  /**
   * Sends late replies as customer-service messages, and the typing state.
   * @default the module's `WeixinMessageService`
   */
  replySender?: CallbackReplySender;
}

/** The callback's options as it uses them. */
export interface ResolvedCallbackOptions {
  path: string;
  maxClockSkewMs: number;
  replyWithinMs: number;
  typing: boolean;
}

export const DEFAULT_CALLBACK_PATH = 'weixin/callback';
export const DEFAULT_MAX_CLOCK_SKEW_MS = 300_000;
export const DEFAULT_REPLY_WITHIN_MS = 4_500;

/** The given `callback` flag, for the module's options check and the callback's parts. */
export const WEIXIN_CALLBACK_OPTIONS = Symbol('WEIXIN_CALLBACK_OPTIONS');

export function resolveCallbackOptions(options: WeixinCallbackOptions): ResolvedCallbackOptions {
  return {
    path: options.path ?? DEFAULT_CALLBACK_PATH,
    maxClockSkewMs: options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS,
    replyWithinMs: options.replyWithinMs ?? DEFAULT_REPLY_WITHIN_MS,
    typing: options.typing ?? true,
  };
}

/**
 * Everything wrong with the `callback` flag and the accounts' callback secrets (the module options after
 * configuration: `callbackToken`, `encodingAESKey`, and those of listed accounts), for the one bootstrap error.
 * A listed account without its own secrets uses the default account's. No message repeats a secret.
 */
export function callbackOptionsProblems(
  flag: unknown,
  options: Pick<ResolvedWeixinMediaOptions, 'appId' | 'accounts' | 'callbackToken' | 'encodingAESKey'>,
): string[] {
  if (typeof flag !== 'object' || flag === null || Array.isArray(flag)) {
    return ['callback must be false or an object { path?, token?, encodingAESKey?, replyWithinMs?, ... }'];
  }
  const given = flag as Record<keyof WeixinCallbackOptions, unknown>;
  const problems: string[] = [];
  if (given.path !== undefined && (typeof given.path !== 'string' || given.path.trim() === '')) {
    problems.push(`callback.path must be a non-empty string such as 'weixin/callback'`);
  }
  for (const [name, value] of [
    ['maxClockSkewMs', given.maxClockSkewMs],
    ['replyWithinMs', given.replyWithinMs],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || (value as number) <= 0)) {
      problems.push(`callback.${name} must be a positive whole number of milliseconds, got ${String(value)}`);
    }
  }
  if (given.typing !== undefined && typeof given.typing !== 'boolean') {
    problems.push(`callback.typing must be true or false, got ${JSON.stringify(given.typing)}`);
  }
  if (given.store !== undefined && !hasMethods(given.store, ['claim', 'answer', 'setAnswer'])) {
    problems.push('callback.store must implement CallbackStore (claim, answer, setAnswer)');
  }
  if (given.replySender !== undefined && !hasMethods(given.replySender, ['send', 'typing'])) {
    problems.push('callback.replySender must implement CallbackReplySender (send, typing)');
  }
  const defaults = { token: options.callbackToken, encodingAESKey: options.encodingAESKey };
  if (options.appId !== undefined) {
    const where = 'callback (the default account: callback.token, callbackToken or WEIXIN_TOKEN)';
    problems.push(...callbackSettingProblems(defaults, where));
  }
  if (Array.isArray(options.accounts)) {
    options.accounts.forEach((account, index) => {
      if (typeof account !== 'object' || account === null) return;
      const settings = {
        token: account.callbackToken ?? defaults.token,
        encodingAESKey: account.encodingAESKey ?? defaults.encodingAESKey,
      };
      problems.push(...callbackSettingProblems(settings, `callback (accounts[${index}])`));
    });
  }
  return problems;
}

function hasMethods(value: unknown, methods: readonly string[]): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function')
  );
}
