import type { CachedMedia, MediaCache } from '../interfaces/media-cache.interface';

/** The default reuse cache: one process, least recently used entries dropped past `maxEntries`. */
export class InMemoryMediaCache implements MediaCache {
  protected readonly entries = new Map<string, CachedMedia>();

  constructor(protected readonly maxEntries = 1000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(
        `InMemoryMediaCache maxEntries must be a whole number of at least 1, got ${maxEntries}`,
      );
    }
  }

  async get(key: string): Promise<CachedMedia | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    // Map keeps insertion order: re-inserting marks the entry as the most recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  async set(key: string, value: CachedMedia): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
    }
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
