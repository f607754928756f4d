import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs, { closeSync, copyFileSync, mkdtempSync, openSync, symlinkSync, writeFileSync } from 'node:fs';
import fsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it, mock } from 'node:test';
import { MediaSourceError } from '../../../lib';
import { fakeWeixinPerSuite, fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { openDescriptors } from '../../support/open-descriptors';
import { distinctJpeg } from '../../support/fleet';
import { jpegSegment, withJpegSegments } from '../../support/media-builders';
import { mediaFixture } from '../../support/paths';

describe('uploads from a file path open the file once', () => {
  // Restored before the module closes (hooks run in the order they are registered).
  afterEach(() => mock.restoreAll());
  const weixin = fakeWeixinPerTest();

  /** Counts opens of `path` by either API (fs.createReadStream(path) opens with the callback one). */
  function countOpens(): (path: string) => number {
    const promised = mock.method(fsPromises, 'open');
    const callback = mock.method(fs, 'open');
    return (path) =>
      [...promised.mock.calls, ...callback.mock.calls].filter((call) => call.arguments[0] === path).length;
  }

  /** A fresh copy: nothing about it is known to this process yet. */
  function freshCopy(fixture: string): string {
    const path = join(mkdtempSync(join(tmpdir(), 'file-opens-')), fixture);
    copyFileSync(mediaFixture(fixture), path);
    return path;
  }

  it('the rules, the hash and the upload share one descriptor', async () => {
    const context = await weixin.module();
    const count = countOpens();

    const plain = freshCopy('image.jpg');
    const uploaded = await context.service.uploadImage(plain, { reuse: false });
    assert.equal(count(plain), 1);
    assert.ok(weixin.fake.getMedia(uploaded.mediaId)!.data.length > 0);

    const hashed = freshCopy('voice-speech.mp3');
    await context.service.uploadVoice(hashed);
    assert.equal(count(hashed), 1, 'reuse on: the hash reads the file through the same descriptor');
  });

  it('every try sends the whole file again through the same descriptor', async () => {
    const context = await weixin.module();
    const count = countOpens();
    const path = freshCopy('image.png');
    weixin.fake.injectFault({ path: '/cgi-bin/media/upload', status: 502, times: 2 });
    const before = weixin.fake.countRequests('/cgi-bin/media/upload');

    const uploaded = await context.service.uploadImage(path, { reuse: false });
    assert.equal(
      weixin.fake.countRequests('/cgi-bin/media/upload') - before,
      3,
      'two failed tries, then success',
    );
    assert.equal(count(path), 1);
    const { readFile } = await import('node:fs/promises');
    assert.ok(weixin.fake.getMedia(uploaded.mediaId)!.data.equals(await readFile(mediaFixture('image.png'))));
  });

  it('memory a file was read into is reused only when nothing handed out still points at it', async () => {
    const context = await weixin.module();
    const dir = mkdtempSync(join(tmpdir(), 'file-opens-'));
    // Two different images of the same size class (about 1 MiB: read whole into a pooled buffer).
    const images = ['one', 'two'].map((label) =>
      withJpegSegments(
        distinctJpeg(label),
        Array.from({ length: 16 }, () => jpegSegment(0xfe, Buffer.alloc(60_000, label.charCodeAt(0)))),
      ),
    );
    const paths = images.map((image, index) => {
      const path = join(dir, `image-${index}.jpg`);
      writeFileSync(path, image);
      return path;
    });
    // fit() answers a source that passes as it is: those bytes are the caller's, whatever is read next.
    const fitted = await context.service.fit('image', paths[0]);
    assert.equal(fitted.converted, false);
    const second = await context.service.uploadImage(paths[1], { reuse: false });
    assert.ok(fitted.data.equals(images[0]), 'what fit() answered is unchanged after another file was read');
    const first = await context.service.uploadImage(paths[0], { reuse: false });
    assert.ok(weixin.fake.getMedia(second.mediaId)!.data.equals(images[1]));
    assert.ok(weixin.fake.getMedia(first.mediaId)!.data.equals(images[0]));
  });

  it('a large file goes out through two chunk buffers in turn, each reused only once written out', async () => {
    const context = await weixin.module();
    // 6 MB of random comment segments: streamed (past the 2 MiB of whole reads) in 256 KiB chunks, every
    // chunk different, so a buffer read into again while the socket still wrote it would corrupt the upload.
    const image = withJpegSegments(
      distinctJpeg('streamed'),
      Array.from({ length: 100 }, () => jpegSegment(0xfe, randomBytes(60_000))),
    );
    const path = join(mkdtempSync(join(tmpdir(), 'file-chunks-')), 'large.jpg');
    writeFileSync(path, image);
    const allocations = mock.method(Buffer, 'allocUnsafeSlow');
    weixin.fake.injectFault({ path: '/cgi-bin/media/upload', status: 502, times: 1 });
    // The second try waits unread for a while: the socket fills, and writes wait on the reader's buffers.
    weixin.fake.injectFault({ path: '/cgi-bin/media/upload', delayMs: 300, times: 1 });
    let reported = 0;
    const uploaded = await context.service.uploadImage(path, {
      reuse: false,
      onProgress: ({ done }) => (reported = done),
    });
    assert.ok(weixin.fake.getMedia(uploaded.mediaId)!.data.equals(image), 'Weixin got the file intact');
    assert.equal(reported, image.length);
    const chunkBuffers = allocations.mock.calls.filter((call) => call.arguments[0] === 256 * 1024);
    assert.equal(chunkBuffers.length, 4, 'two chunk buffers per try (two tries), whatever the file size');
  });
});

describe('a path that is not a regular file is refused without blocking', () => {
  const weixin = fakeWeixinPerSuite();
  const dir = mkdtempSync(join(tmpdir(), 'not-files-'));
  const fifo = join(dir, 'photo.jpg');
  const linked = join(dir, 'link-to-fifo.jpg');
  before(() => {
    execFileSync('mkfifo', [fifo]);
    symlinkSync(fifo, linked);
  });
  // Had an open waited for a writer, this one lets it return, so the process can still end.
  after(() => {
    try {
      closeSync(openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    } catch {
      // ENXIO: no reader waits, as it should be.
    }
  });

  /** Rejects with EFTYPE naming the path; a blocked open would hang instead, and the test times out. */
  async function refusedAsNotAFile(call: Promise<unknown>, path: string): Promise<void> {
    await assert.rejects(call, (error: unknown) => {
      assert.ok(error instanceof MediaSourceError, String(error));
      assert.equal(error.systemCode, 'EFTYPE');
      assert.equal(error.path, path);
      assert.match(error.message, /a FIFO, socket or device, not a regular file/);
      return true;
    });
  }

  it(
    'a FIFO: upload, inspect, fit, a Multer-like { path } and a symlink to it',
    { timeout: 10_000 },
    async () => {
      const { service } = await weixin.module();
      await refusedAsNotAFile(service.uploadImage(fifo), fifo);
      await refusedAsNotAFile(service.inspect('image', fifo), fifo);
      await refusedAsNotAFile(service.fit('image', fifo), fifo);
      await refusedAsNotAFile(service.uploadImage({ path: fifo, originalname: 'photo.jpg' }), fifo);
      await refusedAsNotAFile(service.uploadVoice(linked), linked);
      assert.equal(weixin.fake.countRequests('/cgi-bin/media/upload'), 0, 'nothing was sent');
      assert.ok(!openDescriptors().includes(fifo), 'no descriptor of the FIFO is left open');
    },
  );

  it('a FIFO with a signal aborted meanwhile: the call settles', { timeout: 10_000 }, async () => {
    const { service } = await weixin.module();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50).unref();
    await refusedAsNotAFile(service.uploadImage(fifo, { signal: controller.signal }), fifo);
  });

  it('a character device is refused as a FIFO is; a directory keeps EISDIR', async () => {
    const { service } = await weixin.module();
    await refusedAsNotAFile(service.uploadImage('/dev/zero'), '/dev/zero');
    await assert.rejects(service.uploadImage(dir), { name: 'MediaSourceError', systemCode: 'EISDIR' });
  });
});
