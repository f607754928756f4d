import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it, mock } from 'node:test';
import { FileDigestMemo } from '../../../lib/media-source/file-digest-memo';
import { openMediaSource, type OpenMediaOptions } from '../../../lib/media-source/open-media-source';
import { WholeFileReads } from '../../../lib/media-source/whole-file-reads';
import { openDescriptors } from '../../support/open-descriptors';
import { fileReads } from '../../support/file-reads';
import { mediaFixture } from '../../support/paths';

/**
 * The budget of files read whole and the memo of file digests belong to whoever opens the file (each
 * module's service has its own): nothing about a file is shared by the process.
 */
describe('file reads owned by the module', () => {
  const dir = mkdtempSync(join(tmpdir(), 'owned-reads-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => mock.restoreAll());

  /** The bytes read to answer the opening's digest. */
  async function hashed(media: { sha256(): Promise<string> }, digest?: string): Promise<number> {
    const reads = fileReads();
    const answered = await media.sha256();
    mock.restoreAll();
    if (digest) assert.equal(answered, digest);
    return reads.bytes;
  }

  function freshCopy(name: string): string {
    const path = join(dir, `${Math.random().toString(36).slice(2)}-${name}`);
    copyFileSync(mediaFixture(name), path);
    return path;
  }

  async function opened(path: string, options: OpenMediaOptions) {
    return openMediaSource(path, 'image', options);
  }

  it('reads a small file whole only within the budget it is given', async () => {
    const path = freshCopy('image.jpg');
    const roomy = new WholeFileReads();
    const spent = new WholeFileReads(2 * 1024 * 1024, 0);

    const whole = await opened(path, { wholeFileReads: roomy });
    assert.equal(whole.content.inMemory, true);
    assert.ok(roomy.heldBytes >= whole.content.size, 'held in the roomy budget');
    assert.ok(!openDescriptors().includes(path), 'read whole: its descriptor is closed at once');
    await whole.close();
    assert.equal(roomy.heldBytes, 0);

    const streamed = await opened(path, { wholeFileReads: spent });
    assert.notEqual(streamed.content.inMemory, true, 'a budget of 0 streams it, whatever other budgets hold');
    assert.ok(openDescriptors().includes(path), 'read by position through its open descriptor');
    await streamed.close();

    const unbudgeted = await opened(path, {});
    assert.notEqual(unbudgeted.content.inMemory, true, 'no budget given: read by position');
    await unbudgeted.close();
    assert.ok(!openDescriptors().includes(path));
  });

  it('knows the digest of a file read before only through the memo that learned it', async () => {
    const path = freshCopy('image.png');
    const mine = new FileDigestMemo();
    const theirs = new FileDigestMemo();

    const first = await opened(path, { fileDigests: mine });
    const digest = await first.sha256();
    await first.close();

    const again = await opened(path, { fileDigests: mine });
    assert.equal(await hashed(again, digest), 0, 'the same memo knows this file version without a read');
    await again.close();

    const elsewhere = await opened(path, { fileDigests: theirs });
    assert.ok((await hashed(elsewhere, digest)) > 0, "another module's memo never learned it: read again");
    await elsewhere.close();

    const alone = await opened(path, {});
    assert.ok((await hashed(alone, digest)) > 0, 'no memo given: nothing is remembered by the process');
    assert.equal(await hashed(alone, digest), 0, 'the opening hashes its file once');
    await alone.close();
  });
});
