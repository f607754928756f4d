import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { FakeWeixinServer, type FakeMediaType } from '../../lib/testing';
import { mediaFixture } from '../support/paths';

const MINUTE = 60 * 1000;
const DAY = 24 * 60 * MINUTE;
const MB = 1024 * 1024;

function fixture(name: string): Buffer {
  return readFileSync(mediaFixture(name));
}

interface JsonAnswer {
  status: number;
  contentType: string | null;
  body: Record<string, unknown>;
}

async function json(response: Response): Promise<JsonAnswer> {
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

function classicToken(fake: FakeWeixinServer, query: Record<string, string> = {}): Promise<JsonAnswer> {
  const params = new URLSearchParams({
    grant_type: 'client_credential',
    appid: fake.appId,
    secret: fake.appSecret,
    ...query,
  });
  return fetch(`${fake.baseUrl}/cgi-bin/token?${params}`).then(json);
}

function stableToken(fake: FakeWeixinServer, body: Record<string, unknown> = {}): Promise<JsonAnswer> {
  const payload = { grant_type: 'client_credential', appid: fake.appId, secret: fake.appSecret, ...body };
  return fetch(`${fake.baseUrl}/cgi-bin/stable_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  }).then(json);
}

async function newToken(fake: FakeWeixinServer): Promise<string> {
  const answer = await classicToken(fake);
  return answer.body.access_token as string;
}

/** What an authenticated call answers with this token: 40007 (unknown media_id) means the token works. */
async function tokenErrcode(fake: FakeWeixinServer, token: string): Promise<unknown> {
  const url = `${fake.baseUrl}/cgi-bin/media/get?access_token=${token}&media_id=none`;
  return (await fetch(url).then(json)).body.errcode;
}

function upload(
  fake: FakeWeixinServer,
  token: string,
  type: string,
  data: Buffer | string,
  filename?: string,
): Promise<JsonAnswer> {
  const form = new FormData();
  if (typeof data === 'string') form.append('media', data);
  else form.append('media', new Blob([data]), filename);
  const query = new URLSearchParams({ access_token: token, type });
  return fetch(`${fake.baseUrl}/cgi-bin/media/upload?${query}`, { method: 'POST', body: form }).then(json);
}

function download(fake: FakeWeixinServer, token: string, mediaId: string, jssdk = false): Promise<Response> {
  const path = jssdk ? '/cgi-bin/media/get/jssdk' : '/cgi-bin/media/get';
  return fetch(`${fake.baseUrl}${path}?access_token=${token}&media_id=${encodeURIComponent(mediaId)}`);
}

describe('FakeWeixinServer', () => {
  let fake: FakeWeixinServer;

  before(async () => {
    fake = await FakeWeixinServer.start();
  });
  after(() => fake.close());
  beforeEach(() => fake.reset());

  describe('classic token (GET /cgi-bin/token)', () => {
    it('issues a new long URL-safe token on every call, valid for the lifetime', async () => {
      const first = await classicToken(fake);
      const second = await classicToken(fake);
      assert.equal(first.status, 200);
      assert.equal(first.body.expires_in, 7200);
      const token = first.body.access_token as string;
      assert.match(token, /^[A-Za-z0-9_-]{120,200}$/);
      assert.notEqual(second.body.access_token, token);
      assert.equal(fake.tokenRequestCount, 2);
    });

    it('keeps the previous token working for 5 minutes of the fake clock, then answers 40001', async () => {
      const old = await newToken(fake);
      const current = await newToken(fake);
      fake.advanceTime(5 * MINUTE - 1000);
      assert.equal(await tokenErrcode(fake, old), 40007);
      fake.advanceTime(1000);
      assert.equal(await tokenErrcode(fake, old), 40001);
      assert.equal(await tokenErrcode(fake, current), 40007);
    });

    it('answers 42001 once the lifetime is over', async () => {
      const token = await newToken(fake);
      // The fake clock runs on with the real one, so leave a margin for the calls themselves.
      fake.advanceTime(7200 * 1000 - 1000);
      assert.equal(await tokenErrcode(fake, token), 40007);
      fake.advanceTime(1000);
      assert.equal(await tokenErrcode(fake, token), 42001);
    });

    it('refuses a wrong grant_type, appid or secret with their own codes', async () => {
      assert.equal((await classicToken(fake, { grant_type: 'password' })).body.errcode, 40002);
      assert.equal((await classicToken(fake, { appid: 'wx0000000000000000' })).body.errcode, 40013);
      assert.equal((await classicToken(fake, { secret: 'nope' })).body.errcode, 40125);
      assert.equal((await classicToken(fake, { appid: '' })).body.errcode, 41002);
      const answer = await classicToken(fake, { secret: 'nope' });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.errmsg, 'invalid appsecret');
    });

    it('honours appId, appSecret and tokenLifetimeSeconds options', async () => {
      const custom = await FakeWeixinServer.start({
        appId: 'wxcustom',
        appSecret: 's3',
        tokenLifetimeSeconds: 60,
      });
      try {
        const answer = await classicToken(custom);
        assert.equal(answer.body.expires_in, 60);
        assert.equal(custom.appId, 'wxcustom');
        custom.advanceTime(60 * 1000);
        assert.equal(await tokenErrcode(custom, answer.body.access_token as string), 42001);
      } finally {
        await custom.close();
      }
    });
  });

  describe('stable token (POST /cgi-bin/stable_token)', () => {
    it('answers the same token while it is valid, with the remaining seconds', async () => {
      const first = await stableToken(fake);
      fake.advanceTime(1000 * 1000);
      const second = await stableToken(fake);
      assert.equal(second.body.access_token, first.body.access_token);
      assert.equal(first.body.expires_in, 7200);
      // Whole seconds left, rounded down: the real clock moved a few ms too.
      assert.ok([6199, 6200].includes(second.body.expires_in as number), String(second.body.expires_in));
    });

    it('renews 5 minutes before expiry; the old token lives until its own expiry', async () => {
      const first = await stableToken(fake);
      const old = first.body.access_token as string;
      fake.advanceTime(7200 * 1000 - 5 * MINUTE - 1000);
      const before = await stableToken(fake);
      assert.equal(before.body.access_token, old);
      assert.ok((before.body.expires_in as number) >= 300);
      fake.advanceTime(1000);
      const renewed = await stableToken(fake);
      assert.notEqual(renewed.body.access_token, old);
      assert.equal(renewed.body.expires_in, 7200);
      assert.equal(await tokenErrcode(fake, old), 40007);
      fake.advanceTime(5 * MINUTE);
      assert.equal(await tokenErrcode(fake, old), 42001);
      assert.equal(await tokenErrcode(fake, renewed.body.access_token as string), 40007);
    });

    it('force_refresh invalidates the last token, at most once per 30 s and 20 times a day', async () => {
      const normal = await stableToken(fake);
      const forced = await stableToken(fake, { force_refresh: true });
      assert.notEqual(forced.body.access_token, normal.body.access_token);
      assert.equal(await tokenErrcode(fake, normal.body.access_token as string), 40001);
      assert.equal((await stableToken(fake)).body.access_token, forced.body.access_token);

      assert.equal((await stableToken(fake, { force_refresh: true })).body.errcode, 45011);
      for (let i = 2; i <= 20; i++) {
        fake.advanceTime(30 * 1000);
        const answer = await stableToken(fake, { force_refresh: true });
        assert.equal(typeof answer.body.access_token, 'string', `forced refresh #${i}`);
      }
      fake.advanceTime(30 * 1000);
      assert.equal((await stableToken(fake, { force_refresh: true })).body.errcode, 45009);
      fake.advanceTime(DAY);
      assert.equal(typeof (await stableToken(fake, { force_refresh: true })).body.access_token, 'string');
    });

    it('is separate from the classic token: neither invalidates the other', async () => {
      const stable = (await stableToken(fake)).body.access_token as string;
      const classic = await newToken(fake);
      await newToken(fake);
      fake.advanceTime(30 * 1000);
      await stableToken(fake, { force_refresh: true });
      fake.advanceTime(5 * MINUTE);
      assert.equal(await tokenErrcode(fake, stable), 40001);
      // Superseded by the second classic call, not by anything stable did.
      assert.equal(await tokenErrcode(fake, classic), 40001);
      const freshClassic = await newToken(fake);
      assert.equal((await stableToken(fake)).body.errcode, undefined);
      assert.equal(await tokenErrcode(fake, freshClassic), 40007);
    });

    it('answers 47001 for a body that is not a JSON object, and the credential codes', async () => {
      const post = (body: string): Promise<JsonAnswer> =>
        fetch(`${fake.baseUrl}/cgi-bin/stable_token`, { method: 'POST', body }).then(json);
      assert.deepEqual((await post('grant_type=x')).body, { errcode: 47001, errmsg: 'data format error' });
      assert.equal((await post('[1]')).body.errcode, 47001);
      assert.equal((await post('null')).body.errcode, 47001);
      assert.equal((await post('x'.repeat(MB))).body.errcode, 47001);
      assert.equal((await stableToken(fake, { grant_type: 'x' })).body.errcode, 40002);
      assert.equal((await stableToken(fake, { appid: 'wrong' })).body.errcode, 40013);
      assert.equal((await stableToken(fake, { secret: 'wrong' })).body.errcode, 40125);
    });

    it('requires POST, and GET for the classic token', async () => {
      const get = await fetch(`${fake.baseUrl}/cgi-bin/stable_token`).then(json);
      assert.deepEqual(get.body, { errcode: 43002, errmsg: 'require POST method' });
      const post = await fetch(`${fake.baseUrl}/cgi-bin/token`, { method: 'POST' }).then(json);
      assert.deepEqual(post.body, { errcode: 43001, errmsg: 'require GET method' });
    });
  });

  describe('access token checks', () => {
    it('answers 41001 when missing, 40001 with a rid when unknown, 42001 after expireAllTokens', async () => {
      const missing = await fetch(`${fake.baseUrl}/cgi-bin/media/get?media_id=x`).then(json);
      assert.deepEqual(missing.body, { errcode: 41001, errmsg: 'access_token missing' });

      const unknown = await fetch(`${fake.baseUrl}/cgi-bin/media/upload?access_token=nope&type=image`, {
        method: 'POST',
      }).then(json);
      assert.equal(unknown.status, 200);
      assert.equal(unknown.body.errcode, 40001);
      assert.match(
        unknown.body.errmsg as string,
        /^invalid credential, access_token is invalid or not latest rid: [0-9a-f]{8}(-[0-9a-f]{8}){2}$/,
      );

      const classic = await newToken(fake);
      const stable = (await stableToken(fake)).body.access_token as string;
      fake.expireAllTokens();
      assert.equal(await tokenErrcode(fake, classic), 42001);
      assert.equal(await tokenErrcode(fake, stable), 42001);
      // The next stable call must not answer the dead token.
      const fresh = (await stableToken(fake)).body.access_token as string;
      assert.notEqual(fresh, stable);
      assert.equal(await tokenErrcode(fake, fresh), 40007);
    });
  });

  describe('upload (POST /cgi-bin/media/upload)', () => {
    let token: string;
    beforeEach(async () => {
      token = await newToken(fake);
    });

    const accepted: Array<[FakeMediaType, string, string]> = [
      ['image', 'image.jpg', 'image/jpeg'],
      ['image', 'image.png', 'image/png'],
      ['image', 'image.gif', 'image/gif'],
      ['voice', 'voice-speech.amr', 'audio/amr'],
      ['voice', 'voice-speech.mp3', 'audio/mpeg'],
      ['video', 'video-clip.mp4', 'video/mp4'],
      ['thumb', 'thumb.jpg', 'image/jpeg'],
    ];
    for (const [type, name, contentType] of accepted) {
      it(`accepts ${name} as ${type} and stores its bytes`, async () => {
        const data = fixture(name);
        const answer = await upload(fake, token, type, data, name);
        assert.equal(answer.status, 200);
        assert.equal(answer.body.type, type);
        assert.equal(answer.body.errcode, undefined);
        const idKey = type === 'thumb' ? 'thumb_media_id' : 'media_id';
        const mediaId = answer.body[idKey] as string;
        assert.match(mediaId, /^[A-Za-z0-9_-]{60,70}$/);
        if (type === 'thumb') assert.equal(answer.body.media_id, undefined);
        assert.equal(answer.body.created_at, Math.floor(fake.now() / 1000));

        const stored = fake.getMedia(mediaId);
        assert.ok(stored);
        assert.equal(stored.type, type);
        assert.equal(stored.filename, name);
        assert.equal(stored.contentType, contentType);
        assert.ok(stored.data.equals(data));
      });
    }

    it('answers 40004 for an unknown or missing type', async () => {
      const data = fixture('image.jpg');
      assert.deepEqual((await upload(fake, token, 'file', data, 'a.jpg')).body, {
        errcode: 40004,
        errmsg: 'invalid media type',
      });
      const noType = await fetch(`${fake.baseUrl}/cgi-bin/media/upload?access_token=${token}`, {
        method: 'POST',
        body: new FormData(),
      }).then(json);
      assert.equal(noType.body.errcode, 40004);
    });

    it('answers 41005 without a media part, for a non-multipart body and for broken multipart', async () => {
      const form = new FormData();
      form.append('file', new Blob([fixture('image.jpg')]), 'image.jpg');
      const url = `${fake.baseUrl}/cgi-bin/media/upload?access_token=${token}&type=image`;
      const wrongField = await fetch(url, { method: 'POST', body: form }).then(json);
      assert.deepEqual(wrongField.body, { errcode: 41005, errmsg: 'media data missing' });

      const notMultipart = await fetch(url, { method: 'POST', body: '{"media":"x"}' }).then(json);
      assert.equal(notMultipart.body.errcode, 41005);

      const broken = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=XyZ' },
        body: '--XyZ\r\nContent-Disposition: form-data; name="media"; filename="a.jpg"\r\n\r\n\xff\xd8\xff',
      }).then(json);
      assert.equal(broken.body.errcode, 41005);

      const noBoundary = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data' },
        body: 'garbage',
      }).then(json);
      assert.equal(noBoundary.body.errcode, 41005);
    });

    it('answers 40005 when the filename does not say a format of the type', async () => {
      const jpeg = fixture('image.jpg');
      for (const filename of ['blob', 'phpA1B2', 'image.bmp', 'image.png.exe']) {
        const answer = await upload(fake, token, 'image', jpeg, filename);
        assert.deepEqual(answer.body, { errcode: 40005, errmsg: 'invalid file type' }, filename);
      }
      // FormData names a nameless Blob "blob", as browsers do.
      assert.equal((await upload(fake, token, 'image', jpeg)).body.errcode, 40005);
      // A part without any filename arrives as a plain field.
      assert.equal((await upload(fake, token, 'image', 'not a file')).body.errcode, 40005);
      const pngThumb = await upload(fake, token, 'thumb', fixture('image.png'), 'image.png');
      assert.equal(pngThumb.body.errcode, 40005);
      assert.equal((await upload(fake, token, 'voice', jpeg, 'image.jpg')).body.errcode, 40005);
      assert.equal((await upload(fake, token, 'image', jpeg, 'IMAGE.JPEG')).body.type, 'image');
    });

    it('answers 40005 when the leading bytes are not the format the extension claims', async () => {
      const cases: Array<[string, string]> = [
        ['image', 'spoof-png-named.jpg'],
        ['image', 'spoof-random.jpg'],
        ['image', 'spoof-exe.png'],
        ['voice', 'spoof-text.mp3'],
      ];
      for (const [type, name] of cases) {
        assert.equal((await upload(fake, token, type, fixture(name), name)).body.errcode, 40005, name);
      }
      const notMp4 = await upload(fake, token, 'video', fixture('image.jpg'), 'clip.mp4');
      assert.equal(notMp4.body.errcode, 40005);
    });

    it('answers 40006 for an empty file and for one over the type limit', async () => {
      const empty = await upload(fake, token, 'image', fixture('empty.jpg'), 'empty.jpg');
      assert.deepEqual(empty.body, { errcode: 40006, errmsg: 'invalid meida size' });

      const jpegOf = (size: number): Buffer => {
        const data = Buffer.alloc(size, 0x20);
        fixture('thumb.jpg').copy(data);
        return data;
      };
      assert.equal((await upload(fake, token, 'thumb', jpegOf(64 * 1024), 't.jpg')).body.type, 'thumb');
      assert.equal((await upload(fake, token, 'thumb', jpegOf(64 * 1024 + 1), 't.jpg')).body.errcode, 40006);
      const largeThumb = await upload(fake, token, 'thumb', fixture('thumb-too-large.jpg'), 't.jpg');
      assert.equal(largeThumb.body.errcode, 40006);
      assert.equal((await upload(fake, token, 'image', jpegOf(10 * MB + 1), 'big.jpg')).body.errcode, 40006);

      const mp3 = Buffer.alloc(2 * MB + 1, 0);
      fixture('voice-speech.mp3').copy(mp3);
      assert.equal((await upload(fake, token, 'voice', mp3, 'long.mp3')).body.errcode, 40006);
    });

    it('survives 200 concurrent uploads', async () => {
      const data = fixture('image.png');
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) => upload(fake, token, 'image', data, `i${i}.png`)),
      );
      const ids = new Set(answers.map((answer) => answer.body.media_id));
      assert.equal(ids.size, 200);
      assert.equal(fake.countRequests('/cgi-bin/media/upload'), 200);
    });
  });

  describe('download (GET /cgi-bin/media/get and /get/jssdk)', () => {
    let token: string;
    beforeEach(async () => {
      token = await newToken(fake);
    });

    async function uploaded(type: FakeMediaType, name: string): Promise<string> {
      const answer = await upload(fake, token, type, fixture(name), name);
      return (answer.body.media_id ?? answer.body.thumb_media_id) as string;
    }

    it('answers the bytes with content type, disposition and length', async () => {
      for (const [type, name, contentType, extension] of [
        ['image', 'image.jpg', 'image/jpeg', 'jpg'],
        ['image', 'image.png', 'image/png', 'png'],
        ['image', 'image.gif', 'image/gif', 'gif'],
        ['voice', 'voice-speech.amr', 'audio/amr', 'amr'],
        ['voice', 'voice-speech.mp3', 'audio/mpeg', 'mp3'],
        ['thumb', 'thumb.jpg', 'image/jpeg', 'jpg'],
      ] as const) {
        const mediaId = await uploaded(type, name);
        const response = await download(fake, token, mediaId);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('content-type'), contentType);
        const disposition = response.headers.get('content-disposition');
        assert.equal(disposition, `attachment; filename="${mediaId}.${extension}"`);
        const bytes = Buffer.from(await response.arrayBuffer());
        assert.equal(response.headers.get('content-length'), String(bytes.length));
        assert.ok(bytes.equals(fixture(name)), name);
      }
    });

    it('answers a video as {video_url}, served without a token', async () => {
      const mediaId = await uploaded('video', 'video-clip.mp4');
      const answer = await json(await download(fake, token, mediaId));
      assert.equal(answer.status, 200);
      assert.match(answer.contentType ?? '', /^application\/json/);
      const videoUrl = answer.body.video_url as string;
      assert.ok(videoUrl.startsWith(`${fake.baseUrl}/`), videoUrl);
      const video = await fetch(videoUrl);
      assert.equal(video.status, 200);
      assert.equal(video.headers.get('content-type'), 'video/mp4');
      assert.ok(Buffer.from(await video.arrayBuffer()).equals(fixture('video-clip.mp4')));
      assert.equal((await fetch(`${fake.baseUrl}/fake-video/unknown`)).status, 404);
    });

    it('answers voice as speex on /get/jssdk, and 40007 for other media there', async () => {
      const voiceId = await uploaded('voice', 'voice-speech.amr');
      const response = await download(fake, token, voiceId, true);
      assert.equal(response.headers.get('content-type'), 'audio/speex');
      assert.equal(response.headers.get('content-disposition'), `attachment; filename="${voiceId}.speex"`);
      assert.ok(Buffer.from(await response.arrayBuffer()).equals(fixture('voice-speech.amr')));

      const imageId = await uploaded('image', 'image.jpg');
      assert.equal((await json(await download(fake, token, imageId, true))).body.errcode, 40007);
    });

    it('answers 40007 as JSON for an unknown media_id and once the media is older than 3 days', async () => {
      const unknown = await json(await download(fake, token, 'no-such-media'));
      assert.equal(unknown.status, 200);
      assert.equal(unknown.contentType, 'application/json; charset=UTF-8');
      assert.deepEqual(unknown.body, { errcode: 40007, errmsg: 'invalid media_id' });

      const mediaId = await uploaded('image', 'image.jpg');
      fake.advanceTime(3 * DAY - 1000);
      const later = await newToken(fake); // the first one expired long ago
      assert.equal((await download(fake, later, mediaId)).headers.get('content-type'), 'image/jpeg');
      fake.advanceTime(2000);
      assert.equal((await json(await download(fake, later, mediaId))).body.errcode, 40007);
      assert.ok(fake.getMedia(mediaId), 'getMedia still shows expired media');
    });
  });

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
    const cli = join(__dirname, '../../lib/testing/fake-weixin-server.cli.js');
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
