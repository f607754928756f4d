import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WholeFileReads } from '../../lib/media-source/whole-file-reads';

describe('WholeFileReads', () => {
  it('lets small files be read whole while the budget lasts, then streams them', () => {
    const reads = new WholeFileReads(100, 250);
    const first = reads.take(100);
    const second = reads.take(100);
    assert.ok(first && second);
    assert.equal(reads.take(100), undefined, '300 bytes would pass the budget of 250: streamed');
    assert.ok(reads.take(50), 'what still fits is read whole');
    assert.equal(reads.take(101), undefined, 'over the size of a whole read: streamed');
    first();
    first(); // a second release changes nothing
    assert.equal(reads.heldBytes, 150);
    assert.ok(reads.take(100));
  });
});
