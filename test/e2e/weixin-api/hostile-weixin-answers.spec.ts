import { Test } from '@nestjs/testing';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buffer } from 'node:stream/consumers';
import { afterEach, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { TemporaryMediaService, WeixinApiError, WeixinMediaModule, WeixinNetworkError } from '../../../lib';
import { standInHttp, writeMany } from '../../support/stand-in-weixin';

const TOKEN = 'hostile-answers-token-0123456789';
const QUOTA = '/cgi-bin/openapi/quota/get';

/** A JSON answer padded with `total` bytes of spaces (valid JSON), as fast as the client reads; true if all went out. */
function endlessJson(res: ServerResponse, total: number): Promise<boolean> {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"errcode":0,"quota":{"daily_limit":1,"used":0,"remain":1}}');
  return writeMany(res, total, ' ');
}

describe('hostile answers from Weixin', () => {
  const closing: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });

  /** The service on a stand-in Weixin that answers every call with `answer`; tokens from a provider. */
  const serviceOn = async (answer: (req: IncomingMessage, res: ServerResponse) => void) => {
    const server = await standInHttp(answer);
    const moduleRef = await Test.createTestingModule({
      imports: [
        WeixinMediaModule.forRoot({
          appId: 'wx00000000000000a1',
          accessTokenProvider: async () => TOKEN,
          apiBaseUrl: server.baseUrl,
          mediaCache: false,
          retry: { attempts: 3, baseDelayMs: 1 },
        }),
      ],
    }).compile();
    closing.push(
      () => moduleRef.close(),
      () => server.close(),
    );
    return { server, service: moduleRef.get(TemporaryMediaService) };
  };

  it('an answer that does not end is read to 1 MiB, then refused with a typed error', async () => {
    let finished: Promise<boolean> | undefined;
    const { service } = await serviceOn((_req, res) => void (finished = endlessJson(res, 64 * 1024 * 1024)));
    await assert.rejects(service.quota(), (error) => {
      assert.ok(error instanceof WeixinNetworkError, String(error));
      assert.match(error.message, /passed 1048576 bytes/);
      assert.ok(!error.message.includes(TOKEN));
      return true;
    });
    assert.equal(await finished, false, 'the 64 MiB answer was not read whole');
  });

  it('an errcode at an HTTP error status is what Weixin said: a WeixinApiError, not retried', async () => {
    const { service, server } = await serviceOn((_req, res) =>
      res
        .writeHead(503, { 'content-type': 'application/json' })
        .end('{"errcode":45009,"errmsg":"reach max api daily quota limit rid: 66-aa-bb"}'),
    );
    await assert.rejects(service.quota(), (error) => {
      assert.ok(error instanceof WeixinApiError, String(error));
      assert.equal(error.errcode, 45009);
      assert.equal(error.rid, '66-aa-bb');
      assert.match(error.hint!, /midnight Beijing time/);
      return true;
    });
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0].url.split('?')[0], QUOTA);
  });

  it('a download asks for identity; one compressed anyway arrives inflated, without the wire length', async () => {
    const image = Buffer.alloc(200_000, 'jpeg bytes ');
    const compressed = gzipSync(image);
    const { service, server } = await serviceOn((_req, res) =>
      res
        .writeHead(200, {
          'content-type': 'image/jpeg',
          'content-encoding': 'gzip',
          'content-length': String(compressed.length),
          'content-disposition': 'attachment; filename="a.jpg"',
        })
        .end(compressed),
    );
    const media = await service.downloadStream('media-1');
    assert.equal(media.kind, 'file');
    if (media.kind !== 'file') return;
    assert.equal(media.contentLength, undefined, 'the compressed length does not describe the bytes');
    assert.ok((await buffer(media.stream)).equals(image));
    assert.equal(server.requests[0].headers['accept-encoding'], 'identity');
  });
});
