export * from './weixin-media-exception.filter';
