import { DamagedMediaError } from '../errors/damaged-media.error';

/** GIF: `GIF87a`/`GIF89a`, then the logical screen descriptor. */

const HEADER_BYTES = 6 + 7;

export interface GifHeader {
  width: number;
  height: number;
}

/** Reads the logical screen size from the file's first bytes; the frames are Weixin's viewer's business. */
export function readGifHeader(head: Buffer): GifHeader {
  if (head.length < HEADER_BYTES) {
    throw new DamagedMediaError(`it ends at byte ${head.length}, inside its header`);
  }
  return { width: head.readUInt16LE(6), height: head.readUInt16LE(8) };
}
