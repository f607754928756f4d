import { Logger } from '@nestjs/common';
import type { CachedMedia, MediaCache, MediaCacheLock } from '../interfaces/media-cache.interface';
import { StoreCircuit } from './store-circuit';

/** This process uploads on its own: a cache that is down shares nothing across processes. */
const ALONE: MediaCacheLock = { release: async () => undefined };

/** The user's reuse cache behind a circuit: an outage costs reuse, never a stalled upload. */
export function withMediaCacheFallback(cache: MediaCache): MediaCache {
  const logger = new Logger('WeixinMediaCache');
  // A cache without locks stays one: without it, identical content is shared within each process only.
  return new (cache.tryLock ? LockingFallbackMediaCache : FallbackMediaCache)(
    cache,
    new StoreCircuit({
      name: 'media cache',
      meanwhile: 'uploads skip reuse',
      warn: (message) => logger.warn(message),
      log: (message) => logger.log(message),
    }),
  );
}

/**
 * The reuse cache the module uses in front of the user's: while it fails or does not answer within the
 * circuit's bound, reuse is skipped (every upload goes to Weixin) and no upload waits on it.
 */
export class FallbackMediaCache implements MediaCache {
  constructor(
    protected readonly cache: MediaCache,
    protected readonly circuit: StoreCircuit,
  ) {}

  get(key: string): Promise<CachedMedia | undefined> {
    return this.circuit.run(
      'get',
      () => this.cache.get(key),
      () => undefined,
    );
  }

  set(key: string, value: CachedMedia): Promise<void> {
    return this.circuit.run(
      'set',
      () => this.cache.set(key, value),
      () => undefined,
    );
  }

  deleteByMediaId(mediaId: string, appId: string): Promise<void> {
    return this.circuit.run(
      'delete',
      () => this.cache.deleteByMediaId(mediaId, appId),
      () => undefined,
    );
  }
}

/** A reuse cache that locks, behind the circuit: while it is down, each process uploads on its own. */
export class LockingFallbackMediaCache extends FallbackMediaCache {
  async tryLock(key: string, leaseMs: number): Promise<MediaCacheLock | undefined> {
    const lock = await this.circuit.run<MediaCacheLock | undefined>(
      'lock',
      () => this.cache.tryLock!(key, leaseMs),
      () => ALONE,
      // A lock granted after we stopped waiting would keep the fleet waiting for its lease.
      (late) => void late?.release().catch(() => undefined),
    );
    if (!lock || lock === ALONE) return lock;
    return {
      release: () =>
        this.circuit.run(
          'unlock',
          () => lock.release(),
          () => undefined, // the lease ends it
        ),
    };
  }
}
