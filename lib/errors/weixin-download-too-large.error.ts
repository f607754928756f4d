import { WeixinNetworkError } from './weixin-network.error';

const MB = 1024 * 1024;

/**
 * A download from Weixin is larger than any media Weixin serves (`limit`: its largest file). Refused there: no more
 * of it is read, held or passed on. Weixin's Content-Length may say so before any byte (`declared`); otherwise the
 * bytes are counted as decoded, since a small gzip answer can inflate far past the limit. Not retried: the same
 * media_id would answer the same. As an HTTP answer: 502 with `errcode` -1, as other bad answers from Weixin.
 */
export class WeixinDownloadTooLargeError extends WeixinNetworkError {
  override readonly name = 'WeixinDownloadTooLargeError';
  override readonly code = 'WEIXIN_MEDIA_ERR_DOWNLOAD_TOO_LARGE';

  constructor(
    path: string,
    /** The most bytes a download may have. */
    readonly limit: number,
    /** The bytes Weixin declared, or those counted when reading stopped (at least this many). */
    readonly actual: number,
    /** True when Weixin's Content-Length announced the size and no byte of the body was read. */
    readonly declared = false,
  ) {
    super(
      `the download from ${path} is larger than the largest media Weixin serves: ` +
        `${declared ? `Content-Length ${actual} bytes` : `${actual} bytes and more`} ` +
        `> ${limit} bytes (${+(limit / MB).toFixed(1)} MB); it was not read further`,
      path,
      undefined,
      'ERR_DOWNLOAD_TOO_LARGE',
    );
  }

  override toJSON(): Record<string, unknown> {
    const { limit, actual, declared } = this;
    return { ...super.toJSON(), limit, actual, declared };
  }
}
