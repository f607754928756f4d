import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { WeixinDownloadTooLargeError, WeixinNetworkError } from '../../../lib';
import { MAX_MEDIA_BYTES } from '../../../lib/media-rules/media-limits';
import { keepAliveExchange } from '../../support/keep-alive-exchange';
import {
  type ControllerApp,
  eventually,
  HTTP_ADAPTERS,
  startControllerApp,
} from '../../support/media-controller-app';
import { mediaFixture } from '../../support/paths';
import { startStandInWeixin, type StandInWeixin } from '../../support/stand-in-weixin';
import { createMediaTestingModule, type MediaTestContext } from '../../support/testing-module';

const MB = 1024 * 1024;
const JPEG = readFileSync(mediaFixture('image.jpg'));
/** 32 MB of zeros in a 32 KB gzip answer. */
const BOMB = gzipSync(Buffer.alloc(32 * MB), { level: 9 });
/** The largest media Weixin serves, to the byte, in gzip. */
const AT_LIMIT = gzipSync(Buffer.alloc(MAX_MEDIA_BYTES), { level: 9 });
/** How far past the limit the count may be when it stops: the one decoded chunk that crossed it. */
const ONE_CHUNK = 64 * 1024;

const gzipAnswer = (body: Buffer) => ({
  headers: { 'content-type': 'image/jpeg', 'content-encoding': 'gzip', 'content-length': body.length },
  body,
});

function assertTooLarge(error: unknown, declared: boolean): true {
  assert.ok(error instanceof WeixinDownloadTooLargeError, String(error));
  assert.ok(error instanceof WeixinNetworkError, 'a bad answer from Weixin, as the others are');
  assert.equal(error.systemCode, 'ERR_DOWNLOAD_TOO_LARGE');
  assert.equal(error.limit, MAX_MEDIA_BYTES);
  assert.equal(error.declared, declared);
  assert.ok(error.actual > MAX_MEDIA_BYTES);
  if (!declared) assert.ok(error.actual <= MAX_MEDIA_BYTES + ONE_CHUNK, `counted to ${error.actual}`);
  assert.match(error.message, new RegExp(`${error.actual} bytes.* > ${MAX_MEDIA_BYTES} bytes \\(10 MB\\)`));
  assert.ok(!error.message.includes('stand-in-token'));
  return true;
}

describe('downloads never hold or pass on more than the largest media Weixin serves', () => {
  let weixin: StandInWeixin;
  before(async () => {
    weixin = await startStandInWeixin();
    weixin.answers.set('bomb', gzipAnswer(BOMB));
    weixin.answers.set('at-limit', gzipAnswer(AT_LIMIT));
    weixin.answers.set('plain', { headers: { 'content-type': 'image/jpeg' }, body: JPEG });
    // Announces 50 MB, sends a little, then waits: only the headers may be read.
    weixin.answers.set('declared-huge', {
      headers: { 'content-type': 'image/jpeg', 'content-length': 50 * MB },
      write: (response) => response.write(JPEG),
    });
  });
  after(() => weixin.close());

  describe('the service', () => {
    let context: MediaTestContext;
    before(async () => {
      context = await createMediaTestingModule(weixin, { mediaCache: false });
    });
    after(() => context.close());

    it('download(): a gzip bomb is refused at the limit, typed', async () => {
      await assert.rejects(context.service.download('bomb'), (error) => assertTooLarge(error, false));
    });

    it('downloadStream(): a gzip bomb passes on no more than the limit, then fails typed', async () => {
      const media = await context.service.downloadStream('bomb');
      assert.ok(media.kind === 'file');
      assert.equal(media.contentLength, undefined);
      let received = 0;
      await assert.rejects(
        (async () => {
          for await (const chunk of media.stream) received += (chunk as Buffer).length;
        })(),
        (error) => assertTooLarge(error, false),
      );
      assert.ok(received <= MAX_MEDIA_BYTES, `${received} bytes passed on`);
    });

    it('a Content-Length over the limit is refused before any body byte, and the connection is let go', async () => {
      const cutBefore = weixin.cutAnswers;
      await assert.rejects(context.service.download('declared-huge'), (error) => assertTooLarge(error, true));
      await assert.rejects(context.service.downloadStream('declared-huge'), (error) =>
        assertTooLarge(error, true),
      );
      assert.ok(await eventually(() => weixin.cutAnswers === cutBefore + 2), 'the sockets were closed');
    });

    it('a file of exactly the limit, however compressed, arrives whole', async () => {
      const media = await context.service.download('at-limit');
      assert.ok(media.kind === 'file');
      assert.equal(media.data.length, MAX_MEDIA_BYTES);
    });
  });

  for (const adapter of HTTP_ADAPTERS) {
    describe(`GET /weixin/media/:mediaId on ${adapter}`, () => {
      let ctx: ControllerApp;
      before(async () => {
        ctx = await startControllerApp(weixin, { adapter, module: { mediaCache: false } });
      });
      after(() => ctx.close());

      it('a Content-Length over the limit: 502 in Weixin shape, naming the limit', async () => {
        const [answer] = await keepAliveExchange(ctx.port, ['/weixin/media/declared-huge']);
        assert.equal(answer.status, 502);
        const body = JSON.parse(answer.body.toString()) as { errcode: number; errmsg: string };
        assert.equal(body.errcode, -1);
        assert.match(body.errmsg, new RegExp(`larger than ${MAX_MEDIA_BYTES} bytes`));
      });

      it('a gzip bomb: at most the limit goes out, then the answer is cut (never complete-looking)', async () => {
        const [download, ...rest] = await keepAliveExchange(ctx.port, [
          '/weixin/media/bomb',
          '/weixin/media/plain',
        ]);
        assert.equal(download.complete, false, 'a file cut at the limit must not look whole');
        assert.ok(download.body.length <= MAX_MEDIA_BYTES, `${download.body.length} bytes sent`);
        assert.equal(rest.length, 0, 'nothing more on that connection');
        const [next] = await keepAliveExchange(ctx.port, ['/weixin/media/plain']);
        assert.ok(next.body.equals(JPEG), 'the app serves the next request');
      });
    });
  }
});
