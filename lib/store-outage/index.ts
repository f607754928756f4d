import { Logger } from '@nestjs/common';
import type { MediaCache } from '../interfaces/media-cache.interface';
import type { TokenStore } from '../interfaces/token-store.interface';
import { FallbackMediaCache } from './fallback-media.cache';
import { FallbackTokenStore } from './fallback-token.store';
import { StoreCircuit } from './store-circuit';

export { STORE_DOWN_FOR_MS, STORE_TIMEOUT_MS } from './store-circuit';

/** The user's token store behind a circuit: an outage costs sharing, never a stalled call. */
export function withTokenStoreFallback(store: TokenStore): TokenStore {
  const logger = new Logger('WeixinMediaTokenStore');
  return new FallbackTokenStore(
    store,
    new StoreCircuit({
      name: 'token store',
      meanwhile: 'access tokens are fetched and kept in this process (one request at a time)',
      warn: (message) => logger.warn(message),
      log: (message) => logger.log(message),
    }),
  );
}

/** The user's reuse cache behind a circuit: an outage costs reuse, never a stalled upload. */
export function withMediaCacheFallback(cache: MediaCache): MediaCache {
  const logger = new Logger('WeixinMediaCache');
  return new FallbackMediaCache(
    cache,
    new StoreCircuit({
      name: 'media cache',
      meanwhile: 'uploads skip reuse',
      warn: (message) => logger.warn(message),
      log: (message) => logger.log(message),
    }),
  );
}
