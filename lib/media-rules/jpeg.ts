import { DamagedMediaError } from '../errors/damaged-media.error';
import { ContentWindow } from './content-window';
import type { MediaContent } from './media-content';
import { OtherFormatError } from '../errors/other-format.error';

/**
 * JPEG: SOI, then marker segments up to the frame header (SOF). EXIF, ICC profiles and other APPn segments
 * may come first and run to 64 KB each, so the walk reads by segment instead of assuming a small header.
 */

const WINDOW_BYTES = 64 * 1024;
const MAX_SEGMENTS = 1024;
const FILL_RUN_BYTES = 4096;
/** SOF55: the frame header of JPEG-LS (ITU-T T.87), another codec behind the same SOI. */
const JPEG_LS_FRAME = 0xf7;

export interface JpegHeader {
  width: number;
  height: number;
  progressive: boolean;
}

/** SOF0-3, 5-7, 9-11, 13-15: every frame header (C4 is DHT, C8 JPG, CC DAC). */
function isFrameHeader(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Walks the segments to the frame header. The scan data after it is not read. */
export async function readJpegHeader(content: MediaContent): Promise<JpegHeader> {
  const window = new ContentWindow(content, WINDOW_BYTES);
  const bytesAt = (offset: number, length: number) => window.bytesAt(offset, length);

  let offset = 2;
  for (let segments = 0; segments < MAX_SEGMENTS; segments++) {
    const marker = await bytesAt(offset, 4);
    if (marker.length < 2) {
      throw new DamagedMediaError(`it ends at byte ${content.size}, before its frame header (SOF)`);
    }
    if (marker[0] !== 0xff) {
      throw new DamagedMediaError(`byte ${offset} should start a marker segment but is 0x${hex(marker[0])}`);
    }
    const code = marker[1];
    if (code === 0xff) {
      // Fill bytes before a marker: skip the run in one read, keeping its last 0xFF as the marker's.
      const run = await bytesAt(offset + 1, FILL_RUN_BYTES);
      const fill = run.findIndex((byte) => byte !== 0xff);
      offset += fill < 0 ? run.length : fill;
      continue;
    }
    if (code === 0x01 || (code >= 0xd0 && code <= 0xd7)) {
      offset += 2; // TEM and RSTn stand alone
      continue;
    }
    if (code === 0x00 || code === 0xd8 || code === 0xd9 || code === 0xda) {
      const what =
        code === 0xda ? 'its image data starts' : code === 0xd9 ? 'it ends (EOI)' : 'a stray marker comes';
      throw new DamagedMediaError(`${what} at byte ${offset}, before its frame header (SOF)`);
    }
    if (marker.length < 4) {
      throw new DamagedMediaError(`it ends at byte ${content.size}, before its frame header (SOF)`);
    }
    const length = marker.readUInt16BE(2);
    if (length < 2) {
      throw new DamagedMediaError(`the segment at byte ${offset} has an impossible length of ${length}`);
    }
    if (code === JPEG_LS_FRAME) throw new OtherFormatError('a JPEG-LS image');
    if (isFrameHeader(code)) {
      const frame = await bytesAt(offset + 4, 6);
      if (frame.length < 6 || length < 8) {
        throw new DamagedMediaError(`its frame header (SOF) at byte ${offset} is cut short`);
      }
      const width = frame.readUInt16BE(3);
      if (width === 0 || frame[5] === 0) {
        throw new DamagedMediaError(`its frame header (SOF) gives width ${width} and ${frame[5]} components`);
      }
      const progressive = code === 0xc2 || code === 0xc6 || code === 0xca;
      return { width, height: frame.readUInt16BE(1), progressive };
    }
    offset += 2 + length;
  }
  throw new DamagedMediaError(`it has more than ${MAX_SEGMENTS} segments before its frame header (SOF)`);
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
