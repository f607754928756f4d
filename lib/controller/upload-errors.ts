/**
 * What can go wrong while an upload's body is read, besides a broken media rule (`MediaValidationError`).
 * Framework-free: `MediaUploadInterceptor.toHttpException` turns each into Weixin's HTTP answer.
 */

/** The form has the wrong shape: no file, the wrong field, an extra field, too many parts. 400 41005. */
export class UploadFormError extends Error {
  override readonly name = 'UploadFormError';
}

/** The body passed its budget in bytes that are not the file (fields, preamble, epilogue). 413 40006. */
export class UploadBodyTooLargeError extends Error {
  override readonly name = 'UploadBodyTooLargeError';
  constructor(
    message: string,
    readonly limit: number,
    readonly actual: number,
  ) {
    super(message);
  }
}

/** The body stalled, or came slower than the lowest accepted rate. 408 41005. */
export class UploadTimeoutError extends Error {
  override readonly name = 'UploadTimeoutError';
}

/** The client closed the connection before the body was complete. */
export class UploadAbortedError extends Error {
  override readonly name = 'UploadAbortedError';
  constructor() {
    super('the client closed the connection during the upload');
  }
}

/** A value from the request, shortened and quoted as JSON (no control characters reach a message raw). */
export function quote(value: unknown, max = 40): string {
  return JSON.stringify(String(value).slice(0, max));
}
