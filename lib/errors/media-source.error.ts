/**
 * A media source could not be opened or read: a file path that does not exist, is a directory or may not be
 * read. Not a broken Weixin rule (nothing was checked, Weixin would never see it), so not a
 * `MediaValidationError`. As an HTTP answer (controller, pipes, `toHttpException`, the exception filter):
 * 404 for a path that does not exist, 400 otherwise, errcode equal to the status, and no server path.
 */
export class MediaSourceError extends Error {
  override readonly name = 'MediaSourceError';

  constructor(
    /** The system error code: `ENOENT`, `EACCES`, `EISDIR`, ... */
    readonly code: string,
    /** The absolute path that was tried (a relative path is resolved against `process.cwd()`). */
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot read the media source ${path}: ${code} (${describeCode(code)})`, options);
  }

  toJSON(): Record<string, unknown> {
    const { name, code, path, message } = this;
    return { name, code, path, message };
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
    default:
      return 'the file cannot be read';
  }
}
