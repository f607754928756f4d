import type { CallbackStore } from './callback-store.interface';

interface Entry {
  /** Epoch ms when the claim lapses. */
  claimedUntil: number;
  answer?: string;
  answeredUntil?: number;
}

/**
 * The callback store of one process: claims and answers in two generations of at most `maxEntries / 2`
 * each. New entries go into the current one; when it is full it becomes the previous one and the previous
 * one is dropped whole, so a burst of messages cannot grow the store past `maxEntries` and nothing is
 * evicted entry by entry (the cost of an LRU here, bench/callback.bench.ts). The newest `maxEntries / 2`
 * are always kept; a retry of an older one may run its handler again.
 */
export class InMemoryCallbackStore implements CallbackStore {
  protected current = new Map<string, Entry>();
  protected previous = new Map<string, Entry>();
  protected readonly generationSize: number;

  constructor(maxEntries = 10_000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 2) {
      throw new RangeError(
        `InMemoryCallbackStore maxEntries must be a whole number of at least 2, got ${maxEntries}`,
      );
    }
    this.generationSize = Math.floor(maxEntries / 2);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const entry = this.entry(key);
    if (entry && (entry.claimedUntil > now || (entry.answeredUntil ?? 0) > now)) return false;
    this.add(key, { claimedUntil: now + ttlMs });
    return true;
  }

  async answer(key: string): Promise<string | undefined> {
    const entry = this.entry(key);
    return entry && (entry.answeredUntil ?? 0) > Date.now() ? entry.answer : undefined;
  }

  async setAnswer(key: string, answer: string, ttlMs: number): Promise<void> {
    const until = Date.now() + ttlMs;
    const answered: Entry = { claimedUntil: until, answer, answeredUntil: until };
    const claimed = this.entry(key);
    if (claimed) Object.assign(claimed, answered);
    // The claim went with its generation.
    else this.add(key, answered);
  }

  protected entry(key: string): Entry | undefined {
    return this.current.get(key) ?? this.previous.get(key);
  }

  protected add(key: string, entry: Entry): void {
    if (this.current.size >= this.generationSize) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, entry);
  }
}
