import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { MediaValidationError, type UploadProgress } from '../../../lib';
import { fakeWeixinPerSuite } from '../../support/fake-weixin-hooks';
import { childProcesses, FitMediaDir } from '../../support/fit-media';

const UPLOAD = '/cgi-bin/media/upload';

describe('upload with fit: convert, send, reuse, progress', () => {
  const weixin = fakeWeixinPerSuite();
  const media = new FitMediaDir();
  const uploads = () => weixin.fake.requests.filter((request) => request.path === UPLOAD).length;

  after(() => media.close());

  it('converts WAV voice, uploads the MP3, reports both phases, and says what changed', async () => {
    const source = await media.audio('hello.wav', 4);
    const progress: UploadProgress[] = [];
    const started = Date.now();
    const uploaded = await weixin.service.uploadVoice(source, {
      fit: true,
      onProgress: (p) => progress.push(p),
    });
    const elapsed = Date.now() - started;
    const stored = weixin.fake.getMedia(uploaded.mediaId)!;
    assert.equal(stored.data.subarray(0, 3).toString('latin1') === 'ID3' || stored.data[0] === 0xff, true);
    assert.equal(uploaded.reused, false);
    assert.deepEqual(
      { ...uploaded.fitted, bytesAfter: undefined, durationMsAfter: undefined },
      {
        from: 'wav',
        to: 'mp3',
        bytesBefore: readFileSync(source).length,
        bytesAfter: undefined,
        durationMsBefore: 4000,
        durationMsAfter: undefined,
      },
    );
    assert.equal(uploaded.fitted!.bytesAfter, stored.data.length);
    assert.ok(Math.abs(uploaded.fitted!.durationMsAfter! - 4000) < 120);
    const fit = progress.filter((p) => p.phase === 'fit');
    const upload = progress.filter((p) => p.phase === 'upload');
    assert.ok(fit.length >= 1 && upload.length >= 1, 'both phases reported');
    assert.ok(progress.indexOf(upload[0]) > progress.indexOf(fit.at(-1)!), 'fit, then upload');
    assert.deepEqual(fit.at(-1), { phase: 'fit', done: 4, total: 4 });
    assert.deepEqual(upload.at(-1), { phase: 'upload', done: stored.data.length, total: stored.data.length });
    assert.ok(progress.length <= 2 * (elapsed / 200 + 2), `${progress.length} reports in ${elapsed} ms`);
  });

  it('fitting identical content again answers the cached media_id without converting or uploading', async () => {
    const source = await media.audio('again.flac', 6, ['-c:a', 'flac']);
    let sawConversion = false;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        if (childProcesses('ffmpeg').length > 0) sawConversion = true;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const first = await weixin.service.uploadVoice(source, { fit: true });
    assert.equal(sawConversion, true, 'the first upload converted');
    sawConversion = false;
    const before = uploads();
    const second = await weixin.service.uploadVoice(readFileSync(source), { fit: true });
    watching = false;
    await watcher;
    assert.equal(second.reused, true);
    assert.equal(second.mediaId, first.mediaId);
    assert.deepEqual(second.fitted, first.fitted, 'what changed is remembered with the media_id');
    assert.equal(uploads(), before, 'no upload');
    assert.equal(sawConversion, false, 'no conversion');
    const trimmed = await weixin.service.uploadVoice(source, { fit: { trim: true } });
    assert.equal(trimmed.reused, false, 'other fit settings: another entry');
  });

  it('sends a source that already passes byte for byte, with no fitted summary', async () => {
    const source = await media.audio('ready.mp3', 2, ['-ac', '1', '-c:a', 'libmp3lame', '-b:a', '48k']);
    const uploaded = await weixin.service.uploadVoice(source, { fit: true, reuse: false });
    assert.ok(weixin.fake.getMedia(uploaded.mediaId)!.data.equals(readFileSync(source)));
    assert.equal(uploaded.fitted, undefined);
  });

  it('fits a thumb and an image from a Buffer and a stream', async () => {
    const png = await media.ffmpeg('shot.webp', [
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=1280x720',
      '-frames:v',
      '1',
    ]);
    const thumb = await weixin.service.uploadThumb(readFileSync(png), { fit: true });
    const stored = weixin.fake.getMedia(thumb.mediaId)!;
    assert.ok(stored.data.length <= 64 * 1024);
    assert.equal(thumb.fitted?.from, 'webp');
    assert.equal(thumb.fitted?.to, 'jpeg');
    const { createReadStream } = await import('node:fs');
    const image = await weixin.service.uploadImage(createReadStream(png), { fit: true });
    assert.equal(image.fitted?.to, 'jpeg');
  });

  it('a voice over 60 s without trim never reaches Weixin', async () => {
    const source = await media.audio('speech.wav', 65, [], 8000);
    const before = uploads();
    const error = await weixin.service.uploadVoice(source, { fit: true }).catch((caught: unknown) => caught);
    assert.ok(error instanceof MediaValidationError);
    assert.equal(error.reason, 'too-long');
    assert.equal(uploads(), before);
    const trimmed = await weixin.service.uploadVoice(source, { fit: { trim: true } });
    assert.ok(trimmed.fitted!.durationMsAfter! <= 60_000);
  });

  it('reports which conversions this machine can do', async () => {
    const support = await weixin.service.fitSupport();
    assert.deepEqual(
      { image: support.image, thumb: support.thumb, voice: support.voice, video: support.video },
      { image: true, thumb: true, voice: true, video: true },
    );
    assert.match(support.engines.sharp!, /^\d+\.\d+/);
    assert.match(support.engines.ffmpeg!, /^\S+ \(.*ffmpeg\)$/);
    assert.deepEqual(support.missing, []);
  });

  it('fits for another account through forAccount, the same as for the default one', async () => {
    const source = await media.audio('account.ogg', 2, ['-c:a', 'libvorbis']);
    const account = weixin.service.forAccount(weixin.fake.appId);
    const fitted = await account.fit('voice', source);
    assert.equal(fitted.from, 'ogg');
    const uploaded = await account.uploadVoice(source, { fit: true });
    assert.equal(uploaded.fitted?.to, 'mp3');
    assert.equal((await account.fitSupport()).voice, true);
  });
});
