export * from './weixin-media-file.validator';
