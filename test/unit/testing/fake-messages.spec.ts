import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FakeWeixinServer } from '../../../lib/testing';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { fixture, json, newToken, upload } from '../../support/fake-weixin-calls';
import { follow, SEND, TYPING } from '../../support/messages';

const USER = 'oFakeUser00000000000000001';
const SECOND = { appId: 'wxfakesecond00001', appSecret: 'secret-of-the-second' };

async function post(fake: FakeWeixinServer, path: string, body: unknown, token?: string): Promise<number> {
  const query = new URLSearchParams({ access_token: token ?? (await newToken(fake)) });
  const response = await fetch(`${fake.baseUrl}${path}?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return (await json(response)).body.errcode as number;
}

const text = (content: string, touser = USER) => ({ touser, msgtype: 'text', text: { content } });

describe('FakeWeixinServer: custom/send and custom/typing', () => {
  const weixin = fakeWeixinPerTest({ accounts: [SECOND] });

  it('sends only to followers within 48 hours of their last message; sentMessages lists what went', async () => {
    const { fake } = weixin;
    assert.equal(await post(fake, SEND, text('hi')), 40003);
    fake.addFollower(USER);
    assert.equal(await post(fake, SEND, text('never wrote')), 45015);
    follow(fake, USER);
    assert.equal(await post(fake, SEND, { ...text('hi'), customservice: { kf_account: 'kf@gh' } }), 0);
    fake.advanceTime(48 * 60 * 60 * 1000);
    assert.equal(await post(fake, SEND, text('too late')), 45015);
    const [sent] = fake.sentMessages({ openId: USER });
    assert.deepEqual(
      { msgtype: sent.msgtype, message: sent.message, kfAccount: sent.kfAccount, appId: sent.appId },
      { msgtype: 'text', message: { content: 'hi' }, kfAccount: 'kf@gh', appId: fake.appId },
    );
    assert.deepEqual(fake.sentMessages({ appId: SECOND.appId }), []);
  });

  it("counts messages per user message (45047) and answers 40003 for another account's follower", async () => {
    const { fake } = weixin;
    follow(fake, USER);
    for (let index = 0; index < 5; index++) assert.equal(await post(fake, SEND, text(`m${index}`)), 0);
    assert.equal(await post(fake, SEND, text('sixth')), 45047);
    follow(fake, USER);
    assert.equal(await post(fake, SEND, text('after the next user message')), 0);
    follow(fake, 'oOnlySecond00000000000001', 0, SECOND.appId);
    assert.equal(await post(fake, SEND, text('wrong account', 'oOnlySecond00000000000001')), 40003);
  });

  it('messagesPerWindow changes the count', async () => {
    const fake = await weixin.restart({ messagesPerWindow: 1 });
    follow(fake, USER);
    assert.equal(await post(fake, SEND, text('one')), 0);
    assert.equal(await post(fake, SEND, text('two')), 45047);
    await weixin.restart({ accounts: [SECOND] });
  });

  it('40007 for unknown, foreign, expired and wrong-type media_ids; 40008, 44004, 45002, 47001', async () => {
    const { fake } = weixin;
    follow(fake, USER);
    const token = await newToken(fake);
    const image = (await upload(fake, token, 'image', fixture('image.jpg'), 'a.jpg')).body.media_id as string;
    const image2 = (await upload(fake, token, 'image', fixture('image.png'), 'a.png')).body
      .media_id as string;
    const media = (msgtype: string, fields: object) => ({ touser: USER, msgtype, [msgtype]: fields });
    assert.equal(await post(fake, SEND, media('image', { media_id: 'unknown' }), token), 40007);
    assert.equal(await post(fake, SEND, media('voice', { media_id: image }), token), 40007);
    assert.equal(await post(fake, SEND, media('video', { media_id: image }), token), 40007);
    assert.equal(await post(fake, SEND, media('news', {}), token), 40008);
    assert.equal(await post(fake, SEND, text(''), token), 44004);
    assert.equal(await post(fake, SEND, text('好'.repeat(683)), token), 45002);
    assert.equal(await post(fake, SEND, '{not json', token), 47001);
    assert.equal(await post(fake, SEND, media('image', { media_id: image }), token), 0);
    follow(fake, USER, 0, SECOND.appId);
    const secondToken = (
      await json(
        await fetch(
          `${fake.baseUrl}/cgi-bin/token?grant_type=client_credential&appid=${SECOND.appId}&secret=${SECOND.appSecret}`,
        ),
      )
    ).body.access_token as string;
    assert.equal(await post(fake, SEND, media('image', { media_id: image2 }), secondToken), 40007);
    fake.advanceTime(3 * 24 * 60 * 60 * 1000);
    follow(fake, USER);
    assert.equal(await post(fake, SEND, media('image', { media_id: image2 })), 40007);
  });

  it('typing: 45080 past 30 s of the last interaction, 45081 while shown, 45072 for a bad command', async () => {
    const { fake } = weixin;
    const token = await newToken(fake);
    follow(fake, USER, 31_000);
    assert.equal(await post(fake, TYPING, { touser: USER, command: 'Typing' }, token), 45080);
    follow(fake, USER);
    assert.equal(await post(fake, TYPING, { touser: USER, command: 'Dance' }, token), 45072);
    assert.equal(await post(fake, TYPING, { touser: USER, command: 'Typing' }, token), 0);
    assert.equal(await post(fake, TYPING, { touser: USER, command: 'Typing' }, token), 45081);
    // A sent message ends the state.
    assert.equal(await post(fake, SEND, text('done'), token), 0);
    assert.equal(await post(fake, TYPING, { touser: USER, command: 'Typing' }, token), 0);
    assert.equal(await post(fake, TYPING, { touser: 'oNobody', command: 'Typing' }, token), 40003);
  });

  it('a delay fault on custom/send plays after the message was recorded; an errcode fault records nothing', async () => {
    const { fake } = weixin;
    follow(fake, USER);
    const token = await newToken(fake);
    fake.injectFault({ path: SEND, errcode: -1 });
    assert.equal(await post(fake, SEND, text('refused'), token), -1);
    assert.equal(fake.sentMessages().length, 0);
    fake.injectFault({ path: SEND, delayMs: 10_000 });
    const late = post(fake, SEND, text('late answer'), token);
    while (fake.sentMessages().length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(fake.sentMessages()[0].message.content, 'late answer');
    // Closing the fake ends the delay; the client sees its connection close.
    await fake.close();
    await assert.rejects(late);
  });
});
