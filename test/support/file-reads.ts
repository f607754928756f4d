import fs from 'node:fs';
import { mock } from 'node:test';

/** Counts the bytes `fs.read` reads (positional reads of a file's content) from now on; `mock.restoreAll()` ends it. */
export function fileReads(): { bytes: number } {
  const counter = { bytes: 0 };
  const read = fs.read;
  mock.method(fs, 'read', (...args: unknown[]) => {
    const callback = args.pop() as (error: Error | null, bytesRead: number, buffer: Buffer) => void;
    return (read as (...a: unknown[]) => void).call(
      fs,
      ...args,
      (error: Error | null, bytesRead: number, buffer: Buffer) => {
        counter.bytes += bytesRead || 0;
        callback(error, bytesRead, buffer);
      },
    );
  });
  return counter;
}
