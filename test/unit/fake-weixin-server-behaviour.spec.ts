import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { FakeWeixinServer } from '../../lib/testing';
import {
  DAY,
  MB,
  fixture,
  json,
  classicToken,
  stableToken,
  newToken,
  tokenErrcode,
  upload,
} from '../support/fake-weixin-calls';

describe('FakeWeixinServer', () => {
  let fake: FakeWeixinServer;

  before(async () => {
    fake = await FakeWeixinServer.start();
  });
  after(() => fake.close());
  beforeEach(() => fake.reset());

  describe('faults', () => {
    it('answers an injected errcode, `times` times, on the matching path only', async () => {
      fake.injectFault({ path: '/cgi-bin/media/get', errcode: -1, times: 2 });
      const token = await newToken(fake);
      const url = `${fake.baseUrl}/cgi-bin/media/get?access_token=${token}&media_id=x`;
      const first = await fetch(url).then(json);
      assert.deepEqual(first.body, { errcode: -1, errmsg: 'system error' });
      assert.equal(await tokenErrcode(fake, token), -1);
      assert.equal(await tokenErrcode(fake, token), 40007);
    });

    it('applies to token paths too, with a custom errmsg, in the order injected', async () => {
      fake.injectFault({ errcode: 45009, errmsg: 'reach max api daily quota limit rid: 1-2-3' });
      fake.injectFault({ errcode: 40164 });
      const first = await classicToken(fake);
      assert.deepEqual(first.body, { errcode: 45009, errmsg: 'reach max api daily quota limit rid: 1-2-3' });
      assert.equal((await stableToken(fake)).body.errcode, 40164);
      assert.equal(typeof (await classicToken(fake)).body.access_token, 'string');
    });

    it('answers an HTTP status with a gateway page', async () => {
      fake.injectFault({ path: '/cgi-bin/token', status: 502 });
      const response = await fetch(`${fake.baseUrl}/cgi-bin/token`);
      assert.equal(response.status, 502);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await response.text(), /502 Bad Gateway/);
      assert.equal(fake.requests[0].status, 502);
    });

    it('delays the answer, then answers normally', async () => {
      fake.injectFault({ path: '/cgi-bin/token', delayMs: 300 });
      const started = Date.now();
      const answer = await classicToken(fake);
      assert.ok(Date.now() - started >= 280, `took ${Date.now() - started} ms`);
      assert.equal(typeof answer.body.access_token, 'string');
    });

    it('resets the connection without an answer', async () => {
      const token = await newToken(fake);
      fake.injectFault({ path: '/cgi-bin/media/upload', reset: true });
      await assert.rejects(upload(fake, token, 'image', fixture('image.jpg'), 'image.jpg'));
      const logged = fake.requests.find((entry) => entry.path === '/cgi-bin/media/upload');
      assert.equal(logged?.status, 0);
      const retried = await upload(fake, token, 'image', fixture('image.jpg'), 'image.jpg');
      assert.equal(retried.body.type, 'image');
    });

    it('clearFaults() drops what is queued', async () => {
      fake.injectFault({ errcode: -1, times: 5 });
      fake.clearFaults();
      assert.equal(typeof (await classicToken(fake)).body.access_token, 'string');
    });
  });

  describe('request log', () => {
    it('records every request with its query and answer, never its body', async () => {
      const token = await newToken(fake);
      fake.advanceTime(1000);
      const answer = await upload(fake, token, 'voice', fixture('voice-speech.mp3'), 'voice-speech.mp3');
      await upload(fake, token, 'image', fixture('image.jpg'), 'blob');
      await fetch(`${fake.baseUrl}/nowhere?a=1&a=2`);
      await stableToken(fake);

      const [tokenCall, voice, refused, nowhere, stable] = fake.requests;
      assert.equal(fake.requests.length, 5);
      assert.deepEqual(tokenCall.query, {
        grant_type: 'client_credential',
        appid: fake.appId,
        secret: fake.appSecret,
      });
      assert.equal(tokenCall.method, 'GET');
      assert.equal(tokenCall.status, 200);
      assert.equal(voice.path, '/cgi-bin/media/upload');
      assert.equal(voice.method, 'POST');
      assert.equal(voice.query.access_token, token);
      assert.equal(voice.query.type, 'voice');
      assert.equal(voice.mediaType, 'voice');
      assert.equal(voice.filename, 'voice-speech.mp3');
      assert.equal(voice.bytes, fixture('voice-speech.mp3').length);
      assert.equal(voice.status, 200);
      assert.ok(!voice.errcode);
      assert.ok(voice.at >= tokenCall.at + 1000);
      assert.equal(refused.errcode, 40005);
      assert.equal(refused.filename, 'blob');
      assert.equal(nowhere.status, 404);
      assert.deepEqual(nowhere.query, { a: '1' });
      assert.equal(stable.path, '/cgi-bin/stable_token');
      assert.ok(!('body' in stable));
      assert.ok(answer.body.media_id);

      assert.equal(fake.countRequests(), 5);
      assert.equal(fake.countRequests('/cgi-bin/media/upload'), 2);
      assert.equal(fake.tokenRequestCount, 2);
    });

    it('answers unknown paths with a 404 Weixin-shaped error', async () => {
      const answer = await fetch(`${fake.baseUrl}/cgi-bin/material/add_material`).then(json);
      assert.equal(answer.status, 404);
      assert.equal(answer.body.errcode, 404);
      assert.match(answer.body.errmsg as string, /^not found/);
    });
  });

  describe('reset() and the clock', () => {
    it('forgets tokens, media, faults, the log and the clock offset', async () => {
      const token = await newToken(fake);
      const uploaded = await upload(fake, token, 'image', fixture('image.jpg'), 'a.jpg');
      const mediaId = uploaded.body.media_id as string;
      fake.injectFault({ errcode: -1, times: 10 });
      fake.advanceTime(DAY);
      const before = fake.now();
      fake.reset();
      assert.ok(fake.now() < before - DAY / 2);
      assert.equal(fake.requests.length, 0);
      assert.equal(fake.countRequests(), 0);
      assert.equal(fake.tokenRequestCount, 0);
      assert.equal(fake.getMedia(mediaId), undefined);
      assert.equal(await tokenErrcode(fake, token), 40001);
      assert.throws(() => fake.advanceTime(-1), RangeError);
    });
  });

  describe('robustness', () => {
    it('answers garbage and oversized requests and keeps serving', async () => {
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(fake.baseUrl).port), '127.0.0.1');
        let text = '';
        socket.on('data', (chunk) => (text += chunk.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
        socket.write('GARBAGE \x00\x01 NOT HTTP\r\n\r\n');
      });
      assert.match(raw, /^HTTP\/1\.1 400 /);

      const hugeQuery = await fetch(`${fake.baseUrl}/cgi-bin/token?junk=${'a'.repeat(40 * 1024)}`);
      assert.equal(hugeQuery.status, 431);
      const oddPath = await fetch(`${fake.baseUrl}//cgi-bin/token?%zz=%&__proto__=1`).then(json);
      assert.equal(oddPath.status, 404);
      assert.equal(typeof (await classicToken(fake)).body.access_token, 'string');
    });

    it('survives a client that aborts mid-upload', async () => {
      const token = await newToken(fake);
      await new Promise<void>((resolve) => {
        const req = httpRequest(`${fake.baseUrl}/cgi-bin/media/upload?access_token=${token}&type=image`, {
          method: 'POST',
          headers: { 'content-type': 'multipart/form-data; boundary=b', 'content-length': String(MB) },
        });
        req.on('error', () => resolve());
        req.write('--b\r\nContent-Disposition: form-data; name="media"; filename="a.jpg"\r\n\r\n');
        req.write(Buffer.from([0xff, 0xd8, 0xff]));
        setTimeout(() => req.destroy(), 50);
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const aborted = fake.requests.find((entry) => entry.path === '/cgi-bin/media/upload');
      assert.equal(aborted?.status, 0);
      assert.equal((await upload(fake, token, 'image', fixture('image.jpg'), 'a.jpg')).body.type, 'image');
    });
  });
});
