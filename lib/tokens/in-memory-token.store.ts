import type { StoredAccessToken, TokenLock, TokenStore } from '../interfaces/token-store.interface';

/**
 * The default store: one process, no sharing. Locks are leases so a lost release never blocks forever.
 * At most `maxEntries` tokens are kept (the oldest written go first), so an app that serves many
 * accounts over a day stays bounded; a dropped token only costs one fetch.
 */
export class InMemoryTokenStore implements TokenStore {
  /** Map order is write order: the first entry is the oldest. */
  protected readonly tokens = new Map<string, StoredAccessToken>();
  protected readonly locks = new Map<string, { owner: symbol; until: number }>();

  constructor(protected readonly maxEntries = 10_000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(
        `InMemoryTokenStore maxEntries must be a whole number of at least 1, got ${maxEntries}`,
      );
    }
  }

  /** How `util.inspect` (and so the inspection of any service holding this store) shows it: no tokens. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `InMemoryTokenStore { tokens: ${this.tokens.size}, locks: ${this.locks.size} }`;
  }

  async get(key: string): Promise<StoredAccessToken | undefined> {
    return this.tokens.get(key);
  }

  async set(key: string, value: StoredAccessToken): Promise<void> {
    this.tokens.delete(key);
    this.tokens.set(key, value);
    for (const oldest of this.tokens.keys()) {
      if (this.tokens.size <= this.maxEntries) break;
      this.tokens.delete(oldest);
    }
  }

  async delete(key: string, token: string): Promise<void> {
    if (this.tokens.get(key)?.token === token) {
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
