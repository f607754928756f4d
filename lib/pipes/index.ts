export * from './parse-weixin-media.pipe';
export * from './weixin-validation-exception.factory';
