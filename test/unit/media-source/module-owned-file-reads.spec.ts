import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileDigestMemo } from '../../../lib/media-source/file-digest-memo';
import { openMediaSource, type OpenMediaOptions } from '../../../lib/media-source/open-media-source';
import { WholeFileReads } from '../../../lib/media-source/whole-file-reads';
import { openDescriptors } from '../../support/open-descriptors';
import { mediaFixture } from '../../support/paths';

/**
 * The budget of files read whole and the memo of file digests belong to whoever opens the file (each
 * module's service has its own): nothing about a file is shared by the process.
 */
describe('file reads owned by the module', () => {
  const dir = mkdtempSync(join(tmpdir(), 'owned-reads-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

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
    assert.equal(first.knownSha256(), undefined, 'a fresh file: not known before it is read');
    const digest = await first.sha256();
    await first.close();

    const again = await opened(path, { fileDigests: mine });
    assert.equal(again.knownSha256(), digest, 'the same memo knows this file version without a read');
    await again.close();

    const elsewhere = await opened(path, { fileDigests: theirs });
    assert.equal(elsewhere.knownSha256(), undefined, "another module's memo never learned it");
    assert.equal(await elsewhere.sha256(), digest);
    await elsewhere.close();

    const alone = await opened(path, {});
    assert.equal(alone.knownSha256(), undefined, 'no memo given: nothing is remembered by the process');
    alone.learnSha256(digest);
    assert.equal(alone.knownSha256(), digest, 'a digest learned while sending is known to this opening');
    await alone.close();
  });
});
