import { BoundedLruMap } from '../common/bounded-lru-map';
import type { CachedMedia, MediaCache } from '../interfaces/media-cache.interface';

/** The default reuse cache: one process, least recently used entries dropped past `maxEntries`. */
export class InMemoryMediaCache implements MediaCache {
  protected readonly entries: BoundedLruMap<string, CachedMedia>;

  constructor(protected readonly maxEntries = 1000) {
    this.entries = new BoundedLruMap(maxEntries, 'InMemoryMediaCache');
  }

  async get(key: string): Promise<CachedMedia | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  async set(key: string, value: CachedMedia): Promise<void> {
    this.entries.set(key, value);
  }

  async deleteByMediaId(mediaId: string, appId: string): Promise<void> {
    const account = `${appId}:`;
    for (const [key, entry] of this.entries) {
      if (entry.mediaId === mediaId && key.startsWith(account)) this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
