/**
 * Random access to a file's bytes, whatever it came from (a Buffer, a file on disk, a spooled stream).
 * The rules read only what they need: headers for images and video, frames for voice.
 */
export interface MediaContent {
  /** Total size in bytes. */
  readonly size: number;
  /** Held in memory: a read costs only the bytes asked for, so readers ask for no more (no read-ahead). */
  readonly inMemory?: boolean;
  /** Reads up to `length` bytes at `offset`; fewer at the end of the content. */
  read(offset: number, length: number): Promise<Buffer>;
  /**
   * Fills `buffer` with the bytes from `offset` (fewer at the end of the content) and answers the part
   * filled: a reader that reads again and again may reuse its memory instead of leaving garbage per read.
   */
  readInto?(buffer: Buffer, offset: number): Promise<Buffer>;
}

/**
 * Content from its first byte, a chunk at a time. A reader may read into a chunk's memory again at the
 * second `next()` after the one that answered it: whoever holds a chunk longer (a socket still writing it)
 * asks for the chunk after next only once done with it.
 */
export type MediaChunks = AsyncIterableIterator<Buffer>;

/** A buffer as chunks: itself, whole (nothing for an empty one). */
export async function* bufferChunks(buffer: Buffer): AsyncGenerator<Buffer> {
  if (buffer.length > 0) yield buffer;
}

export function bufferContent(buffer: Buffer): MediaContent {
  return {
    size: buffer.length,
    inMemory: true,
    read: async (offset, length) => buffer.subarray(offset, Math.min(buffer.length, offset + length)),
  };
}
