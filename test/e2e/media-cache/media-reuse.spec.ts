import assert from 'node:assert/strict';
// The module object itself (not a namespace copy), so a spy sees the library's calls.
import { copyFileSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, it, mock } from 'node:test';
import {
  InMemoryMediaCache,
  MEDIA_LIFETIME_MS,
  type CachedMedia,
  type MediaCache,
  type TemporaryMedia,
} from '../../../lib';
import { fakeWeixinPerTest } from '../../support/fake-weixin-hooks';
import { distinctJpeg } from '../../support/fleet';
import { jpegSegment, withJpegSegments } from '../../support/media-builders';
import { fileReads } from '../../support/file-reads';
import { mediaFixture } from '../../support/paths';

const UPLOAD_PATH = '/cgi-bin/media/upload';

/**
 * Counts the bytes read from files by `fs.read` (whole reads, positional reads and file streams all use
 * it) until the test ends.
 */
/** A JPEG of about 2.4 MB (comment segments after SOI): above the size of files read whole. */
function largeJpeg(label: string): Buffer {
  return withJpegSegments(
    distinctJpeg(label),
    Array.from({ length: 40 }, () => jpegSegment(0xfe, Buffer.alloc(60_000, 0x20))),
  );
}

/** The bytes the rules alone read (`inspect`), counted by `reads`, which is then set back to 0. */
async function rulesReads(reads: { bytes: number }, inspect: () => Promise<unknown>): Promise<number> {
  const before = reads.bytes;
  await inspect();
  const rules = reads.bytes - before;
  reads.bytes = before;
  return rules;
}

const UPLOAD = '/cgi-bin/media/upload';
const HOUR_MS = 60 * 60 * 1000;

function entry(mediaId: string, ttlMs = 60_000): CachedMedia {
  return { type: 'image', mediaId, createdAt: Date.now(), expiresAt: Date.now() + ttlMs };
}

/** A MediaCache that records what the service asks of it. */
class RecordingMediaCache extends InMemoryMediaCache {
  readonly calls: string[] = [];
  override async get(key: string) {
    this.calls.push(`get ${key.split(':')[1]}`);
    return super.get(key);
  }
  override async set(key: string, value: CachedMedia) {
    this.calls.push(`set ${key.split(':')[1]}`);
    return super.set(key, value);
  }
}

describe('InMemoryMediaCache: an LRU bounded by entry count', () => {
  it('keeps at most maxEntries, dropping the least recently used first', async () => {
    const cache = new InMemoryMediaCache(3);
    for (const id of ['A', 'B', 'C']) await cache.set(id, entry(id));
    assert.ok(await cache.get('A')); // A becomes the most recently used: B is now the oldest
    await cache.set('D', entry('D'));
    assert.equal(cache.size, 3);
    assert.equal(await cache.get('B'), undefined);
    assert.deepEqual(
      (await Promise.all(['A', 'C', 'D'].map((key) => cache.get(key)))).map((value) => value?.mediaId),
      ['A', 'C', 'D'],
    );
    // Those gets left the order A, C, D; overwriting A makes it the most recent, so C goes next.
    await cache.set('A', entry('A2'));
    await cache.set('E', entry('E'));
    assert.equal(await cache.get('C'), undefined);
    assert.equal((await cache.get('A'))?.mediaId, 'A2');
  });

  it('is bounded by default (1,000 entries)', async () => {
    const cache = new InMemoryMediaCache();
    for (let i = 0; i < 1_500; i++) await cache.set(`k${i}`, entry(`m${i}`));
    assert.equal(cache.size, 1_000);
    assert.equal(await cache.get('k499'), undefined);
    assert.equal((await cache.get('k500'))?.mediaId, 'm500');
  });

  it('never answers an entry past its expiresAt, and drops it', async () => {
    const cache = new InMemoryMediaCache();
    await cache.set('old', entry('OLD', -1));
    assert.equal(await cache.get('old'), undefined);
    assert.equal(cache.size, 0);
  });

  it("deleteByMediaId forgets every key of the account answering that id, never another account's", async () => {
    const cache = new InMemoryMediaCache();
    await cache.set('wxA:image:a', entry('M'));
    await cache.set('wxA:thumb:a', entry('M'));
    await cache.set('wxA:image:c', entry('N'));
    await cache.set('wxB:image:a', entry('M'));
    await cache.deleteByMediaId('M', 'wxA');
    assert.equal(cache.size, 2);
    assert.equal((await cache.get('wxA:image:c'))?.mediaId, 'N');
    assert.equal((await cache.get('wxB:image:a'))?.mediaId, 'M');
  });
});

describe('media reuse with the service', () => {
  // Restored before the module closes (hooks run in the order they are registered).
  afterEach(() => {
    mock.restoreAll();
    mock.timers.reset();
  });
  const weixin = fakeWeixinPerTest();

  it('the LRU bound holds through the service: the least recently used content is uploaded again', async () => {
    const context = await weixin.module({ mediaCache: new InMemoryMediaCache(2) });
    const [a, b, c] = ['lru-a', 'lru-b', 'lru-c'].map((label) => distinctJpeg(label));
    const first = await context.service.uploadImage(a);
    await context.service.uploadImage(b);
    assert.equal((await context.service.uploadImage(a)).reused, true); // a is now more recent than b
    await context.service.uploadImage(c); // evicts b
    const uploads = weixin.fake.countRequests(UPLOAD);
    const againA = await context.service.uploadImage(a);
    assert.equal(againA.reused, true);
    assert.equal(againA.mediaId, first.mediaId);
    assert.equal((await context.service.uploadImage(c)).reused, true);
    assert.equal(weixin.fake.countRequests(UPLOAD), uploads);
    assert.equal((await context.service.uploadImage(b)).reused, false);
    assert.equal(weixin.fake.countRequests(UPLOAD), uploads + 1);
  });

  it('answers the cached media_id until an hour before the media expires, then uploads again', async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const context = await weixin.module();
    const content = distinctJpeg('margin');
    const first = await context.service.uploadImage(content);
    const created = first.createdAt.getTime();
    assert.equal(first.expiresAt.getTime(), created + MEDIA_LIFETIME_MS);

    // One minute before the margin: still answered from the cache, with the media's own times.
    mock.timers.tick(created + MEDIA_LIFETIME_MS - HOUR_MS - 60_000 - Date.now());
    const reused = await context.service.uploadImage(content);
    assert.equal(reused.reused, true);
    assert.equal(reused.mediaId, first.mediaId);
    assert.equal(reused.expiresAt.getTime(), first.expiresAt.getTime());
    assert.equal(weixin.fake.countRequests(UPLOAD), 1);

    // Past the margin (the media itself still has almost an hour): a fresh upload, then reuse of that.
    mock.timers.tick(2 * 60_000);
    const fresh = await context.service.uploadImage(content);
    assert.equal(fresh.reused, false);
    assert.notEqual(fresh.mediaId, first.mediaId);
    assert.equal(weixin.fake.countRequests(UPLOAD), 2);
    const reusedFresh = await context.service.uploadImage(content);
    assert.equal(reusedFresh.mediaId, fresh.mediaId);
  });

  it('reuse: false neither reads nor writes the cache; the next call still uploads', async () => {
    const cache = new RecordingMediaCache();
    const context = await weixin.module({ mediaCache: cache });
    const content = distinctJpeg('no-reuse');
    const forced = await context.service.uploadImage(content, { reuse: false });
    assert.equal(forced.reused, false);
    assert.deepEqual(cache.calls, []);
    const normal = await context.service.uploadImage(content);
    assert.equal(normal.reused, false);
    assert.notEqual(normal.mediaId, forced.mediaId);
    assert.deepEqual(cache.calls, ['get image', 'set image']);
    assert.equal((await context.service.uploadImage(content)).reused, true);
    assert.equal((await context.service.uploadImage(content, { reuse: false })).reused, false);
    assert.equal(weixin.fake.countRequests(UPLOAD), 3);
  });

  it('mediaCache: false uploads identical content every time', async () => {
    const context = await weixin.module({ mediaCache: false });
    const content = distinctJpeg('no-cache');
    // One after another: uploads at the same time share one upload even without a cache (media-upload/).
    const results: TemporaryMedia[] = [];
    for (const _ of [1, 2, 3]) results.push(await context.service.uploadImage(content));
    assert.equal(new Set(results.map((media) => media.mediaId)).size, 3);
    assert.ok(results.every((media) => !media.reused));
    assert.equal(weixin.fake.countRequests(UPLOAD), 3);
  });

  it('a custom MediaCache is used as given', async () => {
    const calls: string[] = [];
    const custom: MediaCache = {
      get: async (key) => (calls.push(`get ${key}`), undefined),
      set: async (key) => void calls.push(`set ${key}`),
      deleteByMediaId: async () => undefined,
    };
    const context = await weixin.module({ mediaCache: custom });
    await context.service.uploadVoice(mediaFixture('voice-speech.amr'));
    assert.equal(calls.length, 2);
    assert.match(calls[0], new RegExp(`^get ${weixin.fake.appId}:voice:[0-9a-f]{64}$`));
    assert.equal(calls[1], calls[0].replace('get', 'set'));
  });

  it('a stream source is read once: hashed while it is spooled, the spool read only to upload', async () => {
    const context = await weixin.module();
    const content = largeJpeg('stream-once');
    const reads = fileReads();
    let pulls = 0;
    const source = () =>
      new Readable({
        read() {
          pulls++;
          this.push(pulls % 2 ? content : null); // one chunk, then the end
        },
      });
    const first = await context.service.uploadImage(source());
    assert.equal(first.reused, false);
    const rules = await rulesReads(reads, () => context.service.inspect('image', Readable.from([content])));
    assert.ok(
      reads.bytes <= content.length + rules,
      `the spooled copy is read once, for the upload, not again for the hash ` +
        `(${reads.bytes} bytes: ${content.length} + ${rules} for the rules at most)`,
    );
    assert.ok(weixin.fake.getMedia(first.mediaId)!.data.equals(content));

    reads.bytes = 0;
    const again = await context.service.uploadImage(source());
    assert.equal(again.reused, true);
    assert.equal(again.mediaId, first.mediaId);
    assert.ok(
      reads.bytes <= rules,
      `a reuse hit reads back only what the rules need (${reads.bytes} bytes), not the spool`,
    );
    assert.equal(pulls, 4, 'each source stream was pulled to its end once');
  });

  it('a small file is read once for the rules, the hash and the upload; a hit hashes nothing', async () => {
    const context = await weixin.module();
    // A fresh copy: a file this process hashed before would already be in the digest memo.
    const path = join(mkdtempSync(join(tmpdir(), 'reuse-reads-')), 'voice.mp3');
    copyFileSync(mediaFixture('voice-speech.mp3'), path);
    const size = statSync(path).size;
    const reads = fileReads();

    await context.service.uploadVoice(path, { reuse: false });
    assert.equal(reads.bytes, size, 'reuse: false: the file is read once');
    reads.bytes = 0;
    const first = await context.service.uploadVoice(path);
    assert.equal(reads.bytes, size, 'a miss: one read serves the rules, the hash and the upload');
    reads.bytes = 0;
    const hit = await context.service.uploadVoice(path);
    assert.equal(hit.mediaId, first.mediaId);
    assert.equal(hit.reused, true);
    assert.equal(reads.bytes, size, 'a hit: read once at opening, the digest remembered by file identity');
  });

  it('a large new file is hashed before it uploads, so a copy of it is answered without any request', async () => {
    const context = await weixin.module();
    const dir = mkdtempSync(join(tmpdir(), 'reuse-reads-'));
    const image = largeJpeg('hash-before-sending');
    const path = join(dir, 'large.jpg');
    writeFileSync(path, image);
    const reads = fileReads();
    const rules = await rulesReads(reads, () => context.service.inspect('image', path));

    const first = await context.service.uploadImage(path);
    assert.equal(first.reused, false);
    assert.ok(weixin.fake.getMedia(first.mediaId)!.data.equals(image));
    assert.ok(
      reads.bytes <= 2 * image.length + rules,
      `the new file is read to be hashed, then to be sent (${reads.bytes} bytes: 2 × ${image.length} + ${rules})`,
    );

    // The same file again: its digest is remembered by file identity, so no request starts.
    const uploads = weixin.fake.countRequests(UPLOAD_PATH);
    reads.bytes = 0;
    const again = await context.service.uploadImage(path);
    assert.deepEqual([again.reused, again.mediaId], [true, first.mediaId]);
    assert.equal(
      weixin.fake.countRequests(UPLOAD_PATH),
      uploads,
      'a known digest answers before any request',
    );
    assert.ok(reads.bytes <= rules, `only the rules read the file (${reads.bytes} bytes)`);

    // The same content under a new name (a new file identity): hashed first, found, never sent.
    const copy = join(dir, 'copy.jpg');
    copyFileSync(path, copy);
    reads.bytes = 0;
    const copied = await context.service.uploadImage(copy);
    assert.deepEqual([copied.reused, copied.mediaId], [true, first.mediaId]);
    assert.ok(
      reads.bytes <= image.length + rules,
      `the copy is read once, to hash it (${reads.bytes} bytes)`,
    );
    assert.equal(weixin.fake.countRequests(UPLOAD_PATH), uploads, 'the copy started no upload');
  });
});
