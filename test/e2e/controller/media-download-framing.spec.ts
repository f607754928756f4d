import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { WeixinApiError, WeixinNetworkError } from '../../../lib';
import { keepAliveExchange } from '../../support/keep-alive-exchange';
import { type ControllerApp, HTTP_ADAPTERS, startControllerApp } from '../../support/media-controller-app';
import { mediaFixture } from '../../support/paths';
import { startStandInWeixin, type StandInWeixin } from '../../support/stand-in-weixin';
import { createMediaTestingModule, type MediaTestContext } from '../../support/testing-module';

const JPEG = readFileSync(mediaFixture('image.jpg'));
const PLANTED_PAGE = '<script>alert("planted")</script>';
const PLANTED_RESPONSE = Buffer.from(
  `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${PLANTED_PAGE.length}\r\n\r\n${PLANTED_PAGE}`,
);

/**
 * A gzip file whose inflated bytes are a JPEG start, filler, then a whole HTTP response, placed to begin exactly
 * at the gzip's own length: where a client framing the download by the compressed Content-Length looks for the
 * next answer on the connection.
 */
function plantedGzip(): { gzip: Buffer; inflated: Buffer } {
  let fillerLength = 0;
  for (let tries = 0; tries < 20; tries++) {
    const inflated = Buffer.concat([
      Buffer.from([0xff, 0xd8, 0xff]),
      Buffer.alloc(fillerLength),
      PLANTED_RESPONSE,
    ]);
    const gzip = gzipSync(inflated);
    if (gzip.length === fillerLength + 3) return { gzip, inflated };
    fillerLength = gzip.length - 3;
  }
  throw new Error('no filler length puts the planted response at the gzip length');
}

const PLANTED = plantedGzip();
const jpegAnswer = (body: Buffer, encoding?: string) => ({
  headers: {
    'content-type': 'image/jpeg',
    'content-disposition': 'attachment; filename="photo.jpg"',
    'content-length': body.length,
    ...(encoding ? { 'content-encoding': encoding } : {}),
  },
  body,
});

describe('downloads pass on only the headers that describe the bytes sent', () => {
  let weixin: StandInWeixin;
  before(async () => {
    weixin = await startStandInWeixin();
    weixin.answers.set('planted', jpegAnswer(PLANTED.gzip, 'gzip'));
    weixin.answers.set('gzipped', jpegAnswer(gzipSync(JPEG), 'gzip'));
    weixin.answers.set('x-gzipped', jpegAnswer(gzipSync(JPEG), 'x-gzip'));
    weixin.answers.set('deflated', jpegAnswer(deflateSync(JPEG), 'deflate'));
    weixin.answers.set('brotli', jpegAnswer(brotliCompressSync(JPEG), 'br'));
    weixin.answers.set('plain', jpegAnswer(JPEG));
    weixin.answers.set('zstd', jpegAnswer(JPEG, 'zstd'));
    weixin.answers.set('twice', jpegAnswer(gzipSync(gzipSync(JPEG)), 'gzip, gzip'));
    weixin.answers.set('partial', {
      status: 206,
      headers: { 'content-type': 'image/jpeg', 'content-range': `bytes 0-99/${JPEG.length}` },
      body: JPEG.subarray(0, 100),
    });
    const error = Buffer.from(JSON.stringify({ errcode: 40007, errmsg: 'invalid media_id' }));
    weixin.answers.set('gzipped-error', {
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(error),
    });
  });
  after(() => weixin.close());

  for (const adapter of HTTP_ADAPTERS) {
    describe(`GET /weixin/media/:mediaId on ${adapter}`, () => {
      let ctx: ControllerApp;
      before(async () => {
        ctx = await startControllerApp(weixin, { adapter, module: { mediaCache: false } });
      });
      after(() => ctx.close());

      it('a gzip answer whose inflated tail is an HTTP response: the next request on the connection gets our answer', async () => {
        const [download, next, ...rest] = await keepAliveExchange(ctx.port, [
          '/weixin/media/planted',
          '/weixin/media/plain',
        ]);
        assert.equal(download.status, 200);
        assert.ok(download.complete);
        assert.ok(download.body.equals(PLANTED.inflated), 'the whole inflated file, as the file');
        assert.equal(download.headers['content-encoding'], undefined);
        assert.ok([undefined, String(PLANTED.inflated.length)].includes(download.headers['content-length']));
        assert.ok(next, 'the second request was answered');
        assert.equal(next.status, 200);
        assert.equal(next.headers['content-type'], 'image/jpeg');
        assert.ok(next.body.equals(JPEG), 'the second answer is ours, not the planted one');
        assert.ok(!next.body.includes(PLANTED_PAGE));
        assert.equal(rest.length, 0);
      });

      it('an ordinary gzip file arrives whole and byte-identical, without a Content-Encoding', async () => {
        const [download] = await keepAliveExchange(ctx.port, ['/weixin/media/gzipped']);
        assert.equal(download.status, 200);
        assert.ok(download.complete);
        assert.equal(download.headers['content-type'], 'image/jpeg');
        assert.equal(download.headers['content-encoding'], undefined);
        assert.ok(download.body.equals(JPEG), `${download.body.length} bytes of ${JPEG.length}`);
      });

      it('an uncompressed file keeps its Content-Length', async () => {
        const [download] = await keepAliveExchange(ctx.port, ['/weixin/media/plain']);
        assert.equal(download.headers['content-length'], String(JPEG.length));
        assert.ok(download.body.equals(JPEG));
      });

      it('a coding not decoded here, or a partial answer: 502 in Weixin shape, nothing passed on', async () => {
        for (const mediaId of ['zstd', 'partial']) {
          const [answer] = await keepAliveExchange(ctx.port, [`/weixin/media/${mediaId}`]);
          assert.equal(answer.status, 502, mediaId);
          assert.equal(JSON.parse(answer.body.toString()).errcode, -1);
        }
      });
    });
  }

  describe('download() and downloadStream()', () => {
    let context: MediaTestContext;
    before(async () => {
      context = await createMediaTestingModule(weixin, { mediaCache: false });
    });
    after(() => context.close());

    for (const mediaId of ['gzipped', 'x-gzipped', 'deflated', 'brotli', 'plain']) {
      it(`${mediaId}: the file's own bytes; contentLength only when it counts them`, async () => {
        const whole = await context.service.download(mediaId);
        assert.ok(whole.kind === 'file' && whole.data.equals(JPEG));
        const streamed = await context.service.downloadStream(mediaId);
        assert.ok(streamed.kind === 'file');
        const chunks: Buffer[] = [];
        for await (const chunk of streamed.stream) chunks.push(chunk as Buffer);
        assert.ok(Buffer.concat(chunks).equals(JPEG));
        assert.equal(streamed.contentLength, mediaId === 'plain' ? JPEG.length : undefined);
      });
    }

    it('a Content-Encoding not decoded here (zstd, gzip twice) is refused, typed', async () => {
      for (const mediaId of ['zstd', 'twice']) {
        await assert.rejects(context.service.download(mediaId), (error: unknown) => {
          assert.ok(error instanceof WeixinNetworkError, String(error));
          assert.equal(error.systemCode, 'ERR_CONTENT_ENCODING');
          assert.match(error.message, /Content-Encoding/);
          return true;
        });
      }
    });

    it('a 206 with a Content-Range is not the whole file: refused, typed', async () => {
      await assert.rejects(context.service.download('partial'), (error: unknown) => {
        assert.ok(error instanceof WeixinNetworkError, String(error));
        assert.equal(error.status, 206);
        return true;
      });
    });

    it('a gzip JSON error is read as the error it is', async () => {
      await assert.rejects(context.service.download('gzipped-error'), (error: unknown) => {
        assert.ok(error instanceof WeixinApiError, String(error));
        assert.equal(error.errcode, 40007);
        return true;
      });
    });
  });
});
