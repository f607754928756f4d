import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
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
  close(): Promise<void>;
}

/**
 * A file on disk read by position, so only the parts the rules need are read (a 10 MB video: a few box
 * headers). The size is the one at opening. Call `close` when done.
 */
export async function openFileContent(path: string): Promise<FileContent> {
  const handle = await open(path, 'r');
  try {
    const stats = await handle.stat({ bigint: true });
    // A directory opens on Linux and fails only when read: refuse it here, as the system would on a read.
    if (!stats.isFile())
      throw Object.assign(new Error(`EISDIR: not a file, open '${path}'`), { code: 'EISDIR' });
    const size = Number(stats.size);
    return {
      size,
      identity: [stats.dev, stats.ino, stats.size, stats.mtimeNs, stats.ctimeNs].join(':'),
      read: async (offset, length) => {
        const start = Math.max(0, offset);
        const wanted = Math.max(0, Math.min(length, size - start));
        const buffer = Buffer.allocUnsafe(wanted);
        let filled = 0;
        // A positional read may return less than asked; stop early only at the end of the file.
        while (filled < wanted) {
          const { bytesRead } = await handle.read(buffer, filled, wanted - filled, start + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return buffer.subarray(0, filled);
      },
      stream: (chunkBytes) =>
        size === 0
          ? Readable.from([])
          : createReadStream(path, {
              fd: handle,
              start: 0,
              end: Math.max(0, size - 1),
              autoClose: false,
              highWaterMark: Math.max(1, Math.min(size, chunkBytes)),
            }),
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
