import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { buffer } from 'node:stream/consumers';
import { afterEach, describe, it } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { WeixinApiError, WeixinNetworkError } from '../../../lib';
import { MAX_ERROR_BODY_BYTES, MAX_JSON_ANSWER_BYTES } from '../../../lib/weixin-api/weixin-answer';
import type { WeixinCall, WeixinTransport } from '../../../lib/weixin-api/weixin-transport';
import { standInHttp, writeMany } from '../../support/stand-in-weixin';
import { transportFor } from '../../support/test-transport';

const PATH = '/cgi-bin/media/get';
const TOKEN = 'answer-spec-token-0123456789';
const call = <A extends 'json' | 'media'>(answer: A): WeixinCall & { answer: A } => ({
  method: 'GET',
  path: PATH,
  query: { access_token: TOKEN, media_id: 'm1' },
  answer,
  repeatable: true,
});

/** Sends the call with either answer, for the judgements both share. */
const either = (transport: WeixinTransport, answer: 'json' | 'media'): Promise<unknown> =>
  answer === 'json' ? transport.request(call('json')) : transport.request(call('media'));

describe('the answer judge', () => {
  const closing: Array<() => unknown> = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });
  /** A stand-in answering `status`, `headers` and `body` (or running `write`), and a transport on it (one try). */
  const answering = async (
    status: number,
    headers: Record<string, string>,
    body: string | Buffer | ((res: ServerResponse) => void),
  ) => {
    const server = await standInHttp((_req, res) => {
      res.writeHead(status, headers);
      if (typeof body === 'function') body(res);
      else res.end(body);
    });
    const transport = transportFor(server.baseUrl, { retry: { attempts: 1, baseDelayMs: 1 } });
    closing.push(
      () => transport.onModuleDestroy(),
      () => server.close(),
    );
    return { server, transport };
  };
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => assert.fail('expected a rejection'),
      (error: Error) => error,
    );
  const JSON_TYPE = { 'content-type': 'application/json' };

  for (const status of [200, 400, 403, 500, 503]) {
    it(`errcode at HTTP ${status} is a WeixinApiError with its rid, for JSON and media calls`, async () => {
      const { transport } = await answering(
        status,
        JSON_TYPE,
        '{"errcode":40007,"errmsg":"invalid media_id rid: 6650f3f1-1a2b3c4d-5e6f"}',
      );
      for (const answer of ['json', 'media'] as const) {
        const error = await failure(either(transport, answer));
        assert.ok(error instanceof WeixinApiError, String(error));
        assert.equal(error.errcode, 40007);
        assert.equal(error.rid, '6650f3f1-1a2b3c4d-5e6f');
        assert.equal(error.path, PATH);
        assert.ok(!`${error.message}${error.stack}${JSON.stringify(error)}`.includes(TOKEN));
      }
    });
  }

  it('an HTML 502 page is a WeixinNetworkError with the status and no URL', async () => {
    const { transport } = await answering(
      502,
      { 'content-type': 'text/html' },
      '<html>502 Bad Gateway</html>',
    );
    for (const answer of ['json', 'media'] as const) {
      const error = await failure(either(transport, answer));
      assert.ok(error instanceof WeixinNetworkError, String(error));
      assert.equal(error.status, 502);
      assert.equal(error.message, `Weixin answered HTTP 502 for ${PATH}`);
    }
  });

  it('errcode 0 and answers without errcode are the answer', async () => {
    const { transport } = await answering(200, JSON_TYPE, '{"errcode":0,"errmsg":"ok","quota":{"used":1}}');
    assert.deepEqual(await transport.request(call('json')), { errcode: 0, errmsg: 'ok', quota: { used: 1 } });
  });

  it(`a JSON answer past ${MAX_JSON_ANSWER_BYTES} bytes fails, and no more of it is read`, async () => {
    let finished: Promise<boolean> | undefined;
    const { transport } = await answering(200, JSON_TYPE, (res) => {
      finished = writeMany(res, 64 * 1024 * 1024, ' ');
    });
    const error = await failure(transport.request(call('json')));
    assert.ok(error instanceof WeixinNetworkError, String(error));
    assert.match(error.message, new RegExp(`passed ${MAX_JSON_ANSWER_BYTES} bytes`));
    assert.equal(await finished, false, 'the stand-in could not write its whole 64 MiB answer');
  });

  it(`an error body is read to ${MAX_ERROR_BODY_BYTES} bytes at most, and judged by its status`, async () => {
    let finished: Promise<boolean> | undefined;
    const { transport } = await answering(500, { 'content-type': 'text/html' }, (res) => {
      finished = writeMany(res, 64 * 1024 * 1024, 'x');
    });
    for (const answer of ['json', 'media'] as const) {
      const error = await failure(either(transport, answer));
      assert.ok(error instanceof WeixinNetworkError && error.status === 500, String(error));
    }
    assert.equal(await finished, false);
  });

  it('a download answered as bytes is a stream with its type, disposition and length', async () => {
    const bytes = Buffer.alloc(300_000, 7);
    const { transport, server } = await answering(
      200,
      {
        'content-type': 'image/jpeg',
        'content-disposition': 'attachment; filename="a.jpg"',
        'content-length': String(bytes.length),
      },
      bytes,
    );
    const answer = await transport.request(call('media'));
    assert.equal(answer.kind, 'media');
    if (answer.kind !== 'media') return;
    assert.equal(answer.contentType, 'image/jpeg');
    assert.equal(answer.contentDisposition, 'attachment; filename="a.jpg"');
    assert.equal(answer.contentLength, bytes.length);
    assert.ok((await buffer(answer.stream)).equals(bytes));
    assert.equal(server.requests[0].headers['accept-encoding'], 'identity');
  });

  it("a video's JSON answer (no errcode) is answered as JSON", async () => {
    const { transport } = await answering(
      200,
      { 'content-type': 'text/plain' },
      '{"video_url":"http://v/1.mp4"}',
    );
    assert.deepEqual(await transport.request(call('media')), {
      kind: 'json',
      data: { video_url: 'http://v/1.mp4' },
    });
  });

  for (const [encoding, encode] of [
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const) {
    it(`a download compressed anyway (${encoding}) is inflated and its wire length not passed on`, async () => {
      const bytes = Buffer.from('the media itself '.repeat(10_000));
      const { transport } = await answering(
        200,
        { 'content-type': 'voice/speex', 'content-encoding': encoding },
        encode(bytes),
      );
      const answer = await transport.request(call('media'));
      assert.ok(answer.kind === 'media');
      assert.equal(answer.contentLength, undefined);
      assert.ok((await buffer(answer.stream)).equals(bytes));
    });
  }

  it('a compressed JSON error is inflated and judged', async () => {
    const { transport } = await answering(
      200,
      { ...JSON_TYPE, 'content-encoding': 'gzip' },
      gzipSync('{"errcode":40007,"errmsg":"invalid media_id"}'),
    );
    await assert.rejects(transport.request(call('media')), { name: 'WeixinApiError', errcode: 40007 });
  });

  it('an encoding that cannot be decoded fails the call instead of passing on its bytes', async () => {
    const { transport } = await answering(
      200,
      { 'content-type': 'image/jpeg', 'content-encoding': 'zz' },
      'x',
    );
    const error = await failure(transport.request(call('media')));
    assert.ok(error instanceof WeixinNetworkError, String(error));
    assert.match(
      error.message,
      /Content-Encoding "zz", which is not decoded here \(gzip, x-gzip, deflate, br are\)/,
    );
    assert.equal((error as WeixinNetworkError).systemCode, 'ERR_CONTENT_ENCODING');
  });
});
