import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WeixinApiError } from '../../../lib';
import { WeixinApiClient } from '../../../lib/weixin-api/weixin-api.client';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';

const QUOTA = '/cgi-bin/openapi/quota/get';
const BODY = { cgi_path: '/cgi-bin/media/upload' };

describe('WeixinApiClient: the token, attached and refreshed in one place', () => {
  const weixin = fakeWeixinPerTest();

  // Classic mode: each fetch issues a new token (stable mode answers the same one while it is valid).
  const client = async () => (await weixin.module({ tokenMode: 'classic' })).moduleRef.get(WeixinApiClient);
  const tokensSent = () =>
    weixin.fake.requests.filter((r) => r.path === QUOTA).map((r) => r.query.access_token);

  for (const repeatable of [true, false]) {
    it(`40001 drops the token, fetches another and tries once more (repeatable: ${repeatable})`, async () => {
      const weixinClient = await client();
      weixin.fake.injectFault({ path: QUOTA, errcode: 40001, times: 1 });
      const answer = await weixinClient.json<{ quota: object }>(QUOTA, BODY, { repeatable });
      assert.ok(answer.quota);
      const [rejected, fresh] = tokensSent();
      assert.equal(tokensSent().length, 2);
      assert.notEqual(rejected, fresh, 'the second try carries a fresh token');
      assert.equal(weixin.fake.tokenRequestCount, 2);
    });
  }

  it('a token rejected again is not refreshed a second time: the call rejects with 40001', async () => {
    const weixinClient = await client();
    weixin.fake.injectFault({ path: QUOTA, errcode: 40001, times: 5 });
    await assert.rejects(weixinClient.json(QUOTA, BODY, { repeatable: true }), (error) => {
      assert.ok(error instanceof WeixinApiError && error.errcode === 40001, String(error));
      return true;
    });
    assert.equal(tokensSent().length, 2);
    assert.equal(weixin.fake.tokenRequestCount, 2);
  });

  it('the token fetch itself carries no token', async () => {
    const weixinClient = await client();
    await weixinClient.json(QUOTA, BODY, { repeatable: true });
    const tokenFetch = weixin.fake.requests.find((r) => r.path === '/cgi-bin/token')!;
    assert.equal(tokenFetch.query.access_token, undefined);
    assert.equal(tokensSent().length, 1);
  });
});
