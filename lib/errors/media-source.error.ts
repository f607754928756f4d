import { WeixinMediaError } from './weixin-media.error';

/**
 * A media source could not be opened or read: a file path that does not exist, is a directory or may not be
 * read; a URL whose server cannot be reached or does not answer HTTP. Not a broken Weixin rule (nothing was
 * checked, Weixin would never see it), so not a `MediaValidationError`. As an HTTP answer (controller, pipes,
 * `toHttpException`, the exception filter): 404 for a path that does not exist, 400 otherwise, errcode equal
 * to the status, and no server path.
 */
export class MediaSourceError extends WeixinMediaError {
  override readonly name = 'MediaSourceError';
  override readonly code = 'WEIXIN_MEDIA_ERR_SOURCE';

  constructor(
    /** The system error code: `ENOENT`, `EACCES`, `EISDIR`, `ECONNREFUSED`, `HPE_HEADER_OVERFLOW`, ... */
    readonly systemCode: string,
    /**
     * The absolute path that was tried (a relative path is resolved against `process.cwd()`); for a URL, the
     * URL without credentials, query or fragment (they may hold tokens).
     */
    readonly path: string,
    /** `detail`: what happened, when the code alone does not say it. */
    options?: { cause?: unknown; detail?: string },
  ) {
    super(
      `Cannot read the media source ${path}: ${systemCode} (${options?.detail ?? describeCode(systemCode)})`,
      options,
    );
  }

  toJSON(): Record<string, unknown> {
    const { name, code, systemCode, path, message } = this;
    return { name, code, systemCode, path, message };
  }
}

function describeCode(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file; a relative path is resolved against the working directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'a directory, not a file';
    case 'EFTYPE':
      return 'a FIFO, socket or device, not a regular file';
    case 'ECONNREFUSED':
      return 'the server refused the connection';
    case 'ECONNRESET':
      return 'the server closed the connection before the whole answer was read';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'HPE_HEADER_OVERFLOW':
      return "the answer's headers pass Node's limit: 16 KB unless --max-http-header-size raises it";
    case 'ERR_INVALID_URL':
      return 'not a valid URL';
    default:
      if (code.startsWith('HPE_')) return 'the answer is not valid HTTP';
      return 'the source cannot be read';
  }
}
