// The package's public surface: what the README documents, by name. Internals stay unexported.
// test/unit/package/public-surface.spec.ts lists these names: adding or removing one is a decision (README, CHANGELOG).

// The module, its options token and the service
export { InjectWeixinMediaOptions, WeixinMediaModule } from './weixin-media.module';
export type { WeixinMediaModuleFlags } from './weixin-media.module-definition';
export {
  DEFAULT_API_BASE_URL,
  MEDIA_LIFETIME_MS,
  WEIXIN_MEDIA_MODULE_OPTIONS,
} from './weixin-media.constants';
export { TemporaryMediaService, type AccountMedia } from './temporary-media.service';
export { AccessTokenManager } from './tokens/access-token.manager';
export * from './messages';

// Types of the options, sources, results and the seams users plug into (types only)
export * from './interfaces';

// Errors
export { MediaFitError, type MediaFitDetails, type MediaFitReason } from './errors/media-fit.error';
export { MediaSourceError } from './errors/media-source.error';
export {
  MessageValidationError,
  type MessageValidationDetails,
  type MessageValidationReason,
} from './errors/message-validation.error';
export {
  MediaValidationError,
  type MediaValidationDetails,
  type MediaValidationReason,
} from './errors/media-validation.error';
export { AccountResolverTimeoutError } from './errors/account-resolver-timeout.error';
export { UnknownAccountError } from './errors/unknown-account.error';
export { WeixinApiError } from './errors/weixin-api.error';
export { WeixinMediaError } from './errors/weixin-media.error';
export { WeixinMediaOptionsError } from './errors/weixin-media-options.error';
export { WeixinNetworkError } from './errors/weixin-network.error';
export { WeixinDownloadTooLargeError } from './errors/weixin-download-too-large.error';
export { WeixinStoreError } from './errors/weixin-store.error';
export {
  WeixinErrorCode,
  WEIXIN_ERROR_CODES,
  isQuotaErrcode,
  isRetryableErrcode,
  isTokenInvalidErrcode,
  type WeixinErrorCodeInfo,
} from './errors/weixin-error-codes';
export { nextQuotaReset } from './errors/weixin-error-hints';

// Callbacks: the messages Weixin posts, their handlers and replies, and why a request was refused
export * from './callback';

// Weixin's rules
export { FORMAT_EXTENSIONS, MEDIA_RULES, MEDIA_TYPES, type MediaTypeRules } from './media-rules/media-limits';

// Token stores and reuse caches
export { InMemoryTokenStore } from './tokens/in-memory-token.store';
export { RedisTokenStore, type RedisTokenStoreOptions } from './tokens/redis-token.store';
export { InMemoryMediaCache } from './media-cache/in-memory-media.cache';
export { RedisMediaCache, type RedisMediaCacheOptions } from './media-cache/redis-media.cache';

// Validation for your own routes
export type { WeixinErrorBody } from './errors/weixin-error-response';
export { toHttpException } from './validation/media-validation-http';
export { ParseWeixinMediaPipe, type ParseWeixinMediaPipeOptions } from './validation/parse-weixin-media.pipe';
export { UploadMediaDto } from './validation/upload-media.dto';
export {
  WeixinMediaFileValidator,
  type WeixinMediaFileValidatorOptions,
} from './validation/weixin-media-file.validator';
export {
  weixinValidationExceptionFactory,
  type ValidationErrorLike,
} from './validation/weixin-validation-exception.factory';

// The upload controller's parts, for routes of your own
export { MediaUploadInterceptor, type MediaUploadRequest } from './controller/media-upload.interceptor';
export type { MediaUploadFile, MediaUploadFormLimits } from './controller/multipart-upload.interface';
export { WeixinMediaExceptionFilter } from './controller/weixin-media-exception.filter';
export type { UploadedMediaResponse, VideoUrlResponse } from './controller/weixin-media-response.interface';

// Operations: a terminus health indicator (terminus is loaded on the first check)
export {
  WeixinMediaHealthIndicator,
  type WeixinMediaHealthDetails,
  type WeixinMediaHealthOptions,
  type WeixinMediaHealthResult,
} from './health';
