import { WeixinStoreError } from '../errors/weixin-store.error';
import type { WeixinRedisClient } from '../interfaces/redis-client.interface';
import { appTaggedKey } from '../redis/redis-keys';
import type { CallbackStore } from './callback-store.interface';

export interface RedisCallbackStoreOptions {
  /**
   * Put before every key this store writes, so several apps or environments can share one Redis.
   * @default 'weixin-media:'
   */
  prefix?: string;
}

/**
 * The callback store of a fleet: a message is claimed with `SET NX PX` (the first instance a try reaches
 * runs the handler) and its answer is kept beside the claim, so a retry on any instance gets the same bytes.
 * Works with one Redis and with Redis Cluster: the AppID is the keys' hash tag
 * (`weixin-media:{wx123}:callback:msg:24123...:claim` and `...:answer`).
 */
export class RedisCallbackStore implements CallbackStore {
  protected readonly prefix: string;

  constructor(
    /** An ioredis `Redis` or `Cluster`, or any client with `get` and `set`. */
    protected readonly client: Pick<WeixinRedisClient, 'get' | 'set'>,
    options: RedisCallbackStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'weixin-media:';
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const taken = await this.command('claim', () =>
      this.client.set(this.key(key, 'claim'), '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'),
    );
    return taken === 'OK';
  }

  async answer(key: string): Promise<string | undefined> {
    const value = await this.command('answer', () => this.client.get(this.key(key, 'answer')));
    return value ?? undefined;
  }

  async setAnswer(key: string, answer: string, ttlMs: number): Promise<void> {
    await this.command('set answer', () =>
      this.client.set(this.key(key, 'answer'), answer, 'PX', Math.max(1, Math.ceil(ttlMs))),
    );
  }

  /** A Redis failure as a `WeixinStoreError` with Redis' message only (never the keys or the answer). */
  protected async command<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw WeixinStoreError.from(`callback store ${operation}`, error);
    }
  }

  protected key(key: string, kind: 'claim' | 'answer'): string {
    return `${appTaggedKey(this.prefix, 'callback', key)}:${kind}`;
  }
}
