import { redactSecrets } from './secret-redaction';
import { WeixinMediaError } from './weixin-media.error';

/** A call to Weixin failed below the API: no answer, a reset, a timeout or an HTTP error status. */
export class WeixinNetworkError extends WeixinMediaError {
  override readonly name: string = 'WeixinNetworkError';
  override readonly code: string = 'WEIXIN_MEDIA_ERR_NETWORK';

  constructor(
    message: string,
    /** The API path that was called. */
    readonly path: string,
    /** The HTTP status when Weixin's front end answered one. */
    readonly status?: number,
    /** The system error code, e.g. `ECONNRESET`, or `ETIMEDOUT` for our own timeout. */
    readonly systemCode?: string,
    /**
     * True when a call that may not be repeated (a message send) failed after its request was written:
     * Weixin may have acted on it, so it was not tried again. Sending it again may deliver it twice.
     */
    readonly maybeDelivered = false,
  ) {
    super(redactSecrets(message));
  }

  get timedOut(): boolean {
    return this.systemCode === 'ETIMEDOUT';
  }

  toJSON(): Record<string, unknown> {
    const { name, code, message, path, status, systemCode, maybeDelivered } = this;
    return { name, code, message, path, status, systemCode, maybeDelivered };
  }
}
