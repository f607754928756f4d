import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { callbackXml } from '../../../lib/callback/callback-xml';
import {
  AES_KEY,
  type CallbackApp,
  signedRequest,
  type SignedRequestOptions,
  startCallbackApp,
  textMessage,
} from '../../support/callback-app';
import { FakeWeixin } from '../../support/fake-weixin-hooks';
import { HTTP_ADAPTERS, rawRequest, type RawResponse } from '../../support/media-controller-app';

/** A refusal is the library's own quick work: well under Weixin's 5 s, never near a handler. */
const QUICK_MS = 100;

/** AES-256-CBC of Weixin's plaintext layout with `padding` appended as given (a wrong one, for the test). */
function sealWithPadding(xml: string, receiveId: string, padding: Buffer): string {
  const key = Buffer.from(`${AES_KEY}=`, 'base64');
  const body = Buffer.from(xml);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const plain = Buffer.concat([randomBytes(16), length, body, Buffer.from(receiveId)]);
  const fill = 32 - (plain.length % 32);
  const padded = Buffer.concat([
    plain,
    padding.subarray(0, fill),
    Buffer.alloc(Math.max(0, fill - padding.length), 0),
  ]);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

for (const adapter of HTTP_ADAPTERS) {
  describe(`callback refusals on ${adapter}`, () => {
    const weixin = new FakeWeixin({}, false);
    let plain: CallbackApp;
    let safe: CallbackApp;

    before(async () => {
      plain = await startCallbackApp(weixin.fake, { adapter });
      safe = await startCallbackApp(weixin.fake, { adapter, callback: { encodingAESKey: AES_KEY } });
    });
    after(async () => {
      await plain?.close();
      await safe?.close();
    });
    beforeEach(() => {
      plain.bot.calls.length = 0;
      safe.bot.calls.length = 0;
    });

    async function post(
      app: CallbackApp,
      request: { query: string; body: string | Buffer },
      headers: Record<string, string | number> = {},
    ): Promise<RawResponse & { ms: number }> {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body);
      const started = performance.now();
      const response = await rawRequest(app.port, {
        path: `/weixin/callback?${request.query}`,
        headers: { 'Content-Type': 'text/xml', 'Content-Length': body.length, ...headers },
        body,
      });
      return { ...response, ms: performance.now() - started };
    }

    function assertRefused(
      response: RawResponse & { ms: number },
      status: number,
      reason: string,
      app: CallbackApp,
    ): void {
      assert.equal(response.status, status, response.body);
      assert.match(response.body, new RegExp(`^${reason}: `), response.body);
      assert.match(String(response.headers['content-type']), /^text\/plain/);
      assert.equal(app.bot.calls.length, 0, 'no handler ran');
      assert.ok(response.ms < QUICK_MS, `answered in ${response.ms.toFixed(1)} ms`);
    }

    const appId = () => weixin.fake.appId;
    const safeRequest = (options: Partial<SignedRequestOptions> = {}) =>
      signedRequest(textMessage('hi'), { appId: appId(), encodingAESKey: AES_KEY, mode: 'safe', ...options });

    it('401: a signature made with another Token', async () => {
      const request = signedRequest(textMessage('hi'), { appId: appId(), token: 'anotherToken1' });
      assertRefused(await post(plain, request), 401, 'signature', plain);
    });

    it('401: a safe-mode request signed with another Token (its msg_signature is the signature read)', async () => {
      const request = safeRequest({ token: 'anotherToken1' });
      assertRefused(await post(safe, request), 401, 'msg-signature', safe);
    });

    it('401: a msg_signature over another Encrypt', async () => {
      const request = safeRequest({ signedEncrypt: 'c29tZXRoaW5nIGVsc2U=' });
      assertRefused(await post(safe, request), 401, 'msg-signature', safe);
    });

    it('401: a timestamp older than maxClockSkewMs', async () => {
      const timestamp = Math.floor(Date.now() / 1000) - 301;
      assertRefused(
        await post(plain, signedRequest(textMessage('hi'), { appId: appId(), timestamp })),
        401,
        'timestamp',
        plain,
      );
    });

    it('401: a message encrypted for another AppID', async () => {
      assertRefused(await post(safe, safeRequest({ appId: 'wx00000000000000ff' })), 401, 'receiveid', safe);
    });

    it('401: a plain request to an account with an EncodingAESKey, an encrypted one to an account without', async () => {
      assertRefused(
        await post(safe, signedRequest(textMessage('hi'), { appId: appId() })),
        401,
        'mode',
        safe,
      );
      assertRefused(await post(plain, safeRequest()), 401, 'mode', plain);
    });

    it('400: a body with a DTD (XXE, billion laughs)', async () => {
      const request = signedRequest(textMessage('hi'), { appId: appId() });
      const xxe = `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]>${request.body.replace('hi', '&e;')}`;
      assertRefused(await post(plain, { query: request.query, body: xxe }), 400, 'xml', plain);
    });

    it('400: a truncated ciphertext, and bad padding', async () => {
      const truncated = safeRequest({ encrypt: (text) => text.slice(0, -24) });
      assertRefused(await post(safe, truncated), 400, 'ciphertext', safe);
      const xml = callbackXml(textMessage('hi'));
      const badPadding = safeRequest({
        encrypt: () => sealWithPadding(xml, appId(), Buffer.from([7, 7, 7])),
      });
      assertRefused(await post(safe, badPadding), 400, 'padding', safe);
    });

    it('413: a declared 65 KB body, before reading a byte of it', async () => {
      const request = signedRequest(textMessage('x'), { appId: appId() });
      const started = performance.now();
      // The body never comes: only the declared length can answer this.
      const response = await rawRequest(plain.port, {
        path: `/weixin/callback?${request.query}`,
        headers: { 'Content-Type': 'text/xml', 'Content-Length': 65 * 1024 },
        end: false,
      });
      assertRefused({ ...response, ms: performance.now() - started }, 413, 'too-large', plain);
      assert.equal(response.headers.connection, 'close');
    });

    it('413: a chunked body once 64 KB are read', async () => {
      const request = signedRequest(textMessage('x'.repeat(65 * 1024)), { appId: appId() });
      const started = performance.now();
      const response = await rawRequest(plain.port, {
        path: `/weixin/callback?${request.query}`,
        headers: { 'Content-Type': 'text/xml', 'Transfer-Encoding': 'chunked' },
        body: [Buffer.from(request.body)],
      });
      assertRefused({ ...response, ms: performance.now() - started }, 413, 'too-large', plain);
      assert.equal(response.headers.connection, 'close');
    });

    it('408: a body that has not arrived whole within 5 s', { timeout: 15_000 }, async () => {
      const request = signedRequest(textMessage('slow'), { appId: appId() });
      const body = Buffer.from(request.body);
      const started = performance.now();
      const response = await rawRequest(plain.port, {
        path: `/weixin/callback?${request.query}`,
        headers: { 'Content-Type': 'text/xml', 'Content-Length': body.length },
        body: [body.subarray(0, 20)],
        end: false,
      });
      const ms = performance.now() - started;
      assert.equal(response.status, 408, response.body);
      assert.match(response.body, /^timeout: /);
      assert.ok(ms >= 4_900 && ms < 5_000 + QUICK_MS, `answered after ${ms.toFixed(0)} ms`);
      assert.equal(plain.bot.calls.length, 0);
    });

    it('compat mode: the handler gets the decrypted fields, not the plaintext copy beside them', async () => {
      const real = textMessage('the real text');
      const request = signedRequest(real, { appId: appId(), encodingAESKey: AES_KEY, mode: 'compat' });
      const forged = request.body.replace('the real text', 'a forged text');
      assert.notEqual(forged, request.body);
      const response = await post(safe, { query: request.query, body: forged });
      assert.equal(response.status, 200, response.body);
      assert.equal((safe.bot.calls[0].message as { Content: string }).Content, 'the real text');
      assert.equal(safe.bot.calls[0].context.mode, 'compat');
    });

    it('401 to a GET with a wrong signature; 404 for an AppID the module does not know', async () => {
      const wrong = await fetch(`${plain.url}/weixin/callback?signature=0&timestamp=1&nonce=1&echostr=e`);
      assert.equal(wrong.status, 401);
      assert.notEqual(await wrong.text(), 'e');
      const request = signedRequest(textMessage('hi'), { appId: 'wx00000000000000aa' });
      const unknown = await rawRequest(plain.port, {
        path: `/weixin/callback/wx00000000000000aa?${request.query}`,
        headers: { 'Content-Type': 'text/xml' },
        body: Buffer.from(request.body),
      });
      assert.equal(unknown.status, 404);
    });
  });
}
