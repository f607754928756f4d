import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { WeixinMessageMode } from '../../../lib';
import { FakeWeixin } from '../../support/fake-weixin-hooks';
import { HTTP_ADAPTERS } from '../../support/media-controller-app';
import { mediaFixture } from '../../support/paths';
import {
  AES_KEY,
  CALLBACK_TOKEN,
  type CallbackApp,
  startCallbackApp,
  USER,
} from '../../support/callback-app';
import { createHash } from 'node:crypto';

const MODES: readonly WeixinMessageMode[] = ['plain', 'compat', 'safe'];

for (const adapter of HTTP_ADAPTERS) {
  for (const mode of MODES) {
    describe(`callback on ${adapter}, ${mode} mode`, () => {
      const weixin = new FakeWeixin({}, false);
      let callback: CallbackApp;
      const encodingAESKey = mode === 'plain' ? undefined : AES_KEY;

      before(async () => {
        callback = await startCallbackApp(weixin.fake, { adapter, callback: { encodingAESKey } });
        callback.bot.image = readFileSync(mediaFixture('image.jpg'));
      });
      after(() => callback?.close());
      beforeEach(() => {
        callback.bot.calls.length = 0;
      });

      const deliver = (message: Record<string, string>) =>
        weixin.fake.deliver(`${callback.url}/weixin/callback`, { FromUserName: USER, ...message } as never, {
          mode,
          token: CALLBACK_TOKEN,
          encodingAESKey,
          tries: 1,
        });

      it('answers a text with a text reply, back to the sender', async () => {
        const delivery = await deliver({ MsgType: 'text', Content: 'hello ]]> there' });
        assert.equal(delivery.status, 200);
        assert.equal(delivery.reply?.MsgType, 'text');
        assert.equal(delivery.reply?.Content, 'echo: hello ]]> there');
        assert.equal(delivery.reply?.ToUserName, USER);
        const [call] = callback.bot.calls;
        assert.equal(call.handler, 'text');
        assert.equal(call.context.mode, mode);
        assert.equal(call.context.appId, weixin.fake.appId);
        assert.equal(call.context.openId, USER);
        assert.match((call.message as { MsgId: string }).MsgId, /^\d{19}$/, 'MsgId stays the exact text');
      });

      it('uploads an image reply to Weixin and answers its media_id', async () => {
        const delivery = await deliver({ MsgType: 'text', Content: 'image' });
        assert.equal(delivery.reply?.MsgType, 'image');
        const stored = weixin.fake.getMedia(delivery.reply!.MediaId!);
        assert.ok(stored, 'the fake holds the replied media_id');
        const digest = (data: Buffer) => createHash('sha256').update(data).digest('hex');
        assert.equal(digest(stored.data), digest(callback.bot.image!));
      });

      it('answers a string as a text reply and nothing as success', async () => {
        const text = await deliver({ MsgType: 'text', Content: 'string' });
        assert.equal(text.reply?.Content, 'you said string');
        const nothing = await deliver({ MsgType: 'text', Content: 'nothing' });
        assert.equal(nothing.status, 200);
        assert.equal(nothing.reply, undefined, 'success: no reply');
      });

      it('routes events by name (any case), then to the catch-all; other types to @OnWeixinMessage()', async () => {
        const subscribe = await deliver({ MsgType: 'event', Event: 'SUBSCRIBE' });
        assert.equal(subscribe.reply?.Content, 'welcome');
        const click = await deliver({ MsgType: 'event', Event: 'CLICK', EventKey: 'menu-1' });
        assert.equal(click.reply, undefined);
        const location = await deliver({ MsgType: 'location', Location_X: '23.1', Location_Y: '113.3' });
        assert.equal(location.reply?.Content, 'any location');
        assert.deepEqual(
          callback.bot.calls.map(({ handler }) => handler),
          ['subscribe', 'event', 'any'],
        );
        assert.equal((callback.bot.calls[1].message as { EventKey?: string }).EventKey, 'menu-1');
      });

      it('answers the URL check (GET) with echostr as plain text', async () => {
        const timestamp = String(Math.floor(Date.now() / 1000));
        const nonce = '7721';
        const signature = createHash('sha1')
          .update([CALLBACK_TOKEN, timestamp, nonce].sort().join(''))
          .digest('hex');
        const query = new URLSearchParams({ signature, timestamp, nonce, echostr: '7249331651852367781' });
        const response = await fetch(`${callback.url}/weixin/callback?${query}`);
        assert.equal(response.status, 200);
        assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
        assert.equal(await response.text(), '7249331651852367781');
      });
    });
  }
}
