import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeWeixinServer } from '../../lib/testing';
import { download, fixture, json, upload } from '../support/fake-weixin-calls';

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
  let fake: FakeWeixinServer;

  before(async () => {
    fake = await FakeWeixinServer.start({ accounts: [OTHER] });
  });
  after(() => fake.close());
  beforeEach(() => fake.reset());

  it('issues each account its own tokens and checks each account its own secret', async () => {
    const first = await stableTokenFor(fake, fake.appId, fake.appSecret);
    const other = await stableTokenFor(fake, OTHER.appId, OTHER.appSecret);
    assert.equal(typeof first.body.access_token, 'string');
    assert.equal(typeof other.body.access_token, 'string');
    assert.notEqual(first.body.access_token, other.body.access_token);
    // The stable token is shared per account: asking again answers the same one.
    assert.equal(
      (await stableTokenFor(fake, OTHER.appId, OTHER.appSecret)).body.access_token,
      other.body.access_token,
    );
    assert.equal((await stableTokenFor(fake, OTHER.appId, fake.appSecret)).body.errcode, 40125);
    assert.equal((await classicTokenFor(fake, THIRD.appId, THIRD.appSecret)).body.errcode, 40013);
  });

  it('serves an account added later, and a new secret replaces the old one', async () => {
    fake.addAccount(THIRD.appId, THIRD.appSecret);
    assert.equal(
      typeof (await classicTokenFor(fake, THIRD.appId, THIRD.appSecret)).body.access_token,
      'string',
    );
    fake.addAccount(THIRD.appId, 'rotated-secret');
    assert.equal((await classicTokenFor(fake, THIRD.appId, THIRD.appSecret)).body.errcode, 40125);
    assert.equal(
      typeof (await classicTokenFor(fake, THIRD.appId, 'rotated-secret')).body.access_token,
      'string',
    );
    assert.throws(() => fake.addAccount('not an appid!', 'x'), /appId/);
  });

  it("answers 40007 for a media_id downloaded with another account's token", async () => {
    const mine = (await classicTokenFor(fake, fake.appId, fake.appSecret)).body.access_token as string;
    const theirs = (await classicTokenFor(fake, OTHER.appId, OTHER.appSecret)).body.access_token as string;
    const uploaded = await upload(fake, mine, 'image', fixture('image.jpg'), 'a.jpg');
    const mediaId = uploaded.body.media_id as string;
    assert.equal(fake.getMedia(mediaId)?.appId, fake.appId);

    const own = await download(fake, mine, mediaId);
    assert.equal(own.status, 200);
    assert.equal((await own.arrayBuffer()).byteLength, fixture('image.jpg').length);
    assert.equal((await json(await download(fake, theirs, mediaId))).body.errcode, 40007);
  });

  it('counts requests per account, token requests included', async () => {
    const mine = (await classicTokenFor(fake, fake.appId, fake.appSecret)).body.access_token as string;
    await stableTokenFor(fake, OTHER.appId, OTHER.appSecret);
    await stableTokenFor(fake, OTHER.appId, 'wrong');
    await upload(fake, mine, 'image', fixture('image.jpg'), 'a.jpg');
    await fetch(`${fake.baseUrl}/cgi-bin/media/get?access_token=nonsense&media_id=x`);

    assert.equal(fake.countTokenRequests(fake.appId), 1);
    assert.equal(fake.countTokenRequests(OTHER.appId), 2);
    assert.equal(fake.countTokenRequests(), 3);
    assert.equal(fake.countRequests('/cgi-bin/media/upload', fake.appId), 1);
    assert.equal(fake.countRequests('/cgi-bin/media/upload', OTHER.appId), 0);
    assert.equal(fake.countRequests(undefined, fake.appId), 2);
    assert.equal(fake.countRequests(), 5);
    const unknownToken = fake.requests.find((entry) => entry.query.access_token === 'nonsense');
    assert.equal(unknownToken?.appId, undefined);
    assert.equal(unknownToken?.errcode, 40001);
  });

  it('expireAllTokens() ends every account’s tokens', async () => {
    const other = (await classicTokenFor(fake, OTHER.appId, OTHER.appSecret)).body.access_token as string;
    fake.expireAllTokens();
    assert.equal((await json(await download(fake, other, 'x'))).body.errcode, 42001);
  });
});
