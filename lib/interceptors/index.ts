export {
  MEDIA_UPLOAD_FILE_PREFIX,
  MediaUploadInterceptor,
  type MediaUploadFile,
  type MediaUploadFormLimits,
  type MediaUploadRequest,
} from './media-upload.interceptor';
