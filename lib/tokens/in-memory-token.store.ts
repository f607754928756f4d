import type { StoredAccessToken, TokenLock, TokenStore } from '../interfaces/token-store.interface';

/** The default store: one process, no sharing. Locks are leases so a lost release never blocks forever. */
export class InMemoryTokenStore implements TokenStore {
  protected readonly tokens = new Map<string, StoredAccessToken>();
  protected readonly locks = new Map<string, { owner: symbol; until: number }>();

  async get(key: string): Promise<StoredAccessToken | undefined> {
    return this.tokens.get(key);
  }

  async set(key: string, value: StoredAccessToken): Promise<void> {
    this.tokens.set(key, value);
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
