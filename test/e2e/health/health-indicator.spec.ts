import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  RedisTokenStore,
  WeixinMediaHealthIndicator,
  WeixinMediaModule,
  type WeixinMediaHealthOptions,
  type WeixinMediaModuleOptions,
  TemporaryMediaService,
} from '../../../lib';
import type { FakeWeixinServer } from '../../../lib/testing';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { distinctJpeg } from '../../support/fleet';
import { RedisServer } from '../../support/redis-server';
import { optionsFor } from '../../support/testing-module';

interface HealthAnswer {
  status: number;
  body: {
    status: string;
    info?: Record<string, Record<string, unknown>>;
    error?: Record<string, Record<string, unknown>>;
  };
  text: string;
}

/** A real Nest app with terminus: `GET /health` checks the Weixin media indicator with `check`. */
async function healthApp(
  fake: FakeWeixinServer,
  options: WeixinMediaModuleOptions,
  check: WeixinMediaHealthOptions,
): Promise<{ app: INestApplication; url: string; media: TemporaryMediaService }> {
  @Controller('health')
  class HealthController {
    constructor(
      private readonly health: HealthCheckService,
      private readonly weixin: WeixinMediaHealthIndicator,
    ) {}

    @Get()
    @HealthCheck()
    check() {
      return this.health.check([() => this.weixin.isHealthy('weixin', check)]);
    }
  }

  @Module({
    imports: [
      TerminusModule.forRoot({ logger: false }),
      WeixinMediaModule.forRoot({
        ...optionsFor(fake),
        retry: { attempts: 1, baseDelayMs: 5 },
        ...options,
      }),
    ],
    controllers: [HealthController],
  })
  class HealthAppModule {}

  const app = await NestFactory.create(HealthAppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: `${await app.getUrl()}/health`, media: app.get(TemporaryMediaService) };
}

async function getHealth(url: string): Promise<HealthAnswer> {
  const response = await fetch(url);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), text };
}

describe('WeixinMediaHealthIndicator with @nestjs/terminus over HTTP', () => {
  let app: INestApplication | undefined;
  // The app closes before the fake is reset (hooks run in the order they are registered).
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const weixin = fakeWeixinPerTest({ dailyUploadQuota: 5 });

  function assertNoSecret(answer: HealthAnswer): void {
    assert.ok(!answer.text.includes(weixin.fake.appSecret), 'no app secret');
    for (const request of weixin.fake.requests) {
      const token = request.query.access_token;
      if (token) assert.ok(!answer.text.includes(token), 'no access token');
    }
  }

  it('up: the store answers, a token is obtainable, the quota is above the floor', async () => {
    const started = await healthApp(weixin.fake, {}, { minQuotaRemain: 2 });
    app = started.app;
    await started.media.uploadImage(distinctJpeg('health-1'));
    const answer = await getHealth(started.url);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body.status, 'ok');
    assert.deepEqual(answer.body.info?.weixin, {
      status: 'up',
      appId: weixin.fake.appId,
      store: 'up',
      token: 'up',
      quota: { dailyLimit: 5, used: 1, remain: 4, minQuotaRemain: 2 },
    });
    assertNoSecret(answer);
  });

  it('down (503) once the quota falls below minQuotaRemain', async () => {
    const started = await healthApp(weixin.fake, {}, { minQuotaRemain: 2 });
    app = started.app;
    for (let i = 0; i < 4; i++) await started.media.uploadImage(distinctJpeg(`health-quota-${i}`));
    const answer = await getHealth(started.url);
    assert.equal(answer.status, 503, answer.text);
    const indicator = answer.body.error?.weixin;
    assert.equal(indicator?.status, 'down');
    assert.deepEqual(indicator?.quota, { dailyLimit: 5, used: 4, remain: 1, minQuotaRemain: 2 });
    assert.equal(indicator?.message, '1 uploads left today, below the floor of 2');
  });

  it('down (503) when no token is obtainable, with the errcode and hint, never the secret', async () => {
    const started = await healthApp(weixin.fake, {}, {});
    app = started.app;
    weixin.fake.injectFault({ path: '/cgi-bin/stable_token', errcode: 40164, callerIp: '203.0.113.9' });
    const answer = await getHealth(started.url);
    assert.equal(answer.status, 503, answer.text);
    const indicator = answer.body.error?.weixin;
    assert.equal(indicator?.store, 'up');
    assert.equal(indicator?.token, 'down');
    assert.equal(indicator?.errcode, 40164);
    assert.match(String(indicator?.hint), /203\.0\.113\.9/);
    assertNoSecret(answer);
    // Without the fault it recovers: the next check is up again.
    assert.equal((await getHealth(started.url)).status, 200);
  });

  it('down (503) when the token store does not answer (a stopped Redis)', async () => {
    const redis = await RedisServer.start();
    const client = redis.createClient({ maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      const started = await healthApp(
        weixin.fake,
        { tokenStore: new RedisTokenStore(client) },
        { timeoutMs: 2_000 },
      );
      app = started.app;
      assert.equal((await getHealth(started.url)).status, 200);
      await redis.stop();
      const answer = await getHealth(started.url);
      assert.equal(answer.status, 503, answer.text);
      assert.equal(answer.body.error?.weixin?.store, 'down');
      assert.equal(answer.body.error?.weixin?.token, undefined, 'the token is not asked for then');
    } finally {
      await redis.stop();
    }
  });
});
