export * from './media.interface';
export * from './media-cache.interface';
export * from './token-store.interface';
export * from './weixin-media-module-options.interface';
export * from './weixin-account.interface';
export * from './weixin-operations.interface';
export * from './fit.interface';
export * from './redis-client.interface';
