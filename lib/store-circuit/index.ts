export { withMediaCacheFallback } from './fallback-media.cache';
export { withTokenStoreFallback } from './fallback-token.store';
export { STORE_TIMEOUT_MS } from './store-circuit';
