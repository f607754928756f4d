export * from './media-validation-http';
export * from './parse-weixin-media.pipe';
export * from './upload-media.dto';
export * from './weixin-media-file.validator';
export * from './weixin-validation-exception.factory';
