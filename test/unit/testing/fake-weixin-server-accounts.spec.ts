import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FakeWeixinServer } from '../../../lib/testing';
import { download, fixture, json, upload } from '../../support/fake-weixin-calls';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';

const OTHER = { appId: 'wx1111111111111111', appSecret: 'other-secret' };
const THIRD = { appId: 'wx2222222222222222', appSecret: 'third-secret' };

function classicTokenFor(fake: FakeWeixinServer, appId: string, secret: string) {
  const query = new URLSearchParams({ grant_type: 'client_credential', appid: appId, secret });
  return fetch(`${fake.baseUrl}/cgi-bin/token?${query}`).then(json);
}

function stableTokenFor(fake: FakeWeixinServer, appId: string, secret: string) {
  return fetch(`${fake.baseUrl}/cgi-bin/stable_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credential', appid: appId, secret }),
  }).then(json);
}

describe('FakeWeixinServer: several accounts', () => {
  const weixin = fakeWeixinPerTest({ accounts: [OTHER] });

  it('issues each account its own tokens and checks each account its own secret', async () => {
    const first = await stableTokenFor(weixin.fake, weixin.fake.appId, weixin.fake.appSecret);
    const other = await stableTokenFor(weixin.fake, OTHER.appId, OTHER.appSecret);
    assert.equal(typeof first.body.access_token, 'string');
    assert.equal(typeof other.body.access_token, 'string');
    assert.notEqual(first.body.access_token, other.body.access_token);
    // The stable token is shared per account: asking again answers the same one.
    assert.equal(
      (await stableTokenFor(weixin.fake, OTHER.appId, OTHER.appSecret)).body.access_token,
      other.body.access_token,
    );
    assert.equal((await stableTokenFor(weixin.fake, OTHER.appId, weixin.fake.appSecret)).body.errcode, 40125);
    assert.equal((await classicTokenFor(weixin.fake, THIRD.appId, THIRD.appSecret)).body.errcode, 40013);
  });

  it('serves an account added later, and a new secret replaces the old one', async () => {
    weixin.fake.addAccount(THIRD.appId, THIRD.appSecret);
    assert.equal(
      typeof (await classicTokenFor(weixin.fake, THIRD.appId, THIRD.appSecret)).body.access_token,
      'string',
    );
    weixin.fake.addAccount(THIRD.appId, 'rotated-secret');
    assert.equal((await classicTokenFor(weixin.fake, THIRD.appId, THIRD.appSecret)).body.errcode, 40125);
    assert.equal(
      typeof (await classicTokenFor(weixin.fake, THIRD.appId, 'rotated-secret')).body.access_token,
      'string',
    );
    assert.throws(() => weixin.fake.addAccount('not an appid!', 'x'), /appId/);
  });

  it("answers 40007 for a media_id downloaded with another account's token", async () => {
    const mine = (await classicTokenFor(weixin.fake, weixin.fake.appId, weixin.fake.appSecret)).body
      .access_token as string;
    const theirs = (await classicTokenFor(weixin.fake, OTHER.appId, OTHER.appSecret)).body
      .access_token as string;
    const uploaded = await upload(weixin.fake, mine, 'image', fixture('image.jpg'), 'a.jpg');
    const mediaId = uploaded.body.media_id as string;
    assert.equal(weixin.fake.getMedia(mediaId)?.appId, weixin.fake.appId);

    const own = await download(weixin.fake, mine, mediaId);
    assert.equal(own.status, 200);
    assert.equal((await own.arrayBuffer()).byteLength, fixture('image.jpg').length);
    assert.equal((await json(await download(weixin.fake, theirs, mediaId))).body.errcode, 40007);
  });

  it('counts requests per account, token requests included', async () => {
    const mine = (await classicTokenFor(weixin.fake, weixin.fake.appId, weixin.fake.appSecret)).body
      .access_token as string;
    await stableTokenFor(weixin.fake, OTHER.appId, OTHER.appSecret);
    await stableTokenFor(weixin.fake, OTHER.appId, 'wrong');
    await upload(weixin.fake, mine, 'image', fixture('image.jpg'), 'a.jpg');
    await fetch(`${weixin.baseUrl}/cgi-bin/media/get?access_token=nonsense&media_id=x`);

    assert.equal(weixin.fake.countTokenRequests(weixin.fake.appId), 1);
    assert.equal(weixin.fake.countTokenRequests(OTHER.appId), 2);
    assert.equal(weixin.fake.countTokenRequests(), 3);
    assert.equal(weixin.fake.countRequests('/cgi-bin/media/upload', weixin.fake.appId), 1);
    assert.equal(weixin.fake.countRequests('/cgi-bin/media/upload', OTHER.appId), 0);
    assert.equal(weixin.fake.countRequests(undefined, weixin.fake.appId), 2);
    assert.equal(weixin.fake.countRequests(), 5);
    const unknownToken = weixin.fake.requests.find((entry) => entry.query.access_token === 'nonsense');
    assert.equal(unknownToken?.appId, undefined);
    assert.equal(unknownToken?.errcode, 40001);
  });

  it('expireAllTokens() ends every account’s tokens', async () => {
    const other = (await classicTokenFor(weixin.fake, OTHER.appId, OTHER.appSecret)).body
      .access_token as string;
    weixin.fake.expireAllTokens();
    assert.equal((await json(await download(weixin.fake, other, 'x'))).body.errcode, 42001);
  });
});
