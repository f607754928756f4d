import { BoundedLruMap } from '../common/bounded-lru-map';
import type { CallbackStore } from './callback-store.interface';

interface Entry {
  /** Epoch ms when the claim lapses. */
  claimedUntil: number;
  answer?: string;
  answeredUntil?: number;
}

/**
 * The callback store of one process: claims and answers in a bounded LRU (a burst of messages cannot grow
 * it past `maxEntries`; the oldest go first, and a retry of one of those may run its handler again).
 */
export class InMemoryCallbackStore implements CallbackStore {
  protected readonly entries: BoundedLruMap<string, Entry>;

  constructor(maxEntries = 10_000) {
    this.entries = new BoundedLruMap(maxEntries, 'InMemoryCallbackStore');
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const entry = this.entries.peek(key);
    if (entry && (entry.claimedUntil > now || (entry.answeredUntil ?? 0) > now)) return false;
    this.entries.set(key, { claimedUntil: now + ttlMs });
    return true;
  }

  async answer(key: string): Promise<string | undefined> {
    const entry = this.entries.peek(key);
    return entry && (entry.answeredUntil ?? 0) > Date.now() ? entry.answer : undefined;
  }

  async setAnswer(key: string, answer: string, ttlMs: number): Promise<void> {
    const until = Date.now() + ttlMs;
    const claimed = this.entries.peek(key);
    // The claim's entry, kept where it is (it was used a moment ago), or a new one.
    const entry = claimed ?? { claimedUntil: until };
    entry.claimedUntil = until;
    entry.answer = answer;
    entry.answeredUntil = until;
    if (!claimed) this.entries.set(key, entry);
  }
}
