import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { FakeInboundMessage } from '../../../lib/testing';
import { CallbackStandIn, type StandInAnswer, type StandInRequest } from '../../support/callback-stand-in';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';

const TOKEN = 'standInToken42';
const AES_KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
const USER = 'oUser_0123456789abcdefghijkl';

/** A reply to `request` written by hand: sender and receiver swapped, `inner` after MsgType. */
function replyTo(request: StandInRequest, msgType: string, inner: string, createTime = 1700000000): string {
  const { message } = request;
  return (
    `<xml><ToUserName><![CDATA[${message.FromUserName}]]></ToUserName>` +
    `<FromUserName><![CDATA[${message.ToUserName}]]></FromUserName><CreateTime>${createTime}</CreateTime>` +
    `<MsgType><![CDATA[${msgType}]]></MsgType>${inner}</xml>`
  );
}

describe('FakeWeixinServer.deliver', () => {
  const weixin = fakeWeixinPerTest();
  let standIn: CallbackStandIn | undefined;

  afterEach(async () => {
    await standIn?.close();
    standIn = undefined;
  });

  async function app(
    answer: (index: number, request: StandInRequest) => StandInAnswer,
    encodingAESKey?: string,
  ): Promise<CallbackStandIn> {
    standIn = await CallbackStandIn.start({ token: TOKEN, encodingAESKey, appId: weixin.fake.appId }, answer);
    return standIn;
  }

  const text: FakeInboundMessage = { MsgType: 'text', FromUserName: USER, Content: 'hello' };

  it('plain mode: signs the query, fills ToUserName, CreateTime and a 64-bit MsgId, and reads a text reply', async () => {
    const target = await app((_, request) => ({
      body: replyTo(request, 'text', '<Content><![CDATA[hi ]]]]><![CDATA[>]]></Content>'),
    }));
    const before = Math.floor(Date.now() / 1000);
    const delivery = await weixin.fake.deliver(target.url, text, { token: TOKEN });

    const [request] = target.requests;
    assert.deepEqual(request.problems, []);
    assert.deepEqual(Object.keys(request.query).sort(), [
      'account',
      'nonce',
      'openid',
      'signature',
      'timestamp',
    ]);
    assert.equal(request.query.openid, USER);
    const { ToUserName, FromUserName, CreateTime, MsgType, Content, MsgId } = request.posted;
    assert.deepEqual(
      { ToUserName, FromUserName, MsgType, Content },
      {
        ToUserName: weixin.fake.appId,
        FromUserName: USER,
        MsgType: 'text',
        Content: 'hello',
      },
    );
    assert.ok(
      Number(CreateTime) >= before && Number(CreateTime) <= Math.floor(Date.now() / 1000) + 1,
      CreateTime,
    );
    assert.match(MsgId, /^\d{19}$/);
    assert.ok(BigInt(MsgId) > BigInt(Number.MAX_SAFE_INTEGER));
    assert.deepEqual(delivery, {
      tries: 1,
      status: 200,
      reply: {
        MsgType: 'text',
        Content: 'hi ]]>',
        ToUserName: USER,
        FromUserName: weixin.fake.appId,
        CreateTime: 1700000000,
      },
    });
  });

  it('compat mode: the plain fields and Encrypt, msg_signature in the query; an encrypted image reply read flat', async () => {
    const target = await app(
      (_, request) => ({
        body: replyTo(request, 'image', '<Image><MediaId><![CDATA[m-1]]></MediaId></Image>'),
        encrypt: true,
      }),
      AES_KEY,
    );
    const delivery = await weixin.fake.deliver(target.url, text, {
      mode: 'compat',
      token: TOKEN,
      encodingAESKey: AES_KEY,
    });

    const [request] = target.requests;
    assert.deepEqual(request.problems, []);
    assert.equal(request.query.encrypt_type, 'aes');
    assert.match(request.query.msg_signature, /^[0-9a-f]{40}$/);
    assert.equal(request.posted.Content, 'hello');
    assert.equal(typeof request.posted.Encrypt, 'string');
    const { Encrypt: _, ...plainFields } = request.posted;
    assert.deepEqual(request.message, plainFields);
    assert.deepEqual(delivery.reply, {
      MsgType: 'image',
      MediaId: 'm-1',
      ToUserName: USER,
      FromUserName: weixin.fake.appId,
      CreateTime: 1700000000,
    });
  });

  it('safe mode: only ToUserName and Encrypt; an encrypted music reply read flat', async () => {
    const music =
      '<Music><Title><![CDATA[T]]></Title><Description><![CDATA[D]]></Description><MusicUrl><![CDATA[http://m/a.mp3]]></MusicUrl>' +
      '<HQMusicUrl><![CDATA[http://m/hq.mp3]]></HQMusicUrl><ThumbMediaId><![CDATA[th-1]]></ThumbMediaId></Music>';
    const target = await app(
      (_, request) => ({ body: replyTo(request, 'music', music), encrypt: true }),
      AES_KEY,
    );
    const message = {
      MsgType: 'location',
      FromUserName: USER,
      Location_X: '23.134521',
      Location_Y: '113.358803',
      Scale: '20',
      Label: 'x',
    };
    const delivery = await weixin.fake.deliver(target.url, message, {
      token: TOKEN,
      encodingAESKey: AES_KEY,
    });

    const [request] = target.requests;
    assert.deepEqual(request.problems, []);
    assert.deepEqual(Object.keys(request.posted), ['ToUserName', 'Encrypt']);
    assert.equal(request.message.Location_X, '23.134521');
    assert.deepEqual(delivery.reply, {
      MsgType: 'music',
      Title: 'T',
      Description: 'D',
      MusicUrl: 'http://m/a.mp3',
      HQMusicUrl: 'http://m/hq.mp3',
      ThumbMediaId: 'th-1',
      ToUserName: USER,
      FromUserName: weixin.fake.appId,
      CreateTime: 1700000000,
    });
  });

  it('retries a try that did not answer in time, signed and encrypted afresh, the same MsgId', async () => {
    const target = await app(
      (index, request) =>
        index < 2 ? 'hang' : { body: replyTo(request, 'text', '<Content>ok</Content>'), encrypt: true },
      AES_KEY,
    );
    const delivery = await weixin.fake.deliver(target.url, text, {
      token: TOKEN,
      encodingAESKey: AES_KEY,
      timeoutMs: 200,
    });

    assert.equal(delivery.tries, 3);
    assert.equal(delivery.reply?.Content, 'ok');
    const tries = target.requests;
    assert.equal(tries.length, 3);
    assert.deepEqual(
      tries.flatMap((request) => request.problems),
      [],
    );
    assert.equal(new Set(tries.map((request) => request.query.nonce)).size, 3);
    assert.equal(new Set(tries.map((request) => request.posted.Encrypt)).size, 3);
    assert.equal(new Set(tries.map((request) => request.message.MsgId)).size, 1);
  });

  it('stops after 3 tries in all (or `tries`), answering the last status: 0 for no answer', async () => {
    const hanging = await app(() => 'hang');
    assert.deepEqual(await weixin.fake.deliver(hanging.url, text, { token: TOKEN, timeoutMs: 100 }), {
      tries: 3,
      status: 0,
    });
    assert.equal(hanging.requests.length, 3);
    await hanging.close();

    const failing = await app(() => ({ status: 500, body: 'oops' }));
    assert.deepEqual(await weixin.fake.deliver(failing.url, text, { token: TOKEN, tries: 2 }), {
      tries: 2,
      status: 500,
    });
    assert.equal(failing.requests.length, 2);
  });

  it('a refused try is retried too: a wrong Token answers 401 three times', async () => {
    const target = await app(() => ({ body: 'success' }));
    const delivery = await weixin.fake.deliver(target.url, text, { token: 'anotherToken' });
    assert.deepEqual(delivery, { tries: 3, status: 401 });
    assert.deepEqual(target.requests[0].problems, ['signature']);
  });

  it('has no reply for success or an empty body', async () => {
    const target = await app((index) => ({ body: index === 0 ? 'success' : '' }));
    assert.deepEqual(await weixin.fake.deliver(target.url, text, { token: TOKEN }), {
      tries: 1,
      status: 200,
    });
    assert.deepEqual(await weixin.fake.deliver(target.url, text, { token: TOKEN }), {
      tries: 1,
      status: 200,
    });
  });

  it('sends an event as given: no MsgId, nested fields as elements', async () => {
    const target = await app(() => ({ body: '' }));
    const event = {
      MsgType: 'event',
      FromUserName: USER,
      CreateTime: 1348831860,
      Event: 'scancode_waitmsg',
      EventKey: '6',
      ScanCodeInfo: { ScanType: 'qrcode', ScanResult: '1' },
    };
    await weixin.fake.deliver(target.url, event, { token: TOKEN });
    const { posted } = target.requests[0];
    assert.equal(posted.MsgId, undefined);
    assert.equal(posted.CreateTime, '1348831860');
    assert.deepEqual(posted.ScanCodeInfo, { ScanType: 'qrcode', ScanResult: '1' });
  });

  it('makes the sender a follower who just wrote (fake clock); unsubscribe removes them', async () => {
    const target = await app(() => ({ body: 'success' }));
    weixin.fake.advanceTime(60_000);
    assert.equal(weixin.fake.follower(USER), undefined);
    await weixin.fake.deliver(target.url, text, { token: TOKEN });
    const follower = weixin.fake.follower(USER);
    assert.equal(follower?.appId, weixin.fake.appId);
    assert.ok(Math.abs(follower!.lastMessageAt!.getTime() - weixin.fake.now()) < 5_000);

    await weixin.fake.deliver(
      target.url,
      { MsgType: 'event', FromUserName: USER, Event: 'unsubscribe' },
      { token: TOKEN },
    );
    assert.equal(weixin.fake.follower(USER), undefined);

    weixin.fake.addFollower('oOther', { appId: 'wxOther', lastMessageAt: new Date(0) });
    assert.deepEqual(weixin.fake.follower('oOther', 'wxOther'), {
      openId: 'oOther',
      appId: 'wxOther',
      lastMessageAt: new Date(0),
    });
    assert.equal(weixin.fake.follower('oOther'), undefined);
    weixin.fake.reset();
    assert.equal(weixin.fake.follower('oOther', 'wxOther'), undefined);
  });

  describe('rejects a 200 reply Weixin could not use', () => {
    const cases: Array<[string, (request: StandInRequest) => StandInAnswer, RegExp]> = [
      [
        'a plain reply in safe mode',
        (request) => ({ body: replyTo(request, 'text', '<Content>x</Content>') }),
        /must be encrypted/,
      ],
      [
        'a MsgSignature that does not verify',
        (request) => ({
          body: replyTo(request, 'text', '<Content>x</Content>'),
          encrypt: true,
          replyToken: 'forgedToken99',
        }),
        /MsgSignature does not verify/,
      ],
      [
        'CreateTime in milliseconds',
        (request) => ({
          body: replyTo(request, 'text', '<Content>x</Content>', 1700000000000),
          encrypt: true,
        }),
        /CreateTime must be seconds/,
      ],
      [
        'a reply to someone else',
        (request) => ({
          body: replyTo(
            { ...request, message: { ...request.message, FromUserName: 'oX' } },
            'text',
            '<Content>x</Content>',
          ),
          encrypt: true,
        }),
        /must go back to the sender/,
      ],
      ['XML with a DTD', () => ({ body: '<!DOCTYPE x><xml></xml>' }), /DTD or entity declaration/],
    ];
    for (const [name, answer, message] of cases) {
      it(name, async () => {
        const target = await app((_, request) => answer(request), AES_KEY);
        const options = { token: TOKEN, encodingAESKey: AES_KEY, tries: 1 };
        await assert.rejects(weixin.fake.deliver(target.url, text, options), message);
      });
    }
  });

  it('refuses options it cannot deliver with', async () => {
    await assert.rejects(
      weixin.fake.deliver('http://127.0.0.1:9/', text, { mode: 'safe', token: TOKEN }),
      /needs the encodingAESKey/,
    );
    await assert.rejects(
      weixin.fake.deliver('http://127.0.0.1:9/', text, { token: TOKEN, tries: 0 }),
      /tries must be 1 or more/,
    );
    await assert.rejects(
      weixin.fake.deliver('http://127.0.0.1:9/', text, { token: 'x' }),
      /Token must be 3-32 letters/,
    );
  });
});
