import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { FakeWeixinServer } from '../../../lib/testing';
import { json } from '../../support/fake-weixin-calls';

describe('FakeWeixinServer.close()', () => {
  it('resolves promptly with keep-alive, hanging and delayed sockets open', async () => {
    const fake = await FakeWeixinServer.start();
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      httpRequest(`${fake.baseUrl}/cgi-bin/token`, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(agent.freeSockets[Object.keys(agent.freeSockets)[0]]?.length, 1);

    const hanging = connect(Number(new URL(fake.baseUrl).port), '127.0.0.1');
    hanging.on('error', () => undefined);
    hanging.write('POST /cgi-bin/stable_token HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"grant');

    fake.injectFault({ path: '/cgi-bin/media/get', delayMs: 60_000 });
    const delayed = fetch(`${fake.baseUrl}/cgi-bin/media/get`).catch(() => 'failed');
    await new Promise((resolve) => setTimeout(resolve, 50));

    const started = Date.now();
    await fake.close();
    assert.ok(Date.now() - started < 1000, `close took ${Date.now() - started} ms`);
    assert.equal(await delayed, 'failed');
    await fake.close(); // idempotent
    agent.destroy();
    hanging.destroy();
  });

  it('rejects start() on a port in use', async () => {
    const fake = await FakeWeixinServer.start();
    try {
      const port = Number(new URL(fake.baseUrl).port);
      await assert.rejects(FakeWeixinServer.start({ port }), /EADDRINUSE/);
    } finally {
      await fake.close();
    }
  });
});

describe('fake-weixin-server CLI', () => {
  it('prints the base URL and export lines, serves, and stops on SIGTERM', async () => {
    const cli = join(__dirname, '../../../lib/testing/fake-weixin-server.cli.js');
    const child = spawn(process.execPath, [cli], { env: { ...process.env, PORT: '0' } });
    try {
      const output = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (chunk) => {
          text += chunk.toString();
          if (text.includes('export WEIXIN_APP_SECRET=')) resolve(text);
        });
        child.on('exit', (code) => reject(new Error(`CLI exited early with ${code}: ${text}`)));
      });
      const baseUrl = /^export WEIXIN_API_BASE_URL=(\S+)$/m.exec(output)?.[1];
      assert.match(baseUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(output, /^export WEIXIN_APP_ID=wx0fa4e5c1d2b3a4f5$/m);
      assert.match(output, /^export WEIXIN_APP_SECRET=fake-app-secret-0123456789abcdef$/m);
      const query = new URLSearchParams({
        grant_type: 'client_credential',
        appid: 'wx0fa4e5c1d2b3a4f5',
        secret: 'fake-app-secret-0123456789abcdef',
      });
      const token = await fetch(`${baseUrl}/cgi-bin/token?${query}`).then(json);
      assert.equal(typeof token.body.access_token, 'string');

      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
