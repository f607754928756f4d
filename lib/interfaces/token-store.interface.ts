/** An access token as kept in a store. */
export interface StoredAccessToken {
  token: string;
  /** Epoch milliseconds after which the token must not be used. */
  expiresAt: number;
}

/** A held refresh lock; release it when the refresh is done (or failed). */
export interface TokenLock {
  release(): Promise<void>;
}

/**
 * Where access tokens are cached and how concurrent refreshes are serialised.
 * The in-memory store serves one process; `RedisTokenStore` serves a fleet.
 */
export interface TokenStore {
  get(key: string): Promise<StoredAccessToken | undefined>;
  set(key: string, value: StoredAccessToken): Promise<void>;
  /** Compare-and-delete: removes the entry only while it still holds `token`. */
  delete(key: string, token: string): Promise<void>;
  /**
   * Tries to take the refresh lock for `key` for at most `leaseMs`.
   * Answers `undefined` when another holder has it.
   */
  tryLock(key: string, leaseMs: number): Promise<TokenLock | undefined>;
}
