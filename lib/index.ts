export * from './errors';
export * from './interfaces';
export { InMemoryMediaCache } from './media-cache/in-memory-media.cache';
export { RedisMediaCache, type RedisMediaCacheOptions } from './media-cache/redis-media.cache';
export * from './validation';
export {
  detectFormat,
  openFileContent,
  FORMAT_CONTENT_TYPES,
  FORMAT_EXTENSIONS,
  MEDIA_RULES,
  MEDIA_TYPES,
  inspectMediaContent,
  isMediaType,
  weixinFilename,
  type MediaTypeRules,
} from './media-rules';
export { TemporaryMediaService, type AccountMedia } from './temporary-media.service';
export { AccessTokenManager } from './tokens/access-token.manager';
export { InMemoryTokenStore } from './tokens/in-memory-token.store';
export { RedisTokenStore, type RedisTokenStoreOptions } from './tokens/redis-token.store';
export {
  DEFAULT_API_BASE_URL,
  MEDIA_LIFETIME_MS,
  WEIXIN_MEDIA_MODULE_NAME,
  WEIXIN_MEDIA_MODULE_OPTIONS,
} from './weixin-media.constants';
export { InjectWeixinMediaOptions, WeixinMediaModule } from './weixin-media.module';
export { WEIXIN_CONFIG_KEYS } from './weixin-media-options.resolver';
export * from './controller';
export { DEFAULT_CONTROLLER_PATH } from './weixin-media.constants';
