import { Module } from '@nestjs/common';
import { FitUploadController } from './fit-upload.controller';
import { MediaRulesController } from './media-rules.controller';
import { UploadTokenGuard } from './upload-token.guard';

/**
 * The upload page's server side: its rules endpoint and the guard of the media controller. The page
 * itself is static (`sample/public`); the controller comes from `WeixinMediaModule`.
 */
@Module({
  controllers: [MediaRulesController, FitUploadController],
  providers: [UploadTokenGuard],
  exports: [UploadTokenGuard],
})
export class UploadModule {}
