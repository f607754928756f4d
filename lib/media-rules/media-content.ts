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
}

export function bufferContent(buffer: Buffer): MediaContent {
  return {
    size: buffer.length,
    inMemory: true,
    read: async (offset, length) => buffer.subarray(offset, Math.min(buffer.length, offset + length)),
  };
}
