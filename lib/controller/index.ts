export { MediaUploadInterceptor, type MediaUploadRequest } from './media-upload.interceptor';
export type { MediaUploadFile, MediaUploadFormLimits } from './multipart-upload.reader';
export { DEFAULT_UPLOAD_LIMITS } from './upload-limits';
export { MEDIA_UPLOAD_FILE_PREFIX } from './upload-session';
export * from './weixin-media-exception.filter';
export { SUPPORTED_HTTP_ADAPTERS } from './weixin-media-http.setup';
export type { UploadedMediaResponse, VideoUrlResponse } from './weixin-media-response.interface';
export { createWeixinMediaController, WeixinMediaController } from './weixin-media.controller';
