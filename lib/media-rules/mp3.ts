import { DamagedMediaError } from '../errors/damaged-media.error';
import { audioEndBeforeTrailingTags, id3v2TagLength, skipLeadingId3v2 } from './id3-tags';

/**
 * MP3 (MPEG-1, MPEG-2 and MPEG-2.5 Layer III). The playing time is counted frame by frame: Xing/Info/VBRI
 * headers can be missing, stale or lie after a cut, and a 2 MB walk takes well under a millisecond.
 */

// Header bits: version 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5 (1 is reserved).
const SAMPLE_RATES: Record<number, readonly number[]> = {
  3: [44100, 48000, 32000],
  2: [22050, 24000, 16000],
  0: [11025, 12000, 8000],
};
const KBPS_MPEG1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0];
const KBPS_MPEG2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0];

/** Frame bytes without padding by `version << 6 | bitrateIndex << 2 | sampleRateIndex`; 0: not a frame. */
const FRAME_BYTES = new Uint16Array(256);
/** Playing time of one frame in ms, by `version << 2 | sampleRateIndex`. */
const FRAME_MS = new Float64Array(16);
for (const version of [0, 2, 3]) {
  const samples = version === 3 ? 1152 : 576;
  SAMPLE_RATES[version].forEach((rate, rateIndex) => {
    FRAME_MS[(version << 2) | rateIndex] = (samples * 1000) / rate;
    for (let bitrateIndex = 1; bitrateIndex < 15; bitrateIndex++) {
      const kbps = (version === 3 ? KBPS_MPEG1 : KBPS_MPEG2)[bitrateIndex];
      const bytes = Math.floor(((samples / 8) * kbps * 1000) / rate);
      FRAME_BYTES[(version << 6) | (bitrateIndex << 2) | rateIndex] = bytes;
    }
  });
}

/** The length of the Layer III frame whose header starts at `offset`, or 0 when none does. */
export function mp3FrameLengthAt(data: Buffer, offset: number): number {
  if (offset + 4 > data.length || data[offset] !== 0xff) return 0;
  const b1 = data[offset + 1];
  const b2 = data[offset + 2];
  // Sync (11 bits), a real version, layer III; then no reserved emphasis.
  if (!isLayer3Sync(b1) || (data[offset + 3] & 0x03) === 2) return 0;
  // Bitrate index 0 (free format) and 15 (bad) stay 0 in the table, as does sample-rate index 3.
  const length = FRAME_BYTES[(((b1 >> 3) & 3) << 6) | ((b2 >> 4) << 2) | ((b2 >> 2) & 3)];
  return length === 0 ? 0 : length + ((b2 >> 1) & 1);
}

/**
 * True when `frames` Layer III frames of one stream follow each other from `offset`; the last one's header
 * must lie in `data`, its body may lie beyond.
 */
export function startsMp3FrameRun(data: Buffer, offset: number, frames: number): boolean {
  const key = offset + 4 <= data.length ? streamKeyAt(data, offset) : -1;
  for (let found = 0; found < frames; found++) {
    const length = mp3FrameLengthAt(data, offset);
    if (length === 0 || streamKeyAt(data, offset) !== key) return false;
    offset += length;
  }
  return true;
}

/** True for a Layer III header with bitrate index 0: free format, which these rules do not play. */
function isFreeFormatHeader(data: Buffer, offset: number): boolean {
  if (offset + 4 > data.length || data[offset] !== 0xff) return false;
  const b1 = data[offset + 1];
  const b2 = data[offset + 2];
  return isLayer3Sync(b1) && b2 >> 4 === 0 && (b2 & 0x0c) !== 0x0c;
}

/** The second header byte: the rest of the sync, a version that is not reserved, layer III. */
function isLayer3Sync(b1: number): boolean {
  return (b1 & 0xe0) === 0xe0 && (b1 & 0x18) !== 0x08 && (b1 & 0x06) === 0x02;
}

/** What stays the same from frame to frame of one stream: version, layer and sample rate. */
function streamKeyAt(data: Buffer, offset: number): number {
  return ((data[offset + 1] & 0x1e) << 8) | (data[offset + 2] & 0x0c);
}

function frameMs(data: Buffer, offset: number): number {
  return FRAME_MS[(((data[offset + 1] >> 3) & 3) << 2) | ((data[offset + 2] >> 2) & 3)];
}

/**
 * True when frames of the same stream follow the one at `offset` `count` times in a row (or the audio
 * ends exactly after one), so a stray 0xFFE in garbage or cover art is not taken for a frame.
 */
function followedByFrames(
  data: Buffer,
  offset: number,
  length: number,
  key: number,
  end: number,
  count: number,
): boolean {
  let next = offset + length;
  for (let found = 0; found < count; found++) {
    if (next === end) return true;
    if (next + 4 > end) return found > 0;
    const nextLength = mp3FrameLengthAt(data, next);
    if (nextLength === 0 || streamKeyAt(data, next) !== key) return false;
    next += nextLength;
  }
  return true;
}

/** A Xing/Info (LAME) or VBRI header frame: a frame of metadata that decoders do not play. */
function isVbrHeaderFrame(data: Buffer, offset: number, length: number): boolean {
  const b1 = data[offset + 1];
  const mpeg1 = (b1 & 0x18) === 0x18;
  const mono = data[offset + 3] >> 6 === 3;
  const sideInfo = mpeg1 ? (mono ? 17 : 32) : mono ? 9 : 17;
  const xing = offset + 4 + ((b1 & 1) === 0 ? 2 : 0) + sideInfo;
  const tagAt = (at: number) => (at + 4 <= offset + length ? data.toString('latin1', at, at + 4) : '');
  const xingTag = tagAt(xing);
  return xingTag === 'Xing' || xingTag === 'Info' || tagAt(offset + 36) === 'VBRI';
}

export interface Mp3Audio {
  /** Audio frames played (a Xing/Info/VBRI header frame is not one). */
  frames: number;
  durationMs: number;
  /** The first frame held a Xing/Info/VBRI header. */
  vbrHeader: boolean;
}

/**
 * Walks every Layer III frame between the leading ID3v2 tags and the trailing tags. Garbage between frames
 * (and free-format frames) is skipped by resynchronising on a header that the next frame confirms; a frame
 * cut short at the end is not counted, as a decoder cannot play it.
 */
export function measureMp3(data: Buffer): Mp3Audio {
  const start = skipLeadingId3v2(data);
  const end = audioEndBeforeTrailingTags(data, start);
  let offset = start;
  let frames = 0;
  let durationMs = 0;
  let key = -1;
  let inSync = false;
  let firstFrame = true;
  let vbrHeader = false;
  let sawFreeFormat = false;
  while (offset + 4 <= end) {
    const length = mp3FrameLengthAt(data, offset);
    if (length > 0) {
      const frameKey = streamKeyAt(data, offset);
      // In step with the previous frame a header is enough; after garbage the next frames must agree,
      // and before the first lock two of them.
      const confirmations = key < 0 ? 2 : 1;
      const isFrame = inSync && frameKey === key;
      if (isFrame || followedByFrames(data, offset, length, frameKey, end, confirmations)) {
        if (offset + length > end) break;
        if (firstFrame && isVbrHeaderFrame(data, offset, length)) {
          vbrHeader = true;
        } else {
          frames++;
          durationMs += frameMs(data, offset);
        }
        firstFrame = false;
        key = frameKey;
        inSync = true;
        offset += length;
        continue;
      }
    } else if (!sawFreeFormat && isFreeFormatHeader(data, offset)) {
      sawFreeFormat = true;
    }
    inSync = false;
    const next = data.indexOf(0xff, offset + 1);
    if (next < 0 || next >= end) break;
    offset = next;
  }
  if (frames === 0) {
    throw new DamagedMediaError(
      sawFreeFormat
        ? 'its frames are free-format (no bitrate in their headers), which Weixin does not decode; ' +
            're-encode it at a standard bitrate'
        : start >= data.length && id3v2TagLength(data) > 0
          ? 'its ID3 tag runs to the end of the file and no MPEG audio frames follow it'
          : 'no MPEG Layer III audio frames were found, so its playing time cannot be measured',
    );
  }
  return { frames, durationMs: Math.round(durationMs), vbrHeader };
}
