import { DamagedMediaError } from './damaged-media.error';

/** PNG: the 8-byte signature, then the IHDR chunk that every decoder needs first. */

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const IHDR_END = 8 + 8 + 13;
const BIT_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

export interface PngHeader {
  width: number;
  height: number;
}

/**
 * Reads IHDR from the file's first bytes. Chunk CRCs and the image data are not checked: Weixin takes the
 * file as it is, and a viewer shows what it can.
 */
export function readPngHeader(head: Buffer): PngHeader {
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
