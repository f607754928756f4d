import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { FakeWeixinServer } from '../../../lib/testing';
import { JPEG, MB, UPLOAD } from '../../support/controller-bad-input';
import {
  type ControllerApp,
  eventually,
  HTTP_ADAPTERS,
  multipartBody,
  multipartContentType,
  openFileDescriptors,
  rawRequest,
  startControllerApp,
} from '../../support/media-controller-app';

const FORM = multipartBody([{ name: 'media', filename: 'a.jpg', contentType: 'image/jpeg', data: JPEG }]);

/**
 * Every descriptor a request opens (its temp file, the service's reads of it) is closed when the request ends,
 * however it ends (issue 9, item 3): the open files of the process are the same before and after each path.
 */
for (const adapter of HTTP_ADAPTERS) {
  describe(`media controller: descriptors (${adapter})`, () => {
    let fake: FakeWeixinServer;
    let ctx: ControllerApp;
    let filesBefore: string[];

    before(async () => {
      fake = await FakeWeixinServer.start();
      ctx = await startControllerApp(fake, {
        adapter,
        controller: { public: true },
        module: { mediaCache: false, timeoutMs: 300, retry: { attempts: 2, baseDelayMs: 5 } },
      });
      // Warm up (token, modules loaded, sockets), so only what a request opens is counted.
      assert.equal((await upload()).status, 201);
    });
    after(async () => {
      await ctx.close();
      await fake.close();
    });
    beforeEach(() => {
      fake.clearFaults();
      filesBefore = openFileDescriptors();
    });
    afterEach(async () => {
      const settled = await eventually(
        () => openFileDescriptors().join('\n') === filesBefore.join('\n'),
        3000,
      );
      const now = openFileDescriptors();
      assert.ok(
        settled,
        `descriptors before: ${filesBefore.length}, after: ${now.length}: ${now.join(', ')}`,
      );
      assert.ok(!now.some((file) => file.startsWith(ctx.uploadDir)), 'no descriptor of a temp file');
      assert.ok(await eventually(() => ctx.tempFiles().length === 0), 'the temp dir is empty');
    });

    function upload() {
      return rawRequest(ctx.port, {
        path: '/weixin/media?type=image',
        headers: { 'content-type': multipartContentType(), connection: 'close' },
        body: FORM,
      });
    }

    it('success', async () => {
      assert.equal((await upload()).status, 201);
    });

    it('Weixin refuses', async () => {
      fake.injectFault({ path: UPLOAD, errcode: 40164 });
      assert.equal((await upload()).status, 502);
    });

    it('Weixin times out on every try', async () => {
      fake.injectFault({ path: UPLOAD, delayMs: 1500, times: 2 });
      assert.equal((await upload()).status, 504);
    });

    it('the client aborts mid-upload', async () => {
      const uploads = fake.countRequests(UPLOAD);
      const opening = FORM.subarray(0, FORM.indexOf('\r\n--weixinTestBoundary7MA4YWxk--'));
      await new Promise<void>((resolve, reject) => {
        const socket = connect(ctx.port, '127.0.0.1', () => {
          socket.write(
            `POST /weixin/media?type=image HTTP/1.1\r\nHost: x\r\nContent-Type: ${multipartContentType()}\r\n` +
              `Content-Length: ${5 * MB}\r\n\r\n`,
          );
          socket.write(opening);
          socket.write(Buffer.alloc(MB, 0x20), () => {
            void eventually(() => ctx.tempFiles().length === 1).then(() => {
              socket.destroy();
              resolve();
            });
          });
        });
        socket.on('error', reject);
      });
      assert.equal(fake.countRequests(UPLOAD), uploads, 'Weixin was never called');
    });

    it('the client leaves while Weixin is called', async () => {
      fake.injectFault({ path: UPLOAD, delayMs: 1500 });
      const before = fake.countRequests(UPLOAD);
      const socket = connect(ctx.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(
        `POST /weixin/media?type=image HTTP/1.1\r\nHost: x\r\nContent-Type: ${multipartContentType()}\r\n` +
          `Content-Length: ${FORM.length}\r\n\r\n`,
      );
      socket.write(FORM);
      assert.ok(await eventually(() => fake.countRequests(UPLOAD) > before), 'the upload reached Weixin');
      socket.destroy();
    });
  });
}
