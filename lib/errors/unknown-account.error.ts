import { WeixinMediaError } from './weixin-media.error';

/**
 * No Official Account is configured for an AppID: not the top-level one, not in `accounts`, and the
 * accounts resolver answered nothing for it. `errcode` is what Weixin answers for an unknown AppID.
 */
export class UnknownAccountError extends WeixinMediaError {
  override readonly name = 'UnknownAccountError';
  override readonly code = 'WEIXIN_MEDIA_ERR_UNKNOWN_ACCOUNT';
  readonly errcode = 40013;
  /** The AppID asked for (cut to 128 characters: it may come from a request). */
  readonly appId: string;

  constructor(appId: string) {
    super(
      /^[\w-]{1,64}$/.test(appId)
        ? `No Official Account "${appId}" is configured: it is not the module's appId, not in its ` +
            'accounts list, and the accounts resolver answered nothing for it'
        : 'Not an AppID: an AppID is 1 to 64 letters, digits, - or _ (like "wx" and 16 hexadecimal characters)',
    );
    this.appId = String(appId).slice(0, 128);
  }

  toJSON(): Record<string, unknown> {
    const { name, code, errcode, appId, message } = this;
    return { name, code, errcode, appId, message };
  }
}
