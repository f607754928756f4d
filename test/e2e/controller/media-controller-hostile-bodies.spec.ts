import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import {
  describeBadInput,
  MB,
  MIN_BODY_TIME_MS,
  raw,
  type StreamedAnswer,
  streamRequest,
} from '../../support/controller-bad-input';
import {
  type ControllerApp,
  eventually,
  multipartBody,
  multipartContentType,
  rawRequest,
} from '../../support/media-controller-app';
import { mediaFixture } from '../../support/paths';

const THUMB = readFileSync(mediaFixture('thumb.jpg'));
/** What a hostile client tries to send: far more than any budget. */
const HOSTILE_BYTES = 32 * MB;
/** ?type=thumb: 64 KB for the file plus the default 16 KB for the form. */
const THUMB_BUDGET = /larger than 80 KB/;
const multipart = { 'content-type': multipartContentType('b') };

/** The server answered early and stopped reading: far less read than sent, and the client could not send it all. */
function assertStoppedEarly(answer: StreamedAnswer): void {
  assert.match(answer.head, /connection: close/i);
  assert.ok(answer.serverBytesRead < 4 * MB, `the server read ${answer.serverBytesRead} bytes of 32 MB`);
  assert.ok(answer.accepted < HOSTILE_BYTES, `the client could not send it all: ${answer.accepted} bytes`);
}

/** Every byte of the body counts against one budget (issue 9, items 1 and 2), on both adapters. */
describeBadInput('media controller: hostile bodies', (t) => {
  describe('bytes outside the file count against the budget: 413, the rest not read', () => {
    const cases: Array<{ name: string; prefix: string; errmsg: RegExp }> = [
      {
        name: 'a huge text field value',
        prefix: '--b\r\nContent-Disposition: form-data; name="type"\r\n\r\n',
        errmsg: THUMB_BUDGET,
      },
      { name: 'a huge preamble before the first boundary', prefix: '', errmsg: THUMB_BUDGET },
      {
        name: 'a huge part without Content-Disposition',
        prefix: '--b\r\nContent-Type: text/plain\r\n\r\n',
        errmsg: THUMB_BUDGET,
      },
      {
        name: 'a huge file part: the rules wording, reading stopped',
        prefix: '--b\r\nContent-Disposition: form-data; name="media"; filename="a.jpg"\r\n\r\n',
        errmsg: /^thumb is more than 64 KB \(reading stopped at .+\); Weixin accepts at most 64 KB$/,
      },
    ];
    for (const { name, prefix, errmsg } of cases) {
      it(name, async () => {
        const answer = await streamRequest(t.ctx, {
          path: '/weixin/media?type=thumb',
          headers: { ...multipart, 'transfer-encoding': 'chunked' },
          prefix: chunked(prefix),
          filler: chunked('a'.repeat(64 * 1024)),
          total: HOSTILE_BYTES,
        });
        await t.refused(async () => answer, 413, 40006, errmsg);
        assertStoppedEarly(answer);
      });
    }

    it('bytes after the closing boundary of a valid form: 413, not 201', async () => {
      const form = multipartBody([{ name: 'media', filename: 't.jpg', data: THUMB }], 'b');
      const answer = await streamRequest(t.ctx, {
        path: '/weixin/media?type=thumb',
        headers: { ...multipart, 'transfer-encoding': 'chunked' },
        prefix: chunked(form),
        filler: chunked('a'.repeat(64 * 1024)),
        total: HOSTILE_BYTES,
      });
      await t.refused(async () => answer, 413, 40006, THUMB_BUDGET);
      assertStoppedEarly(answer);
    });

    it('a few bytes after the closing boundary, within the budget: accepted', async () => {
      const form = multipartBody([{ name: 'media', filename: 't.jpg', data: THUMB }], 'b');
      const res = await rawRequest(t.ctx.port, {
        path: '/weixin/media?type=thumb',
        headers: multipart,
        body: Buffer.concat([form, Buffer.from('trailing epilogue\r\n')]),
      });
      t.statuses.push(res.status);
      assert.equal(res.status, 201, res.body);
    });

    it('a file one byte over the limit, the form within the budget: the exact size, as the rules say it', () =>
      t.refused(
        () =>
          rawRequest(t.ctx.port, {
            path: '/weixin/media?type=thumb',
            headers: multipart,
            body: multipartBody([{ name: 'media', filename: 't.jpg', data: Buffer.alloc(70 * 1024) }], 'b'),
          }).then(raw),
        413,
        40006,
        /^thumb is 70 KB; Weixin accepts at most 64 KB$/,
      ));

    it('the type field before the file sets the limit at once', () =>
      t.refused(
        () =>
          rawRequest(t.ctx.port, {
            path: '/weixin/media',
            headers: multipart,
            body: multipartBody(
              [
                { name: 'type', data: 'thumb' },
                { name: 'media', filename: 't.jpg', data: Buffer.alloc(70 * 1024) },
              ],
              'b',
            ),
          }).then(raw),
        413,
        40006,
        /^thumb is 70 KB; Weixin accepts at most 64 KB$/,
      ));
  });

  describe('early answers reach the client', () => {
    it('a chunked body that keeps going past the budget, from 30 busy clients at once: the 413 reaches each', async () => {
      const answers = await Promise.all(
        Array.from({ length: 30 }, () => busyClient(t.ctx, '/weixin/media?type=thumb')),
      );
      t.statuses.push(...answers.map((answer) => answer.status));
      const missed = answers
        .map((answer, run) => `run ${run}: ${answer.head || 'no answer'}`)
        .filter((_, run) => answers[run].status !== 413 || answers[run].errcode !== 40006);
      assert.deepEqual(missed, [], 'every client got its 413');
      for (const { serverBytesRead } of answers) {
        assert.ok(serverBytesRead < 4 * MB, `the server read ${serverBytesRead} bytes`);
      }
      assert.equal(t.fake.countRequests(), 0);
    });
  });

  describe('declared and trickled bodies', () => {
    it('a declared Content-Length over the budget is refused before the body is read', async () => {
      const answer = await streamRequest(t.ctx, {
        path: '/weixin/media?type=image',
        headers: { ...multipart, 'content-length': 1024 * MB },
        total: HOSTILE_BYTES,
      });
      await t.refused(
        async () => answer,
        413,
        40006,
        /^image is more than 10 MB \(the request declares 1024 MB\); Weixin accepts at most 10 MB$/,
      );
      assertStoppedEarly(answer);
    });

    it('1 GB declared and trickled at 64 B a tick: refused at once', async () => {
      const answer = await streamRequest(t.ctx, {
        path: '/weixin/media?type=voice',
        headers: { ...multipart, 'content-length': 1024 * MB },
        filler: Buffer.alloc(64, 0x61),
        total: 64 * 20,
        chunkDelayMs: 50,
      });
      await t.refused(async () => answer, 413, 40006, /voice is more than 2 MB/);
      assert.ok(answer.answeredAfterMs < 1000, `answered after ${answer.answeredAfterMs} ms`);
    });

    for (const framing of ['content-length', 'chunked'] as const) {
      it(`a body trickled below the lowest rate (${framing}): 408 at max(floor, bytes / rate)`, async () => {
        const head = '--b\r\nContent-Disposition: form-data; name="media"; filename="t.jpg"\r\n\r\n';
        const headers: Record<string, string | number> =
          framing === 'chunked'
            ? { ...multipart, 'transfer-encoding': 'chunked' }
            : { ...multipart, 'content-length': 40_000 };
        const piece = (bytes: string): Buffer =>
          framing === 'chunked' ? chunked(bytes) : Buffer.from(bytes, 'latin1');
        // 64 bytes every 100 ms: never idle long enough for the stall limit, far below 64 KB/s.
        const answer = await streamRequest(t.ctx, {
          path: '/weixin/media?type=thumb',
          headers,
          prefix: piece(head),
          filler: piece('a'.repeat(64)),
          total: 64 * 100,
          chunkDelayMs: 100,
        });
        await t.refused(async () => answer, 408, 41005, /too slow/);
        assert.ok(answer.answeredAfterMs >= MIN_BODY_TIME_MS - 50, `after ${answer.answeredAfterMs} ms`);
        assert.ok(answer.answeredAfterMs < MIN_BODY_TIME_MS + 1500, `after ${answer.answeredAfterMs} ms`);
      });
    }
  });
});

/**
 * A client that sends a chunked file part without end, as fast as the server takes it, but reads its socket only
 * every 200 ms (a busy process, as a loaded curl or browser is): the early answer must still reach it, instead of
 * a reset that fails its next write first. It leaves once the whole answer (by its Content-Length) is in.
 */
async function busyClient(
  ctx: ControllerApp,
  path: string,
): Promise<{ status: number; errcode?: number; head: string; serverBytesRead: number }> {
  const server = ctx.app.getHttpServer() as Server;
  let serverSocket: Socket | undefined;
  const filler = chunked('a'.repeat(64 * 1024));
  const response = await new Promise<string>((resolve) => {
    let received = '';
    const socket = connect(ctx.port, '127.0.0.1');
    const accepted = (peer: Socket): void => {
      if (peer.remotePort !== socket.localPort) return;
      serverSocket = peer;
      server.off('connection', accepted);
    };
    server.on('connection', accepted);
    socket.pause();
    const reading = setInterval(() => {
      socket.resume();
      setImmediate(() => socket.pause());
    }, 200);
    socket.on('data', (data: Buffer) => {
      received += data.toString('latin1');
      const [head, body] = received.split('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(head)?.[1];
      if (body !== undefined && length !== undefined && body.length >= Number(length)) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(reading);
      resolve(received);
    });
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${multipartContentType('b')}\r\n` +
        'Transfer-Encoding: chunked\r\n\r\n',
    );
    socket.write(chunked('--b\r\nContent-Disposition: form-data; name="media"; filename="a.jpg"\r\n\r\n'));
    let written = 0;
    const pump = (): void => {
      while (!socket.destroyed && written < HOSTILE_BYTES) {
        written += filler.length;
        if (!socket.write(filler)) return void socket.once('drain', pump);
      }
    };
    pump();
  });
  assert.ok(
    await eventually(() => serverSocket?.destroyed === true, 5000),
    'the server closed the connection',
  );
  const [head, body = ''] = response.split('\r\n\r\n');
  let errcode: number | undefined;
  try {
    errcode = (JSON.parse(body) as { errcode?: number }).errcode;
  } catch {
    errcode = undefined;
  }
  return {
    status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]),
    errcode,
    head: head.split('\r\n')[0],
    serverBytesRead: serverSocket!.bytesRead,
  };
}

/** One chunk of HTTP/1.1 chunked transfer coding. */
function chunked(data: string | Buffer): Buffer {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1');
  if (bytes.length === 0) return bytes; // a zero-length chunk would end the body
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
}
