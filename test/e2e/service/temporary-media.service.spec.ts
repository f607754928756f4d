import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import {
  MEDIA_LIFETIME_MS,
  MediaSourceError,
  MediaValidationError,
  WeixinApiError,
  type MediaSource,
} from '../../../lib';
import { fakeWeixinPerSuite } from '../../support/fake-weixin-hooks';
import { mediaFixture } from '../../support/paths';

const UPLOAD = '/cgi-bin/media/upload';
const JPEG = readFileSync(mediaFixture('image.jpg'));

function spooledFiles(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('nestjs-weixin-media-'));
}

describe('TemporaryMediaService', () => {
  const weixin = fakeWeixinPerSuite();

  afterEach(() => weixin.fake.clearFaults());

  const sources: Array<{ name: string; source: () => MediaSource; sentAs: RegExp }> = [
    { name: 'a Buffer', source: () => Buffer.from(JPEG), sentAs: /^media\.jpg$/ },
    { name: 'a Uint8Array', source: () => new Uint8Array(JPEG), sentAs: /^media\.jpg$/ },
    { name: 'a file path', source: () => mediaFixture('image.jpg'), sentAs: /^image\.jpg$/ },
    {
      name: 'a file stream',
      source: () => createReadStream(mediaFixture('image.jpg')),
      sentAs: /^image\.jpg$/,
    },
    {
      name: 'a nameless stream',
      source: () => Readable.from([JPEG.subarray(0, 100), JPEG.subarray(100)]),
      sentAs: /^media\.jpg$/,
    },
    {
      name: '{ path, filename }',
      source: () => ({ path: mediaFixture('image.jpg'), filename: 'cat.jpeg' }),
      sentAs: /^cat\.jpe?g$/,
    },
    {
      name: 'a Multer memory file',
      source: () => ({ buffer: JPEG, originalname: 'phpA1B2', mimetype: 'application/octet-stream' }),
      sentAs: /^phpA1B2\.jpg$/,
    },
    {
      name: 'a Multer disk file',
      source: () =>
        ({ path: mediaFixture('image.jpg'), originalname: 'holiday.jpg', filename: '3f2a9c' }) as MediaSource,
      sentAs: /^holiday\.jpg$/,
    },
  ];
  for (const { name, source, sentAs } of sources) {
    it(`uploads ${name} under a filename Weixin accepts`, async () => {
      const media = await weixin.service.uploadImage(source(), { reuse: false });
      assert.equal(media.type, 'image');
      assert.equal(media.reused, false);
      const stored = weixin.fake.getMedia(media.mediaId);
      assert.ok(stored, 'the fake stored the media');
      assert.ok(stored.data.equals(JPEG), 'the bytes arrived intact');
      const upload = weixin.fake.requests.filter((r) => r.path === UPLOAD).at(-1)!;
      assert.match(upload.filename ?? '', sentAs);
    });
  }

  it('sends an explicit filename with the extension corrected to the content', async () => {
    const media = await weixin.service.uploadImage(readFileSync(mediaFixture('image.png')), {
      filename: 'photo.jpg',
      reuse: false,
    });
    assert.equal(weixin.fake.getMedia(media.mediaId)?.filename, 'photo.png');
  });

  it('answers created and expiry times from Weixin (3 days)', async () => {
    const media = await weixin.service.uploadImage(JPEG, { reuse: false });
    const stored = weixin.fake.getMedia(media.mediaId)!;
    assert.equal(media.createdAt.getTime(), Math.floor(stored.createdAt / 1000) * 1000);
    assert.equal(media.expiresAt.getTime() - media.createdAt.getTime(), MEDIA_LIFETIME_MS);
  });

  it('hides thumb_media_id: a thumb answers mediaId', async () => {
    const media = await weixin.service.uploadThumb(mediaFixture('thumb.jpg'));
    assert.equal(media.type, 'thumb');
    assert.ok(media.mediaId.length > 0);
    assert.equal(weixin.fake.getMedia(media.mediaId)?.type, 'thumb');
  });

  it('uploads voice and video', async () => {
    const voice = await weixin.service.uploadVoice(mediaFixture('voice-speech.amr'));
    const video = await weixin.service.uploadVideo(mediaFixture('video-clip.mp4'));
    assert.equal(weixin.fake.getMedia(voice.mediaId)?.type, 'voice');
    assert.equal(weixin.fake.getMedia(video.mediaId)?.type, 'video');
  });

  it('reuses the media_id of identical content without a network call', async () => {
    const content = Buffer.concat([JPEG, Buffer.from('reuse-test')]);
    const first = await weixin.service.uploadImage(content);
    const uploads = weixin.fake.countRequests(UPLOAD);
    const again = await weixin.service.uploadImage(Readable.from([content]));
    assert.equal(again.mediaId, first.mediaId);
    assert.equal(again.reused, true);
    assert.equal(again.createdAt.getTime(), first.createdAt.getTime());
    assert.equal(weixin.fake.countRequests(UPLOAD), uploads);
    const forced = await weixin.service.uploadImage(content, { reuse: false });
    assert.notEqual(forced.mediaId, first.mediaId);
    // The same bytes as another type are another media item.
    const asThumb = await weixin.service.uploadThumb(mediaFixture('thumb.jpg'));
    const asImage = await weixin.service.uploadImage(mediaFixture('thumb.jpg'));
    assert.notEqual(asThumb.mediaId, asImage.mediaId);
  });

  it('reuses a file path without hashing it again, and notices when the file changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reuse-path-'));
    const path = join(dir, 'welcome.jpg');
    try {
      writeFileSync(path, Buffer.concat([JPEG, Buffer.from('version 1')]));
      const first = await weixin.service.uploadImage(path);
      const again = await weixin.service.uploadImage(path);
      assert.equal(again.reused, true);
      assert.equal(again.mediaId, first.mediaId);
      writeFileSync(path, Buffer.concat([JPEG, Buffer.from('version 2')]));
      const changed = await weixin.service.uploadImage(path);
      assert.equal(changed.reused, false);
      assert.ok(weixin.fake.getMedia(changed.mediaId)!.data.equals(readFileSync(path)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a media cache that fails costs reuse, never the upload', async () => {
    const broken = await weixin.module({
      mediaCache: {
        get: async () => Promise.reject(new Error('cache down')),
        set: async () => Promise.reject(new Error('cache down')),
        deleteByMediaId: async () => Promise.reject(new Error('cache down')),
      },
    });
    try {
      const media = await broken.service.uploadImage(JPEG);
      assert.equal(media.reused, false);
      assert.ok(weixin.fake.getMedia(media.mediaId));
    } finally {
      await broken.close();
    }
  });

  it('mediaCache: false uploads every time', async () => {
    const uncached = await weixin.module({ mediaCache: false });
    try {
      const first = await uncached.service.uploadImage(JPEG);
      const second = await uncached.service.uploadImage(JPEG);
      assert.notEqual(first.mediaId, second.mediaId);
      assert.equal(second.reused, false);
    } finally {
      await uncached.close();
    }
  });

  it('rejects an invalid type and an empty or oversized file without any request', async () => {
    const before = weixin.fake.requests.length;
    await assert.rejects(weixin.service.upload('sticker' as never, JPEG), {
      name: 'MediaValidationError',
      reason: 'invalid-type',
      errcode: 40004,
    });
    await assert.rejects(weixin.service.uploadImage(Buffer.alloc(0)), { reason: 'empty' });
    await assert.rejects(
      weixin.service.uploadThumb(Buffer.alloc(64 * 1024 + 1, 0xff)),
      (error: MediaValidationError) => {
        assert.equal(error.reason, 'too-large');
        assert.equal(error.limit, 64 * 1024);
        assert.equal(error.actual, 64 * 1024 + 1);
        assert.equal(error.errcode, 40006);
        return true;
      },
    );
    assert.equal(weixin.fake.requests.length, before);
  });

  it('stops reading a stream as soon as it passes the limit, and removes its temp file', async () => {
    const spooledBefore = spooledFiles().length;
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 64 * 1024;
        this.push(Buffer.alloc(64 * 1024, 1));
      },
    });
    await assert.rejects(weixin.service.uploadVoice(endless), (error: MediaValidationError) => {
      assert.equal(error.reason, 'too-large');
      assert.equal(error.limit, 2 * 1024 * 1024);
      assert.match(error.message, /2 MB/);
      return true;
    });
    assert.ok(produced <= 3 * 1024 * 1024, `read ${produced} bytes`);
    assert.equal(spooledFiles().length, spooledBefore);
  });

  it('removes the spooled temp file after success and after a Weixin error', async () => {
    const spooledBefore = spooledFiles().length;
    await weixin.service.uploadImage(createReadStream(mediaFixture('image.gif')), { reuse: false });
    weixin.fake.injectFault({ path: UPLOAD, errcode: 45009, errmsg: 'quota' });
    await assert.rejects(
      weixin.service.uploadImage(createReadStream(mediaFixture('image.gif')), { reuse: false }),
      WeixinApiError,
    );
    assert.equal(spooledFiles().length, spooledBefore);
  });

  it('a missing file is a MediaSourceError with the code and the resolved path, not a broken rule', async () => {
    const before = weixin.fake.requests.length;
    await assert.rejects(weixin.service.uploadImage('/nonexistent/photo.jpg'), (error: unknown) => {
      assert.ok(error instanceof MediaSourceError);
      assert.equal(error.systemCode, 'ENOENT');
      assert.equal(error.path, '/nonexistent/photo.jpg');
      assert.match(error.message, /\/nonexistent\/photo\.jpg: ENOENT/);
      return true;
    });
    await assert.rejects(weixin.service.inspect('image', 'no-such-dir/photo.jpg'), {
      name: 'MediaSourceError',
      path: join(process.cwd(), 'no-such-dir/photo.jpg'),
    });
    assert.equal(weixin.fake.requests.length, before, 'nothing was sent');
  });

  it('inspect applies the rules without a network call', async () => {
    const before = weixin.fake.requests.length;
    const inspection = await weixin.service.inspect('voice', mediaFixture('voice-speech.mp3'));
    assert.equal(inspection.format, 'mp3');
    assert.equal(inspection.type, 'voice');
    assert.ok(inspection.durationMs! > 3_600 && inspection.durationMs! < 3_850);
    assert.equal(weixin.fake.requests.length, before);
  });

  it('downloads an image back byte for byte, with content type and filename', async () => {
    const { mediaId } = await weixin.service.uploadImage(JPEG, { reuse: false });
    const media = await weixin.service.download(mediaId);
    assert.equal(media.kind, 'file');
    if (media.kind !== 'file') return;
    assert.ok(media.data.equals(JPEG));
    assert.equal(media.contentType, 'image/jpeg');
    assert.match(media.filename, /\.jpg$/);
  });

  it('downloads as a stream', async () => {
    const { mediaId } = await weixin.service.uploadVoice(mediaFixture('voice-speech.mp3'));
    const media = await weixin.service.downloadStream(mediaId);
    assert.equal(media.kind, 'file');
    if (media.kind !== 'file') return;
    const chunks: Buffer[] = [];
    for await (const chunk of media.stream) chunks.push(chunk as Buffer);
    assert.ok(Buffer.concat(chunks).equals(readFileSync(mediaFixture('voice-speech.mp3'))));
    assert.equal(media.contentLength, readFileSync(mediaFixture('voice-speech.mp3')).length);
  });

  it('answers a video as its URL', async () => {
    const { mediaId } = await weixin.service.uploadVideo(mediaFixture('video-clip.mp4'));
    const media = await weixin.service.download(mediaId);
    assert.equal(media.kind, 'video');
    if (media.kind !== 'video') return;
    const fetched = Buffer.from(await (await fetch(media.videoUrl)).arrayBuffer());
    assert.ok(fetched.equals(readFileSync(mediaFixture('video-clip.mp4'))));
  });

  it('downloads HD voice from media/get/jssdk', async () => {
    const { mediaId } = await weixin.service.uploadVoice(mediaFixture('voice-speech.amr'));
    const media = await weixin.service.downloadHdVoice(mediaId);
    assert.equal(media.kind, 'file');
    assert.ok(weixin.fake.requests.some((r) => r.path === '/cgi-bin/media/get/jssdk'));
  });

  it('a JSON error at HTTP 200 is a WeixinApiError (40007), and evicts the reuse entry', async () => {
    const content = Buffer.concat([JPEG, Buffer.from('expiring')]);
    const { mediaId } = await weixin.service.uploadImage(content);
    // Last test that talks to the fake: its clock stays 3 days ahead.
    weixin.fake.advanceTime(MEDIA_LIFETIME_MS + 1_000);
    await assert.rejects(weixin.service.download(mediaId), (error: WeixinApiError) => {
      assert.equal(error.errcode, 40007);
      assert.equal(error.path, '/cgi-bin/media/get');
      return true;
    });
    const again = await weixin.service.uploadImage(content);
    assert.equal(again.reused, false);
    assert.notEqual(again.mediaId, mediaId);
  });

  it('a malformed media_id fails locally without a request', async () => {
    const before = weixin.fake.requests.length;
    await assert.rejects(weixin.service.download('../../etc/passwd'), { errcode: 40007 });
    assert.equal(weixin.fake.requests.length, before);
  });
});
