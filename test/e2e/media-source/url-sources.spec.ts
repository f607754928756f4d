import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MediaValidationError } from '../../../lib';
import { fakeWeixinPerSuite } from '../../support/fake-weixin-hooks';
import { mediaFixture } from '../../support/paths';
import type { MediaTestContext } from '../../support/testing-module';

const JPEG = readFileSync(mediaFixture('image.jpg'));
const MB = 1024 * 1024;

describe('URL sources', () => {
  // The block's own module is the guarded one: no private addresses, the default timeout.
  const weixin = fakeWeixinPerSuite();
  let open: MediaTestContext;
  let hasty: MediaTestContext;
  let server: Server;
  let base = '';
  const requests: string[] = [];
  let endlessBytesSent = 0;

  before(async () => {
    open = await weixin.module({ allowPrivateUrls: true, timeoutMs: 15_000 });
    hasty = await weixin.module({ allowPrivateUrls: true, timeoutMs: 500 });
    server = createServer((request, response) => {
      const url = request.url ?? '/';
      requests.push(url);
      const redirect = /^\/hop\/(\d+)$/.exec(url);
      if (redirect) {
        const left = Number(redirect[1]);
        response.writeHead(302, { location: left > 0 ? `/hop/${left - 1}` : '/files/cat.jpg' }).end();
      } else if (url === '/files/cat.jpg') {
        response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': JPEG.length }).end(JPEG);
      } else if (url === '/to-ftp') {
        response.writeHead(301, { location: 'ftp://127.0.0.1/cat.jpg' }).end();
      } else if (url === '/declared-huge') {
        response.writeHead(200, { 'content-length': 50 * MB });
        response.write(JPEG);
      } else if (url === '/endless') {
        response.writeHead(200, { 'content-type': 'image/png' });
        const chunk = Buffer.alloc(64 * 1024, 1);
        const pump = () => {
          while (!response.destroyed && endlessBytesSent < 100 * MB) {
            endlessBytesSent += chunk.length;
            if (!response.write(chunk)) return void response.once('drain', pump);
          }
        };
        pump();
      } else if (url === '/silent') {
        // Never answers.
      } else {
        response.writeHead(404).end('not here');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('uploads from a URL and from { url }; the bytes arrive intact', async () => {
    const first = await open.service.uploadImage(new URL(`${base}/files/cat.jpg`), { reuse: false });
    assert.ok(weixin.fake.getMedia(first.mediaId)!.data.equals(JPEG));
    const second = await open.service.uploadImage({ url: `${base}/files/cat.jpg` }, { reuse: false });
    assert.ok(weixin.fake.getMedia(second.mediaId)!.data.equals(JPEG));
    const upload = weixin.fake.requests.filter((request) => request.path === '/cgi-bin/media/upload').at(-1)!;
    assert.equal(upload.filename, 'cat.jpg', 'the URL names the file');
  });

  it('follows at most 3 redirects', async () => {
    const followed = await open.service.inspect('image', { url: `${base}/hop/2` });
    assert.equal(followed.format, 'jpeg');
    const error = await open.service
      .inspect('image', { url: `${base}/hop/3` })
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof MediaValidationError);
    assert.match(error.message, /redirected more than 3 times/);
  });

  it('takes http: and https: only, also on a redirect', async () => {
    for (const url of ['ftp://127.0.0.1/cat.jpg', 'file:///etc/passwd', `${base}/to-ftp`]) {
      const error = await open.service.inspect('image', { url }).catch((caught: unknown) => caught);
      assert.ok(error instanceof MediaValidationError, url);
      assert.match(error.message, /must be http: or https:, got (ftp|file):/);
    }
  });

  it('refuses loopback and private addresses without allowPrivateUrls, before any request is sent', async () => {
    const before = requests.length;
    const port = (server.address() as AddressInfo).port;
    for (const url of [
      `${base}/files/cat.jpg`,
      `http://localhost:${port}/files/cat.jpg`,
      `http://[::1]:${port}/x`,
      `http://[::127.0.0.1]:${port}/x`,
      `http://[::ffff:0:7f00:1]:${port}/x`,
      `http://[64:ff9b:1::a00:1]:${port}/x`,
      `http://[2002:7f00:1::]:${port}/x`,
    ]) {
      const error = await weixin.service.uploadImage({ url }).catch((caught: unknown) => caught);
      assert.ok(error instanceof MediaValidationError, url);
      assert.equal(error.reason, 'unreadable');
      assert.match(error.message, /loopback, private, link-local or unspecified address.*allowPrivateUrls/);
    }
    assert.equal(requests.length, before, 'the server received no request');
  });

  it('enforces the size limit while reading: a declared length first, an endless body as it comes', async () => {
    const declared = await open.service
      .uploadThumb({ url: `${base}/declared-huge` })
      .catch((error: unknown) => error);
    assert.ok(declared instanceof MediaValidationError);
    assert.equal(declared.reason, 'too-large');
    const endless = await open.service
      .uploadImage({ url: `${base}/endless` })
      .catch((error: unknown) => error);
    assert.ok(endless instanceof MediaValidationError);
    assert.equal(endless.reason, 'too-large');
    assert.match(endless.message, /more than 10 MB/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(
      endlessBytesSent < 20 * MB,
      `the server sent ${endlessBytesSent} bytes before the connection closed`,
    );
  });

  it('names the HTTP status of a failed fetch, and gives up after timeoutMs', async () => {
    const missing = await open.service
      .inspect('image', { url: `${base}/nothing` })
      .catch((error: unknown) => error);
    assert.ok(missing instanceof MediaValidationError);
    assert.match(missing.message, /answered HTTP 404/);
    const started = Date.now();
    const silent = await hasty.service
      .inspect('image', { url: `${base}/silent` })
      .catch((error: unknown) => error);
    assert.ok(silent instanceof MediaValidationError);
    assert.match(silent.message, /not read within 500 ms \(timeoutMs\)/);
    assert.ok(Date.now() - started < 3000);
  });
});
