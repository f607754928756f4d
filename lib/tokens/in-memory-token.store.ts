import { BoundedLruMap } from '../common/bounded-lru-map';
import type { StoredAccessToken, TokenLock, TokenStore } from '../interfaces/token-store.interface';

/**
 * The default store: one process, no sharing. Locks are leases so a lost release never blocks forever.
 * At most `maxEntries` tokens are kept (the oldest written go first), so an app that serves many
 * accounts over a day stays bounded; a dropped token only costs one fetch.
 */
export class InMemoryTokenStore implements TokenStore {
  /** Read with `peek`: only writes count as use, so the oldest written go first. */
  protected readonly tokens: BoundedLruMap<string, StoredAccessToken>;
  protected readonly locks = new Map<string, { owner: symbol; until: number }>();

  constructor(protected readonly maxEntries = 10_000) {
    this.tokens = new BoundedLruMap(maxEntries, 'InMemoryTokenStore');
  }

  /** How `util.inspect` (and so the inspection of any service holding this store) shows it: no tokens. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `InMemoryTokenStore { tokens: ${this.tokens.size}, locks: ${this.locks.size} }`;
  }

  async get(key: string): Promise<StoredAccessToken | undefined> {
    return this.tokens.peek(key);
  }

  async set(key: string, value: StoredAccessToken): Promise<void> {
    this.tokens.set(key, value);
  }

  async delete(key: string, token: string): Promise<void> {
    if (this.tokens.peek(key)?.token === token) {
      this.tokens.delete(key);
    }
  }

  async tryLock(key: string, leaseMs: number): Promise<TokenLock | undefined> {
    const held = this.locks.get(key);
    if (held && held.until > Date.now()) {
      return undefined;
    }
    const owner = Symbol(key);
    this.locks.set(key, { owner, until: Date.now() + leaseMs });
    return {
      release: async () => {
        if (this.locks.get(key)?.owner === owner) {
          this.locks.delete(key);
        }
      },
    };
  }
}
