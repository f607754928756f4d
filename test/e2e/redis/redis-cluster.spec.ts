import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Cluster } from 'ioredis';
import { RedisMediaCache, RedisTokenStore } from '../../../lib';
import { FakeWeixinServer } from '../../../lib/testing';
import { Fleet, fleetTargets, type WorkerReport } from '../../support/fleet';
import { RedisCluster } from '../../support/redis-cluster';

const PROCESSES = 4;
const UPLOADS_PER_PROCESS = 250;
const UPLOAD = '/cgi-bin/media/upload';
/** A key's hash tag: the first `{...}` with something inside (what Redis Cluster places the key by). */
const HASH_TAG = /\{([^}]+)\}/;

describe('Redis Cluster (3 masters, started by the test)', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let fake: FakeWeixinServer;
  let fleet: Fleet | undefined;

  before(async () => {
    cluster = await RedisCluster.start(3);
    client = cluster.createClient();
    fake = await FakeWeixinServer.start();
  });
  after(async () => {
    await fleet?.stop();
    await fake?.close();
    await cluster?.stop();
  });
  beforeEach(async () => {
    await cluster.flushAll();
    fake.reset();
  });
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('RedisTokenStore: get, set, compare-and-delete and the lock on a cluster, token and lock in one slot', async () => {
    const store = new RedisTokenStore(client);
    const expiresAt = Date.now() + 60_000;
    await store.set('wxA:stable', { token: 'token-A', expiresAt });
    assert.deepEqual(await store.get('wxA:stable'), { token: 'token-A', expiresAt });
    const lock = await store.tryLock('wxA:stable', 5_000);
    assert.ok(lock);
    assert.equal(await store.tryLock('wxA:stable', 5_000), undefined, 'the lease is held');
    const slots = await Promise.all(
      ['weixin-media:{wxA}:token:stable', 'weixin-media:{wxA}:token:stable:lock'].map(
        (key) => client.cluster('KEYSLOT', key) as Promise<number>,
      ),
    );
    assert.equal(slots[0], slots[1]);
    await lock.release();
    assert.ok(await store.tryLock('wxA:stable', 5_000), 'released by its holder');
    await store.delete('wxA:stable', 'another-token');
    assert.ok(await store.get('wxA:stable'), 'compare-and-delete keeps a newer token');
    await store.delete('wxA:stable', 'token-A');
    assert.equal(await store.get('wxA:stable'), undefined);
  });

  it("RedisMediaCache: set, get and evict by media_id on a cluster, an account's entry and index in one slot", async () => {
    const cache = new RedisMediaCache(client);
    const now = Date.now();
    const entry = { type: 'image' as const, mediaId: 'MEDIA_1', createdAt: now, expiresAt: now + 60_000 };
    await cache.set('wxA:image:abc', entry);
    await cache.set('wxB:image:abc', entry);
    assert.deepEqual(await cache.get('wxA:image:abc'), entry);
    const keys = (await cluster.keysByMaster()).map(({ key }) => key).sort();
    assert.deepEqual(keys, [
      'weixin-media:{wxA}:media-id:MEDIA_1',
      'weixin-media:{wxA}:media:image:abc',
      'weixin-media:{wxB}:media-id:MEDIA_1',
      'weixin-media:{wxB}:media:image:abc',
    ]);
    const slots = await Promise.all(keys.map((key) => client.cluster('KEYSLOT', key) as Promise<number>));
    assert.equal(slots[0], slots[1]);
    assert.equal(slots[2], slots[3]);
    await cache.deleteByMediaId('MEDIA_1', 'wxA');
    assert.equal(await cache.get('wxA:image:abc'), undefined);
    assert.deepEqual(await cache.get('wxB:image:abc'), entry, "another account's entry stays");
    await cache.deleteByMediaId('MEDIA_1', 'wxB');
    assert.deepEqual(await cluster.keysByMaster(), []);
  });

  it(`${PROCESSES} processes × ${UPLOADS_PER_PROCESS} cold uploads make 1 token request; reuse works across processes; every key is hash-tagged`, async () => {
    fleet = await Fleet.start({
      processes: PROCESSES,
      ...fleetTargets(cluster.masters[0], fake),
      redisCluster: true,
      tokenMode: 'stable',
    });
    const reports = (await fleet.run({
      uploads: UPLOADS_PER_PROCESS,
      label: 'cluster-cold',
    })) as WorkerReport[];
    const results = reports.flatMap((report) => report.results);
    assert.deepEqual(
      results.filter((result) => !result.ok),
      [],
      'every upload succeeded',
    );
    assert.equal(results.length, PROCESSES * UPLOADS_PER_PROCESS);
    assert.equal(fake.tokenRequestCount, 1, 'one token request for the whole fleet');
    const tokens = new Set(fake.requests.filter((r) => r.path === UPLOAD).map((r) => r.query.access_token));
    assert.equal(tokens.size, 1, 'every process used the same token');
    assert.equal(new Set(reports.map((report) => report.pid)).size, PROCESSES);

    // Reuse across processes: content one process uploaded is answered from the cache in every process.
    await fleet.run({ uploads: 1, label: 'cluster-same', sameContent: true });
    const uploadsBefore = fake.countRequests(UPLOAD);
    const again = (await fleet.run({
      uploads: 5,
      label: 'cluster-same',
      sameContent: true,
    })) as WorkerReport[];
    const reused = again.flatMap((report) => report.results);
    assert.equal(reused.length, PROCESSES * 5);
    assert.ok(
      reused.every((result) => result.ok && result.reused),
      'every process reused it',
    );
    assert.equal(new Set(reused.map((result) => (result.ok ? result.mediaId : ''))).size, 1, 'one media_id');
    assert.equal(fake.countRequests(UPLOAD), uploadsBefore, 'no upload reached Weixin');

    const keys = await cluster.keysByMaster();
    assert.ok(keys.length > PROCESSES * UPLOADS_PER_PROCESS, `${keys.length} keys`);
    const untagged = keys.filter(({ key }) => !HASH_TAG.test(key));
    assert.deepEqual(untagged, [], 'every key carries a hash tag');
    const tokenKeys = keys.filter(({ key }) => key.includes(':token:'));
    assert.deepEqual(
      tokenKeys.map(({ key }) => key),
      [`weixin-media:{${fake.appId}}:token:stable`],
    );
    const entries = keys.filter(({ key }) => key.includes(':media:'));
    assert.ok(entries.length >= PROCESSES * UPLOADS_PER_PROCESS);
    assert.ok(
      entries.every(({ key }) => HASH_TAG.exec(key)![1] === fake.appId),
      'entries tagged by the appId',
    );
    const indexes = keys.filter(({ key }) => key.includes(':media-id:'));
    assert.ok(indexes.length >= PROCESSES * UPLOADS_PER_PROCESS);
    assert.deepEqual(
      keys.filter(({ key }) => HASH_TAG.exec(key)![1] !== fake.appId),
      [],
      'entries and media_id indexes tagged by the appId',
    );
    // An account's token, entries and media_id indexes live on one master.
    assert.equal(new Set(keys.map(({ port }) => port)).size, 1);
  });
});
