import fs, { type BigIntStats } from 'node:fs';
import type { MediaChunks, MediaContent } from './media-content';

const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

export interface FileContent extends MediaContent {
  /**
   * Which file and which version of it: device, inode, size and change times to the nanosecond. Equal
   * identities mean equal content, unless someone rewrote the file and reset both of its times.
   */
  readonly identity: string;
  /**
   * The whole content from its first byte, read through the descriptor already open (the file is never
   * opened twice), `chunkBytes` at a time into two buffers in turn (see `MediaChunks`): an upload of any
   * size holds two chunks, and leaves no garbage per chunk. Any number of these; `close` still closes.
   */
  chunks(chunkBytes: number): MediaChunks;
  readInto(buffer: Buffer, offset: number): Promise<Buffer>;
  /** Closes the descriptor; once, however often it is called. */
  close(): Promise<void>;
}

/**
 * A file on disk read by position, so only the parts the rules need are read (a 10 MB video: a few box
 * headers). The size is the one at opening. Call `close` when done.
 *
 * The callback API on a plain descriptor: per upload it costs less than half of `fs/promises`' FileHandle
 * (whose every call goes through a promise made in C++).
 */
export async function openFileContent(path: string): Promise<FileContent> {
  // Non-blocking: opening a FIFO for reading waits for a writer, holding a libuv thread for good. A
  // regular file reads the same either way; anything else is refused below, once its type is known.
  const fd = await new Promise<number>((resolve, reject) =>
    fs.open(path, OPEN_FLAGS, (error, opened) => (error ? reject(error) : resolve(opened))),
  );
  // A read still in flight when the upload ends (a chunk read ahead) finishes before the descriptor
  // closes: it never meets a closed descriptor, or another file's that took its number.
  let readsInFlight = 0;
  let whenNoReads: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  const closeOnce = () =>
    (closing ??= (async () => {
      if (readsInFlight > 0) await new Promise<void>((resolve) => (whenNoReads = resolve));
      await new Promise<void>((resolve, reject) =>
        fs.close(fd, (error) => (error ? reject(error) : resolve())),
      );
    })());
  try {
    const stats = await new Promise<BigIntStats>((resolve, reject) =>
      fs.fstat(fd, { bigint: true }, (error, result) => (error ? reject(error) : resolve(result))),
    );
    // A directory opens on Linux and fails only when read: refuse it here, as the system would on a read.
    if (stats.isDirectory())
      throw Object.assign(new Error(`EISDIR: not a file, open '${path}'`), { code: 'EISDIR' });
    // A FIFO, socket or device has no size and may never end (BSD's code for a file of the wrong type).
    if (!stats.isFile())
      throw Object.assign(new Error(`EFTYPE: not a regular file, open '${path}'`), { code: 'EFTYPE' });
    const size = Number(stats.size);
    /** Fills `buffer` from `start`; a positional read may return less than asked: stop early only at the end. */
    const readAt = async (buffer: Buffer, start: number): Promise<Buffer> => {
      if (closing) throw Object.assign(new Error('EBADF: the file is closed'), { code: 'EBADF' });
      readsInFlight++;
      try {
        return await fill(buffer, start);
      } finally {
        if (--readsInFlight === 0) whenNoReads?.();
      }
    };
    const fill = async (buffer: Buffer, start: number): Promise<Buffer> => {
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
      readInto: (buffer, offset) => {
        const start = Math.max(0, offset);
        return readAt(buffer.subarray(0, Math.max(0, size - start)), start);
      },
      chunks: async function* (chunkBytes) {
        const buffers: Buffer[] = [];
        for (let position = 0, turn = 0; position < size; turn++) {
          const buffer = (buffers[turn % 2] ??= Buffer.allocUnsafeSlow(
            Math.max(1, Math.min(size, chunkBytes)),
          ));
          const chunk = await readAt(buffer.subarray(0, size - position), position);
          // The file shrank since it was opened: the content ends early, and the reader sees it.
          if (chunk.length === 0) return;
          position += chunk.length;
          yield chunk;
        }
      },
      close: closeOnce,
    };
  } catch (error) {
    await closeOnce();
    throw error;
  }
}
