import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import request from 'supertest';
import { describeBadInput, IDLE_TIMEOUT_MS, JPEG, MB, raw, UPLOAD } from '../../support/controller-bad-input';
import {
  eventually,
  multipartBody,
  multipartContentType,
  rawRequest,
} from '../../support/media-controller-app';
import { mediaFixture } from '../../support/paths';

describeBadInput('media controller: clients that misbehave', (t) => {
  describe('clients that misbehave', () => {
    it('aborting mid-upload leaves no temp file and never calls Weixin; the server keeps serving', async () => {
      const head = multipartBody([
        { name: 'media', filename: 'a.jpg', contentType: 'image/jpeg', data: Buffer.alloc(0) },
      ]);
      const opening = head.subarray(0, head.indexOf('\r\n--weixinTestBoundary7MA4YWxk--'));
      await new Promise<void>((resolve, reject) => {
        const socket = connect(t.ctx.port, '127.0.0.1', () => {
          socket.write(
            `POST /weixin/media?type=image HTTP/1.1\r\nHost: x\r\nContent-Type: ${multipartContentType()}\r\n` +
              `Content-Length: ${5 * MB}\r\n\r\n`,
          );
          socket.write(opening);
          socket.write(JPEG);
          socket.write(Buffer.alloc(MB, 0x20), () => {
            // The temp file exists while the body streams in; then the client vanishes.
            void eventually(() => t.ctx.tempFiles().length === 1).then(() => {
              socket.destroy();
              resolve();
            });
          });
        });
        socket.on('error', reject);
      });
      assert.ok(await eventually(() => t.ctx.tempFiles().length === 0), 'the temp file is removed');
      assert.equal(t.fake.countRequests(UPLOAD), 0);
      await request(t.ctx.url)
        .post('/weixin/media?type=image')
        .attach('media', mediaFixture('image.jpg'))
        .expect(201);
    });

    it('a client that leaves while Weixin is called: the call is abandoned, the temp file removed', async () => {
      t.fake.injectFault({ path: UPLOAD, delayMs: 3000 });
      const body = multipartBody([
        { name: 'media', filename: 'a.jpg', contentType: 'image/jpeg', data: JPEG },
      ]);
      const socket = connect(t.ctx.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(
        `POST /weixin/media?type=image HTTP/1.1\r\nHost: x\r\nContent-Type: ${multipartContentType()}\r\n` +
          `Content-Length: ${body.length}\r\n\r\n`,
      );
      socket.write(body);
      assert.ok(await eventually(() => t.fake.countRequests(UPLOAD) === 1), 'the upload reached Weixin');
      assert.equal(t.ctx.tempFiles().length, 1, 'the temp file is kept while Weixin is called');
      socket.destroy();
      assert.ok(
        await eventually(() => t.ctx.tempFiles().length === 0, 1000),
        'removed without waiting for Weixin',
      );
      t.fake.clearFaults();
      await request(t.ctx.url)
        .post('/weixin/media?type=image')
        .attach('media', mediaFixture('image.png'))
        .expect(201);
    });

    it('a body that stalls is ended by the server: 408 41005, connection closed, no temp file', async () => {
      const whole = multipartBody([
        { name: 'media', filename: 'a.jpg', contentType: 'image/jpeg', data: JPEG },
      ]);
      const started = Date.now();
      const res = await rawRequest(t.ctx.port, {
        path: '/weixin/media?type=image',
        headers: { 'content-type': multipartContentType(), 'content-length': whole.length },
        body: [whole.subarray(0, 5000)],
        end: false,
      });
      await t.refused(async () => raw(res), 408, 41005, /sent no data for 0.4 s/);
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
      const res = await rawRequest(t.ctx.port, {
        path: '/weixin/media?type=image',
        headers: { 'content-type': multipartContentType(), 'content-length': whole.length },
        body: drip,
      });
      await t.refused(async () => raw(res), 408, 41005, /too slow: .* the body must arrive within 1.5 s/);
    });
  });
});
