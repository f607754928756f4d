import type { LoggerService } from '@nestjs/common';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { RedisMediaCache, RedisTokenStore, WeixinStoreError } from '../../../lib';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { distinctJpeg } from '../../support/fleet';
import { mediaFixture } from '../../support/paths';
import { RedisServer } from '../../support/redis-server';

const TOKEN = 'ACCESS_TOKEN_abcdef0123456789_SHOULD_NEVER_SHOW';
const BASE_JPEG = readFileSync(mediaFixture('image.jpg'));
/** Not the app's key: the app under test must not pick this token up. */
const SEED_KEY = 'wx-seed:stable';

/** Every way an error gets rendered: message, stack, String(), JSON (toJSON), util.inspect. */
function renderings(error: unknown): string {
  const failure = error as Error;
  return [
    failure.message,
    failure.stack,
    String(failure),
    JSON.stringify(failure),
    inspect(failure, { depth: 10, showHidden: true }),
  ].join('\n');
}

const refusals = [
  {
    name: 'read-only replica (READONLY)',
    code: 'READONLY',
    refused: ['set', 'delete', 'lock'],
    // A replica of an address where no master answers: reads are served, writes refused.
    refuse: (admin: Redis) => admin.replicaof('127.0.0.1', 1),
    restore: (admin: Redis) => admin.replicaof('NO', 'ONE'),
  },
  {
    name: 'out of memory (OOM)',
    code: 'OOM',
    // DEL frees memory: Redis allows it under maxmemory.
    refused: ['set', 'lock'],
    refuse: async (admin: Redis) => {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', '1');
    },
    restore: (admin: Redis) => admin.config('SET', 'maxmemory', '0'),
  },
];

describe('store failures: a library error without the command arguments, and uploads carry on', () => {
  let redis: RedisServer;
  let admin: Redis;
  let client: Redis;

  before(async () => {
    redis = await RedisServer.start({ own: true });
    admin = redis.createClient();
    client = redis.createClient();
  });
  const weixin = fakeWeixinPerTest();
  after(() => redis.stop());

  it('a Redis that stays read-only for 12 s: no token request beyond the first, one warning per store', async () => {
    await admin.flushall();
    await refusals[0].refuse(admin);
    const logged: string[] = [];
    const capture = (message: unknown) => void logged.push(String(message));
    const logger: LoggerService = { log: capture, error: capture, warn: capture, debug: () => undefined };
    const context = await weixin.module({
      tokenStore: new RedisTokenStore(client),
      mediaCache: new RedisMediaCache(client),
    });
    context.moduleRef.useLogger(logger);
    try {
      // Past two retries of the store (every 5 s): reads answer, so it is used again, and writes fail again.
      const until = Date.now() + 12_000;
      for (let i = 0; Date.now() < until; i++) {
        assert.ok((await context.service.uploadImage(distinctJpeg(`readonly-${i}`, BASE_JPEG))).mediaId);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await context.close();
      await refusals[0].restore(admin);
    }
    assert.equal(weixin.fake.tokenRequestCount, 1, 'the token this process fetched served the whole time');
    const text = logged.join('\n');
    assert.equal(logged.filter((line) => /token store failed/.test(line)).length, 1, text);
    assert.equal(logged.filter((line) => /media cache failed/.test(line)).length, 1, text);
  });

  for (const { name, code, refused, refuse, restore } of refusals) {
    describe(name, () => {
      before(async () => {
        await admin.flushall();
        // A token to delete (a script that deletes nothing writes nothing, and is allowed).
        await new RedisTokenStore(admin).set(SEED_KEY, { token: TOKEN, expiresAt: Date.now() + 60_000 });
        await refuse(admin);
      });
      after(() => restore(admin));

      it(`RedisTokenStore: ${refused.join(', ')} reject with WeixinStoreError, no token, no key`, async () => {
        const store = new RedisTokenStore(client);
        const key = SEED_KEY;
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['set', () => store.set(key, { token: TOKEN, expiresAt: Date.now() + 60_000 })],
          ['delete', () => store.delete(key, TOKEN)],
          ['lock', () => store.tryLock(key, 5_000)],
        ];
        for (const [operation, call] of calls.filter(([operation]) => refused.includes(operation))) {
          const error = await call().then(
            () => assert.fail(`${operation} should have been refused`),
            (caught: unknown) => caught,
          );
          assert.ok(error instanceof WeixinStoreError, `${operation}: ${inspect(error)}`);
          assert.equal(error.storeCode, code);
          assert.equal(error.operation, `token store ${operation}`);
          assert.match(error.message, new RegExp(code));
          const text = renderings(error);
          assert.ok(!text.includes(TOKEN), `${operation}: the access token leaked:\n${text}`);
          assert.ok(!text.includes('weixin-media:token'), `${operation}: the key leaked:\n${text}`);
        }
        // Reads are still served.
        assert.equal((await store.get(key))?.token, TOKEN);
      });

      it('RedisMediaCache: set rejects with WeixinStoreError', async () => {
        const cache = new RedisMediaCache(client);
        const error = await cache
          .set(`${weixin.fake.appId}:image:abc`, {
            type: 'image',
            mediaId: 'MEDIA_ID_SECRETISH',
            createdAt: Date.now(),
            expiresAt: Date.now() + 60_000,
          })
          .then(
            () => assert.fail('set should have been refused'),
            (caught: unknown) => caught,
          );
        assert.ok(error instanceof WeixinStoreError, inspect(error));
        assert.equal(error.storeCode, code);
        assert.ok(!renderings(error).includes('MEDIA_ID_SECRETISH'));
      });

      it('an app on that Redis uploads anyway; one warning per store, no token or secret logged', async () => {
        const logged: string[] = [];
        const capture = (message: unknown, ...rest: unknown[]) =>
          void logged.push([message, ...rest].map((part) => renderings(part)).join(' '));
        const logger: LoggerService = { log: capture, error: capture, warn: capture, debug: capture };
        const context = await weixin.module({
          tokenStore: new RedisTokenStore(client),
          mediaCache: new RedisMediaCache(client),
        });
        context.moduleRef.useLogger(logger);
        try {
          for (let i = 0; i < 5; i++) {
            const media = await context.service.uploadImage(distinctJpeg(`${code}-${i}`, BASE_JPEG));
            assert.ok(media.mediaId);
          }
        } finally {
          await context.close();
        }
        assert.equal(
          weixin.fake.tokenRequestCount,
          1,
          'one token request: the single flight holds without the store',
        );
        const tokens = weixin.fake.requests
          .map((request) => request.query.access_token)
          .filter((token): token is string => Boolean(token));
        assert.ok(tokens.length >= 5);
        const text = logged.join('\n');
        for (const token of new Set(tokens)) assert.ok(!text.includes(token), `the token leaked:\n${text}`);
        assert.ok(!text.includes(weixin.fake.appSecret), 'the secret leaked');
        const warnings = logged.filter((line) => line.includes(code));
        assert.equal(
          warnings.filter((line) => line.includes('token store')).length,
          1,
          `one token store warning:\n${text}`,
        );
        assert.equal(
          warnings.filter((line) => line.includes('media cache')).length,
          1,
          `one media cache warning:\n${text}`,
        );
      });
    });
  }
});
