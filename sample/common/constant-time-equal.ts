import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in time that depends on neither: both are hashed first, so their lengths
 * leak nothing and `timingSafeEqual` always gets equal-length input.
 */
export function constantTimeEqual(given: string, expected: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
