import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WholeFileReads } from '../../../lib/media-source/whole-file-reads';

describe('WholeFileReads', () => {
  it('lets small files be read whole while the budget lasts, then streams them', () => {
    const reads = new WholeFileReads(1000, 250);
    const first = reads.take(100);
    const second = reads.take(100);
    assert.ok(first && second);
    assert.ok(first.buffer.length >= 100);
    assert.equal(reads.take(100), undefined, '300 bytes would pass the budget of 250: streamed');
    assert.ok(reads.take(50), 'what still fits is read whole');
    assert.equal(reads.take(1001), undefined, 'over the size of a whole read: streamed');
    first.release();
    first.release(); // a second release changes nothing
    assert.equal(reads.heldBytes, 150);
    assert.ok(reads.take(100));
  });

  it("gives every read its own buffer of the file's size: one released is never handed out again", () => {
    const reads = new WholeFileReads(2 * 1024 * 1024, 4 * 1024 * 1024);
    const first = reads.take(1_000_000)!;
    assert.equal(first.buffer.length, 1_000_000, 'exactly the file, nothing rounded up');
    first.buffer.fill(1);
    first.release();
    const second = reads.take(1_000_000)!;
    assert.notEqual(
      second.buffer.buffer,
      first.buffer.buffer,
      'new memory: what the first read handed out stays',
    );
    assert.equal(first.buffer[0], 1);
    second.release();
    assert.equal(reads.heldBytes, 0);
  });
});
