import { randomBytes } from 'node:crypto';
import type { WeixinRedisClient } from '../interfaces/redis-client.interface';

/** Deletes the lock KEYS[1] only while it is still held by the holder ARGV[1]. */
const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export interface RedisLease {
  /** Gives the lock back; only ours: after the lease ran out someone else may hold it. Idempotent. */
  release(): Promise<void>;
}

/** Runs one Redis command of a store, turning a failure into the store's own error. */
export type RedisCommand = <T>(operation: string, run: () => Promise<T>) => Promise<T>;

/**
 * A lease on `lockKey` (`SET NX PX`): a holder that crashed keeps the others waiting no longer than
 * `leaseMs`, and the lock is released only by the holder that took it. Undefined when another holds it.
 */
export async function takeRedisLease(
  client: WeixinRedisClient,
  lockKey: string,
  leaseMs: number,
  command: RedisCommand,
): Promise<RedisLease | undefined> {
  const holder = randomBytes(16).toString('hex');
  const taken = await command('lock', () =>
    client.set(lockKey, holder, 'PX', Math.max(1, Math.ceil(leaseMs)), 'NX'),
  );
  if (taken !== 'OK') return undefined;
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await command('unlock', () => client.eval(RELEASE_LEASE, 1, lockKey, holder));
    },
  };
}
