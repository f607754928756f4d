import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mediaFixture } from '../../support/paths';

const LIB = join(__dirname, '../../../lib');
const HIDE = join(__dirname, '../../support/hide-packages.js');

/** Runs `script` in a fresh Node process whose app lacks `hidden` packages; answers its JSON output. */
function runWithout(hidden: string[], script: string, env: Record<string, string> = {}): any {
  const result = spawnSync(process.execPath, ['-r', HIDE, '-e', script], {
    env: { ...process.env, HIDE_PACKAGES: hidden.join(','), ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split('\n').pop()!);
}

const LOADED = `Object.keys(require.cache).filter((f) => /node_modules\\/(@nestjs\\/config|@nestjs\\/terminus|@opentelemetry\\/api|class-validator|class-transformer|ioredis|sharp|@ffmpeg-installer)\\//.test(f)).map((f) => f.split('node_modules/').pop().split('/').slice(0, /node_modules\\/@/.test(f) ? 2 : 1).join('/'))`;

describe('optional peers', () => {
  it('the entry loads neither @nestjs/config, @nestjs/terminus, @opentelemetry/api, class-validator, ioredis nor sharp when they are installed', () => {
    const loaded = runWithout(
      [],
      `require(${JSON.stringify(LIB)}); console.log(JSON.stringify([...new Set(${LOADED})]))`,
    );
    assert.deepEqual(loaded, []);
  });

  it('without @nestjs/config, forRoot() reads the environment', () => {
    const answer = runWithout(
      ['@nestjs/config'],
      `
      require('reflect-metadata');
      const { NestFactory } = require('@nestjs/core');
      const { WeixinMediaModule, WEIXIN_MEDIA_MODULE_OPTIONS } = require(${JSON.stringify(LIB)});
      NestFactory.createApplicationContext(WeixinMediaModule.forRoot(), { logger: false }).then(async (app) => {
        const options = app.get(WEIXIN_MEDIA_MODULE_OPTIONS);
        await app.close();
        console.log(JSON.stringify({ appId: options.appId, apiBaseUrl: options.apiBaseUrl, tokenMode: options.tokenMode }));
      });`,
      {
        WEIXIN_APP_ID: 'wx00000000000000ff',
        WEIXIN_APP_SECRET: 'environment-secret-value',
        WEIXIN_API_BASE_URL: 'http://127.0.0.1:9',
        WEIXIN_TOKEN_MODE: 'classic',
      },
    );
    assert.deepEqual(answer, {
      appId: 'wx00000000000000ff',
      apiBaseUrl: 'http://127.0.0.1:9',
      tokenMode: 'classic',
    });
  });

  it('without @nestjs/config, a missing setting still fails bootstrap with the one message', () => {
    const answer = runWithout(
      ['@nestjs/config'],
      `
      require('reflect-metadata');
      const { NestFactory } = require('@nestjs/core');
      const { WeixinMediaModule } = require(${JSON.stringify(LIB)});
      NestFactory.createApplicationContext(WeixinMediaModule.forRoot(), { logger: false, abortOnError: false })
        .then(() => console.log(JSON.stringify({ booted: true })))
        .catch((error) => console.log(JSON.stringify({ name: error.name, message: error.message })));`,
      { WEIXIN_APP_ID: '', WEIXIN_APP_SECRET: '' },
    );
    assert.equal(answer.name, 'WeixinMediaOptionsError');
    assert.match(answer.message, /WEIXIN_APP_ID/);
    assert.match(answer.message, /WEIXIN_APP_SECRET/);
  });

  it('without sharp, fitSupport() says what to install and an image fit fails with engine-missing', () => {
    const answer = runWithout(
      ['sharp'],
      `
      const { MediaFitter } = require(${JSON.stringify(join(LIB, 'fit/media-fitter'))});
      const { bufferContent } = require(${JSON.stringify(join(LIB, 'media-rules'))});
      const fitter = new MediaFitter();
      const webp = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 '), Buffer.alloc(64)]);
      Promise.all([
        fitter.support(),
        fitter.fit('thumb', { content: bufferContent(webp) }).catch((error) => error),
      ]).then(([support, error]) =>
        console.log(JSON.stringify({ support, error: { name: error.name, reason: error.reason, message: error.message } })),
      );`,
    );
    assert.equal(answer.support.image, false);
    assert.equal(answer.support.thumb, false);
    // Voice and video are ffmpeg's: whether they work here depends on ffmpeg, never on sharp (the unit
    // specs run without system packages, so ffmpeg may be missing too).
    assert.deepEqual(
      answer.support.missing.filter((line: string) => /sharp/.test(line)),
      [answer.support.missing.find((line: string) => line.startsWith('image and thumb: '))],
      'only image and thumb miss sharp',
    );
    if (answer.support.engines.ffmpeg) {
      assert.equal(answer.support.voice, true, 'ffmpeg still converts voice');
    }
    assert.match(
      answer.support.missing.join('\n'),
      /image and thumb: sharp is not installed: .*npm install sharp/,
    );
    assert.deepEqual(
      { name: answer.error.name, reason: answer.error.reason },
      { name: 'MediaFitError', reason: 'engine-missing' },
    );
    assert.match(answer.error.message, /fitting thumb needs sharp: .*npm install sharp/);
  });

  it('without @nestjs/terminus, the module boots and the health indicator says what to install', () => {
    const answer = runWithout(
      ['@nestjs/terminus'],
      `
      require('reflect-metadata');
      const { NestFactory } = require('@nestjs/core');
      const { WeixinMediaModule, WeixinMediaHealthIndicator } = require(${JSON.stringify(LIB)});
      NestFactory.createApplicationContext(
        WeixinMediaModule.forRoot({ appId: 'wx00000000000000ff', appSecret: 'a-secret-value', apiBaseUrl: 'http://127.0.0.1:9' }),
        { logger: false },
      ).then(async (app) => {
        const indicator = app.get(WeixinMediaHealthIndicator);
        const result = await indicator.isHealthy('weixin').then(() => 'resolved', (error) => error.message);
        await app.close();
        console.log(JSON.stringify({ result }));
      });`,
    );
    assert.match(answer.result, /needs @nestjs\/terminus: npm install @nestjs\/terminus/);
  });

  it('without @opentelemetry/api, uploads and downloads run without telemetry', () => {
    const answer = runWithout(
      ['@opentelemetry/api'],
      `
      require('reflect-metadata');
      const { NestFactory } = require('@nestjs/core');
      const { WeixinMediaModule, TemporaryMediaService } = require(${JSON.stringify(LIB)});
      const { FakeWeixinServer } = require(${JSON.stringify(join(LIB, 'testing'))});
      const image = require('node:fs').readFileSync(${JSON.stringify(mediaFixture('image.jpg'))});
      (async () => {
        const fake = await FakeWeixinServer.start();
        const app = await NestFactory.createApplicationContext(
          WeixinMediaModule.forRoot({ appId: fake.appId, appSecret: fake.appSecret, apiBaseUrl: fake.baseUrl }),
          { logger: false },
        );
        const media = app.get(TemporaryMediaService);
        const uploaded = await media.uploadImage(image);
        const downloaded = await media.download(uploaded.mediaId);
        await app.close();
        await fake.close();
        const loaded = Object.keys(require.cache).some((f) => f.includes('@opentelemetry'));
        console.log(JSON.stringify({ bytes: downloaded.data.length, loaded }));
      })();`,
    );
    assert.ok(answer.bytes > 0);
    assert.equal(answer.loaded, false);
  });
});
