import type { WeixinRedisClient } from '../interfaces/redis-client.interface';
import { WeixinStoreError } from '../errors/weixin-store.error';
import type { StoredAccessToken, TokenLock, TokenStore } from '../interfaces/token-store.interface';
import { appTaggedKey } from '../redis/redis-keys';
import { takeRedisLease } from '../redis/redis-lease';

export interface RedisTokenStoreOptions {
  /**
   * Put before every key this store writes, so several apps or environments can share one Redis.
   * @default 'weixin-media:'
   */
  prefix?: string;
}

/** Deletes KEYS[1] only while its JSON value still holds the token ARGV[1]. */
const DELETE_IF_TOKEN = `
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
local ok, stored = pcall(cjson.decode, value)
if ok and type(stored) == 'table' and stored.token == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * Access tokens shared by every instance of an app through one Redis: one token request for the whole
 * fleet. Tokens are stored with their expiry (and expire in Redis with it); the refresh lock is a lease
 * (`SET NX PX`), so a holder that crashed blocks the others no longer than the lease, and it is
 * released only by the holder that took it.
 *
 * Works with one Redis and with Redis Cluster (an ioredis `Cluster`): the AppID is the keys' hash tag,
 * so a token, its lock and their scripts share one slot.
 *
 * Keys: `<prefix>{<appId>}:token:<tokenMode>` (e.g. `weixin-media:{wx123}:token:stable`) and `…:lock`
 * beside it.
 */
export class RedisTokenStore implements TokenStore {
  protected readonly prefix: string;

  constructor(
    /** An ioredis `Redis` or `Cluster`, or any client with the commands of `WeixinRedisClient`. */
    protected readonly client: WeixinRedisClient,
    options: RedisTokenStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'weixin-media:';
  }

  async get(key: string): Promise<StoredAccessToken | undefined> {
    const value = await this.command('get', () => this.client.get(this.tokenKey(key)));
    const stored = value === null ? undefined : parseStoredToken(value);
    return stored && stored.expiresAt > Date.now() ? stored : undefined;
  }

  async set(key: string, value: StoredAccessToken): Promise<void> {
    const ttlMs = Math.floor(value.expiresAt - Date.now());
    if (!(ttlMs > 0)) {
      // Already past its expiry: nothing worth sharing (and PX must be positive).
      return;
    }
    const stored: StoredAccessToken = { token: value.token, expiresAt: value.expiresAt };
    await this.command(
      'set',
      () => this.client.set(this.tokenKey(key), JSON.stringify(stored), 'PX', ttlMs),
      [value.token],
    );
  }

  async delete(key: string, token: string): Promise<void> {
    await this.command('delete', () => this.client.eval(DELETE_IF_TOKEN, 1, this.tokenKey(key), token), [
      token,
    ]);
  }

  async tryLock(key: string, leaseMs: number): Promise<TokenLock | undefined> {
    return takeRedisLease(this.client, `${this.tokenKey(key)}:lock`, leaseMs, (operation, run) =>
      this.command(operation, run),
    );
  }

  /**
   * Runs one Redis command; a failure becomes a `WeixinStoreError` with Redis' message only. The client's
   * own error lists the command's arguments (the key and the whole access token) and is not passed on.
   */
  protected async command<T>(operation: string, run: () => Promise<T>, secrets: string[] = []): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw WeixinStoreError.from(`token store ${operation}`, error, secrets);
    }
  }

  protected tokenKey(key: string): string {
    return appTaggedKey(this.prefix, 'token', key);
  }
}

function parseStoredToken(value: string): StoredAccessToken | undefined {
  try {
    const parsed = JSON.parse(value) as Partial<StoredAccessToken> | null;
    if (typeof parsed?.token === 'string' && typeof parsed.expiresAt === 'number') {
      return { token: parsed.token, expiresAt: parsed.expiresAt };
    }
  } catch {
    // Not ours (or damaged): treat as absent; the next refresh overwrites it.
  }
  return undefined;
}
