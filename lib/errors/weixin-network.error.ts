import { redactSecrets } from './secret-redaction';

/** A call to Weixin failed below the API: no answer, a reset, a timeout or an HTTP error status. */
export class WeixinNetworkError extends Error {
  override readonly name: string = 'WeixinNetworkError';

  constructor(
    message: string,
    /** The API path that was called. */
    readonly path: string,
    /** The HTTP status when Weixin's front end answered one. */
    readonly status?: number,
    /**
     * The system error code, e.g. `ECONNRESET`, `ETIMEDOUT` for our own timeout, or `ERR_DOWNLOAD_TOO_LARGE`
     * (`WeixinDownloadTooLargeError`).
     */
    readonly code?: string,
  ) {
    super(redactSecrets(message));
  }

  get timedOut(): boolean {
    return this.code === 'ETIMEDOUT';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, path: this.path, status: this.status, code: this.code };
  }
}
