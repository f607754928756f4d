import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import request from 'supertest';
import { WeixinMediaExceptionFilter } from '../../lib';
import { FakeWeixinServer } from '../../lib/testing';
import {
  type ControllerApp,
  eventually,
  multipartBody,
  multipartContentType,
  type RawResponse,
  rawRequest,
  startControllerApp,
} from '../support/media-controller-app';
import { seededRandom } from '../support/media-builders';
import { mediaFixture } from '../support/paths';

const UPLOAD = '/cgi-bin/media/upload';
const MB = 1024 * 1024;
const JPEG = readFileSync(mediaFixture('image.jpg'));
const IDLE_TIMEOUT_MS = 400;
const BODY_TIMEOUT_MS = 1500;

interface Answer {
  status: number;
  body: unknown;
}

/** status, the Weixin-shaped body, and no stack anywhere. */
function assertWeixinError(answer: Answer, status: number, errcode: number, errmsg?: RegExp): void {
  const text = JSON.stringify(answer.body);
  assert.equal(answer.status, status, `status ${answer.status}: ${text}`);
  assert.ok(answer.body && typeof answer.body === 'object', `a JSON body: ${text}`);
  assert.deepEqual(Object.keys(answer.body).sort(), ['errcode', 'errmsg'], text);
  const { errcode: actual, errmsg: message } = answer.body as { errcode: number; errmsg: string };
  assert.equal(actual, errcode, text);
  assert.equal(typeof message, 'string');
  assert.doesNotMatch(message, /\bat .+:\d+:\d+/, 'no stack trace');
  if (errmsg) assert.match(message, errmsg);
}

function raw(res: RawResponse): Answer {
  return { status: res.status, body: res.json ?? res.body };
}

/** A body of `bytes` bytes that starts like a JPEG; its content never matters, the size check comes first. */
function oversized(bytes: number): Buffer {
  const data = Buffer.alloc(bytes, 0x20);
  JPEG.copy(data, 0, 0, 2);
  return data;
}

describe('media controller: bad input', () => {
  let fake: FakeWeixinServer;
  let ctx: ControllerApp;
  /** Every status the app answered in this suite: none may be a 500. */
  const statuses: number[] = [];

  before(async () => {
    fake = await FakeWeixinServer.start();
    ctx = await startControllerApp(fake, {
      controller: { public: true },
      // Every accepted upload then reaches Weixin, so the filename tests see what was sent.
      module: { mediaCache: false },
      idleTimeoutMs: IDLE_TIMEOUT_MS,
      bodyTimeoutMs: BODY_TIMEOUT_MS,
    });
  });
  after(async () => {
    await ctx.close();
    await fake.close();
    assert.ok(!statuses.some((status) => status >= 500), `no 5xx: ${statuses.join(',')}`);
  });
  beforeEach(() => fake.reset());
  afterEach(async () => {
    assert.ok(
      await eventually(() => ctx.tempFiles().length === 0),
      `temp files left: ${ctx.tempFiles().join(', ')}`,
    );
  });

  /** Runs a request, records its status, and asserts that Weixin was never called. */
  async function refused(
    send: () => Promise<Answer>,
    status: number,
    errcode: number,
    errmsg?: RegExp,
  ): Promise<void> {
    const answer = await send();
    statuses.push(answer.status);
    assertWeixinError(answer, status, errcode, errmsg);
    assert.equal(fake.countRequests(UPLOAD), 0, 'no upload reached Weixin');
  }

  const post = (query = '') => request(ctx.url).post(`/weixin/media${query}`);

  describe('type', () => {
    it('missing (no query, no form field): 400 40004', () =>
      refused(() => post().attach('media', mediaFixture('image.jpg')), 400, 40004, /type is missing/));

    for (const type of [
      'document',
      'IMAGE',
      '',
      '../x',
      '..%2F..%2Fetc%2Fpasswd',
      'image%00',
      'image/../voice',
    ]) {
      it(`?type=${type}: 400 40004`, () =>
        refused(
          () => post(`?type=${type}`).attach('media', mediaFixture('image.jpg')),
          400,
          40004,
          /not a media type/,
        ));
    }

    it('?type given twice: 400 40004', () =>
      refused(() => post('?type=image&type=video').attach('media', mediaFixture('image.jpg')), 400, 40004));

    it('unknown type in the form field: 400 40004', () =>
      refused(() => post().field('type', '../image').attach('media', mediaFixture('image.jpg')), 400, 40004));

    it('the query and the form disagree: 400 40004', () =>
      refused(
        () => post('?type=image').field('type', 'voice').attach('media', mediaFixture('image.jpg')),
        400,
        40004,
      ));

    it('an unknown type is refused before a byte of the body is read', async () => {
      // Announces 10 MB and sends none of it: the answer must not wait for the body.
      const res = await rawRequest(ctx.port, {
        path: '/weixin/media?type=../../x',
        headers: { 'content-type': multipartContentType(), 'content-length': 10 * MB },
        end: false,
      });
      await refused(async () => raw(res), 400, 40004);
      assert.equal(res.bytesSent, 0);
    });
  });

  describe('form shape', () => {
    it('no file, only the type field: 400 41005', () =>
      refused(
        () => post('?type=image').field('type', 'image'),
        400,
        41005,
        /no file in the form field "media"/,
      ));

    it('an empty form: 400 41005', () =>
      refused(
        () =>
          rawRequest(ctx.port, {
            path: '/weixin/media?type=image',
            headers: { 'content-type': multipartContentType() },
            body: Buffer.from('--weixinTestBoundary7MA4YWxk--\r\n'),
          }).then(raw),
        400,
        41005,
      ));

    it('the file in the wrong field: 400 41005 naming the field', () =>
      refused(
        () => post('?type=image').attach('file', mediaFixture('image.jpg')),
        400,
        41005,
        /"media", not in "file"/,
      ));

    it('media sent as text, not a file: 400 41005', () =>
      refused(() => post('?type=image').field('media', 'not a file'), 400, 41005, /must be a file/));

    it('two files in media: 400 41005', () =>
      refused(
        () =>
          post('?type=image')
            .attach('media', mediaFixture('image.jpg'))
            .attach('media', mediaFixture('image.png')),
        400,
        41005,
        /exactly one file/,
      ));

    it('extra fields: 400 41005 naming the field', () =>
      refused(
        () => post('?type=image').field('title', 'hello').attach('media', mediaFixture('image.jpg')),
        400,
        41005,
        /unexpected form field "title"/,
      ));

    it('an extra field after the file: 400 41005', () =>
      refused(
        () => post('?type=image').attach('media', mediaFixture('image.jpg')).field('description', 'x'),
        400,
        41005,
      ));

    it('a type field value past the field size limit: 400 41005', () =>
      refused(
        () => post().field('type', 'x'.repeat(5000)).attach('media', mediaFixture('image.jpg')),
        400,
        41005,
      ));

    it('a field name past the limit: 400 41005', () =>
      refused(
        () => post('?type=image').field('f'.repeat(500), 'x').attach('media', mediaFixture('image.jpg')),
        400,
        41005,
      ));

    it('many parts: 400 41005', () => {
      const parts = Array.from({ length: 50 }, () => ({ name: 'type', data: 'image' }));
      return refused(
        () =>
          rawRequest(ctx.port, {
            path: '/weixin/media?type=image',
            headers: { 'content-type': multipartContentType() },
            body: multipartBody(parts),
          }).then(raw),
        400,
        41005,
      );
    });

    it('a part with 100 header lines: only the first 16 are parsed, the rest is ignored', async () => {
      const headers = Array.from({ length: 100 }, (_, i) => `X-Pad-${i}: ${i}`).join('\r\n');
      const body = Buffer.concat([
        Buffer.from(
          `--b\r\nContent-Disposition: form-data; name="media"; filename="a.jpg"\r\n${headers}\r\n\r\n`,
        ),
        JPEG,
        Buffer.from('\r\n--b--\r\n'),
      ]);
      const res = await rawRequest(ctx.port, {
        path: '/weixin/media?type=image',
        headers: { 'content-type': multipartContentType('b') },
        body,
      });
      statuses.push(res.status);
      assert.equal(res.status, 201, res.body);
    });
  });

  describe('content', () => {
    it('an empty file: 400 40006', () =>
      refused(() => post('?type=image').attach('media', mediaFixture('empty.jpg')), 400, 40006));

    it('random bytes named .jpg: 400 40005', () =>
      refused(() => post('?type=image').attach('media', mediaFixture('spoof-random.jpg')), 400, 40005));

    it('an executable named .png: 400 40005', () =>
      refused(() => post('?type=image').attach('media', mediaFixture('spoof-exe.png')), 400, 40005));

    it('text named .mp3 as voice: 400 40005', () =>
      refused(() => post('?type=voice').attach('media', mediaFixture('spoof-text.mp3')), 400, 40005));

    it('a PNG as thumb (JPEG only): 400 40005', () =>
      refused(() => post('?type=thumb').attach('media', mediaFixture('image.png')), 400, 40005));

    it('a WAV as voice: 400 40005', () =>
      refused(() => post('?type=voice').attach('media', mediaFixture('voice-speech.wav')), 400, 40005));

    it('a 61 s voice: 400 40005 saying the limit', () =>
      refused(() => post('?type=voice').attach('media', mediaFixture('voice-61s.mp3')), 400, 40005, /60 s/));

    it('a 61 s AMR voice: 400 40005', () =>
      refused(() => post('?type=voice').attach('media', mediaFixture('voice-61s.amr')), 400, 40005));
  });

  describe('too large: 413 40006 with the limit, reading stops there', () => {
    const cases = [
      { type: 'image', bytes: 10 * MB + 1, limit: /10 MB/ },
      { type: 'voice', bytes: 2 * MB + 1, limit: /2 MB/ },
      { type: 'video', bytes: 10 * MB + 1, limit: /10 MB/ },
      { type: 'thumb', bytes: 64 * 1024 + 1, limit: /64 KB/ },
    ];
    for (const { type, bytes, limit } of cases) {
      it(`${type}: one byte over`, () =>
        refused(
          () =>
            post(`?type=${type}`).attach(
              'media',
              oversized(bytes),
              `big.${type === 'voice' ? 'mp3' : type === 'video' ? 'mp4' : 'jpg'}`,
            ),
          413,
          40006,
          limit,
        ));
    }

    it('thumb-too-large.jpg as thumb', () =>
      refused(
        () => post('?type=thumb').attach('media', mediaFixture('thumb-too-large.jpg')),
        413,
        40006,
        /64 KB/,
      ));

    it('a 3 MB voice with the type only in the form: the rules answer 413', () =>
      refused(
        () =>
          post()
            .field('type', 'voice')
            .attach('media', oversized(3 * MB), 'long.mp3'),
        413,
        40006,
        /2 MB/,
      ));

    it('a 40 MB body: the answer comes at the limit, and the server stops reading soon after', async () => {
      const head = Buffer.from(
        '--b\r\nContent-Disposition: form-data; name="media"; filename="huge.jpg"\r\nContent-Type: image/jpeg\r\n\r\n',
      );
      const total = 40 * MB;
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let serverSocket: Socket | undefined;
      ctx.app.getHttpServer().once('connection', (socket: Socket) => (serverSocket = socket));
      const result = await new Promise<{ response: string; sentAtAnswer: number; accepted: number }>(
        (resolve) => {
          let accepted = 0;
          let written = 0;
          let sentAtAnswer = -1;
          let response = '';
          const socket = connect(ctx.port, '127.0.0.1');
          socket.on('data', (data: Buffer) => {
            if (sentAtAnswer < 0) sentAtAnswer = written;
            response += data.toString('latin1');
          });
          socket.on('error', () => undefined);
          socket.on('close', () => resolve({ response, sentAtAnswer, accepted }));
          socket.write(
            `POST /weixin/media?type=thumb HTTP/1.1\r\nHost: x\r\nContent-Type: ${multipartContentType('b')}\r\n` +
              `Content-Length: ${total}\r\n\r\n`,
          );
          socket.write(head);
          const pump = (): void => {
            while (written < total && !socket.destroyed) {
              written += chunk.length;
              const more = socket.write(chunk, (error) => {
                if (!error) accepted += chunk.length;
              });
              if (!more) return void socket.once('drain', pump);
            }
          };
          pump();
        },
      );
      const [head_, body] = result.response.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head_)?.[1]);
      await refused(async () => ({ status, body: JSON.parse(body) }), 413, 40006, /64 KB/);
      assert.match(head_, /connection: close/i);
      assert.ok(result.sentAtAnswer < 16 * MB, `answered after ${result.sentAtAnswer} bytes`);
      // What the server read: the limit (64 KB) + the grace after the answer (4 MB) + what was in flight
      // (about 2 MB of socket and parser buffers on loopback).
      assert.ok(await eventually(() => serverSocket?.destroyed === true));
      const read = serverSocket!.bytesRead;
      assert.ok(read < 8 * MB, `the server stopped reading after ${read} bytes of 40 MB`);
      assert.ok(result.accepted < total, `the client could not send it all: ${result.accepted} bytes`);
    });
  });

  describe('not multipart', () => {
    it('JSON: 400 41005', () =>
      refused(
        () => post('?type=image').send({ media: JPEG.toString('base64') }),
        400,
        41005,
        /multipart\/form-data/,
      ));

    it('urlencoded: 400 41005', () =>
      refused(
        () => post('?type=image').type('form').send('media=abc&type=image'),
        400,
        41005,
        /multipart\/form-data/,
      ));

    it('text/plain and no content type at all: 400 41005', async () => {
      await refused(() => post('?type=image').set('content-type', 'text/plain').send('hello'), 400, 41005);
      await refused(
        () =>
          rawRequest(ctx.port, {
            path: '/weixin/media?type=image',
            body: JPEG,
            headers: { 'content-length': JPEG.length },
          }).then(raw),
        400,
        41005,
      );
    });

    it('multipart/mixed: 400 41005', () =>
      refused(
        () =>
          rawRequest(ctx.port, {
            path: '/weixin/media?type=image',
            headers: { 'content-type': 'multipart/mixed; boundary=b' },
            body: Buffer.from('--b\r\n\r\nhello\r\n--b--\r\n'),
          }).then(raw),
        400,
        41005,
      ));
  });

  describe('malformed multipart', () => {
    const send = (contentType: string, body: Buffer) => () =>
      rawRequest(ctx.port, {
        path: '/weixin/media?type=image',
        headers: { 'content-type': contentType },
        body,
      }).then(raw);

    it('a missing boundary: 400 41005', () =>
      refused(
        send('multipart/form-data', multipartBody([{ name: 'media', filename: 'a.jpg', data: JPEG }])),
        400,
        41005,
      ));

    it('an empty boundary: 400 41005', () =>
      refused(send('multipart/form-data; boundary=', Buffer.from('--\r\n')), 400, 41005));

    it('garbage: 400 41005', () =>
      refused(
        send(
          multipartContentType(),
          Buffer.from('\x00\xff garbage, no boundary anywhere \r\n\r\n'.repeat(50), 'latin1'),
        ),
        400,
        41005,
      ));

    it('a body cut off before its end: 400 41005', () => {
      const whole = multipartBody([
        { name: 'media', filename: 'a.jpg', contentType: 'image/jpeg', data: JPEG },
      ]);
      return refused(send(multipartContentType(), whole.subarray(0, whole.length - 100)), 400, 41005);
    });

    it('a part header that never ends: 400 41005', () =>
      refused(
        send(
          multipartContentType('b'),
          Buffer.from(
            `--b\r\nContent-Disposition: form-data; name="media"; filename="a.jpg"\r\nX: ${'y'.repeat(100_000)}`,
          ),
        ),
        400,
        41005,
      ));

    it('a part without Content-Disposition: 400 41005', () =>
      refused(
        send(
          multipartContentType('b'),
          Buffer.from(`--b\r\nContent-Type: image/jpeg\r\n\r\n${'x'.repeat(10)}\r\n--b--\r\n`),
        ),
        400,
        41005,
      ));

    it('200 mutations of a valid upload never answer 5xx nor leave a temp file', async () => {
      const random = seededRandom(42);
      const valid = multipartBody([
        { name: 'type', data: 'image' },
        { name: 'media', filename: 'a.jpg', contentType: 'image/jpeg', data: JPEG.subarray(0, 2048) },
      ]);
      for (let round = 0; round < 200; round++) {
        const body = Buffer.from(valid);
        const edits = 1 + Math.floor(random() * 8);
        for (let e = 0; e < edits; e++)
          body[Math.floor(random() * Math.min(body.length, 400))] = Math.floor(random() * 256);
        const cut = random() < 0.3 ? Math.floor(random() * body.length) : body.length;
        const res = await rawRequest(ctx.port, {
          path: '/weixin/media',
          headers: { 'content-type': multipartContentType() },
          body: body.subarray(0, cut),
        });
        statuses.push(res.status);
        // Some mutations leave a valid upload (a changed byte in a header value): 201 is fine then.
        assert.ok([201, 400, 413].includes(res.status), `round ${round}: ${res.status} ${res.body}`);
        const keys =
          res.status === 201 ? ['created_at', 'expires_at', 'media_id', 'type'] : ['errcode', 'errmsg'];
        assert.deepEqual(Object.keys(res.json ?? {}).sort(), keys, res.body);
      }
    });
  });

  describe('filenames', () => {
    /** An upload of a valid JPEG under a hostile name: accepted, with a safe name sent to Weixin. */
    async function uploadNamed(filename: Buffer | string): Promise<string> {
      const res = await rawRequest(ctx.port, {
        path: '/weixin/media?type=image',
        headers: { 'content-type': multipartContentType() },
        body: multipartBody([{ name: 'media', filename, contentType: 'image/jpeg', data: JPEG }]),
      });
      statuses.push(res.status);
      assert.equal(res.status, 201, res.body);
      assert.equal(typeof res.json?.media_id, 'string');
      // The last one: fake.reset() dropped the app's cached token, so the first try may have been refused 40001.
      const sent = fake.requests.filter((r) => r.path === UPLOAD && r.status === 200).at(-1);
      assert.ok(sent, 'the upload reached Weixin');
      const name = sent.filename!;
      assert.doesNotMatch(name, /[\r\n"\\/\u0000-\u001f]/, `sent as ${JSON.stringify(name)}`);
      assert.match(name, /\.jpg$/);
      // And the download's disposition stays a single safe header.
      const download = await request(ctx.url).get(`/weixin/media/${res.json!.media_id}`);
      assert.equal(download.status, 200);
      assert.doesNotMatch(String(download.headers['content-disposition']), /[\r\n]/);
      return name;
    }

    it('../ in the filename: only the base name is kept, nothing is written outside the temp dir', async () => {
      const name = await uploadNamed('../../../../../../tmp/pwned.jpg');
      assert.equal(name, 'pwned.jpg');
      assert.ok(!existsSync(join(dirname(ctx.uploadDir), 'pwned.jpg')));
    });

    it('..\\ Windows paths: only the base name is kept', async () => {
      assert.equal(await uploadNamed('..\\..\\windows\\evil.jpg'), 'evil.jpg');
    });

    it('CRLF escaped the WHATWG way (%0D%0A) cannot inject a header', async () => {
      const name = await uploadNamed('evil%0D%0AContent-Type: text/html%0D%0A%0D%0A<script>.jpg');
      assert.doesNotMatch(name, /\r|\n/);
    });

    it('a raw CR LF inside the quoted filename is not a header break for Weixin', async () => {
      // The part header then reads `filename="a` + a stray line; busboy keeps what it can, or refuses the form.
      const res = await rawRequest(ctx.port, {
        path: '/weixin/media?type=image',
        headers: { 'content-type': multipartContentType() },
        body: multipartBody([
          { name: 'media', filename: 'a\r\nX-Evil: 1\r\nb.jpg', contentType: 'image/jpeg', data: JPEG },
        ]),
      });
      statuses.push(res.status);
      assert.ok([201, 400].includes(res.status), res.body);
      for (const sent of fake.requests.filter((r) => r.path === UPLOAD)) {
        assert.doesNotMatch(sent.filename ?? '', /[\r\n]/);
      }
    });

    it('quotes are dropped', async () => {
      assert.equal(await uploadNamed('a%22b%22c.jpg'), 'abc.jpg');
    });

    it('a raw control character in the part header: refused or dropped, never a 5xx', async () => {
      const res = await rawRequest(ctx.port, {
        path: '/weixin/media?type=image',
        headers: { 'content-type': multipartContentType() },
        body: multipartBody([
          { name: 'media', filename: 'a\u0007\u0000b.jpg', contentType: 'image/jpeg', data: JPEG },
        ]),
      });
      statuses.push(res.status);
      assert.ok([201, 400].includes(res.status), res.body);
      if (res.status === 400) assertWeixinError(raw(res), 400, 41005);
      for (const sent of fake.requests.filter((r) => r.path === UPLOAD)) {
        assert.doesNotMatch(sent.filename ?? '', /[\u0000-\u001f]/);
      }
    });

    it('a UTF-8 name arrives intact', async () => {
      const name = await uploadNamed(Buffer.from('照片 2024.jpg', 'utf8'));
      assert.equal(name, '照片 2024.jpg');
    });

    it('a GBK (non-UTF-8) name is accepted and sent well-formed', async () => {
      const gbk = Buffer.concat([Buffer.from([0xc4, 0xe3, 0xba, 0xc3]), Buffer.from('.jpg')]); // 你好 in GBK
      const name = await uploadNamed(gbk);
      assert.equal(Buffer.from(name, 'utf8').toString('utf8'), name);
    });

    it('a Latin-1 byte and an invalid UTF-8 sequence are accepted', async () => {
      await uploadNamed(
        Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9, 0xff, 0xfe]), Buffer.from('.jpg')]),
      );
    });

    it('no extension, a PHP temp name, or no name: the extension comes from the content', async () => {
      assert.equal(await uploadNamed('phpA1B2'), 'phpA1B2.jpg');
    });

    it('PNG bytes named .jpg are sent as .png', async () => {
      const res = await post('?type=image').attach('media', mediaFixture('spoof-png-named.jpg'));
      statuses.push(res.status);
      assert.equal(res.status, 201);
      assert.equal(fake.requests.filter((r) => r.path === UPLOAD).at(-1)?.filename, 'spoof-png-named.png');
    });
  });

  describe('clients that misbehave', () => {
    it('aborting mid-upload leaves no temp file and never calls Weixin; the server keeps serving', async () => {
      const head = multipartBody([
        { name: 'media', filename: 'a.jpg', contentType: 'image/jpeg', data: Buffer.alloc(0) },
      ]);
      const opening = head.subarray(0, head.indexOf('\r\n--weixinTestBoundary7MA4YWxk--'));
      await new Promise<void>((resolve, reject) => {
        const socket = connect(ctx.port, '127.0.0.1', () => {
          socket.write(
            `POST /weixin/media?type=image HTTP/1.1\r\nHost: x\r\nContent-Type: ${multipartContentType()}\r\n` +
              `Content-Length: ${5 * MB}\r\n\r\n`,
          );
          socket.write(opening);
          socket.write(JPEG);
          socket.write(Buffer.alloc(MB, 0x20), () => {
            // The temp file exists while the body streams in; then the client vanishes.
            void eventually(() => ctx.tempFiles().length === 1).then(() => {
              socket.destroy();
              resolve();
            });
          });
        });
        socket.on('error', reject);
      });
      assert.ok(await eventually(() => ctx.tempFiles().length === 0), 'the temp file is removed');
      assert.equal(fake.countRequests(UPLOAD), 0);
      await request(ctx.url)
        .post('/weixin/media?type=image')
        .attach('media', mediaFixture('image.jpg'))
        .expect(201);
    });

    it('a client that leaves while Weixin is called: the call is abandoned, the temp file removed', async () => {
      fake.injectFault({ path: UPLOAD, delayMs: 3000 });
      const body = multipartBody([
        { name: 'media', filename: 'a.jpg', contentType: 'image/jpeg', data: JPEG },
      ]);
      const socket = connect(ctx.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(
        `POST /weixin/media?type=image HTTP/1.1\r\nHost: x\r\nContent-Type: ${multipartContentType()}\r\n` +
          `Content-Length: ${body.length}\r\n\r\n`,
      );
      socket.write(body);
      assert.ok(await eventually(() => fake.countRequests(UPLOAD) === 1), 'the upload reached Weixin');
      assert.equal(ctx.tempFiles().length, 1, 'the temp file is kept while Weixin is called');
      socket.destroy();
      assert.ok(
        await eventually(() => ctx.tempFiles().length === 0, 1000),
        'removed without waiting for Weixin',
      );
      fake.clearFaults();
      await request(ctx.url)
        .post('/weixin/media?type=image')
        .attach('media', mediaFixture('image.png'))
        .expect(201);
    });

    it('a body that stalls is ended by the server: 408 41005, connection closed, no temp file', async () => {
      const whole = multipartBody([
        { name: 'media', filename: 'a.jpg', contentType: 'image/jpeg', data: JPEG },
      ]);
      const started = Date.now();
      const res = await rawRequest(ctx.port, {
        path: '/weixin/media?type=image',
        headers: { 'content-type': multipartContentType(), 'content-length': whole.length },
        body: [whole.subarray(0, 5000)],
        end: false,
      });
      await refused(async () => raw(res), 408, 41005, /sent no data for 0.4 s/);
      assert.equal(res.headers.connection, 'close');
      assert.ok(Date.now() - started < IDLE_TIMEOUT_MS + 1000);
    });

    it('a body that drips slowly is ended at the whole-body timeout: 408 41005', async () => {
      const whole = multipartBody([
        { name: 'media', filename: 'a.jpg', contentType: 'image/jpeg', data: JPEG },
      ]);
      const drip: Array<Buffer | { delayMs: number }> = [];
      for (let offset = 0; offset < whole.length; offset += 64) {
        drip.push(whole.subarray(offset, offset + 64), { delayMs: 100 });
      }
      const res = await rawRequest(ctx.port, {
        path: '/weixin/media?type=image',
        headers: { 'content-type': multipartContentType(), 'content-length': whole.length },
        body: drip,
      });
      await refused(async () => raw(res), 408, 41005, /did not finish within 1.5 s/);
    });
  });

  describe('with the filter registered globally', () => {
    let global: ControllerApp;
    before(async () => {
      global = await startControllerApp(fake, {
        configure: (app) => app.useGlobalFilters(new WeixinMediaExceptionFilter()),
      });
    });
    after(() => global.close());

    it('malformed JSON (refused by the body parser before routing): 400 Weixin-shaped', () =>
      refused(
        () =>
          request(global.url)
            .post('/weixin/media?type=image')
            .set('content-type', 'application/json')
            .send('{"media": '),
        400,
        40035,
      ));

    it('an unknown route: 404 Weixin-shaped', () =>
      refused(() => request(global.url).get('/nope'), 404, 40035));
  });
});
