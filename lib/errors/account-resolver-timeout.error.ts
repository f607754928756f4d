import { WeixinMediaError } from './weixin-media.error';

/**
 * The accounts resolver did not answer for an AppID within the module's `timeoutMs`. The call fails rather
 * than wait on it for good, and the next call for that AppID asks the resolver again.
 */
export class AccountResolverTimeoutError extends WeixinMediaError {
  override readonly name = 'AccountResolverTimeoutError';
  override readonly code = 'WEIXIN_MEDIA_ERR_ACCOUNT_RESOLVER_TIMEOUT';

  constructor(
    /** The AppID asked for (a well-formed one: others never reach the resolver). */
    readonly appId: string,
    /** The limit, in milliseconds (the module's `timeoutMs`). */
    readonly timeoutMs: number,
  ) {
    super(
      `The accounts resolver did not answer for "${appId}" within ${timeoutMs} ms (timeoutMs); ` +
        'the next call asks it again',
    );
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      appId: this.appId,
      timeoutMs: this.timeoutMs,
      message: this.message,
    };
  }
}
