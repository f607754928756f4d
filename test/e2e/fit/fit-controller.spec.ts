import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import request from 'supertest';
import { FakeWeixinServer } from '../../../lib/testing';
import { FitMediaDir } from '../../support/fit-media';
import { type ControllerApp, HTTP_ADAPTERS, startControllerApp } from '../../support/media-controller-app';
import { mediaFixture } from '../../support/paths';

const UPLOAD = '/cgi-bin/media/upload';
const MB = 1024 * 1024;

describe('controller: { fit: true }', () => {
  let fake: FakeWeixinServer;
  const media = new FitMediaDir();
  let hugeFrame: Promise<string> | undefined;
  const hugeFrameMkv = () => (hugeFrame ??= media.hugeFrameMkv('huge-frame.mkv'));

  before(async () => {
    fake = await FakeWeixinServer.start();
  });
  after(async () => {
    await fake.close();
    media.close();
  });

  for (const adapter of HTTP_ADAPTERS) {
    describe(`on ${adapter}`, () => {
      let ctx: ControllerApp;
      before(async () => {
        ctx = await startControllerApp(fake, {
          adapter,
          controller: { public: true, fit: true },
          module: { fit: { maxInputBytes: 12 * MB } },
        });
      });
      after(() => ctx.close());
      afterEach(() => assert.deepEqual(ctx.tempFiles(), [], 'every temp file is removed'));

      it('converts a WAV voice and answers what changed', async () => {
        const wav = mediaFixture('voice-speech.wav');
        const res = await request(ctx.url)
          .post('/weixin/media')
          .query({ type: 'voice' })
          .attach('media', wav);
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.type, 'voice');
        assert.equal(res.body.fitted.from, 'wav');
        assert.equal(res.body.fitted.to, 'mp3');
        assert.equal(res.body.fitted.bytesBefore, statSync(wav).size);
        const stored = fake.getMedia(res.body.media_id)!;
        assert.equal(stored.data.length, res.body.fitted.bytesAfter);
        const sent = fake.requests.filter((r) => r.path === UPLOAD).at(-1)!;
        assert.equal(sent.filename, 'voice-speech.mp3', 'the name follows the new format');
      });

      it('takes a file over the type limit up to fit.maxInputBytes (a PNG over 10 MB as image)', async () => {
        const png = media.path(`big-${adapter}.png`);
        // Random bytes after a PNG signature are no image: refused by the engine, not by the body budget.
        const noise = Buffer.alloc(11 * MB, 7);
        noise.set(readFileSync(mediaFixture('image.png')).subarray(0, 33));
        writeFileSync(png, noise);
        const res = await request(ctx.url)
          .post('/weixin/media')
          .query({ type: 'image' })
          .attach('media', png);
        assert.notEqual(res.status, 413, 'within the fit budget');
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.errcode, 40005);
      });

      it('answers Weixin-shaped 400 and 413, never 500, for damaged pixels and a frame over the limit', async () => {
        const sent = () => fake.requests.filter((r) => r.path === UPLOAD).length;
        const before = sent();
        for (const [type, file] of [
          ['thumb', await media.damagedPng(`damaged-${adapter}.png`)],
          ['image', await media.damagedWebp(`damaged-${adapter}.webp`)],
        ] as const) {
          const res = await request(ctx.url).post('/weixin/media').query({ type }).attach('media', file);
          assert.equal(res.status, 400, `${type}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.errcode, 40005);
          assert.match(res.body.errmsg, new RegExp(`^sharp could not decode this ${type} source`));
        }
        const res = await request(ctx.url)
          .post('/weixin/media')
          .query({ type: 'video' })
          .attach('media', await hugeFrameMkv());
        assert.equal(res.status, 413, JSON.stringify(res.body));
        assert.equal(res.body.errcode, 40006);
        assert.match(res.body.errmsg, /12000×12000 .*fit\.maxInputPixels/);
        assert.equal(sent(), before, 'nothing was sent to Weixin');
      });

      it('refuses a body over fit.maxInputBytes with 413 40006', async () => {
        const huge = media.path(`huge-${adapter}.wav`);
        writeFileSync(huge, Buffer.alloc(13 * MB));
        const res = await request(ctx.url)
          .post('/weixin/media')
          .query({ type: 'voice' })
          .attach('media', huge)
          .catch((error: { response?: request.Response }) => error.response!);
        assert.equal(res.status, 413);
        assert.equal(res.body.errcode, 40006);
      });

      it('sends a file that already passes unchanged, without a fitted summary', async () => {
        const mp3 = mediaFixture('voice-speech.mp3');
        const res = await request(ctx.url)
          .post('/weixin/media')
          .query({ type: 'voice' })
          .attach('media', mp3);
        assert.equal(res.status, 201);
        assert.equal(res.body.fitted, undefined);
        assert.ok(fake.getMedia(res.body.media_id)!.data.equals(readFileSync(mp3)));
      });
    });
  }

  it('answers 501 naming what to install when the engine is missing', async () => {
    const ctx = await startControllerApp(fake, {
      controller: { public: true, fit: true },
      module: { fit: { ffmpegPath: '/nonexistent/ffmpeg' } },
    });
    try {
      const res = await request(ctx.url)
        .post('/weixin/media')
        .query({ type: 'voice' })
        .attach('media', mediaFixture('voice-speech.wav'));
      assert.equal(res.status, 501);
      assert.equal(res.body.errcode, 501);
      assert.match(res.body.errmsg, /fitting voice needs ffmpeg: fit\.ffmpegPath "\/nonexistent\/ffmpeg"/);
    } finally {
      await ctx.close();
    }
  });

  it('refuses controller.fit that is not a boolean at bootstrap', async () => {
    await assert.rejects(
      startControllerApp(fake, { controller: { public: true, fit: 'yes' as unknown as boolean } }),
      /controller\.fit must be true or false, got "yes"/,
    );
  });
});
