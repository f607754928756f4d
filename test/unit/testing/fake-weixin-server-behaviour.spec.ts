import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
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
} from '../../support/fake-weixin-calls';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';

describe('FakeWeixinServer', () => {
  const weixin = fakeWeixinPerTest();

  describe('faults', () => {
    it('answers an injected errcode, `times` times, on the matching path only', async () => {
      weixin.fake.injectFault({ path: '/cgi-bin/media/get', errcode: -1, times: 2 });
      const token = await newToken(weixin.fake);
      const url = `${weixin.baseUrl}/cgi-bin/media/get?access_token=${token}&media_id=x`;
      const first = await fetch(url).then(json);
      assert.deepEqual(first.body, { errcode: -1, errmsg: 'system error' });
      assert.equal(await tokenErrcode(weixin.fake, token), -1);
      assert.equal(await tokenErrcode(weixin.fake, token), 40007);
    });

    it('applies to token paths too, with a custom errmsg, in the order injected', async () => {
      weixin.fake.injectFault({ errcode: 45009, errmsg: 'reach max api daily quota limit rid: 1-2-3' });
      weixin.fake.injectFault({ errcode: 40164 });
      const first = await classicToken(weixin.fake);
      assert.deepEqual(first.body, { errcode: 45009, errmsg: 'reach max api daily quota limit rid: 1-2-3' });
      assert.equal((await stableToken(weixin.fake)).body.errcode, 40164);
      assert.equal(typeof (await classicToken(weixin.fake)).body.access_token, 'string');
    });

    it('answers an HTTP status with a gateway page', async () => {
      weixin.fake.injectFault({ path: '/cgi-bin/token', status: 502 });
      const response = await fetch(`${weixin.baseUrl}/cgi-bin/token`);
      assert.equal(response.status, 502);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await response.text(), /502 Bad Gateway/);
      assert.equal(weixin.fake.requests[0].status, 502);
    });

    it('delays the answer, then answers normally', async () => {
      weixin.fake.injectFault({ path: '/cgi-bin/token', delayMs: 300 });
      const started = Date.now();
      const answer = await classicToken(weixin.fake);
      assert.ok(Date.now() - started >= 280, `took ${Date.now() - started} ms`);
      assert.equal(typeof answer.body.access_token, 'string');
    });

    it('resets the connection without an answer', async () => {
      const token = await newToken(weixin.fake);
      weixin.fake.injectFault({ path: '/cgi-bin/media/upload', reset: true });
      await assert.rejects(upload(weixin.fake, token, 'image', fixture('image.jpg'), 'image.jpg'));
      const logged = weixin.fake.requests.find((entry) => entry.path === '/cgi-bin/media/upload');
      assert.equal(logged?.status, 0);
      const retried = await upload(weixin.fake, token, 'image', fixture('image.jpg'), 'image.jpg');
      assert.equal(retried.body.type, 'image');
    });

    it('clearFaults() drops what is queued', async () => {
      weixin.fake.injectFault({ errcode: -1, times: 5 });
      weixin.fake.clearFaults();
      assert.equal(typeof (await classicToken(weixin.fake)).body.access_token, 'string');
    });
  });

  describe('request log', () => {
    it('records every request with its query and answer, never its body', async () => {
      const token = await newToken(weixin.fake);
      weixin.fake.advanceTime(1000);
      const answer = await upload(
        weixin.fake,
        token,
        'voice',
        fixture('voice-speech.mp3'),
        'voice-speech.mp3',
      );
      await upload(weixin.fake, token, 'image', fixture('image.jpg'), 'blob');
      await fetch(`${weixin.baseUrl}/nowhere?a=1&a=2`);
      await stableToken(weixin.fake);

      const [tokenCall, voice, refused, nowhere, stable] = weixin.fake.requests;
      assert.equal(weixin.fake.requests.length, 5);
      assert.deepEqual(tokenCall.query, {
        grant_type: 'client_credential',
        appid: weixin.fake.appId,
        secret: weixin.fake.appSecret,
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

      assert.equal(weixin.fake.countRequests(), 5);
      assert.equal(weixin.fake.countRequests('/cgi-bin/media/upload'), 2);
      assert.equal(weixin.fake.tokenRequestCount, 2);
    });

    it('answers unknown paths with a 404 Weixin-shaped error', async () => {
      const answer = await fetch(`${weixin.baseUrl}/cgi-bin/material/add_material`).then(json);
      assert.equal(answer.status, 404);
      assert.equal(answer.body.errcode, 404);
      assert.match(answer.body.errmsg as string, /^not found/);
    });
  });

  describe('reset() and the clock', () => {
    it('forgets tokens, media, faults, the log and the clock offset', async () => {
      const token = await newToken(weixin.fake);
      const uploaded = await upload(weixin.fake, token, 'image', fixture('image.jpg'), 'a.jpg');
      const mediaId = uploaded.body.media_id as string;
      weixin.fake.injectFault({ errcode: -1, times: 10 });
      weixin.fake.advanceTime(DAY);
      const before = weixin.fake.now();
      weixin.fake.reset();
      assert.ok(weixin.fake.now() < before - DAY / 2);
      assert.equal(weixin.fake.requests.length, 0);
      assert.equal(weixin.fake.countRequests(), 0);
      assert.equal(weixin.fake.tokenRequestCount, 0);
      assert.equal(weixin.fake.getMedia(mediaId), undefined);
      assert.equal(await tokenErrcode(weixin.fake, token), 40001);
      assert.throws(() => weixin.fake.advanceTime(-1), RangeError);
    });
  });

  describe('robustness', () => {
    it('answers garbage and oversized requests and keeps serving', async () => {
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(weixin.baseUrl).port), '127.0.0.1');
        let text = '';
        socket.on('data', (chunk) => (text += chunk.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
        socket.write('GARBAGE \x00\x01 NOT HTTP\r\n\r\n');
      });
      assert.match(raw, /^HTTP\/1\.1 400 /);

      const hugeQuery = await fetch(`${weixin.baseUrl}/cgi-bin/token?junk=${'a'.repeat(40 * 1024)}`);
      assert.equal(hugeQuery.status, 431);
      const oddPath = await fetch(`${weixin.baseUrl}//cgi-bin/token?%zz=%&__proto__=1`).then(json);
      assert.equal(oddPath.status, 404);
      assert.equal(typeof (await classicToken(weixin.fake)).body.access_token, 'string');
    });

    it('survives a client that aborts mid-upload', async () => {
      const token = await newToken(weixin.fake);
      await new Promise<void>((resolve) => {
        const req = httpRequest(`${weixin.baseUrl}/cgi-bin/media/upload?access_token=${token}&type=image`, {
          method: 'POST',
          headers: { 'content-type': 'multipart/form-data; boundary=b', 'content-length': String(MB) },
        });
        req.on('error', () => resolve());
        req.write('--b\r\nContent-Disposition: form-data; name="media"; filename="a.jpg"\r\n\r\n');
        req.write(Buffer.from([0xff, 0xd8, 0xff]));
        setTimeout(() => req.destroy(), 50);
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const aborted = weixin.fake.requests.find((entry) => entry.path === '/cgi-bin/media/upload');
      assert.equal(aborted?.status, 0);
      assert.equal(
        (await upload(weixin.fake, token, 'image', fixture('image.jpg'), 'a.jpg')).body.type,
        'image',
      );
    });
  });
});
