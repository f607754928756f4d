/**
 * The base of every error this library throws: `instanceof WeixinMediaError` catches them all, and `code`
 * tells them apart by a stable string (as undici's `UND_ERR_*`), one per class, never changed once released:
 *
 * - `WEIXIN_MEDIA_ERR_VALIDATION`: `MediaValidationError`, a file breaks one of Weixin's rules
 * - `WEIXIN_MEDIA_ERR_FIT`: `MediaFitError`, a source could not be converted to pass them
 * - `WEIXIN_MEDIA_ERR_SOURCE`: `MediaSourceError`, a path or URL could not be read (`systemCode` says why)
 * - `WEIXIN_MEDIA_ERR_MESSAGE_VALIDATION`: `MessageValidationError`, a message to send breaks one of Weixin's rules
 * - `WEIXIN_MEDIA_ERR_API`: `WeixinApiError`, Weixin answered a non-zero `errcode`
 * - `WEIXIN_MEDIA_ERR_NETWORK`: `WeixinNetworkError`, no usable answer from Weixin (`systemCode` says why)
 * - `WEIXIN_MEDIA_ERR_DOWNLOAD_TOO_LARGE`: `WeixinDownloadTooLargeError`, a download past the largest media Weixin serves
 * - `WEIXIN_MEDIA_ERR_UNKNOWN_ACCOUNT`: `UnknownAccountError`, no Official Account for an AppID
 * - `WEIXIN_MEDIA_ERR_ACCOUNT_RESOLVER_TIMEOUT`: `AccountResolverTimeoutError`, the accounts resolver did not answer in time
 * - `WEIXIN_MEDIA_ERR_OPTIONS`: `WeixinMediaOptionsError`, the module's or controller's options are wrong
 * - `WEIXIN_MEDIA_ERR_CALLBACK_REFUSED`: `CallbackRefusedError`, a callback request failed a check before any handler
 * - `WEIXIN_MEDIA_ERR_STORE`: `WeixinStoreError`, a token store or media cache failed (`storeCode` says why)
 *
 * The upload interceptor's own failures reach an override of `MediaUploadInterceptor.toHttpException`:
 * `WEIXIN_MEDIA_ERR_UPLOAD_FORM`, `WEIXIN_MEDIA_ERR_UPLOAD_BODY_TOO_LARGE`, `WEIXIN_MEDIA_ERR_UPLOAD_TIMEOUT`,
 * `WEIXIN_MEDIA_ERR_UPLOAD_ABORTED`.
 */
export abstract class WeixinMediaError extends Error {
  abstract readonly code: string;
}
