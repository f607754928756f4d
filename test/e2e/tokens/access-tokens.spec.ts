import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { AccessTokenManager, InMemoryTokenStore, WeixinApiError } from '../../../lib';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { mediaFixture } from '../../support/paths';

const IMAGE = readFileSync(mediaFixture('image.jpg'));

describe('access tokens', () => {
  const weixin = fakeWeixinPerTest();

  for (const tokenMode of ['stable', 'classic'] as const) {
    it(`${tokenMode}: 1,000 concurrent cold uploads make exactly one token request`, async () => {
      const context = await weixin.module({ tokenMode, mediaCache: false });
      const results = await Promise.all(
        Array.from({ length: 1000 }, () => context.service.uploadImage(IMAGE, { reuse: false })),
      );
      assert.equal(results.length, 1000);
      assert.equal(new Set(results.map((media) => media.mediaId)).size, 1000);
      assert.equal(weixin.fake.tokenRequestCount, 1);
      assert.equal(weixin.fake.countRequests('/cgi-bin/media/upload'), 1000);
      const tokenPath = tokenMode === 'stable' ? '/cgi-bin/stable_token' : '/cgi-bin/token';
      assert.equal(weixin.fake.countRequests(tokenPath), 1);
    });
  }

  it('reuses the token across calls', async () => {
    const context = await weixin.module({ mediaCache: false });
    await context.service.uploadImage(IMAGE);
    await context.service.uploadImage(IMAGE);
    assert.equal(weixin.fake.tokenRequestCount, 1);
    const tokens = weixin.fake.requests
      .filter((r) => r.path === '/cgi-bin/media/upload')
      .map((r) => r.query.access_token);
    assert.equal(new Set(tokens).size, 1);
  });

  it('stores the token with a refresh margin before its real expiry', async () => {
    const tokenStore = new InMemoryTokenStore();
    const context = await weixin.module({ tokenStore });
    const before = Date.now();
    await context.moduleRef.get(AccessTokenManager).getToken();
    const stored = await tokenStore.get(`${weixin.fake.appId}:stable`);
    assert.ok(stored);
    // 7,200 s lifetime, refreshed 5 minutes early.
    const expected = before + 7200_000 - 300_000;
    assert.ok(Math.abs(stored.expiresAt - expected) < 5_000, `${stored.expiresAt - before}`);
  });

  it('refreshes a token that reached its refresh margin', async () => {
    const tokenStore = new InMemoryTokenStore();
    const context = await weixin.module({ tokenStore, tokenMode: 'classic', mediaCache: false });
    await context.service.uploadImage(IMAGE);
    const stored = (await tokenStore.get(`${weixin.fake.appId}:classic`))!;
    await tokenStore.set(`${weixin.fake.appId}:classic`, { ...stored, expiresAt: Date.now() - 1 });
    await context.service.uploadImage(IMAGE);
    assert.equal(weixin.fake.tokenRequestCount, 2);
    assert.notEqual((await tokenStore.get(`${weixin.fake.appId}:classic`))!.token, stored.token);
  });

  it('an expired token mid-flight is refreshed once and the call retried', async () => {
    const context = await weixin.module({ tokenMode: 'classic', mediaCache: false });
    await context.service.uploadImage(IMAGE);
    weixin.fake.expireAllTokens();
    const results = await Promise.all(Array.from({ length: 50 }, () => context.service.uploadImage(IMAGE)));
    assert.equal(results.length, 50);
    assert.equal(weixin.fake.tokenRequestCount, 2);
    const rejected = weixin.fake.requests.filter((r) => r.errcode === 42001).length;
    assert.ok(rejected >= 1 && rejected <= 50, `${rejected}`);
  });

  for (const errcode of [40001, 40014, 42001]) {
    it(`${errcode} invalidates the token and retries the call exactly once`, async () => {
      const context = await weixin.module({ mediaCache: false, tokenMode: 'classic' });
      weixin.fake.injectFault({
        path: '/cgi-bin/media/upload',
        errcode,
        errmsg: 'invalid credential',
        times: 1,
      });
      const media = await context.service.uploadImage(IMAGE);
      assert.ok(media.mediaId);
      assert.equal(weixin.fake.countRequests('/cgi-bin/media/upload'), 2);
      assert.equal(weixin.fake.tokenRequestCount, 2);
    });
  }

  it('a token rejected twice surfaces the error after one retry', async () => {
    const context = await weixin.module({ mediaCache: false });
    weixin.fake.injectFault({
      path: '/cgi-bin/media/upload',
      errcode: 40001,
      errmsg: 'invalid credential',
      times: 5,
    });
    await assert.rejects(context.service.uploadImage(IMAGE), (error: unknown) => {
      assert.ok(error instanceof WeixinApiError);
      assert.equal(error.errcode, 40001);
      return true;
    });
    assert.equal(weixin.fake.countRequests('/cgi-bin/media/upload'), 2);
  });

  it("waiting for another holder's refresh does not count against a request's timeout", async () => {
    const tokenStore = new InMemoryTokenStore();
    const context = await weixin.module({
      tokenStore,
      mediaCache: false,
      timeoutMs: 150,
      retry: { attempts: 1, baseDelayMs: 1 },
    });
    // Another instance holds the refresh lock for 600 ms (it crashed: it never stores a token). Taken
    // after the module is built, so a slow build on a busy machine cannot eat into the lease.
    assert.ok(await tokenStore.tryLock(`${weixin.fake.appId}:stable`, 600));
    const started = Date.now();
    const media = await context.service.uploadImage(IMAGE);
    assert.ok(media.mediaId);
    assert.ok(Date.now() - started >= 550, 'it waited for the lease to end');
    assert.equal(weixin.fake.tokenRequestCount, 1);
  });

  it('invalidation removes only the token it saw (compare-and-delete)', async () => {
    const store = new InMemoryTokenStore();
    await store.set('k', { token: 'new-token', expiresAt: Date.now() + 60_000 });
    await store.delete('k', 'old-token');
    assert.equal((await store.get('k'))?.token, 'new-token');
    await store.delete('k', 'new-token');
    assert.equal(await store.get('k'), undefined);
  });

  it('the in-memory lock is exclusive until released or its lease ends', async () => {
    const store = new InMemoryTokenStore();
    const lock = await store.tryLock('k', 50);
    assert.ok(lock);
    assert.equal(await store.tryLock('k', 50), undefined);
    await lock.release();
    assert.ok(await store.tryLock('k', 30));
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.ok(await store.tryLock('k', 30), 'a lost lock must expire with its lease');
  });

  it('stable mode posts JSON with force_refresh false; classic mode uses GET /cgi-bin/token', async () => {
    const context = await weixin.module({ tokenMode: 'stable' });
    await context.moduleRef.get(AccessTokenManager).getToken();
    const stable = weixin.fake.requests.find((r) => r.path === '/cgi-bin/stable_token');
    assert.equal(stable?.method, 'POST');
    await context.close();
    const classicContext = await weixin.module({ tokenMode: 'classic' });
    await classicContext.moduleRef.get(AccessTokenManager).getToken();
    const classic = weixin.fake.requests.find((r) => r.path === '/cgi-bin/token');
    assert.equal(classic?.method, 'GET');
    assert.equal(classic?.query.grant_type, 'client_credential');
  });

  it('uses an accessTokenProvider instead of fetching tokens, and asks it again after a 40001', async () => {
    const answer = await fetch(`${weixin.baseUrl}/cgi-bin/stable_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credential',
        appid: weixin.fake.appId,
        secret: weixin.fake.appSecret,
      }),
    });
    const { access_token: managedToken } = (await answer.json()) as { access_token: string };
    const tokenRequestsBefore = weixin.fake.tokenRequestCount;
    let calls = 0;
    const context = await weixin.module({
      appSecret: undefined,
      mediaCache: false,
      accessTokenProvider: async () => {
        calls++;
        return managedToken;
      },
    });
    await context.service.uploadImage(IMAGE);
    assert.equal(calls, 1);
    const upload = weixin.fake.requests.find((r) => r.path === '/cgi-bin/media/upload');
    assert.equal(upload?.query.access_token, managedToken);
    weixin.fake.expireAllTokens();
    await assert.rejects(context.service.uploadImage(IMAGE), WeixinApiError);
    assert.equal(calls, 3, 'one call for the first try, one for the retry after 42001');
    assert.equal(weixin.fake.tokenRequestCount, tokenRequestsBefore);
  });

  it('a wrong secret fails with 40125, a hint, and no secret in the error', async () => {
    const context = await weixin.module({ appSecret: 'definitely-the-wrong-secret' });
    await assert.rejects(context.service.uploadImage(IMAGE), (error: unknown) => {
      assert.ok(error instanceof WeixinApiError);
      assert.equal(error.errcode, 40125);
      assert.match(error.message, /WEIXIN_APP_SECRET/);
      const everything = `${error.message} ${error.stack} ${JSON.stringify(error)}`;
      assert.ok(!everything.includes('definitely-the-wrong-secret'));
      return true;
    });
    assert.equal(weixin.fake.countRequests('/cgi-bin/media/upload'), 0);
  });
});
