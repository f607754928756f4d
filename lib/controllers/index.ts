export type { UploadedMediaResponse, VideoUrlResponse } from './weixin-media-response.interface';
export { createWeixinMediaController, WeixinMediaController } from './weixin-media.controller';
