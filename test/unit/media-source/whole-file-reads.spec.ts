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

  it('gives a released large buffer to the next read of its size class, within the budget', () => {
    const reads = new WholeFileReads(2 * 1024 * 1024, 4 * 1024 * 1024);
    const first = reads.take(1_000_000)!;
    assert.equal(first.buffer.length, 1024 * 1024, 'rounded up to its power of two');
    first.release();
    const second = reads.take(1_048_000)!;
    assert.equal(second.buffer, first.buffer, 'the same memory, no new allocation');
    const third = reads.take(1_000_000)!;
    assert.notEqual(third.buffer, first.buffer, 'a buffer in use is never handed out twice');
    second.release();
    third.release();
    assert.equal(reads.heldBytes, 0);
  });

  it('keeps thumb-sized buffers too (from 16 KiB), and never smaller ones', () => {
    const reads = new WholeFileReads();
    const thumb = reads.take(65_536)!;
    thumb.release();
    assert.equal(reads.take(40_000)!.buffer, thumb.buffer, 'a 64 KB thumb buffer serves the next thumb');
    const tiny = reads.take(8_000)!;
    assert.equal(tiny.buffer.length, 8_000, 'not rounded up: not kept');
    tiny.release();
    assert.notEqual(reads.take(8_000)!.buffer, tiny.buffer);
  });
});
