import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { RedisMediaCache } from '../../../lib';
import { RedisServer } from '../../support/redis-server';

describe('RedisMediaCache: the upload lock of one content', () => {
  let server: RedisServer;
  let client: Redis;
  before(async () => {
    server = await RedisServer.start();
    client = server.createClient();
  });
  after(async () => {
    client.disconnect();
    await server.stop();
  });

  it('one holder at a time, under the account hash tag; released, it is free again', async () => {
    const cache = new RedisMediaCache(client);
    const key = 'wxlockapp:image:abc';
    const held = await cache.tryLock(key, 10_000);
    assert.ok(held);
    assert.equal(await cache.tryLock(key, 10_000), undefined, 'another process waits');
    assert.ok(await cache.tryLock('wxlockapp:image:other', 10_000), 'other content is not held');
    assert.ok((await client.pttl('weixin-media:{wxlockapp}:media-lock:image:abc')) > 0);
    await held.release();
    const next = await cache.tryLock(key, 10_000);
    assert.ok(next, 'free once released');
    await next.release();
  });

  it('a lease that ran out frees the content, and its late release leaves the next holder alone', async () => {
    const cache = new RedisMediaCache(client);
    const key = 'wxlockapp:voice:def';
    const crashed = await cache.tryLock(key, 60_000);
    assert.ok(crashed);
    // The lease runs out (as Redis ends it, without waiting a minute).
    assert.equal(await client.del('weixin-media:{wxlockapp}:media-lock:voice:def'), 1);
    const next = await cache.tryLock(key, 10_000);
    assert.ok(next, 'the lease ended it');
    await crashed.release();
    assert.equal(
      await cache.tryLock(key, 10_000),
      undefined,
      "the late release did not delete the next holder's lock",
    );
    await next.release();
  });
});
