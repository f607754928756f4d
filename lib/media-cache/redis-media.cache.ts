import type { WeixinRedisClient } from '../interfaces/redis-client.interface';
import { WeixinStoreError } from '../errors/weixin-store.error';
import type { CachedMedia, MediaCache, MediaCacheLock } from '../interfaces/media-cache.interface';
import { isMediaType } from '../media-rules/media-limits';
import { appTaggedKey, keyAppId } from '../redis/redis-keys';
import { takeRedisLease } from '../redis/redis-lease';

export interface RedisMediaCacheOptions {
  /**
   * Put before every key this cache writes, so several apps or environments can share one Redis.
   * @default 'weixin-media:'
   */
  prefix?: string;
}

/**
 * Writes the entry KEYS[2] (ARGV[3], expiring in ARGV[2] ms) and adds its cache key ARGV[1] to the media_id's
 * index KEYS[1], whose expiry only ever grows (it must outlive every entry it lists). One script: both keys
 * carry the account's hash tag, so an entry never exists without the index its 40007 evicts it by.
 */
const SET_INDEXED = `
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return 1`;

/** Deletes the entry KEYS[1] only while it still answers the media_id ARGV[1]. */
const DELETE_IF_MEDIA_ID = `
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
local ok, entry = pcall(cjson.decode, value)
if ok and type(entry) == 'table' and entry.mediaId == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * The reuse cache shared by every instance of an app through one Redis. Entries expire in Redis when
 * they stop being answerable (the service sets `expiresAt` a margin before the media expires); a
 * reverse index per account and media_id lets a 40007 evict that account's entries answering that id.
 *
 * Works with one Redis and with Redis Cluster (an ioredis `Cluster`): every key of an account carries its
 * AppID hash tag, so a script's keys always share a slot.
 *
 * Keys: `<prefix>{<appId>}:media:<type>:<sha256>` (the entry, e.g. `weixin-media:{wx123}:media:image:…`)
 * and `<prefix>{<appId>}:media-id:<mediaId>` (a set of the account's cache keys answering it, expiring with
 * the last of them), and `<prefix>{<appId>}:media-lock:<type>:<sha256>` while one process uploads that content.
 */
export class RedisMediaCache implements MediaCache {
  protected readonly prefix: string;

  constructor(
    /** An ioredis `Redis` or `Cluster`, or any client with the commands of `WeixinRedisClient`. */
    protected readonly client: WeixinRedisClient,
    options: RedisMediaCacheOptions = {},
  ) {
    this.prefix = options.prefix ?? 'weixin-media:';
  }

  async get(key: string): Promise<CachedMedia | undefined> {
    const value = await this.command('get', () => this.client.get(this.entryKey(key)));
    const entry = value === null ? undefined : parseCachedMedia(value);
    return entry && entry.expiresAt > Date.now() ? entry : undefined;
  }

  async set(key: string, value: CachedMedia): Promise<void> {
    const ttlMs = Math.floor(value.expiresAt - Date.now());
    if (!(ttlMs > 0)) {
      return;
    }
    const entry: CachedMedia = {
      type: value.type,
      mediaId: value.mediaId,
      createdAt: value.createdAt,
      expiresAt: value.expiresAt,
      ...(value.fitted ? { fitted: value.fitted } : {}),
    };
    const indexKey = this.indexKey(keyAppId(key), value.mediaId);
    await this.command('set', () =>
      this.client.eval(SET_INDEXED, 2, indexKey, this.entryKey(key), key, ttlMs, JSON.stringify(entry)),
    );
  }

  async deleteByMediaId(mediaId: string, appId: string): Promise<void> {
    const indexKey = this.indexKey(appId, mediaId);
    // The index lists cache keys, not Redis keys: a client `keyPrefix` is then applied exactly once.
    const keys = await this.command('delete', () => this.client.smembers(indexKey));
    if (keys.length === 0) return;
    // Entry by entry, each compare-and-delete: a key overwritten with a newer media_id meanwhile stays.
    await this.command('delete', async () => {
      await Promise.all(
        keys.map((key) => this.client.eval(DELETE_IF_MEDIA_ID, 1, this.entryKey(key), mediaId)),
      );
      // SREM rather than DEL: an entry added for this id since SMEMBERS keeps its index.
      await this.client.srem(indexKey, ...keys);
    });
  }

  /** A lease (`SET NX PX`): a holder that crashed keeps the others waiting no longer than `leaseMs`. */
  async tryLock(key: string, leaseMs: number): Promise<MediaCacheLock | undefined> {
    return takeRedisLease(
      this.client,
      appTaggedKey(this.prefix, 'media-lock', key),
      leaseMs,
      (operation, run) => this.command(operation, run),
    );
  }

  /**
   * Runs Redis commands; a failure becomes a `WeixinStoreError` with Redis' message only, never the
   * client's error with the command's arguments.
   */
  protected async command<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw WeixinStoreError.from(`media cache ${operation}`, error);
    }
  }

  protected entryKey(key: string): string {
    return appTaggedKey(this.prefix, 'media', key);
  }

  protected indexKey(appId: string, mediaId: string): string {
    return appTaggedKey(this.prefix, 'media-id', `${appId}:${mediaId}`);
  }
}

function parseCachedMedia(value: string): CachedMedia | undefined {
  try {
    const parsed = JSON.parse(value) as Partial<CachedMedia> | null;
    if (
      typeof parsed?.mediaId === 'string' &&
      isMediaType(parsed.type) &&
      typeof parsed.createdAt === 'number' &&
      typeof parsed.expiresAt === 'number'
    ) {
      const { mediaId, createdAt, expiresAt, fitted } = parsed;
      const entry: CachedMedia = { type: parsed.type, mediaId, createdAt, expiresAt };
      return fitted && typeof fitted === 'object' ? { ...entry, fitted } : entry;
    }
  } catch {
    // Not ours (or damaged): a miss; the next upload of this content overwrites it.
  }
  return undefined;
}
