import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeWeixinServer } from '../../../lib/testing';
import {
  MINUTE,
  DAY,
  MB,
  json,
  classicToken,
  stableToken,
  newToken,
  tokenErrcode,
  type JsonAnswer,
} from '../../support/fake-weixin-calls';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';

describe('FakeWeixinServer', () => {
  const weixin = fakeWeixinPerTest();

  describe('classic token (GET /cgi-bin/token)', () => {
    it('issues a new long URL-safe token on every call, valid for the lifetime', async () => {
      const first = await classicToken(weixin.fake);
      const second = await classicToken(weixin.fake);
      assert.equal(first.status, 200);
      assert.equal(first.body.expires_in, 7200);
      const token = first.body.access_token as string;
      assert.match(token, /^[A-Za-z0-9_-]{120,200}$/);
      assert.notEqual(second.body.access_token, token);
      assert.equal(weixin.fake.tokenRequestCount, 2);
    });

    it('keeps the previous token working for 5 minutes of the fake clock, then answers 40001', async () => {
      const old = await newToken(weixin.fake);
      const current = await newToken(weixin.fake);
      weixin.fake.advanceTime(5 * MINUTE - 1000);
      assert.equal(await tokenErrcode(weixin.fake, old), 40007);
      weixin.fake.advanceTime(1000);
      assert.equal(await tokenErrcode(weixin.fake, old), 40001);
      assert.equal(await tokenErrcode(weixin.fake, current), 40007);
    });

    it('answers 42001 once the lifetime is over', async () => {
      const token = await newToken(weixin.fake);
      // The fake clock runs on with the real one, so leave a margin for the calls themselves.
      weixin.fake.advanceTime(7200 * 1000 - 1000);
      assert.equal(await tokenErrcode(weixin.fake, token), 40007);
      weixin.fake.advanceTime(1000);
      assert.equal(await tokenErrcode(weixin.fake, token), 42001);
    });

    it('refuses a wrong grant_type, appid or secret with their own codes', async () => {
      assert.equal((await classicToken(weixin.fake, { grant_type: 'password' })).body.errcode, 40002);
      assert.equal((await classicToken(weixin.fake, { appid: 'wx0000000000000000' })).body.errcode, 40013);
      assert.equal((await classicToken(weixin.fake, { secret: 'nope' })).body.errcode, 40125);
      assert.equal((await classicToken(weixin.fake, { appid: '' })).body.errcode, 41002);
      const answer = await classicToken(weixin.fake, { secret: 'nope' });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.errmsg, 'invalid appsecret');
    });

    it('honours appId, appSecret and tokenLifetimeSeconds options', async () => {
      const custom = await FakeWeixinServer.start({
        appId: 'wxcustom',
        appSecret: 's3',
        tokenLifetimeSeconds: 60,
      });
      try {
        const answer = await classicToken(custom);
        assert.equal(answer.body.expires_in, 60);
        assert.equal(custom.appId, 'wxcustom');
        custom.advanceTime(60 * 1000);
        assert.equal(await tokenErrcode(custom, answer.body.access_token as string), 42001);
      } finally {
        await custom.close();
      }
    });
  });

  describe('stable token (POST /cgi-bin/stable_token)', () => {
    it('answers the same token while it is valid, with the remaining seconds', async () => {
      const first = await stableToken(weixin.fake);
      weixin.fake.advanceTime(1000 * 1000);
      const second = await stableToken(weixin.fake);
      assert.equal(second.body.access_token, first.body.access_token);
      assert.equal(first.body.expires_in, 7200);
      // Whole seconds left, rounded down: the real clock moved a few ms too.
      assert.ok([6199, 6200].includes(second.body.expires_in as number), String(second.body.expires_in));
    });

    it('renews 5 minutes before expiry; the old token lives until its own expiry', async () => {
      const first = await stableToken(weixin.fake);
      const old = first.body.access_token as string;
      weixin.fake.advanceTime(7200 * 1000 - 5 * MINUTE - 1000);
      const before = await stableToken(weixin.fake);
      assert.equal(before.body.access_token, old);
      assert.ok((before.body.expires_in as number) >= 300);
      weixin.fake.advanceTime(1000);
      const renewed = await stableToken(weixin.fake);
      assert.notEqual(renewed.body.access_token, old);
      assert.equal(renewed.body.expires_in, 7200);
      assert.equal(await tokenErrcode(weixin.fake, old), 40007);
      weixin.fake.advanceTime(5 * MINUTE);
      assert.equal(await tokenErrcode(weixin.fake, old), 42001);
      assert.equal(await tokenErrcode(weixin.fake, renewed.body.access_token as string), 40007);
    });

    it('force_refresh invalidates the last token, at most once per 30 s and 20 times a day', async () => {
      const normal = await stableToken(weixin.fake);
      const forced = await stableToken(weixin.fake, { force_refresh: true });
      assert.notEqual(forced.body.access_token, normal.body.access_token);
      assert.equal(await tokenErrcode(weixin.fake, normal.body.access_token as string), 40001);
      assert.equal((await stableToken(weixin.fake)).body.access_token, forced.body.access_token);

      assert.equal((await stableToken(weixin.fake, { force_refresh: true })).body.errcode, 45011);
      for (let i = 2; i <= 20; i++) {
        weixin.fake.advanceTime(30 * 1000);
        const answer = await stableToken(weixin.fake, { force_refresh: true });
        assert.equal(typeof answer.body.access_token, 'string', `forced refresh #${i}`);
      }
      weixin.fake.advanceTime(30 * 1000);
      assert.equal((await stableToken(weixin.fake, { force_refresh: true })).body.errcode, 45009);
      weixin.fake.advanceTime(DAY);
      assert.equal(
        typeof (await stableToken(weixin.fake, { force_refresh: true })).body.access_token,
        'string',
      );
    });

    it('is separate from the classic token: neither invalidates the other', async () => {
      const stable = (await stableToken(weixin.fake)).body.access_token as string;
      const classic = await newToken(weixin.fake);
      await newToken(weixin.fake);
      weixin.fake.advanceTime(30 * 1000);
      await stableToken(weixin.fake, { force_refresh: true });
      weixin.fake.advanceTime(5 * MINUTE);
      assert.equal(await tokenErrcode(weixin.fake, stable), 40001);
      // Superseded by the second classic call, not by anything stable did.
      assert.equal(await tokenErrcode(weixin.fake, classic), 40001);
      const freshClassic = await newToken(weixin.fake);
      assert.equal((await stableToken(weixin.fake)).body.errcode, undefined);
      assert.equal(await tokenErrcode(weixin.fake, freshClassic), 40007);
    });

    it('answers 47001 for a body that is not a JSON object, and the credential codes', async () => {
      const post = (body: string): Promise<JsonAnswer> =>
        fetch(`${weixin.baseUrl}/cgi-bin/stable_token`, { method: 'POST', body }).then(json);
      assert.deepEqual((await post('grant_type=x')).body, { errcode: 47001, errmsg: 'data format error' });
      assert.equal((await post('[1]')).body.errcode, 47001);
      assert.equal((await post('null')).body.errcode, 47001);
      assert.equal((await post('x'.repeat(MB))).body.errcode, 47001);
      assert.equal((await stableToken(weixin.fake, { grant_type: 'x' })).body.errcode, 40002);
      assert.equal((await stableToken(weixin.fake, { appid: 'wrong' })).body.errcode, 40013);
      assert.equal((await stableToken(weixin.fake, { secret: 'wrong' })).body.errcode, 40125);
    });

    it('requires POST, and GET for the classic token', async () => {
      const get = await fetch(`${weixin.baseUrl}/cgi-bin/stable_token`).then(json);
      assert.deepEqual(get.body, { errcode: 43002, errmsg: 'require POST method' });
      const post = await fetch(`${weixin.baseUrl}/cgi-bin/token`, { method: 'POST' }).then(json);
      assert.deepEqual(post.body, { errcode: 43001, errmsg: 'require GET method' });
    });
  });

  describe('access token checks', () => {
    it('answers 41001 when missing, 40001 with a rid when unknown, 42001 after expireAllTokens', async () => {
      const missing = await fetch(`${weixin.baseUrl}/cgi-bin/media/get?media_id=x`).then(json);
      assert.deepEqual(missing.body, { errcode: 41001, errmsg: 'access_token missing' });

      const unknown = await fetch(`${weixin.baseUrl}/cgi-bin/media/upload?access_token=nope&type=image`, {
        method: 'POST',
      }).then(json);
      assert.equal(unknown.status, 200);
      assert.equal(unknown.body.errcode, 40001);
      assert.equal(unknown.body.errmsg, 'invalid credential, access_token is invalid or not latest');
      assert.ok(unknown.rid, 'with a rid, as every error answer carries');

      const classic = await newToken(weixin.fake);
      const stable = (await stableToken(weixin.fake)).body.access_token as string;
      weixin.fake.expireAllTokens();
      assert.equal(await tokenErrcode(weixin.fake, classic), 42001);
      assert.equal(await tokenErrcode(weixin.fake, stable), 42001);
      // The next stable call must not answer the dead token.
      const fresh = (await stableToken(weixin.fake)).body.access_token as string;
      assert.notEqual(fresh, stable);
      assert.equal(await tokenErrcode(weixin.fake, fresh), 40007);
    });
  });
});
