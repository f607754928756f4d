import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisTokenStore, WeixinNetworkError } from '../../../lib';
import { distinctJpeg, type WorkerReport } from '../../support/fleet';
import { fleetPerTest } from '../../support/fleet-hooks';

const PROCESSES = 4;
const ACCOUNTS = Array.from({ length: 5 }, (_, index) => ({
  appId: `wxfleet00000000${index}`,
  appSecret: `fleet-secret-${index}`,
}));
const UPLOAD = '/cgi-bin/media/upload';

describe('several accounts across processes sharing one Redis', () => {
  const parent = fleetPerTest({ accounts: ACCOUNTS });

  for (const tokenMode of ['stable', 'classic'] as const) {
    it(`${tokenMode}: 5 accounts × 100 concurrent cold uploads over ${PROCESSES} processes make exactly 5 token requests`, async () => {
      const fleet = await parent.start({
        processes: PROCESSES,
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
      assert.equal(parent.fake.countRequests(UPLOAD), 500);
      assert.equal(parent.fake.tokenRequestCount, 5, 'one token request per account for the whole fleet');
      for (const appId of appIds) {
        assert.equal(parent.fake.countTokenRequests(appId), 1, appId);
        assert.equal(parent.fake.countRequests(UPLOAD, appId), 100, appId);
      }
      assert.equal(new Set(reports.map((report) => report.pid)).size, PROCESSES);
    });
  }

  it('a tokenRefresh: false instance uses the token another instance writes, and never asks Weixin', async () => {
    const [account] = ACCOUNTS;
    const shared = { accounts: ACCOUNTS, timeoutMs: 5_000 };
    const reader = await parent.weixin.module({
      ...shared,
      tokenRefresh: false,
      tokenStore: new RedisTokenStore(parent.redis.createClient()),
    });
    const refresher = await parent.weixin.module({
      ...shared,
      tokenStore: new RedisTokenStore(parent.redis.createClient()),
    });

    const waiting = reader.service.forAccount(account.appId).uploadImage(distinctJpeg('reader'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(parent.fake.countRequests(), 0, 'the reader waits in the store, not at Weixin');
    await refresher.service.forAccount(account.appId).uploadImage(distinctJpeg('refresher'));

    const media = await waiting;
    assert.equal(typeof media.mediaId, 'string');
    assert.equal(parent.fake.tokenRequestCount, 1, "the refresher's token request only");
    const tokens = new Set(
      parent.fake.requests.filter((r) => r.path === UPLOAD).map((r) => r.query.access_token),
    );
    assert.equal(tokens.size, 1, 'both used the same token');
  });

  it('a tokenRefresh: false instance fails clearly after timeoutMs when no token comes', async () => {
    const reader = await parent.weixin.module({
      accounts: ACCOUNTS,
      timeoutMs: 400,
      tokenRefresh: false,
      tokenStore: new RedisTokenStore(parent.redis.createClient()),
    });
    const started = Date.now();
    await assert.rejects(
      reader.service.forAccount(ACCOUNTS[1].appId).uploadImage(distinctJpeg('alone')),
      (error: unknown) => {
        assert.ok(error instanceof WeixinNetworkError);
        assert.equal(error.systemCode, 'ETIMEDOUT');
        assert.match(error.message, /wxfleet000000001.*within 400 ms.*tokenRefresh: false/);
        return true;
      },
    );
    const waited = Date.now() - started;
    assert.ok(waited >= 380 && waited < 3_000, `gave up after ${waited} ms`);
    assert.equal(parent.fake.countRequests(), 0, 'never asked Weixin');
  });
});
