import type { Provider } from '@nestjs/common';
import type { ResolvedWeixinMediaOptions } from '../interfaces/resolved-weixin-media-options.interface';
import type { WeixinRedisClient } from '../interfaces/redis-client.interface';
import { RedisTokenStore } from '../tokens/redis-token.store';
import { WEIXIN_MEDIA_MODULE_OPTIONS } from '../weixin-media.constants';
import type { CallbackStore } from './callback-store.interface';
import { withCallbackStoreFallback } from './fallback-callback.store';
import { InMemoryCallbackStore } from './in-memory-callback.store';
import { RedisCallbackStore } from './redis-callback.store';
import { WEIXIN_CALLBACK_OPTIONS, type WeixinCallbackOptions } from './weixin-callback.options';

/** The callback store the module uses (see `callbackStoreProvider`). */
export const WEIXIN_CALLBACK_STORE = Symbol('WEIXIN_CALLBACK_STORE');

/**
 * `callback.store` when given; else a `RedisCallbackStore` on the client of the library's `RedisTokenStore`
 * when that is the `tokenStore` (a fleet that shares tokens shares handled messages too); else in memory.
 * A shared store sits behind a circuit: while it fails, callbacks are still answered.
 */
export const callbackStoreProvider: Provider = {
  provide: WEIXIN_CALLBACK_STORE,
  useFactory: (options: ResolvedWeixinMediaOptions, callback: WeixinCallbackOptions): CallbackStore => {
    if (callback.store) return withCallbackStoreFallback(callback.store);
    const { tokenStore } = options;
    if (tokenStore instanceof RedisTokenStore) {
      // The token store keeps its client to itself (protected); the callback store shares its connection.
      const client = (tokenStore as unknown as { client: WeixinRedisClient }).client;
      const prefix = (tokenStore as unknown as { prefix: string }).prefix;
      return withCallbackStoreFallback(new RedisCallbackStore(client, { prefix }));
    }
    return new InMemoryCallbackStore();
  },
  inject: [WEIXIN_MEDIA_MODULE_OPTIONS, WEIXIN_CALLBACK_OPTIONS],
};
