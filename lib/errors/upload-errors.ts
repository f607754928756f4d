import { WeixinMediaError } from './weixin-media.error';

/**
 * What can go wrong while an upload's body is read, besides a broken media rule (`MediaValidationError`).
 * `MediaUploadInterceptor.toHttpException` turns each into Weixin's HTTP answer (errors/weixin-error-response.ts).
 */

/** The form has the wrong shape: no file, the wrong field, an extra field, too many parts. 400 41005. */
export class UploadFormError extends WeixinMediaError {
  override readonly name = 'UploadFormError';
  override readonly code = 'WEIXIN_MEDIA_ERR_UPLOAD_FORM';
}

/** The body passed its budget in bytes that are not the file (fields, preamble, epilogue). 413 40006. */
export class UploadBodyTooLargeError extends WeixinMediaError {
  override readonly name = 'UploadBodyTooLargeError';
  override readonly code = 'WEIXIN_MEDIA_ERR_UPLOAD_BODY_TOO_LARGE';
  constructor(
    message: string,
    readonly limit: number,
    readonly actual: number,
  ) {
    super(message);
  }
}

/** The body stalled, or came slower than the lowest accepted rate. 408 41005. */
export class UploadTimeoutError extends WeixinMediaError {
  override readonly name = 'UploadTimeoutError';
  override readonly code = 'WEIXIN_MEDIA_ERR_UPLOAD_TIMEOUT';
}

/** The client closed the connection before the body was complete. 400 41005, if anyone still listens. */
export class UploadAbortedError extends WeixinMediaError {
  override readonly name = 'UploadAbortedError';
  override readonly code = 'WEIXIN_MEDIA_ERR_UPLOAD_ABORTED';
  constructor() {
    super('the client closed the connection during the upload');
  }
}
