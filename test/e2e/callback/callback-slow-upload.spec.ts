import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisTokenStore, WeixinReply } from '../../../lib';
import { FAKE_WEIXIN_PATHS } from '../../../lib/testing/fake-weixin-paths';
import {
  AES_KEY,
  CALLBACK_TOKEN,
  type CallbackApp,
  startCallbackApp,
  USER,
} from '../../support/callback-app';
import { FakeWeixin } from '../../support/fake-weixin-hooks';
import { eventually, HTTP_ADAPTERS, type HttpAdapterName } from '../../support/media-controller-app';
import { mediaFixture } from '../../support/paths';
import { RedisServer } from '../../support/redis-server';
import { roundRobin } from '../../support/round-robin-front';

/** Longer than Weixin's 5 s wait, so the reply can only go as a customer-service message. */
const UPLOAD_MS = 8_000;
const IMAGE = readFileSync(mediaFixture('image.jpg'));
/** Weixin's own: 3 tries of 5 s (deliver's defaults), in safe mode. */
const SAFE = { mode: 'safe' as const, token: CALLBACK_TOKEN, encodingAESKey: AES_KEY };

/** Instances whose text handler answers an image the fake takes `UPLOAD_MS` to accept. */
function slowUploadFleet(adapter: HttpAdapterName, size: number, redis?: () => RedisServer) {
  // An account of its own: the suites run side by side, and may share one Redis (REDIS_URL).
  const weixin = new FakeWeixin({ appId: `wx-slow-upload-${adapter}-${size}` }, false);
  const instances: CallbackApp[] = [];
  before(async () => {
    for (let index = 0; index < size; index++) {
      const callback = await startCallbackApp(weixin.fake, {
        adapter,
        // With a RedisTokenStore the callback store is a RedisCallbackStore on its client.
        module: redis ? { tokenStore: new RedisTokenStore(redis().createClient()) } : {},
        callback: { encodingAESKey: AES_KEY },
      });
      callback.bot.textAnswer = () => WeixinReply.image(IMAGE);
      instances.push(callback);
    }
    weixin.fake.injectFault({ path: FAKE_WEIXIN_PATHS.upload, delayMs: UPLOAD_MS });
  });
  after(async () => {
    for (const callback of instances) await callback.close();
  });
  return { weixin, instances };
}

/** The one late reply: an image sent once as a customer-service message, its upload made once. */
async function assertOneLateImage(weixin: FakeWeixin, instances: CallbackApp[]): Promise<void> {
  const { fake } = weixin;
  assert.ok(
    await eventually(() => fake.sentMessages({ openId: USER }).length > 0, UPLOAD_MS + 5_000),
    'the reply went as a customer-service message once the upload was done',
  );
  await sleep(300);
  const sent = fake.sentMessages({ openId: USER });
  assert.equal(sent.length, 1, 'one customer-service message');
  assert.equal(sent[0].msgtype, 'image');
  assert.ok(fake.getMedia(String(sent[0].message.media_id)), 'the uploaded media_id');
  assert.equal(fake.countRequests(FAKE_WEIXIN_PATHS.upload), 1, 'uploaded once');
  assert.equal(instances.flatMap(({ bot }) => bot.calls).length, 1, 'the handler ran once');
}

describe('a handler whose image upload takes 8 s', { concurrency: true }, () => {
  for (const adapter of HTTP_ADAPTERS) {
    describe(`one instance on ${adapter}`, () => {
      const { weixin, instances } = slowUploadFleet(adapter, 1);

      it("answers Weixin's first try success in time, then sends the image once", async () => {
        const [callback] = instances;
        const message = { MsgType: 'text', Content: 'a picture please', FromUserName: USER };
        const delivery = await weixin.fake.deliver(`${callback.url}/weixin/callback`, message, SAFE);
        assert.equal(delivery.tries, 1, 'the first try was answered within 5 s');
        assert.equal(delivery.status, 200);
        assert.equal(delivery.reply, undefined, 'answered success');
        assert.equal(weixin.fake.sentMessages().length, 0, 'the upload was still running');
        await assertOneLateImage(weixin, instances);
      });
    });

    describe(`two instances on one real Redis on ${adapter}`, () => {
      let redis: RedisServer;
      before(async () => {
        redis = await RedisServer.start();
      });
      const { weixin, instances } = slowUploadFleet(adapter, 2, () => redis);
      after(() => redis?.stop());

      it('answers the first try in time; a retry on the other instance runs nothing; the image goes once', async () => {
        const front = await roundRobin(instances.map(({ port }) => port));
        try {
          const message = {
            MsgType: 'text',
            Content: 'a picture please',
            FromUserName: USER,
            MsgId: '24000000000000000008',
          };
          const first = await weixin.fake.deliver(front.url, message, SAFE);
          assert.equal(first.tries, 1, 'the first try was answered within 5 s');
          assert.equal(first.status, 200);
          assert.equal(first.reply, undefined, 'answered success');
          // Weixin tries again (its answer was lost on the way): the next connection lands on the other
          // instance while the upload still runs.
          const retry = await weixin.fake.deliver(front.url, message, SAFE);
          assert.equal(retry.tries, 1);
          assert.equal(retry.status, 200);
          assert.equal(retry.reply, undefined, 'the same answer: success');
          assert.equal(weixin.fake.sentMessages().length, 0, 'the upload was still running');
          await assertOneLateImage(weixin, instances);
        } finally {
          await front.close();
        }
      });
    });
  }
});
