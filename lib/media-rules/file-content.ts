import fs, { type BigIntStats } from 'node:fs';
import { Readable } from 'node:stream';
import type { MediaContent } from './media-content';

export interface FileContent extends MediaContent {
  /**
   * Which file and which version of it: device, inode, size and change times to the nanosecond. Equal
   * identities mean equal content, unless someone rewrote the file and reset both of its times.
   */
  readonly identity: string;
  /**
   * The whole content from its first byte, read through the descriptor already open (the file is never
   * opened twice), `chunkBytes` at a time. Any number of these, one after another; `close` still closes.
   */
  stream(chunkBytes: number): Readable;
  /** Reads the whole content into `buffer` (at least `size` bytes); answers the part holding it. */
  readInto(buffer: Buffer): Promise<Buffer>;
  /** Closes the descriptor; once, however often it is called. */
  close(): Promise<void>;
}

/**
 * What a stream reads through: the descriptor stays ours. A destroyed stream closes its descriptor even
 * with `autoClose: false`; here that close is a no-op, and `close()` below closes it once.
 */
const streamFs = {
  open: (...args: Parameters<typeof fs.open>) => fs.open(...args),
  read: (...args: Parameters<typeof fs.read>) => fs.read(...args),
  close: (_fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => callback(null),
};

/**
 * A file on disk read by position, so only the parts the rules need are read (a 10 MB video: a few box
 * headers). The size is the one at opening. Call `close` when done.
 *
 * The callback API on a plain descriptor: per upload it costs less than half of `fs/promises`' FileHandle
 * (whose every call goes through a promise made in C++).
 */
export async function openFileContent(path: string): Promise<FileContent> {
  const fd = await new Promise<number>((resolve, reject) =>
    fs.open(path, 'r', (error, opened) => (error ? reject(error) : resolve(opened))),
  );
  let closing: Promise<void> | undefined;
  const closeOnce = () =>
    (closing ??= new Promise<void>((resolve, reject) =>
      fs.close(fd, (error) => (error ? reject(error) : resolve())),
    ));
  try {
    const stats = await new Promise<BigIntStats>((resolve, reject) =>
      fs.fstat(fd, { bigint: true }, (error, result) => (error ? reject(error) : resolve(result))),
    );
    // A directory opens on Linux and fails only when read: refuse it here, as the system would on a read.
    if (!stats.isFile())
      throw Object.assign(new Error(`EISDIR: not a file, open '${path}'`), { code: 'EISDIR' });
    const size = Number(stats.size);
    /** Fills `buffer` from `start`; a positional read may return less than asked: stop early only at the end. */
    const readAt = async (buffer: Buffer, start: number): Promise<Buffer> => {
      let filled = 0;
      while (filled < buffer.length) {
        const bytesRead = await new Promise<number>((resolve, reject) =>
          fs.read(fd, buffer, filled, buffer.length - filled, start + filled, (error, count) =>
            error ? reject(error) : resolve(count),
          ),
        );
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    };
    return {
      size,
      identity: [stats.dev, stats.ino, stats.size, stats.mtimeNs, stats.ctimeNs].join(':'),
      read: (offset, length) => {
        const start = Math.max(0, offset);
        return readAt(Buffer.allocUnsafe(Math.max(0, Math.min(length, size - start))), start);
      },
      readInto: (buffer) => readAt(buffer.subarray(0, size), 0),
      stream: (chunkBytes) =>
        size === 0
          ? Readable.from([])
          : fs.createReadStream('', {
              fd,
              fs: streamFs,
              start: 0,
              end: Math.max(0, size - 1),
              autoClose: false,
              highWaterMark: Math.max(1, Math.min(size, chunkBytes)),
            }),
      close: closeOnce,
    };
  } catch (error) {
    await closeOnce();
    throw error;
  }
}
