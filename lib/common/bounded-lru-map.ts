/**
 * A Map of at most `maxEntries` entries that drops the least recently used one past its bound: what an
 * in-process cache keyed by something outsiders choose (AppIDs, content digests, file identities) needs to
 * stay bounded however long the process runs. `get` and `set` mark an entry as the most recently used;
 * `peek` reads without doing so.
 */
export class BoundedLruMap<K, V> {
  /** Map keeps insertion order: the first entry is the least recently used. */
  protected readonly entries = new Map<K, V>();
  /**
   * The keys from the least recently used on, one iterator kept across evictions: a fresh one walks past
   * every deleted slot at the front of the Map's table, 8 µs an eviction at 10,000 entries.
   */
  protected oldest = this.entries.keys();
  /** The key used last, if it is still here. */
  protected newest: K | undefined;

  constructor(
    readonly maxEntries: number,
    /** Who holds the map, named in the error for a bad bound. */
    owner = 'BoundedLruMap',
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`${owner} maxEntries must be a whole number of at least 1, got ${maxEntries}`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    if (!this.entries.has(key)) return undefined;
    const value = this.entries.get(key) as V;
    // The most recent entry stays where it is: moving it would leave a deleted slot in the Map each time.
    if (key !== this.newest) this.set(key, value);
    return value;
  }

  peek(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): this {
    if (key !== this.newest) this.entries.delete(key);
    this.entries.set(key, value);
    this.newest = key;
    if (this.entries.size > this.maxEntries) {
      let next = this.oldest.next();
      if (next.done) {
        this.oldest = this.entries.keys();
        next = this.oldest.next();
      }
      this.entries.delete(next.value as K);
    }
    return this;
  }

  delete(key: K): boolean {
    if (key === this.newest) this.newest = undefined;
    return this.entries.delete(key);
  }

  /** Entries from the least to the most recently used; deleting while iterating is safe. */
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries[Symbol.iterator]();
  }
}
