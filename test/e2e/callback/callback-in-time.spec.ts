import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WeixinReply } from '../../../lib';
import {
  AES_KEY,
  CALLBACK_TOKEN,
  type CallbackApp,
  RecordingLogger,
  RecordingSender,
  startCallbackApp,
  USER,
} from '../../support/callback-app';
import { FakeWeixin } from '../../support/fake-weixin-hooks';
import { eventually, HTTP_ADAPTERS } from '../../support/media-controller-app';
import { mediaFixture } from '../../support/paths';

const REPLY_WITHIN_MS = 300;

for (const adapter of HTTP_ADAPTERS) {
  describe(`callback answered in time on ${adapter}`, () => {
    const weixin = new FakeWeixin({}, false);
    let callback: CallbackApp;
    // The test double of the sending service (not merged yet): the CallbackReplySender seam only.
    const sender = new RecordingSender();
    const logger = new RecordingLogger();

    before(async () => {
      callback = await startCallbackApp(weixin.fake, {
        adapter,
        logger,
        callback: { encodingAESKey: AES_KEY, replyWithinMs: REPLY_WITHIN_MS, replySender: sender },
      });
    });
    after(() => callback?.close());
    beforeEach(() => {
      callback.bot.calls.length = 0;
      callback.bot.textAnswer = undefined;
      sender.sent.length = 0;
      sender.typings.length = 0;
      logger.lines.length = 0;
    });

    const deliver = (content: string, msgId?: string) =>
      weixin.fake.deliver(
        `${callback.url}/weixin/callback`,
        { MsgType: 'text', Content: content, FromUserName: USER, ...(msgId ? { MsgId: msgId } : {}) },
        { mode: 'safe', token: CALLBACK_TOKEN, encodingAESKey: AES_KEY, tries: 1 },
      );

    it('a slow handler: success at once, typing, then the reply through the sender once', async () => {
      const image = readFileSync(mediaFixture('image.jpg'));
      callback.bot.textAnswer = async () => {
        await sleep(REPLY_WITHIN_MS * 3);
        return WeixinReply.image(image);
      };
      const started = performance.now();
      const delivery = await deliver('slow');
      const ms = performance.now() - started;
      assert.equal(delivery.status, 200);
      assert.equal(delivery.reply, undefined, 'answered success');
      assert.ok(ms < REPLY_WITHIN_MS * 3, `answered after ${ms.toFixed(0)} ms, before the handler was done`);
      assert.deepEqual(sender.typings, [{ appId: weixin.fake.appId, openId: USER, on: true }]);
      assert.ok(await eventually(() => sender.sent.length > 0, 5_000), 'the late reply was sent');
      await sleep(100);
      assert.equal(sender.sent.length, 1, 'sent once');
      const [{ appId, openId, reply }] = sender.sent;
      assert.equal(appId, weixin.fake.appId);
      assert.equal(openId, USER);
      assert.equal(reply.content.kind, 'image');
      const mediaId = (reply.content as { media: { mediaId: string } }).media.mediaId;
      assert.ok(weixin.fake.getMedia(mediaId), 'uploaded before it was handed to the sender');
    });

    it('a handler that throws: success, logged with the MsgId, nothing sent', async () => {
      callback.bot.textAnswer = () => {
        throw new Error('the bot broke');
      };
      const delivery = await deliver('boom', '9223372036854775807');
      assert.equal(delivery.status, 200);
      assert.equal(delivery.reply, undefined);
      const line = logger.lines.find(({ level }) => level === 'error');
      assert.ok(line, 'logged as an error');
      assert.match(
        line.message,
        /RecordingBot\.onText failed on MsgId 9223372036854775807: Error: the bot broke/,
      );
      assert.doesNotMatch(JSON.stringify(logger.lines), new RegExp(`${CALLBACK_TOKEN}|${AES_KEY}`));
      await sleep(REPLY_WITHIN_MS);
      assert.equal(sender.sent.length, 0);
    });

    it('a late handler that throws sends nothing and turns typing off', async () => {
      callback.bot.textAnswer = async () => {
        await sleep(REPLY_WITHIN_MS * 2);
        throw new Error('late and broken');
      };
      const delivery = await deliver('late-boom');
      assert.equal(delivery.reply, undefined);
      assert.ok(await eventually(() => sender.typings.length === 2, 5_000));
      assert.deepEqual(
        sender.typings.map(({ on }) => on),
        [true, false],
      );
      assert.equal(sender.sent.length, 0);
      assert.ok(logger.lines.some(({ message }) => /late and broken/.test(message)));
    });
  });

  describe(`a late reply through the module's WeixinMessageService on ${adapter}`, () => {
    const weixin = new FakeWeixin({}, false);
    let callback: CallbackApp;

    before(async () => {
      callback = await startCallbackApp(weixin.fake, {
        adapter,
        callback: { replyWithinMs: REPLY_WITHIN_MS },
      });
    });
    after(() => callback?.close());

    it('answers success at once, then sends the reply once as a customer-service message', async () => {
      const image = readFileSync(mediaFixture('image.jpg'));
      callback.bot.textAnswer = async () => {
        await sleep(REPLY_WITHIN_MS * 2);
        return WeixinReply.image(image);
      };
      const delivery = await weixin.fake.deliver(
        `${callback.url}/weixin/callback`,
        { MsgType: 'text', Content: 'slow', FromUserName: USER },
        { token: CALLBACK_TOKEN, tries: 1 },
      );
      assert.equal(delivery.status, 200);
      assert.equal(delivery.reply, undefined, 'answered success');
      assert.ok(await eventually(() => weixin.fake.sentMessages({ openId: USER }).length > 0, 5_000));
      await sleep(200);
      const sent = weixin.fake.sentMessages({ openId: USER });
      assert.equal(sent.length, 1, 'sent once');
      assert.equal(sent[0].msgtype, 'image');
      assert.ok(weixin.fake.getMedia(String(sent[0].message.media_id)), 'an uploaded media_id');
    });
  });
}
