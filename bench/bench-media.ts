import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const FIXTURES = join(__dirname, '../../test/fixtures/media');

/**
 * A valid JPEG of about `bytes`: the fixture photo with comment segments inserted after SOI,
 * so it passes every rule and is as large as the benchmark wants.
 */
export function jpegOfSize(bytes: number): Buffer {
  const photo = readFileSync(join(FIXTURES, 'image.jpg'));
  const segments: Buffer[] = [photo.subarray(0, 2)];
  let size = photo.length;
  while (size < bytes) {
    const payload = Math.min(65_533, bytes - size);
    const segment = Buffer.alloc(payload + 4, 0x20);
    segment.writeUInt16BE(0xfffe, 0);
    segment.writeUInt16BE(payload + 2, 2);
    segments.push(segment);
    size += segment.length;
  }
  segments.push(photo.subarray(2));
  return Buffer.concat(segments);
}

/** Runs `task` `total` times with at most `concurrency` at once; answers the elapsed milliseconds. */
export async function runConcurrently(
  total: number,
  concurrency: number,
  task: () => Promise<unknown>,
): Promise<number> {
  let started = 0;
  const begin = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < total) {
        started++;
        await task();
      }
    }),
  );
  return performance.now() - begin;
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
