import { beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type FakeMediaType } from '../../../lib/testing';
import { DAY, MB, fixture, json, newToken, upload, download } from '../../support/fake-weixin-calls';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';

describe('FakeWeixinServer', () => {
  const weixin = fakeWeixinPerTest();

  describe('upload (POST /cgi-bin/media/upload)', () => {
    let token: string;
    beforeEach(async () => {
      token = await newToken(weixin.fake);
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
        const before = Math.floor(weixin.fake.now() / 1000);
        const answer = await upload(weixin.fake, token, type, data, name);
        assert.equal(answer.status, 200);
        assert.equal(answer.body.type, type);
        assert.equal(answer.body.errcode, undefined);
        const idKey = type === 'thumb' ? 'thumb_media_id' : 'media_id';
        const mediaId = answer.body[idKey] as string;
        assert.match(mediaId, /^[A-Za-z0-9_-]{60,70}$/);
        if (type === 'thumb') assert.equal(answer.body.media_id, undefined);
        // The fake's clock may pass a second boundary while the upload is answered.
        const createdAt = answer.body.created_at as number;
        assert.ok(
          createdAt >= before && createdAt <= Math.floor(weixin.fake.now() / 1000),
          `created_at ${createdAt}`,
        );

        const stored = weixin.fake.getMedia(mediaId);
        assert.ok(stored);
        assert.equal(stored.type, type);
        assert.equal(stored.filename, name);
        assert.equal(stored.contentType, contentType);
        assert.ok(stored.data.equals(data));
      });
    }

    it('answers 40004 for an unknown or missing type', async () => {
      const data = fixture('image.jpg');
      assert.deepEqual((await upload(weixin.fake, token, 'file', data, 'a.jpg')).body, {
        errcode: 40004,
        errmsg: 'invalid media type',
      });
      const noType = await fetch(`${weixin.baseUrl}/cgi-bin/media/upload?access_token=${token}`, {
        method: 'POST',
        body: new FormData(),
      }).then(json);
      assert.equal(noType.body.errcode, 40004);
    });

    it('answers 41005 without a media part, for a non-multipart body and for broken multipart', async () => {
      const form = new FormData();
      form.append('file', new Blob([fixture('image.jpg')]), 'image.jpg');
      const url = `${weixin.baseUrl}/cgi-bin/media/upload?access_token=${token}&type=image`;
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
        const answer = await upload(weixin.fake, token, 'image', jpeg, filename);
        assert.deepEqual(answer.body, { errcode: 40005, errmsg: 'invalid file type' }, filename);
      }
      // FormData names a nameless Blob "blob", as browsers do.
      assert.equal((await upload(weixin.fake, token, 'image', jpeg)).body.errcode, 40005);
      // A part without any filename arrives as a plain field.
      assert.equal((await upload(weixin.fake, token, 'image', 'not a file')).body.errcode, 40005);
      const pngThumb = await upload(weixin.fake, token, 'thumb', fixture('image.png'), 'image.png');
      assert.equal(pngThumb.body.errcode, 40005);
      assert.equal((await upload(weixin.fake, token, 'voice', jpeg, 'image.jpg')).body.errcode, 40005);
      assert.equal((await upload(weixin.fake, token, 'image', jpeg, 'IMAGE.JPEG')).body.type, 'image');
    });

    it('answers 40005 when the leading bytes are not the format the extension claims', async () => {
      const cases: Array<[string, string]> = [
        ['image', 'spoof-png-named.jpg'],
        ['image', 'spoof-random.jpg'],
        ['image', 'spoof-exe.png'],
        ['voice', 'spoof-text.mp3'],
      ];
      for (const [type, name] of cases) {
        assert.equal((await upload(weixin.fake, token, type, fixture(name), name)).body.errcode, 40005, name);
      }
      const notMp4 = await upload(weixin.fake, token, 'video', fixture('image.jpg'), 'clip.mp4');
      assert.equal(notMp4.body.errcode, 40005);
    });

    it('answers 40006 for an empty file and for one over the type limit', async () => {
      const empty = await upload(weixin.fake, token, 'image', fixture('empty.jpg'), 'empty.jpg');
      assert.deepEqual(empty.body, { errcode: 40006, errmsg: 'invalid meida size' });

      const jpegOf = (size: number): Buffer => {
        const data = Buffer.alloc(size, 0x20);
        fixture('thumb.jpg').copy(data);
        return data;
      };
      assert.equal(
        (await upload(weixin.fake, token, 'thumb', jpegOf(64 * 1024), 't.jpg')).body.type,
        'thumb',
      );
      assert.equal(
        (await upload(weixin.fake, token, 'thumb', jpegOf(64 * 1024 + 1), 't.jpg')).body.errcode,
        40006,
      );
      const largeThumb = await upload(weixin.fake, token, 'thumb', fixture('thumb-too-large.jpg'), 't.jpg');
      assert.equal(largeThumb.body.errcode, 40006);
      assert.equal(
        (await upload(weixin.fake, token, 'image', jpegOf(10 * MB + 1), 'big.jpg')).body.errcode,
        40006,
      );

      const mp3 = Buffer.alloc(2 * MB + 1, 0);
      fixture('voice-speech.mp3').copy(mp3);
      assert.equal((await upload(weixin.fake, token, 'voice', mp3, 'long.mp3')).body.errcode, 40006);
    });

    it('keeps a large file as it arrived and joins it only when asked for (no 10 MB copy per upload)', async () => {
      const data = Buffer.concat([fixture('image.jpg'), randomBytes(3 * MB)]);
      const concat = mock.method(Buffer, 'concat');
      try {
        const answer = await upload(weixin.fake, token, 'image', data, 'large.jpg');
        const joins = () => concat.mock.calls.filter((call) => call.result!.length >= MB).length;
        assert.equal(joins(), 0, 'nothing the size of the file was copied for the upload');
        assert.ok(weixin.fake.getMedia(answer.body.media_id as string)!.data.equals(data));
        assert.equal(joins(), 1, 'joined once, when read');
      } finally {
        concat.mock.restore();
      }
    });

    it('survives 200 concurrent uploads', async () => {
      const data = fixture('image.png');
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) => upload(weixin.fake, token, 'image', data, `i${i}.png`)),
      );
      const ids = new Set(answers.map((answer) => answer.body.media_id));
      assert.equal(ids.size, 200);
      assert.equal(weixin.fake.countRequests('/cgi-bin/media/upload'), 200);
    });
  });

  describe('download (GET /cgi-bin/media/get and /get/jssdk)', () => {
    let token: string;
    beforeEach(async () => {
      token = await newToken(weixin.fake);
    });

    async function uploaded(type: FakeMediaType, name: string): Promise<string> {
      const answer = await upload(weixin.fake, token, type, fixture(name), name);
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
        const response = await download(weixin.fake, token, mediaId);
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
      const answer = await json(await download(weixin.fake, token, mediaId));
      assert.equal(answer.status, 200);
      assert.match(answer.contentType ?? '', /^application\/json/);
      const videoUrl = answer.body.video_url as string;
      assert.ok(videoUrl.startsWith(`${weixin.baseUrl}/`), videoUrl);
      const video = await fetch(videoUrl);
      assert.equal(video.status, 200);
      assert.equal(video.headers.get('content-type'), 'video/mp4');
      assert.ok(Buffer.from(await video.arrayBuffer()).equals(fixture('video-clip.mp4')));
      assert.equal((await fetch(`${weixin.baseUrl}/fake-video/unknown`)).status, 404);
    });

    it('answers voice as speex on /get/jssdk, and 40007 for other media there', async () => {
      const voiceId = await uploaded('voice', 'voice-speech.amr');
      const response = await download(weixin.fake, token, voiceId, true);
      assert.equal(response.headers.get('content-type'), 'audio/speex');
      assert.equal(response.headers.get('content-disposition'), `attachment; filename="${voiceId}.speex"`);
      assert.ok(Buffer.from(await response.arrayBuffer()).equals(fixture('voice-speech.amr')));

      const imageId = await uploaded('image', 'image.jpg');
      assert.equal((await json(await download(weixin.fake, token, imageId, true))).body.errcode, 40007);
    });

    it("answers a voice's high-definition recording (setHdVoice) on /get/jssdk, the upload on /get", async () => {
      const voiceId = await uploaded('voice', 'voice-speech.amr');
      const speex = Buffer.alloc(600, 0x30);
      weixin.fake.setHdVoice(voiceId, speex);
      const hd = await download(weixin.fake, token, voiceId, true);
      assert.equal(hd.headers.get('content-type'), 'audio/speex');
      assert.ok(Buffer.from(await hd.arrayBuffer()).equals(speex));
      const plain = await download(weixin.fake, token, voiceId);
      assert.ok(Buffer.from(await plain.arrayBuffer()).equals(fixture('voice-speech.amr')));

      const imageId = await uploaded('image', 'image.jpg');
      assert.throws(() => weixin.fake.setHdVoice(imageId, speex), {
        name: 'RangeError',
        message: `setHdVoice needs the media_id of a voice; got ${imageId}`,
      });
    });

    it('answers 40007 as JSON for an unknown media_id and once the media is older than 3 days', async () => {
      const unknown = await json(await download(weixin.fake, token, 'no-such-media'));
      assert.equal(unknown.status, 200);
      assert.equal(unknown.contentType, 'application/json; charset=UTF-8');
      assert.deepEqual(unknown.body, { errcode: 40007, errmsg: 'invalid media_id' });

      const mediaId = await uploaded('image', 'image.jpg');
      weixin.fake.advanceTime(3 * DAY - 1000);
      const later = await newToken(weixin.fake); // the first one expired long ago
      assert.equal((await download(weixin.fake, later, mediaId)).headers.get('content-type'), 'image/jpeg');
      weixin.fake.advanceTime(2000);
      assert.equal((await json(await download(weixin.fake, later, mediaId))).body.errcode, 40007);
      assert.ok(weixin.fake.getMedia(mediaId), 'getMedia still shows expired media');
    });
  });
});
