import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { RedisTokenStore, WeixinNetworkError } from '../../lib';
import { FakeWeixinServer } from '../../lib/testing';
import { distinctJpeg, Fleet, fleetTargets, type WorkerReport } from '../support/fleet';
import { RedisServer } from '../support/redis-server';
import { createMediaTestingModule, type MediaTestContext } from '../support/testing-module';

const PROCESSES = 4;
const ACCOUNTS = Array.from({ length: 5 }, (_, index) => ({
  appId: `wxfleet00000000${index}`,
  appSecret: `fleet-secret-${index}`,
}));
const UPLOAD = '/cgi-bin/media/upload';

describe('several accounts across processes sharing one Redis', () => {
  let redis: RedisServer;
  let client: Redis;
  let fake: FakeWeixinServer;
  let fleet: Fleet | undefined;
  const contexts: MediaTestContext[] = [];

  before(async () => {
    redis = await RedisServer.start();
    client = redis.createClient();
    fake = await FakeWeixinServer.start({ accounts: ACCOUNTS });
  });
  after(async () => {
    await fleet?.stop();
    await fake?.close();
    await redis?.stop();
  });
  beforeEach(async () => {
    await client.flushall();
    fake.reset();
  });
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });

  for (const tokenMode of ['stable', 'classic'] as const) {
    it(`${tokenMode}: 5 accounts × 100 concurrent cold uploads over ${PROCESSES} processes make exactly 5 token requests`, async () => {
      fleet = await Fleet.start({
        processes: PROCESSES,
        ...fleetTargets(redis, fake),
        accounts: ACCOUNTS,
        tokenMode,
        mediaCache: false,
      });
      const appIds = ACCOUNTS.map((account) => account.appId);
      // Each process: 125 uploads, 25 per account, all started at once: 100 per account in all.
      const reports = (await fleet.run({
        uploads: 125,
        label: `accounts-${tokenMode}`,
        appIds,
      })) as WorkerReport[];
      const results = reports.flatMap((report) => report.results);
      assert.deepEqual(
        results.filter((result) => !result.ok),
        [],
        'every upload succeeded',
      );
      assert.equal(fake.countRequests(UPLOAD), 500);
      assert.equal(fake.tokenRequestCount, 5, 'one token request per account for the whole fleet');
      for (const appId of appIds) {
        assert.equal(fake.countTokenRequests(appId), 1, appId);
        assert.equal(fake.countRequests(UPLOAD, appId), 100, appId);
      }
      assert.equal(new Set(reports.map((report) => report.pid)).size, PROCESSES);
    });
  }

  it('a tokenRefresh: false instance uses the token another instance writes, and never asks Weixin', async () => {
    const [account] = ACCOUNTS;
    const shared = { accounts: ACCOUNTS, timeoutMs: 5_000 };
    const reader = await createMediaTestingModule(fake, {
      ...shared,
      tokenRefresh: false,
      tokenStore: new RedisTokenStore(redis.createClient()),
    });
    contexts.push(reader);
    const refresher = await createMediaTestingModule(fake, {
      ...shared,
      tokenStore: new RedisTokenStore(redis.createClient()),
    });
    contexts.push(refresher);

    const waiting = reader.service.forAccount(account.appId).uploadImage(distinctJpeg('reader'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(fake.countRequests(), 0, 'the reader waits in the store, not at Weixin');
    await refresher.service.forAccount(account.appId).uploadImage(distinctJpeg('refresher'));

    const media = await waiting;
    assert.equal(typeof media.mediaId, 'string');
    assert.equal(fake.tokenRequestCount, 1, "the refresher's token request only");
    const tokens = new Set(fake.requests.filter((r) => r.path === UPLOAD).map((r) => r.query.access_token));
    assert.equal(tokens.size, 1, 'both used the same token');
  });

  it('a tokenRefresh: false instance fails clearly after timeoutMs when no token comes', async () => {
    const reader = await createMediaTestingModule(fake, {
      accounts: ACCOUNTS,
      timeoutMs: 400,
      tokenRefresh: false,
      tokenStore: new RedisTokenStore(redis.createClient()),
    });
    contexts.push(reader);
    const started = Date.now();
    await assert.rejects(
      reader.service.forAccount(ACCOUNTS[1].appId).uploadImage(distinctJpeg('alone')),
      (error: unknown) => {
        assert.ok(error instanceof WeixinNetworkError);
        assert.equal(error.code, 'ETIMEDOUT');
        assert.match(error.message, /wxfleet000000001.*within 400 ms.*tokenRefresh: false/);
        return true;
      },
    );
    const waited = Date.now() - started;
    assert.ok(waited >= 380 && waited < 3_000, `gave up after ${waited} ms`);
    assert.equal(fake.countRequests(), 0, 'never asked Weixin');
  });
});
