import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { WeixinApiError } from '../../../lib';
import type { FakeWeixinServer } from '../../../lib/testing';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { distinctJpeg } from '../../support/fleet';

const UPLOAD = '/cgi-bin/media/upload';
const STABLE_TOKEN = '/cgi-bin/stable_token';
const DAY_MS = 24 * 60 * 60 * 1000;

/** Every access token the fake saw in a query: none may appear in anything handed back. */
function tokensSeen(fake: FakeWeixinServer): string[] {
  return [...new Set(fake.requests.map((r) => r.query.access_token).filter((t): t is string => !!t))];
}

async function weixinError(promise: Promise<unknown>): Promise<WeixinApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof WeixinApiError, `a WeixinApiError, got ${inspect(error)}`);
    return error;
  }
  assert.fail('expected a WeixinApiError');
}

describe('operations: quota and request lookup', () => {
  const weixin = fakeWeixinPerTest();

  it('quota() equals what the fake counted after N uploads; reused uploads cost nothing', async () => {
    const context = await weixin.module();
    assert.deepEqual(await context.service.quota(), { dailyLimit: 100_000, used: 0, remain: 100_000 });
    const uploads = 17;
    for (let i = 0; i < uploads; i++) await context.service.uploadImage(distinctJpeg(`quota-${i}`));
    const reused = await context.service.uploadImage(distinctJpeg('quota-0'));
    assert.equal(reused.reused, true);

    const quota = await context.service.quota();
    const counted = weixin.fake.quotas.quota(weixin.fake.appId, weixin.fake.now());
    assert.deepEqual(quota, { dailyLimit: counted.daily_limit, used: counted.used, remain: counted.remain });
    assert.equal(quota.used, uploads);
    assert.equal(quota.used, weixin.fake.countRequests(UPLOAD));
    assert.equal(quota.remain, 100_000 - uploads);
  });

  it('a used-up quota: uploads answer 45009 with a hint, quota() says 0 left, midnight Beijing time resets it', async () => {
    await weixin.restart({ dailyUploadQuota: 3 });
    const context = await weixin.module({ mediaCache: false });
    for (let i = 0; i < 3; i++) await context.service.uploadImage(distinctJpeg(`limit-${i}`));
    const error = await weixinError(context.service.uploadImage(distinctJpeg('limit-3')));
    assert.equal(error.errcode, 45009);
    assert.match(error.hint!, /midnight Beijing time/);
    assert.equal(weixin.fake.countRequests(UPLOAD), 4, '45009 is never retried');
    assert.deepEqual(await context.service.quota(), { dailyLimit: 3, used: 3, remain: 0 });

    weixin.fake.advanceTime(DAY_MS);
    assert.deepEqual(await context.service.quota(), { dailyLimit: 3, used: 0, remain: 3 });
    await context.service.uploadImage(distinctJpeg('limit-next-day'));
  });

  it('lookupRequest(rid) answers what Weixin recorded of a failed upload, with no token anywhere', async () => {
    const context = await weixin.module({ mediaCache: false });
    await context.service.uploadImage(distinctJpeg('before'));
    weixin.fake.injectFault({ path: UPLOAD, errcode: 48001 });
    const failure = await weixinError(context.service.uploadImage(distinctJpeg('refused')));
    assert.equal(failure.errcode, 48001);
    assert.ok(failure.rid, 'the errmsg carried a rid');

    const record = await context.service.lookupRequest(failure.rid);
    assert.equal(record.rid, failure.rid);
    const query = new URLSearchParams(record.requestUrl);
    assert.deepEqual([...query.keys()].sort(), ['access_token', 'type']);
    assert.equal(query.get('access_token'), '[redacted]');
    assert.equal(query.get('type'), 'image');
    assert.equal(record.requestBody, '');
    assert.equal(JSON.parse(record.responseBody).errcode, 48001);
    assert.equal(record.clientIp, '127.0.0.1');
    assert.ok(record.invokedAt instanceof Date);
    assert.ok(Math.abs(record.invokedAt.getTime() - Date.now()) < 5_000);
    assert.ok(record.costMs >= 0);

    // What the fake keeps (as Weixin does) holds the token; what the library hands back does not.
    const raw = weixin.fake.rids.get(failure.rid, weixin.fake.appId, weixin.fake.now())!;
    const tokens = tokensSeen(weixin.fake);
    assert.ok(tokens.length >= 1);
    assert.ok(
      tokens.some((token) => raw.request_url.includes(token)),
      'the fake records the token',
    );
    const everything = `${JSON.stringify(record)} ${inspect(record)}`;
    for (const token of tokens) assert.ok(!everything.includes(token), 'no access token in the record');
  });

  it("a failed token request's recorded body holds the secret: lookupRequest redacts it", async () => {
    const wrongSecret = 'the-wrong-secret-4f1c9a7e';
    const refused = await weixin.module({ appSecret: wrongSecret });
    const failure = await weixinError(refused.service.uploadImage(distinctJpeg('wrong-secret')));
    await refused.close();
    assert.equal(failure.errcode, 40125);
    assert.equal(failure.path, STABLE_TOKEN);
    assert.ok(
      weixin.fake.rids
        .get(failure.rid!, weixin.fake.appId, weixin.fake.now())!
        .request_body.includes(wrongSecret),
    );

    const context = await weixin.module();
    const record = await context.service.lookupRequest(failure.rid!);
    assert.match(record.requestBody, /"secret":"\[redacted\]"/);
    assert.match(record.requestBody, /"appid":"wx/);
    const everything = `${JSON.stringify(record)} ${inspect(record)}`;
    assert.ok(!everything.includes(wrongSecret));
    assert.ok(!everything.includes(weixin.fake.appSecret));
    for (const token of tokensSeen(weixin.fake)) assert.ok(!everything.includes(token));
  });

  it('an unknown rid answers 76001; a malformed one is refused before any call', async () => {
    const context = await weixin.module();
    const unknown = await weixinError(context.service.lookupRequest('00000000-11111111-22222222'));
    assert.equal(unknown.errcode, 76001);
    const before = weixin.fake.countRequests();
    await assert.rejects(context.service.lookupRequest('rid with spaces&access_token=x'), RangeError);
    await assert.rejects(context.service.lookupRequest(''), RangeError);
    assert.equal(weixin.fake.countRequests(), before);
  });

  it("another account's rid is not found (Weixin shows a rid to its own account only)", async () => {
    const context = await weixin.module();
    weixin.fake.injectFault({ path: UPLOAD, errcode: 45011 });
    const failure = await weixinError(context.service.uploadImage(distinctJpeg('minute')));
    assert.ok(weixin.fake.rids.get(failure.rid!, weixin.fake.appId, weixin.fake.now()));
    assert.equal(weixin.fake.rids.get(failure.rid!, 'wx-another-account', weixin.fake.now()), undefined);
    weixin.fake.advanceTime(8 * DAY_MS);
    assert.equal(
      (await weixinError(context.service.lookupRequest(failure.rid!))).errcode,
      76001,
      'kept 7 days',
    );
  });
});

describe('hints from real answers', () => {
  const weixin = fakeWeixinPerTest();

  it('40164 names the caller IP Weixin reported', async () => {
    const context = await weixin.module();
    weixin.fake.injectFault({ path: STABLE_TOKEN, errcode: 40164, callerIp: '203.0.113.7' });
    const error = await weixinError(context.service.uploadImage(distinctJpeg('ip')));
    assert.equal(error.errcode, 40164);
    assert.match(
      error.errmsg,
      /^invalid ip 203\.0\.113\.7 ipv6 ::ffff:203\.0\.113\.7, not in whitelist rid: /,
    );
    assert.match(
      error.hint!,
      /^Add 203\.0\.113\.7 \(the address Weixin saw for this server\) to the Official Account's IP allow-list/,
    );
    assert.equal(weixin.fake.countRequests(UPLOAD), 0);

    weixin.fake.injectFault({ path: STABLE_TOKEN, errcode: 40164 });
    const local = await weixinError(context.service.uploadImage(distinctJpeg('ip-local')));
    assert.match(local.hint!, /^Add 127\.0\.0\.1 /);
    const record = await context.service.lookupRequest(local.rid!);
    assert.equal(record.clientIp, '127.0.0.1');
  });

  it('40013 names the appId setting', async () => {
    const context = await weixin.module({ appId: 'wx-not-an-account' });
    const error = await weixinError(context.service.uploadImage(distinctJpeg('appid')));
    assert.equal(error.errcode, 40013);
    assert.match(error.hint!, /appId setting \(WEIXIN_APP_ID/);
  });

  it('40007 on a download names expiry, another account and permanent material', async () => {
    const context = await weixin.module();
    const media = await context.service.uploadImage(distinctJpeg('expiring'));
    weixin.fake.advanceTime(3 * DAY_MS + 1000);
    const error = await weixinError(context.service.download(media.mediaId));
    assert.equal(error.errcode, 40007);
    assert.match(error.hint!, /expire 3 days after upload/);
    assert.match(error.hint!, /permanent material/);
  });

  it('48001 names the API that lacks the permission', async () => {
    const context = await weixin.module();
    weixin.fake.injectFault({ path: UPLOAD, errcode: 48001 });
    const error = await weixinError(context.service.uploadImage(distinctJpeg('unauthorized')));
    assert.match(error.hint!, /no permission for \/cgi-bin\/media\/upload/);
  });
});

describe('operations per account (forAccount)', () => {
  const other = { appId: 'wxops00000000001', appSecret: 'secret-of-the-other-account' };
  const weixin = fakeWeixinPerTest({ accounts: [other] });

  it("each account's quota counts its own uploads; a rid is looked up by the account that made the call", async () => {
    const context = await weixin.module({ accounts: [other] });
    const mine = context.service;
    const theirs = context.service.forAccount(other.appId);
    for (let i = 0; i < 2; i++) await mine.uploadImage(distinctJpeg(`default-${i}`));
    for (let i = 0; i < 5; i++) await theirs.uploadImage(distinctJpeg(`other-${i}`));
    assert.deepEqual(await mine.quota(), { dailyLimit: 100_000, used: 2, remain: 99_998 });
    assert.deepEqual(await theirs.quota(), { dailyLimit: 100_000, used: 5, remain: 99_995 });

    weixin.fake.injectFault({ path: UPLOAD, errcode: 45011 });
    const failure = await weixinError(theirs.uploadImage(distinctJpeg('other-refused')));
    const record = await theirs.lookupRequest(failure.rid!);
    assert.equal(JSON.parse(record.responseBody).errcode, 45011);
    for (const token of tokensSeen(weixin.fake)) assert.ok(!JSON.stringify(record).includes(token));
    const elsewhere = await weixinError(mine.lookupRequest(failure.rid!));
    assert.equal(elsewhere.errcode, 76001, "another account's rid is not found");
  });
});
