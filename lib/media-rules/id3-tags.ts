/**
 * Tags that wrap MP3 audio without being audio: ID3v2 at the start (and, rarely, at the end with a footer),
 * APEv2, Lyrics3v2 and ID3v1 at the end. Skipping them by their declared sizes keeps cover art and lyrics
 * out of the frame walk, where their bytes could pass for frame headers.
 */

const ID3V2_HEADER_BYTES = 10;
const ID3V1_BYTES = 128;
const APE_FOOTER_BYTES = 32;
const LYRICS3_END = 'LYRICS200';

/** Length of the ID3v2 tag at `offset` (header, body and footer), or 0 when none starts there. */
export function id3v2TagLength(data: Buffer, offset = 0): number {
  if (offset + ID3V2_HEADER_BYTES > data.length) return 0;
  if (data[offset] !== 0x49 || data[offset + 1] !== 0x44 || data[offset + 2] !== 0x33) return 0;
  const major = data[offset + 3];
  if (major < 2 || major > 4 || data[offset + 4] === 0xff) return 0;
  const size = syncsafe(data, offset + 6);
  if (size < 0) return 0;
  // The footer flag exists from v2.4 on; unsynchronisation and extended headers are inside `size`.
  const footer = major === 4 && (data[offset + 5] & 0x10) !== 0 ? ID3V2_HEADER_BYTES : 0;
  return ID3V2_HEADER_BYTES + size + footer;
}

/** Where the audio starts: after every ID3v2 tag at the start (some taggers write more than one). */
export function skipLeadingId3v2(data: Buffer, offset = 0): number {
  for (let tags = 0; tags < 16; tags++) {
    const length = id3v2TagLength(data, offset);
    if (length === 0) break;
    offset += length;
  }
  return offset;
}

/** Where the audio ends: before ID3v1, APEv2, Lyrics3v2 and appended ID3v2 tags, in any order. */
export function audioEndBeforeTrailingTags(data: Buffer, start: number, end = data.length): number {
  for (let tags = 0; tags < 8; tags++) {
    const length = trailingTagLength(data, start, end);
    if (length === 0) break;
    end -= length;
  }
  return end;
}

function trailingTagLength(data: Buffer, start: number, end: number): number {
  const room = end - start;
  if (room >= ID3V1_BYTES && data.toString('latin1', end - ID3V1_BYTES, end - ID3V1_BYTES + 3) === 'TAG') {
    return ID3V1_BYTES;
  }
  if (room >= APE_FOOTER_BYTES && data.toString('latin1', end - 32, end - 24) === 'APETAGEX') {
    // The footer's size counts items and footer; the optional header (flag bit 31) comes on top.
    const size = data.readUInt32LE(end - 20);
    const hasHeader = (data.readUInt32LE(end - 12) & 0x80000000) !== 0;
    const length = size + (hasHeader ? APE_FOOTER_BYTES : 0);
    return length >= APE_FOOTER_BYTES && length <= room ? length : 0;
  }
  if (room >= 15 && data.toString('latin1', end - 9, end) === LYRICS3_END) {
    const size = Number(data.toString('latin1', end - 15, end - 9));
    const length = size + 15;
    const start = end - length;
    const begins = length <= room && data.toString('latin1', start, start + 11) === 'LYRICSBEGIN';
    return Number.isInteger(size) && begins ? length : 0;
  }
  if (room >= 20 && data.toString('latin1', end - 10, end - 7) === '3DI') {
    const size = syncsafe(data, end - 4);
    const length = size + 2 * ID3V2_HEADER_BYTES;
    return size >= 0 && length <= room ? length : 0;
  }
  return 0;
}

/** A 28-bit big-endian integer stored 7 bits a byte, or -1 when a byte has its top bit set. */
function syncsafe(data: Buffer, offset: number): number {
  const a = data[offset];
  const b = data[offset + 1];
  const c = data[offset + 2];
  const d = data[offset + 3];
  if ((a | b | c | d) & 0x80) return -1;
  return (a << 21) | (b << 14) | (c << 7) | d;
}
