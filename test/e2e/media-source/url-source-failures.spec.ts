import { Controller, Get, type INestApplication, Query } from '@nestjs/common';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { MediaSourceError, TemporaryMediaService } from '../../../lib';
import { FakeWeixinServer } from '../../../lib/testing';
import { assertWeixinError } from '../../support/controller-bad-input';
import { fakeWeixinPerSuite } from '../../support/fake-weixin-hooks';
import { HTTP_ADAPTERS, startOwnRoutesApp } from '../../support/media-controller-app';

/** What the stand-in server does with a request, by its path. */
const ANSWERS: Record<string, (socket: Socket) => void> = {
  '/reset': (socket) => socket.resetAndDestroy(),
  '/reset-in-body': (socket) => {
    socket.write('HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\ncontent-length: 100000\r\n\r\n\xff\xd8\xff');
    setTimeout(() => socket.resetAndDestroy(), 20);
  },
  '/huge-headers': (socket) => {
    socket.write('HTTP/1.1 200 OK\r\n');
    for (let line = 0; line < 1000; line++) socket.write(`x-padding-${line}: ${'a'.repeat(100)}\r\n`);
    socket.end('\r\n');
  },
  '/not-http': (socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n\0\0\0\x14garbage'),
  '/to-broken-ipv6': (socket) => socket.end(redirect('http://[::1')),
  '/to-broken-host': (socket) => socket.end(redirect('http://%zz/cat.jpg')),
};

function redirect(location: string): string {
  return `HTTP/1.1 302 Found\r\nlocation: ${location}\r\ncontent-length: 0\r\n\r\n`;
}

/** A raw TCP server on 127.0.0.1 answering as `ANSWERS` says; it records the paths it was asked for. */
async function startStandIn(): Promise<{ server: Server; base: string; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', (head) => {
      const path = head.toString('latin1').split(' ')[1] ?? '';
      paths.push(path);
      (ANSWERS[path] ?? ((s: Socket) => s.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n')))(
        socket,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
}

/** A port nothing listens on: one just given up by a server. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function failure(promise: Promise<unknown>): Promise<MediaSourceError> {
  const error = await promise.then(
    () => assert.fail('the source was read'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof MediaSourceError, `a MediaSourceError, got ${String(error)}`);
  return error;
}

describe('URL sources that cannot be read reject with MediaSourceError', () => {
  const weixin = fakeWeixinPerSuite();
  let standIn: Awaited<ReturnType<typeof startStandIn>>;
  let media: TemporaryMediaService;

  before(async () => {
    standIn = await startStandIn();
    media = (await weixin.module({ allowPrivateUrls: true })).service;
  });
  after(() => new Promise((resolve) => standIn.server.close(resolve)));

  it('a refused connection: the code, and the URL without its query', async () => {
    const url = `http://user:pass@127.0.0.1:${await closedPort()}/cat.jpg?access_token=SECRET#top`;
    const error = await failure(media.uploadImage({ url }));
    assert.equal(error.systemCode, 'ECONNREFUSED');
    assert.equal(error.path, new URL(url).origin + '/cat.jpg');
    assert.match(error.message, /: ECONNREFUSED \(the server refused the connection\)$/);
    const shown = `${error.message} ${JSON.stringify(error)}`;
    for (const secret of ['SECRET', 'pass', '#top']) assert.ok(!shown.includes(secret), secret);
  });

  it('a connection reset before the answer and in the middle of the body', async () => {
    for (const path of ['/reset', '/reset-in-body']) {
      const error = await failure(media.uploadImage({ url: `${standIn.base}${path}` }));
      assert.equal(error.systemCode, 'ECONNRESET', path);
      assert.equal(error.path, `${standIn.base}${path}`);
    }
  });

  it('100 KB of headers, and an answer that is not HTTP', async () => {
    const overflow = await failure(media.inspect('image', { url: `${standIn.base}/huge-headers` }));
    assert.equal(overflow.systemCode, 'HPE_HEADER_OVERFLOW');
    assert.match(overflow.message, /headers pass Node's limit: 16 KB/);
    const garbage = await failure(media.inspect('image', { url: `${standIn.base}/not-http` }));
    assert.match(garbage.systemCode, /^HPE_/);
    assert.match(garbage.message, /the answer is not valid HTTP/);
  });

  it('a redirect to a Location that is not a URL', async () => {
    for (const path of ['/to-broken-ipv6', '/to-broken-host']) {
      const error = await failure(media.inspect('image', { url: `${standIn.base}${path}` }));
      assert.equal(error.systemCode, 'ERR_INVALID_URL', path);
      assert.equal(error.path, `${standIn.base}${path}`, 'the URL that redirected');
      assert.match(error.message, /redirected to a Location that is not a valid URL/);
    }
  });

  it('a bad %-escape in the path, before any request', async () => {
    const before = standIn.paths.length;
    const error = await failure(media.uploadImage({ url: `${standIn.base}/files/cat%zz.jpg?sig=SECRET` }));
    assert.equal(error.systemCode, 'ERR_INVALID_URL');
    assert.equal(error.path, `${standIn.base}/files/cat%zz.jpg`);
    assert.match(error.message, /its path has a % not followed by two hex digits/);
    assert.equal(standIn.paths.length, before, 'the server received no request');
  });

  it('nothing reaches Weixin', () => {
    assert.equal(weixin.fake.countRequests('/cgi-bin/media/upload'), 0);
  });
});

@Controller('own')
class FromUrlController {
  constructor(private readonly media: TemporaryMediaService) {}

  @Get('inspect')
  inspect(@Query('url') url: string): Promise<unknown> {
    return this.media.inspect('image', { url });
  }
}

for (const adapter of HTTP_ADAPTERS) {
  describe(`a URL source that cannot be read, on a route of the app's own (${adapter})`, () => {
    let fake: FakeWeixinServer;
    let app: INestApplication;
    let url: string;
    let standIn: Awaited<ReturnType<typeof startStandIn>>;

    before(async () => {
      fake = await FakeWeixinServer.start();
      standIn = await startStandIn();
      ({ app, url } = await startOwnRoutesApp(fake, {
        adapter,
        controllers: [FromUrlController],
        module: { allowPrivateUrls: true },
      }));
    });
    after(async () => {
      await app.close();
      await fake.close();
      await new Promise((resolve) => standIn.server.close(resolve));
    });

    it("answers 400 in Weixin's shape, like the other source errors, never 500", async () => {
      const sources: Record<string, string> = {
        ECONNREFUSED: `http://127.0.0.1:${await closedPort()}/cat.jpg`,
        ECONNRESET: `${standIn.base}/reset`,
        HPE_HEADER_OVERFLOW: `${standIn.base}/huge-headers`,
        ERR_INVALID_URL: `${standIn.base}/to-broken-ipv6`,
      };
      for (const [code, source] of Object.entries(sources)) {
        const res = await request(url).get('/own/inspect').query({ url: source });
        assertWeixinError(
          { status: res.status, body: res.body },
          400,
          400,
          new RegExp(`^the media source cannot be read \\(${code}\\)$`),
        );
      }
    });
  });
}
