import type { LoggerService } from '@nestjs/common';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import Redis from 'ioredis';
import { RedisMediaCache, RedisTokenStore } from '../../../lib';
import { STORE_TIMEOUT_MS } from '../../../lib/store-circuit';
import { fakeWeixinPerSuite } from '../../support/fake-weixin-hooks';
import { distinctJpeg } from '../../support/fleet';
import { mediaFixture } from '../../support/paths';
import { RedisServer } from '../../support/redis-server';

const TIMEOUT_MS = 2_000;
/**
 * What an upload may wait for the stores on top of its own request, as the README states it: the
 * reuse read, the token read and the reuse write each wait at most STORE_TIMEOUT_MS when an outage
 * begins; afterwards none waits at all.
 */
const STORE_WAIT_BOUND_MS = 3 * STORE_TIMEOUT_MS;
const OUTAGE_MS = 30_000;
const UPLOAD_EVERY_MS = 100;
const BASE_JPEG = readFileSync(mediaFixture('image.jpg'));

interface Call {
  startedAt: number;
  settledAt?: number;
  settles: number;
  ok?: boolean;
  error?: string;
  reused?: boolean;
}

describe('a Redis outage under steady traffic', () => {
  let redis: RedisServer;
  let client: Redis;
  const logged: string[] = [];
  const capture = (message: unknown) => void logged.push(String(message));
  const logger: LoggerService = { log: capture, error: capture, warn: capture, debug: () => undefined };

  before(async () => {
    redis = await RedisServer.start({ own: true });
    // The client as an app configures it: ioredis' defaults (offline queue, 20 retries per request).
    client = new Redis({ host: '127.0.0.1', port: redis.port });
    client.on('error', () => undefined);
  });
  const weixin = fakeWeixinPerSuite(() => ({
    tokenStore: new RedisTokenStore(client),
    mediaCache: new RedisMediaCache(client),
    timeoutMs: TIMEOUT_MS,
  }));
  before(() => weixin.context.moduleRef.useLogger(logger));
  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it(`stopped for ${OUTAGE_MS / 1000} s and restarted: no upload waits past timeoutMs + ${STORE_WAIT_BOUND_MS} ms, each settles once, Redis is used again`, async () => {
    const calls: Call[] = [];
    const upload = (label: string) => {
      const call: Call = { startedAt: Date.now(), settles: 0 };
      calls.push(call);
      const content = distinctJpeg(label, BASE_JPEG);
      const done = weixin.service.uploadImage(content).then(
        (media) => Object.assign(call, { ok: true, reused: media.reused }),
        (error: Error) => Object.assign(call, { ok: false, error: `${error.name}: ${error.message}` }),
      );
      void done.then(() => {
        call.settles++;
        call.settledAt ??= Date.now();
      });
      return done;
    };
    let running = true;
    let sent = 0;
    const traffic = (async () => {
      const inFlight: Array<Promise<unknown>> = [];
      while (running) {
        inFlight.push(upload(`outage-${sent++}`));
        await new Promise((resolve) => setTimeout(resolve, UPLOAD_EVERY_MS));
      }
      await Promise.all(inFlight);
    })();

    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const tokensBefore = weixin.fake.tokenRequestCount;
    await redis.stop();
    const stoppedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    redis = await RedisServer.start({ port: redis.port });
    const restartedAt = Date.now();
    // The store is tried again at most STORE_DOWN_FOR_MS after its last failure, and ioredis reconnects.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    running = false;
    await traffic;
    // Let a second settlement (a bug) show up.
    await new Promise((resolve) => setTimeout(resolve, 100));

    // Every upload settled exactly once, and succeeded: Weixin was up all along.
    assert.ok(calls.length > 300, `${calls.length} uploads`);
    assert.deepEqual(
      calls.filter((call) => call.settles !== 1),
      [],
      'each upload settled exactly once',
    );
    assert.deepEqual(
      calls.filter((call) => !call.ok).map((call) => call.error),
      [],
      'every upload succeeded',
    );
    const waits = calls.map((call) => call.settledAt! - call.startedAt);
    const longest = Math.max(...waits);
    assert.ok(
      longest <= TIMEOUT_MS + STORE_WAIT_BOUND_MS,
      `the longest upload took ${longest} ms (bound ${TIMEOUT_MS + STORE_WAIT_BOUND_MS} ms)`,
    );

    // One warning per store for the whole outage, and one line each when Redis answers again.
    const warnings = logged.filter((line) => /failed/.test(line));
    assert.equal(warnings.filter((line) => line.includes('token store')).length, 1, logged.join('\n'));
    assert.equal(warnings.filter((line) => line.includes('media cache')).length, 1, logged.join('\n'));
    assert.equal(
      logged.filter((line) => /token store answers again/.test(line)).length,
      1,
      logged.join('\n'),
    );
    assert.equal(
      logged.filter((line) => /media cache answers again/.test(line)).length,
      1,
      logged.join('\n'),
    );

    // During the outage this process fetched tokens by itself, under its single flight: one request,
    // and that token went back into the restarted (empty) Redis.
    assert.ok(
      weixin.fake.tokenRequestCount - tokensBefore <= 1,
      `${weixin.fake.tokenRequestCount - tokensBefore} token requests during and after the outage`,
    );

    // Redis is used again: the token is shared there, and reuse answers from it.
    const stored = await client.keys('weixin-media:*:token:*');
    assert.equal(stored.length, 1, 'the token is in Redis again');
    const again = await weixin.service.uploadImage(distinctJpeg('outage-0', BASE_JPEG));
    assert.equal(again.reused, false, 'outage-0 was cached in the old (lost) Redis data');
    const reused = await weixin.service.uploadImage(distinctJpeg('outage-0', BASE_JPEG));
    assert.equal(reused.reused, true, 'reuse answers from Redis again');
    console.log(
      `# outage: ${calls.length} uploads, longest ${longest} ms, ` +
        `${calls.filter((call) => call.startedAt >= stoppedAt && call.startedAt < restartedAt).length} during the outage, ` +
        `${weixin.fake.tokenRequestCount - tokensBefore} token requests during and after it`,
    );
  });
});
