/**
 * The Redis commands `RedisTokenStore` and `RedisMediaCache` send, described by their shape so that an ioredis
 * `Redis` (v5 or v6) or `Cluster` fits without this package's types importing ioredis: an app without ioredis
 * compiles with `skipLibCheck: false`. Any client with these methods and ioredis' argument order works.
 */
export interface WeixinRedisClient {
  get(key: string): Promise<string | null>;
  /** `SET key value PX ms`. */
  set(key: string, value: string, expiryMode: 'PX', milliseconds: number): Promise<unknown>;
  /** `SET key value PX ms NX`: answers `'OK'` when the key was set, `null` when it existed. */
  set(key: string, value: string, expiryMode: 'PX', milliseconds: number, nx: 'NX'): Promise<'OK' | null>;
  eval(script: string, numberOfKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  smembers(key: string): Promise<string[]>;
  srem(key: string, ...members: string[]): Promise<number>;
}
