import assert from 'node:assert/strict';
// The module object itself (not a namespace copy), so a spy sees the library's calls.
import fs, { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, it, mock } from 'node:test';
import { InMemoryMediaCache, MEDIA_LIFETIME_MS, type CachedMedia, type MediaCache } from '../../lib';
import { fakeWeixinPerTest } from '../support/fake-weixin-hooks';
import { distinctJpeg } from '../support/fleet';
import { mediaFixture } from '../support/paths';

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

  it('deleteByMediaId forgets every key answering that id', async () => {
    const cache = new InMemoryMediaCache();
    await cache.set('a', entry('M'));
    await cache.set('b', entry('M'));
    await cache.set('c', entry('N'));
    await cache.deleteByMediaId('M');
    assert.equal(cache.size, 1);
    assert.equal((await cache.get('c'))?.mediaId, 'N');
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
    const results = await Promise.all([1, 2, 3].map(() => context.service.uploadImage(content)));
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
    const content = distinctJpeg('stream-once');
    const reads = mock.method(fs, 'createReadStream');
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
    const spoolReads = reads.mock.calls.filter((call) => String(call.arguments[0]).startsWith(tmpdir()));
    assert.equal(
      spoolReads.length,
      1,
      'the spooled copy is read once, for the upload (not again for the hash)',
    );
    assert.ok(weixin.fake.getMedia(first.mediaId)!.data.equals(content));

    reads.mock.resetCalls();
    const again = await context.service.uploadImage(source());
    assert.equal(again.reused, true);
    assert.equal(again.mediaId, first.mediaId);
    assert.equal(
      reads.mock.callCount(),
      0,
      'a reuse hit reads nothing back: the hash came from the spooling pass',
    );
    assert.equal(pulls, 4, 'each source stream was pulled to its end once');
  });

  it('a file is read once to hash it; a hit reads nothing more, reuse: false does not hash at all', async () => {
    const context = await weixin.module();
    // A fresh copy: a file this process hashed before would already be in the digest memo.
    const path = join(mkdtempSync(join(tmpdir(), 'reuse-reads-')), 'voice.mp3');
    copyFileSync(mediaFixture('voice-speech.mp3'), path);
    const reads = mock.method(fs, 'createReadStream');
    const count = () => reads.mock.calls.filter((call) => call.arguments[0] === path).length;

    await context.service.uploadVoice(path, { reuse: false });
    assert.equal(count(), 1, 'reuse: false: only the upload reads the file');
    reads.mock.resetCalls();
    const first = await context.service.uploadVoice(path);
    assert.equal(count(), 2, 'a miss: the hash (needed before any network call), then the upload');
    reads.mock.resetCalls();
    const hit = await context.service.uploadVoice(path);
    assert.equal(hit.mediaId, first.mediaId);
    assert.equal(count(), 0, 'a hit: the digest is remembered by file identity, nothing is read again');
  });
});
