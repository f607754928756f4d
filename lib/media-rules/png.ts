import { ContentWindow } from './content-window';
import { DamagedMediaError } from '../errors/damaged-media.error';
import type { MediaContent } from './media-content';

/**
 * PNG: the 8-byte signature, the IHDR chunk that every decoder needs first, then chunks up to the first
 * IDAT (the image data). Ancillary chunks before it (ICC profiles, text, EXIF) may be large, so the walk
 * jumps over them by their lengths instead of reading them.
 */

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const IHDR_END = 8 + 8 + 13;
const BIT_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};
/** The PNG specification's bound on a chunk's length; decoders stop at a larger one. */
const MAX_CHUNK_LENGTH = 0x7fffffff;
const MAX_CHUNKS = 1024;
const WINDOW_BYTES = 4096;

export interface PngHeader {
  width: number;
  height: number;
}

/**
 * Reads IHDR and walks the chunks to the first IDAT, so a file whose image data no decoder reaches is
 * refused. Chunk CRCs and the image data are not checked: Weixin takes the file as it is, and a viewer
 * shows what it can. `head` is the content's first bytes, already read.
 */
export async function readPngHeader(content: MediaContent, head: Buffer): Promise<PngHeader> {
  const header = readIhdr(head);
  const window = new ContentWindow(content, WINDOW_BYTES, head);
  let offset = IHDR_END + 4; // past the IHDR chunk's CRC
  for (let chunks = 0; chunks < MAX_CHUNKS; chunks++) {
    const chunk = await window.bytesAt(offset, 8);
    if (chunk.length < 8) {
      throw new DamagedMediaError(`it ends at byte ${content.size}, before its image data (IDAT)`);
    }
    const length = chunk.readUInt32BE(0);
    const type = chunk.toString('latin1', 4, 8);
    if (!/^[A-Za-z]{4}$/.test(type)) {
      throw new DamagedMediaError(`byte ${offset} should start a chunk but its type is not four letters`);
    }
    if (length > MAX_CHUNK_LENGTH) {
      throw new DamagedMediaError(
        `its ${type} chunk at byte ${offset} declares ${length} bytes, over the PNG limit of ` +
          `${MAX_CHUNK_LENGTH} (2^31 - 1), so no decoder reaches its image data`,
      );
    }
    if (type === 'IDAT') return header;
    if (type === 'IEND') {
      throw new DamagedMediaError(`it ends (IEND) at byte ${offset}, before any image data (IDAT)`);
    }
    offset += 12 + length; // length, type, data, CRC
  }
  throw new DamagedMediaError(`it has more than ${MAX_CHUNKS} chunks before its image data (IDAT)`);
}

function readIhdr(head: Buffer): PngHeader {
  if (head.length < IHDR_END) {
    throw new DamagedMediaError(`it ends at byte ${head.length}, inside its header (IHDR)`);
  }
  if (head.readUInt32BE(8) !== 13 || head.toString('latin1', 12, 16) !== 'IHDR') {
    throw new DamagedMediaError('its first chunk is not the IHDR header chunk');
  }
  const width = head.readUInt32BE(16);
  const height = head.readUInt32BE(20);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new DamagedMediaError(`its header gives an impossible size of ${width} × ${height} pixels`);
  }
  const bitDepth = head[24];
  const colorType = head[25];
  if (!BIT_DEPTHS[colorType]?.includes(bitDepth)) {
    throw new DamagedMediaError(`its header gives colour type ${colorType} with bit depth ${bitDepth}`);
  }
  return { width, height };
}
