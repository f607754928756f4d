import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import {
  AccessTokenManager,
  MEDIA_LIFETIME_MS,
  RedisMediaCache,
  RedisTokenStore,
  WeixinApiError,
  type CachedMedia,
} from '../../../lib';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { distinctJpeg } from '../../support/fleet';
import { mediaFixture } from '../../support/paths';
import { RedisServer } from '../../support/redis-server';

const HOUR_MS = 60 * 60 * 1000;
const UPLOAD = '/cgi-bin/media/upload';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function cached(mediaId: string, ttlMs: number): CachedMedia {
  return { type: 'image', mediaId, createdAt: Date.now(), expiresAt: Date.now() + ttlMs };
}

describe('Redis stores on a real redis-server', () => {
  let redis: RedisServer;
  let client: Redis;
  /** A second connection: another process, as far as Redis can tell. */
  let other: Redis;

  before(async () => {
    redis = await RedisServer.start();
    client = redis.createClient();
    other = redis.createClient();
  });
  after(() => redis?.stop());
  beforeEach(() => client.flushall());

  describe('RedisTokenStore', () => {
    it('stores a token as JSON { token, expiresAt } that Redis expires with it', async () => {
      const store = new RedisTokenStore(client);
      assert.equal(await store.get('wx1:stable'), undefined);
      const token = 'T'.repeat(600); // Weixin says: keep room for at least 512 characters.
      const expiresAt = Date.now() + 60_000;
      await store.set('wx1:stable', { token, expiresAt });
      assert.deepEqual(await store.get('wx1:stable'), { token, expiresAt });
      assert.deepEqual(JSON.parse((await client.get('weixin-media:{wx1}:token:stable'))!), {
        token,
        expiresAt,
      });
      const ttl = await client.pttl('weixin-media:{wx1}:token:stable');
      assert.ok(ttl > 58_000 && ttl <= 60_000, `PTTL ${ttl}`);
      // Seen from another connection too.
      assert.equal((await new RedisTokenStore(other).get('wx1:stable'))?.token, token);
    });

    it('forgets a token at its expiry; never writes one already expired', async () => {
      const store = new RedisTokenStore(client);
      await store.set('wx1:classic', { token: 'short', expiresAt: Date.now() + 120 });
      assert.equal((await store.get('wx1:classic'))?.token, 'short');
      await sleep(200);
      assert.equal(await store.get('wx1:classic'), undefined);
      assert.equal(await client.exists('weixin-media:{wx1}:token:classic'), 0);
      await store.set('wx1:classic', { token: 'dead', expiresAt: Date.now() - 1 });
      assert.equal(await client.exists('weixin-media:{wx1}:token:classic'), 0);
    });

    it('treats a damaged value as no token', async () => {
      await client.set('weixin-media:{wx1}:token:stable', 'not json');
      assert.equal(await new RedisTokenStore(client).get('wx1:stable'), undefined);
      await client.set('weixin-media:{wx1}:token:stable', '{"token":42}');
      assert.equal(await new RedisTokenStore(client).get('wx1:stable'), undefined);
    });

    it('delete is compare-and-delete: it removes only the token it names', async () => {
      const store = new RedisTokenStore(client);
      await store.set('wx1:stable', { token: 'new-token', expiresAt: Date.now() + 60_000 });
      await new RedisTokenStore(other).delete('wx1:stable', 'old-token');
      assert.equal((await store.get('wx1:stable'))?.token, 'new-token');
      await new RedisTokenStore(other).delete('wx1:stable', 'new-token');
      assert.equal(await store.get('wx1:stable'), undefined);
      await store.delete('wx1:stable', 'new-token'); // nothing there: no error
      await client.set('weixin-media:{wx1}:token:stable', 'not json');
      await store.delete('wx1:stable', 'new-token');
      assert.equal(await client.get('weixin-media:{wx1}:token:stable'), 'not json');
    });

    it('the lock is exclusive across connections until released', async () => {
      const mine = new RedisTokenStore(client);
      const theirs = new RedisTokenStore(other);
      const lock = await mine.tryLock('wx1:stable', 10_000);
      assert.ok(lock);
      assert.equal(await theirs.tryLock('wx1:stable', 10_000), undefined);
      assert.equal(await mine.tryLock('wx1:stable', 10_000), undefined, 'not re-entrant either');
      const ttl = await client.pttl('weixin-media:{wx1}:token:stable:lock');
      assert.ok(ttl > 9_000 && ttl <= 10_000, `the lock is a lease: PTTL ${ttl}`);
      assert.ok(await theirs.tryLock('wx1:classic', 10_000), 'another key has its own lock');
      await lock.release();
      assert.ok(await theirs.tryLock('wx1:stable', 10_000));
    });

    it('exactly one of 100 concurrent tryLock calls from 5 connections wins', async () => {
      const clients = [client, other, redis.createClient(), redis.createClient(), redis.createClient()];
      const attempts = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          new RedisTokenStore(clients[i % clients.length]).tryLock('wx1:stable', 5_000),
        ),
      );
      assert.equal(attempts.filter(Boolean).length, 1);
    });

    it('a lock whose holder vanished ends with its lease', async () => {
      const crashed = new RedisTokenStore(client);
      assert.ok(await crashed.tryLock('wx1:stable', 150)); // never released
      const waiting = new RedisTokenStore(other);
      assert.equal(await waiting.tryLock('wx1:stable', 150), undefined);
      await sleep(200);
      assert.ok(await waiting.tryLock('wx1:stable', 150));
    });

    it('release is token-checked: a holder whose lease ran out cannot free the next holder’s lock', async () => {
      const slow = new RedisTokenStore(client);
      const slowLock = await slow.tryLock('wx1:stable', 100);
      assert.ok(slowLock);
      await sleep(150);
      const next = await new RedisTokenStore(other).tryLock('wx1:stable', 10_000);
      assert.ok(next);
      await slowLock.release();
      await slowLock.release();
      const meanwhile = await new RedisTokenStore(other).tryLock('wx1:stable', 10_000);
      assert.equal(meanwhile, undefined, 'still held by the next holder');
      await next.release();
      assert.ok(await slow.tryLock('wx1:stable', 10_000));
    });

    it('keys are namespaced by prefix and by app', async () => {
      const a = new RedisTokenStore(client, { prefix: 'staging:' });
      const b = new RedisTokenStore(client, { prefix: 'prod:' });
      const expiresAt = Date.now() + 60_000;
      await a.set('wxA:stable', { token: 'staging-A', expiresAt });
      await b.set('wxA:stable', { token: 'prod-A', expiresAt });
      await b.set('wxB:stable', { token: 'prod-B', expiresAt });
      assert.equal((await a.get('wxA:stable'))?.token, 'staging-A');
      assert.equal((await b.get('wxA:stable'))?.token, 'prod-A');
      assert.equal(await a.get('wxB:stable'), undefined);
      assert.ok(await a.tryLock('wxA:stable', 5_000));
      assert.ok(await b.tryLock('wxA:stable', 5_000), 'locks are namespaced too');
      assert.deepEqual((await client.keys('*')).sort(), [
        'prod:{wxA}:token:stable',
        'prod:{wxA}:token:stable:lock',
        'prod:{wxB}:token:stable',
        'staging:{wxA}:token:stable',
        'staging:{wxA}:token:stable:lock',
      ]);
    });
  });

  describe('RedisMediaCache', () => {
    it('stores an entry until its expiresAt, with a media_id index that expires with it', async () => {
      const cache = new RedisMediaCache(client);
      const entry = cached('MEDIA_1', 60_000);
      await cache.set('wx1:image:abc', entry);
      assert.deepEqual(await cache.get('wx1:image:abc'), entry);
      assert.deepEqual(await new RedisMediaCache(other).get('wx1:image:abc'), entry);
      assert.equal(await cache.get('wx1:image:other'), undefined);
      const entryTtl = await client.pttl('weixin-media:{wx1}:media:image:abc');
      const indexTtl = await client.pttl('weixin-media:{wx1}:media-id:MEDIA_1');
      assert.ok(entryTtl > 58_000 && entryTtl <= 60_000, `entry PTTL ${entryTtl}`);
      assert.ok(indexTtl >= entryTtl - 50, `index PTTL ${indexTtl} outlives the entry`);
      assert.deepEqual(await client.smembers('weixin-media:{wx1}:media-id:MEDIA_1'), ['wx1:image:abc']);
    });

    it('an entry is gone at its expiresAt; an already expired entry is never written', async () => {
      const cache = new RedisMediaCache(client);
      await cache.set('wx1:image:abc', cached('MEDIA_1', 120));
      assert.ok(await cache.get('wx1:image:abc'));
      await sleep(200);
      assert.equal(await cache.get('wx1:image:abc'), undefined);
      assert.equal(
        await client.exists('weixin-media:{wx1}:media:image:abc', 'weixin-media:{wx1}:media-id:MEDIA_1'),
        0,
      );
      await cache.set('wx1:image:abc', cached('MEDIA_2', -1));
      assert.deepEqual(await client.keys('*'), []);
    });

    it("deleteByMediaId forgets the account's entries answering that media_id and nothing else", async () => {
      const cache = new RedisMediaCache(client);
      await cache.set('wx1:image:aaa', cached('MEDIA_1', 60_000));
      await cache.set('wx1:thumb:aaa', { ...cached('MEDIA_1', 60_000), type: 'thumb' });
      await cache.set('wx1:image:bbb', cached('MEDIA_2', 60_000));
      await cache.set('wx2:image:aaa', cached('MEDIA_1', 60_000));
      await new RedisMediaCache(other).deleteByMediaId('MEDIA_1', 'wx1');
      assert.equal(await cache.get('wx1:image:aaa'), undefined);
      assert.equal(await cache.get('wx1:thumb:aaa'), undefined);
      assert.equal((await cache.get('wx1:image:bbb'))?.mediaId, 'MEDIA_2');
      assert.equal((await cache.get('wx2:image:aaa'))?.mediaId, 'MEDIA_1', "another account's entry stays");
      assert.equal(await client.exists('weixin-media:{wx1}:media-id:MEDIA_1'), 0);
      assert.equal(await client.exists('weixin-media:{wx2}:media-id:MEDIA_1'), 1);
      await cache.deleteByMediaId('UNKNOWN', 'wx1'); // no error
    });

    it('deleteByMediaId keeps a key that was re-used for a newer media_id', async () => {
      const cache = new RedisMediaCache(client);
      await cache.set('wx1:image:aaa', cached('OLD', 60_000));
      await cache.set('wx1:image:aaa', cached('NEW', 60_000));
      await cache.deleteByMediaId('OLD', 'wx1');
      assert.equal((await cache.get('wx1:image:aaa'))?.mediaId, 'NEW');
      await cache.deleteByMediaId('NEW', 'wx1');
      assert.equal(await cache.get('wx1:image:aaa'), undefined);
    });

    it('works through a client with an ioredis keyPrefix (applied once, eviction included)', async () => {
      const prefixed = redis.createClient({ keyPrefix: 'tenant1:' });
      const cache = new RedisMediaCache(prefixed);
      await cache.set('wx1:image:abc', cached('MEDIA_P', 60_000));
      assert.deepEqual((await client.keys('*')).sort(), [
        'tenant1:weixin-media:{wx1}:media-id:MEDIA_P',
        'tenant1:weixin-media:{wx1}:media:image:abc',
      ]);
      assert.equal((await cache.get('wx1:image:abc'))?.mediaId, 'MEDIA_P');
      await cache.deleteByMediaId('MEDIA_P', 'wx1');
      assert.deepEqual(await client.keys('*'), []);
      const tokens = new RedisTokenStore(prefixed);
      await tokens.set('wx1:stable', { token: 'T', expiresAt: Date.now() + 60_000 });
      await tokens.delete('wx1:stable', 'T');
      const lock = await tokens.tryLock('wx1:stable', 5_000);
      assert.deepEqual(await client.keys('*'), ['tenant1:weixin-media:{wx1}:token:stable:lock']);
      await lock!.release();
      assert.deepEqual(await client.keys('*'), []);
    });

    it('treats a damaged entry as a miss', async () => {
      await client.set('weixin-media:{wx1}:media:image:abc', '{"mediaId":"x","type":"movie"}');
      assert.equal(await new RedisMediaCache(client).get('wx1:image:abc'), undefined);
    });

    it('keys are namespaced by prefix', async () => {
      const staging = new RedisMediaCache(client, { prefix: 'staging:' });
      const prod = new RedisMediaCache(client, { prefix: 'prod:' });
      await staging.set('wx1:image:abc', cached('S', 60_000));
      assert.equal(await prod.get('wx1:image:abc'), undefined);
      await prod.deleteByMediaId('S', 'wx1');
      assert.equal((await staging.get('wx1:image:abc'))?.mediaId, 'S');
      assert.deepEqual((await client.keys('*')).sort(), [
        'staging:{wx1}:media-id:S',
        'staging:{wx1}:media:image:abc',
      ]);
    });
  });

  describe('with the module', () => {
    const weixin = fakeWeixinPerTest();
    /** Two "instances" of one app sharing one Redis. */
    const instance = (options: Parameters<typeof weixin.module>[0] = {}) => {
      const connection = redis.createClient();
      return weixin.module({
        tokenStore: new RedisTokenStore(connection),
        mediaCache: new RedisMediaCache(connection),
        ...options,
      });
    };

    for (const tokenMode of ['stable', 'classic'] as const) {
      it(`${tokenMode}: two instances, 400 concurrent cold uploads: one token request, one token`, async () => {
        const [a, b] = [await instance({ tokenMode }), await instance({ tokenMode })];
        const jpeg = readFileSync(mediaFixture('image.jpg'));
        const results = await Promise.all(
          Array.from({ length: 400 }, (_, i) => (i % 2 ? a : b).service.uploadImage(jpeg, { reuse: false })),
        );
        assert.equal(results.length, 400);
        assert.equal(weixin.fake.tokenRequestCount, 1);
        const tokens = new Set(
          weixin.fake.requests.filter((r) => r.path === UPLOAD).map((r) => r.query.access_token),
        );
        assert.equal(tokens.size, 1);
        const stored = await new RedisTokenStore(client).get(`${weixin.fake.appId}:${tokenMode}`);
        assert.equal(stored?.token, [...tokens][0]);
      });
    }

    it('a 40001 in one instance replaces the shared token once; the other picks the new one up', async () => {
      const [a, b] = [await instance({ tokenMode: 'classic' }), await instance({ tokenMode: 'classic' })];
      const jpeg = readFileSync(mediaFixture('image.jpg'));
      await a.service.uploadImage(jpeg, { reuse: false });
      const first = (await new RedisTokenStore(client).get(`${weixin.fake.appId}:classic`))!.token;
      weixin.fake.injectFault({ path: UPLOAD, errcode: 40001, times: 1 });
      await a.service.uploadImage(jpeg, { reuse: false });
      const second = (await new RedisTokenStore(client).get(`${weixin.fake.appId}:classic`))!.token;
      assert.notEqual(second, first);
      await b.service.uploadImage(jpeg, { reuse: false });
      assert.equal(weixin.fake.tokenRequestCount, 2);
      assert.equal(weixin.fake.requests.filter((r) => r.path === UPLOAD).at(-1)!.query.access_token, second);
      // b learns nothing stale: its manager reads the store.
      assert.equal(await b.moduleRef.get(AccessTokenManager).getToken(), second);
    });

    it('reuse is shared: identical content uploaded by another instance answers the cached media_id', async () => {
      const [a, b] = [await instance(), await instance()];
      const content = distinctJpeg('redis-reuse');
      const first = await a.service.uploadImage(content);
      const uploads = weixin.fake.countRequests(UPLOAD);
      const again = await b.service.uploadImage(Buffer.from(content));
      assert.equal(again.reused, true);
      assert.equal(again.mediaId, first.mediaId);
      assert.equal(again.createdAt.getTime(), first.createdAt.getTime());
      assert.equal(again.expiresAt.getTime(), first.expiresAt.getTime());
      assert.equal(weixin.fake.countRequests(UPLOAD), uploads, 'no network call');
      // The same bytes as another type are other media.
      const asThumb = await b.service.uploadThumb(mediaFixture('thumb.jpg'));
      const thumbAgain = await a.service.uploadImage(mediaFixture('thumb.jpg'));
      assert.equal(thumbAgain.reused, false);
      assert.notEqual(thumbAgain.mediaId, asThumb.mediaId);
      // reuse: false skips the cache.
      assert.equal((await b.service.uploadImage(content, { reuse: false })).reused, false);
    });

    it('the entry ends an hour before the media does', async () => {
      const context = await instance();
      const media = await context.service.uploadImage(distinctJpeg('redis-margin'));
      const [key] = await client.keys('weixin-media:{*}:media:*');
      assert.match(key, new RegExp(`^weixin-media:\\{${weixin.fake.appId}\\}:media:image:[0-9a-f]{64}$`));
      const entry = JSON.parse((await client.get(key))!) as CachedMedia;
      assert.equal(entry.expiresAt, media.createdAt.getTime() + MEDIA_LIFETIME_MS - HOUR_MS);
      const ttl = await client.pttl(key);
      const expected = entry.expiresAt - Date.now();
      assert.ok(Math.abs(ttl - expected) < 2_000, `PTTL ${ttl}, expected about ${expected}`);
    });

    it('a 40007 on a cached media_id evicts it from Redis for every instance', async () => {
      const [a, b] = [await instance(), await instance()];
      const content = distinctJpeg('redis-40007');
      const first = await a.service.uploadImage(content);
      assert.equal((await b.service.uploadImage(content)).reused, true);
      // Weixin forgot the media early (its clock, not ours): the entry is still in Redis.
      weixin.fake.advanceTime(MEDIA_LIFETIME_MS + 1000);
      await assert.rejects(b.service.download(first.mediaId), (error: unknown) => {
        assert.ok(error instanceof WeixinApiError);
        assert.equal(error.errcode, 40007);
        return true;
      });
      assert.deepEqual(await client.keys('weixin-media:*media*'), []);
      const fresh = await a.service.uploadImage(content);
      assert.equal(fresh.reused, false);
      assert.notEqual(fresh.mediaId, first.mediaId);
      assert.equal((await b.service.uploadImage(content)).mediaId, fresh.mediaId);
    });
  });

  it('loading the package does not load ioredis (it is an optional peer)', () => {
    const entry = join(__dirname, '../../../lib/index.js');
    const script =
      `require(${JSON.stringify(entry)});` +
      `const loaded = Object.keys(require.cache).filter((f) => /[\\\\/]ioredis[\\\\/]/.test(f));` +
      `process.stdout.write(String(loaded.length));`;
    assert.equal(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }), '0');
  });
});
