export {
  MEDIA_UPLOAD_FILE_PREFIX,
  MediaUploadInterceptor,
  type MediaUploadFile,
  type MediaUploadFormLimits,
  type MediaUploadRequest,
} from './media-upload.interceptor';
export * from './weixin-media-exception.filter';
export type { UploadedMediaResponse, VideoUrlResponse } from './weixin-media-response.interface';
export { createWeixinMediaController, WeixinMediaController } from './weixin-media.controller';
