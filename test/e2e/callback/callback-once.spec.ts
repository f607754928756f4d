import {
  type CallHandler,
  type ExecutionContext,
  type INestApplication,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tap, type Observable } from 'rxjs';
import { RedisCallbackStore, RedisTokenStore, WeixinReply } from '../../../lib';
import {
  AES_KEY,
  CALLBACK_TOKEN,
  type CallbackApp,
  startCallbackApp,
  USER,
} from '../../support/callback-app';
import { FakeWeixin } from '../../support/fake-weixin-hooks';
import { HTTP_ADAPTERS } from '../../support/media-controller-app';
import { RedisServer } from '../../support/redis-server';
import { roundRobin } from '../../support/round-robin-front';

const HANDLER_MS = 1_000;
const TRY_TIMEOUT_MS = 400;

/** The app's own global interceptor: sees the callback route, and keeps what each try was answered. */
@Injectable()
class AnswerRecorder implements NestInterceptor {
  readonly answers: string[] = [];

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(tap((body) => this.answers.push(String(body))));
  }
}

for (const adapter of HTTP_ADAPTERS) {
  describe(`a message handled once across a fleet on ${adapter} (real Redis)`, () => {
    const weixin = new FakeWeixin({}, false);
    let redis: RedisServer;
    const instances: Array<{ callback: CallbackApp; recorder: AnswerRecorder }> = [];

    before(async () => {
      redis = await RedisServer.start();
      for (let index = 0; index < 2; index++) {
        const recorder = new AnswerRecorder();
        const callback = await startCallbackApp(weixin.fake, {
          adapter,
          // The RedisTokenStore makes the callback store a RedisCallbackStore on its client, by itself.
          module: { tokenStore: new RedisTokenStore(redis.createClient()) },
          callback: { encodingAESKey: AES_KEY },
          configure: (app: INestApplication) => {
            app.useGlobalInterceptors(recorder);
          },
        });
        callback.bot.textAnswer = async (message) => {
          await sleep(HANDLER_MS);
          return WeixinReply.text(`handled ${message.MsgId} once`);
        };
        instances.push({ callback, recorder });
      }
    });
    after(async () => {
      for (const { callback } of instances) await callback.close();
      await redis?.stop();
    });

    it('runs the handler once for three tries that land on two instances; every try gets the same answer', async () => {
      const front = await roundRobin(instances.map(({ callback }) => callback.port));
      try {
        const message = {
          MsgType: 'text',
          Content: 'slow',
          FromUserName: USER,
          MsgId: '24123456789012345678',
        };
        const options = { mode: 'safe' as const, token: CALLBACK_TOKEN, encodingAESKey: AES_KEY };
        // Weixin's tries: A (times out while the handler runs), B (waits, times out), A (gets the answer).
        const delivery = await weixin.fake.deliver(front.url, message, {
          ...options,
          timeoutMs: TRY_TIMEOUT_MS,
        });
        assert.equal(delivery.tries, 3);
        assert.equal(delivery.status, 200);
        assert.equal(delivery.reply?.Content, 'handled 24123456789012345678 once');
        // A fourth try, later, on B: the kept answer.
        const later = await weixin.fake.deliver(front.url, message, { ...options, tries: 1 });
        assert.deepEqual(later.reply, delivery.reply);

        const calls = instances.flatMap(({ callback }) => callback.bot.calls);
        assert.equal(calls.length, 1, 'the handler ran once');
        // The tries that timed out were still answered (to a closed connection), all with the same bytes.
        await sleep(HANDLER_MS);
        const answers = instances.flatMap(({ recorder }) => recorder.answers);
        assert.equal(answers.length, 4);
        assert.equal(new Set(answers).size, 1, 'the same bytes for every try');
        assert.match(answers[0], /^<xml><Encrypt>/);
        assert.ok(
          instances.every(({ recorder }) => recorder.answers.length === 2),
          'tries reached both instances',
        );
      } finally {
        await front.close();
      }
    });
  });

  describe(`a callback store that is down, on ${adapter}`, () => {
    const weixin = new FakeWeixin({}, false);
    let redis: RedisServer;
    let callback: CallbackApp;

    before(async () => {
      redis = await RedisServer.start({ own: true });
      const store = new RedisCallbackStore(redis.createClient({ maxRetriesPerRequest: 0 }));
      callback = await startCallbackApp(weixin.fake, { adapter, callback: { store } });
      await redis.stop();
    });
    after(() => callback?.close());

    it('still answers: the messages are deduplicated in this process meanwhile', async () => {
      const message = { MsgType: 'text', Content: 'redis is gone', FromUserName: USER };
      const delivery = await weixin.fake.deliver(`${callback.url}/weixin/callback`, message, {
        token: CALLBACK_TOKEN,
        tries: 1,
      });
      assert.equal(delivery.status, 200);
      assert.equal(delivery.reply?.Content, 'echo: redis is gone');
    });
  });
}
