import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  describeBadInput,
  MB,
  MIN_BODY_TIME_MS,
  raw,
  type StreamedAnswer,
  streamRequest,
} from '../support/controller-bad-input';
import { multipartBody, multipartContentType, rawRequest } from '../support/media-controller-app';
import { mediaFixture } from '../support/paths';

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

/** One chunk of HTTP/1.1 chunked transfer coding. */
function chunked(data: string | Buffer): Buffer {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1');
  if (bytes.length === 0) return bytes; // a zero-length chunk would end the body
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
}
