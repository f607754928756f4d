export {
  MEDIA_CONTROLLER_PATH,
  MediaRulesController,
  type UploadPageSettings,
} from './media-rules.controller';
export { UPLOAD_TOKEN_HEADER, UploadTokenGuard } from './upload-token.guard';
export { UploadModule } from './upload.module';
