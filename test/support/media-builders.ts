import { deflateSync } from 'node:zlib';

/**
 * Byte-exact builders for media edge cases the encoders at hand do not make on demand (MPEG-2.5 frames,
 * ID3v2 tags with footer or extended header, VBRI headers, AMR frame runs, boxes of size 0 or 1).
 * Used by the edge fixture generator, the specs and the benchmark.
 */

/** A small seeded PRNG (mulberry32): the same seed gives the same bytes on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(length: number, random: () => number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

// ---------------------------------------------------------------------------------------------- MP3

export type MpegVersion = 1 | 2 | 2.5;

export interface Mp3FrameSpec {
  version?: MpegVersion;
  bitrateKbps?: number;
  sampleRate?: number;
  padding?: boolean;
  /** A 16-bit CRC follows the header (protection bit 0). */
  crc?: boolean;
  mono?: boolean;
  /** Bitrate index 0: no bitrate in the header; `freeFormatBytes` sets the frame's length. */
  freeFormatBytes?: number;
}

const VERSION_BITS: Record<MpegVersion, number> = { 1: 3, 2: 2, 2.5: 0 };
const RATES: Record<MpegVersion, number[]> = {
  1: [44100, 48000, 32000],
  2: [22050, 24000, 16000],
  2.5: [11025, 12000, 8000],
};
const KBPS: Record<'1' | '2', number[]> = {
  1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};

function defaults(spec: Mp3FrameSpec): Required<Omit<Mp3FrameSpec, 'freeFormatBytes'>> & Mp3FrameSpec {
  const version = spec.version ?? 1;
  return {
    version,
    bitrateKbps: spec.bitrateKbps ?? (version === 1 ? 128 : 32),
    sampleRate: spec.sampleRate ?? RATES[version][0],
    padding: spec.padding ?? false,
    crc: spec.crc ?? false,
    mono: spec.mono ?? false,
    freeFormatBytes: spec.freeFormatBytes,
  };
}

export function mp3FrameBytes(spec: Mp3FrameSpec = {}): number {
  const s = defaults(spec);
  if (s.freeFormatBytes !== undefined) return s.freeFormatBytes + (s.padding ? 1 : 0);
  const coefficient = s.version === 1 ? 144 : 72;
  return Math.floor((coefficient * s.bitrateKbps * 1000) / s.sampleRate) + (s.padding ? 1 : 0);
}

export function mp3FrameMs(spec: Mp3FrameSpec = {}): number {
  const s = defaults(spec);
  return ((s.version === 1 ? 1152 : 576) * 1000) / s.sampleRate;
}

export function mp3FrameHeader(spec: Mp3FrameSpec = {}): Buffer {
  const s = defaults(spec);
  const rateIndex = RATES[s.version].indexOf(s.sampleRate);
  const bitrates = KBPS[s.version === 1 ? '1' : '2'];
  const bitrateIndex = s.freeFormatBytes !== undefined ? 0 : bitrates.indexOf(s.bitrateKbps);
  if (rateIndex < 0 || bitrateIndex < 0) {
    throw new Error(`no MPEG-${s.version} frame at ${s.bitrateKbps} kbps, ${s.sampleRate} Hz`);
  }
  return Buffer.from([
    0xff,
    0xe0 | (VERSION_BITS[s.version] << 3) | (1 << 1) | (s.crc ? 0 : 1),
    (bitrateIndex << 4) | (rateIndex << 2) | (s.padding ? 2 : 0),
    (s.mono ? 3 : 1) << 6, // joint stereo or mono; no emphasis
  ]);
}

/** One frame: the header and a payload of `fill` bytes (zeros by default, which decoders play as silence). */
export function mp3Frame(spec: Mp3FrameSpec = {}, fill?: (length: number) => Buffer): Buffer {
  const header = mp3FrameHeader(spec);
  const payloadLength = mp3FrameBytes(spec) - 4;
  return Buffer.concat([header, fill ? fill(payloadLength) : Buffer.alloc(payloadLength)]);
}

/** `count` frames; `spec` may vary by frame (VBR). */
export function mp3Frames(
  count: number,
  spec: Mp3FrameSpec | ((index: number) => Mp3FrameSpec) = {},
): Buffer {
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) frames.push(mp3Frame(typeof spec === 'function' ? spec(i) : spec));
  return Buffer.concat(frames);
}

/**
 * A Xing (VBR) or Info (CBR) header frame as LAME writes it: a frame whose side info is a tag. Like LAME,
 * it takes the highest bitrate when the stream's frames are too small to hold the tag.
 */
export function xingFrame(
  spec: Mp3FrameSpec,
  frames: number,
  bytes: number,
  tag: 'Xing' | 'Info' = 'Xing',
): Buffer {
  const s = defaults(spec);
  const sideInfo = s.version === 1 ? (s.mono ? 17 : 32) : s.mono ? 9 : 17;
  const at = 4 + (s.crc ? 2 : 0) + sideInfo;
  const roomy = mp3FrameBytes(spec) >= at + 16 ? spec : { ...spec, bitrateKbps: s.version === 1 ? 320 : 160 };
  const frame = mp3Frame(roomy);
  frame.write(tag, at, 'latin1');
  frame.writeUInt32BE(0x3, at + 4); // frames and bytes fields present
  frame.writeUInt32BE(frames, at + 8);
  frame.writeUInt32BE(bytes, at + 12);
  return frame;
}

/** A Fraunhofer VBRI header frame: always 32 bytes after the header. */
export function vbriFrame(spec: Mp3FrameSpec, frames: number, bytes: number): Buffer {
  const frame = mp3Frame(spec);
  frame.write('VBRI', 36, 'latin1');
  frame.writeUInt16BE(1, 40); // version
  frame.writeUInt32BE(bytes, 46);
  frame.writeUInt32BE(frames, 50);
  return frame;
}

// ---------------------------------------------------------------------------------------------- tags

function syncsafe(value: number): Buffer {
  return Buffer.from([(value >> 21) & 0x7f, (value >> 14) & 0x7f, (value >> 7) & 0x7f, value & 0x7f]);
}

/** ID3v2 unsynchronisation: a 0x00 after every 0xFF, so no false frame sync shows in the tag. */
export function unsynchronise(data: Buffer): Buffer {
  const out: number[] = [];
  for (const byte of data) {
    out.push(byte);
    if (byte === 0xff) out.push(0x00);
  }
  return Buffer.from(out);
}

export interface Id3v2Spec {
  version?: 2 | 3 | 4;
  /** Frame data (any bytes; frames are not parsed by the rules). */
  body?: Buffer;
  /** Zero padding after the frames. */
  padding?: number;
  footer?: boolean;
  extendedHeader?: boolean;
  unsynchronisation?: boolean;
}

/** A text frame in the tag's version (`TIT2`, or `TT2` for v2.2). */
export function id3TextFrame(version: 2 | 3 | 4, id: string, text: string): Buffer {
  const data = Buffer.concat([Buffer.from([0]), Buffer.from(text, 'latin1')]);
  if (version === 2) {
    return Buffer.concat([Buffer.from(id.slice(0, 3), 'latin1'), Buffer.from([0, 0, data.length]), data]);
  }
  const size = Buffer.alloc(4);
  if (version === 4) syncsafe(data.length).copy(size);
  else size.writeUInt32BE(data.length);
  return Buffer.concat([Buffer.from(id, 'latin1'), size, Buffer.from([0, 0]), data]);
}

/** An attached picture (`APIC`) frame holding `picture` bytes. */
export function id3PictureFrame(version: 3 | 4, picture: Buffer): Buffer {
  const data = Buffer.concat([Buffer.from('\x00image/jpeg\x00\x03cover\x00', 'latin1'), picture]);
  const size = version === 4 ? syncsafe(data.length) : Buffer.alloc(4);
  if (version === 3) size.writeUInt32BE(data.length);
  return Buffer.concat([Buffer.from('APIC', 'latin1'), size, Buffer.from([0, 0]), data]);
}

export function id3v2Tag(spec: Id3v2Spec = {}): Buffer {
  const version = spec.version ?? 3;
  let body = spec.body ?? id3TextFrame(version, 'TIT2', 'edge case');
  if (spec.extendedHeader) {
    // v2.3: size 6 (without itself), flags, padding size; v2.4: syncsafe size 6 (with itself), 1 flag byte.
    const extended =
      version === 4
        ? Buffer.concat([syncsafe(6), Buffer.from([1, 0])])
        : Buffer.from([0, 0, 0, 6, 0, 0, 0, 0, 0, 0]);
    body = Buffer.concat([extended, body]);
  }
  body = Buffer.concat([body, Buffer.alloc(spec.padding ?? 0)]);
  if (spec.unsynchronisation) body = unsynchronise(body);
  const flags =
    (spec.unsynchronisation ? 0x80 : 0) | (spec.extendedHeader ? 0x40 : 0) | (spec.footer ? 0x10 : 0);
  const versionAndFlags = Buffer.from([version, 0, flags]);
  const header = Buffer.concat([Buffer.from('ID3', 'latin1'), versionAndFlags, syncsafe(body.length)]);
  const footer = spec.footer
    ? Buffer.concat([Buffer.from('3DI', 'latin1'), versionAndFlags, syncsafe(body.length)])
    : Buffer.alloc(0);
  return Buffer.concat([header, body, footer]);
}

export function id3v1Tag(title = 'edge case'): Buffer {
  const tag = Buffer.alloc(128);
  tag.write('TAG', 0, 'latin1');
  tag.write(title.slice(0, 30), 3, 'latin1');
  tag[127] = 0xff; // genre "none"
  return tag;
}

/** An APEv2 tag with header and footer around one item. */
export function apeTag(value: Buffer): Buffer {
  const item = Buffer.concat([Buffer.alloc(8), Buffer.from('Cover Art (Front)\x00', 'latin1'), value]);
  item.writeUInt32LE(value.length, 0);
  const size = item.length + 32;
  const block = (isHeader: boolean) => {
    const b = Buffer.alloc(32);
    b.write('APETAGEX', 0, 'latin1');
    b.writeUInt32LE(2000, 8);
    b.writeUInt32LE(size, 12);
    b.writeUInt32LE(1, 16);
    b.writeUInt32LE((0x80000000 | (isHeader ? 0x20000000 : 0)) >>> 0, 20);
    return b;
  };
  return Buffer.concat([block(true), item, block(false)]);
}

export function lyrics3v2Tag(lyrics: string): Buffer {
  const lyricsField = `LYR${String(lyrics.length).padStart(5, '0')}${lyrics}`;
  const body = Buffer.from(`LYRICSBEGININD0000211${lyricsField}`, 'latin1');
  return Buffer.concat([body, Buffer.from(String(body.length).padStart(6, '0') + 'LYRICS200', 'latin1')]);
}

// ---------------------------------------------------------------------------------------------- AMR

/** Frame bytes by AMR-NB frame type (header included); 9-14 have no storage size. */
export const AMR_FRAME_BYTES = [13, 14, 16, 18, 20, 21, 27, 32, 6, 1, 1, 1, 1, 1, 1, 1];

export function amrFrame(frameType: number, random?: () => number): Buffer {
  const frame = Buffer.alloc(AMR_FRAME_BYTES[frameType]);
  frame[0] = (frameType << 3) | 0x04; // quality bit set, padding zero
  if (random) for (let i = 1; i < frame.length; i++) frame[i] = Math.floor(random() * 256);
  return frame;
}

export function amrFile(frameTypes: readonly number[], random = seededRandom(1)): Buffer {
  const frames = frameTypes.map((type) => amrFrame(type, random));
  return Buffer.concat([Buffer.from('#!AMR\n', 'latin1'), ...frames]);
}

// ---------------------------------------------------------------------------------------------- images

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

function crc32(data: Buffer): number {
  let c = -1;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

export function pngChunk(type: string, data: Buffer): Buffer {
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** A real, decodable RGB PNG of one colour. */
export function solidPng(width: number, height: number, rgb = [200, 30, 30]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => rgb).flat())]);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(pixels)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

export function jpegSegment(marker: number, payload: Buffer): Buffer {
  const header = Buffer.from([0xff, marker, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([header, payload]);
}

/** Inserts segments right after SOI (where cameras put EXIF and ICC profiles). */
export function withJpegSegments(jpeg: Buffer, segments: Buffer[]): Buffer {
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}

/** An EXIF APP1 segment of about `bytes` bytes (a TIFF header and filler, as a big maker note would be). */
export function exifSegment(bytes: number): Buffer {
  const tiff = Buffer.concat([Buffer.from('Exif\x00\x00II*\x00\x08\x00\x00\x00\x00\x00', 'latin1')]);
  return jpegSegment(0xe1, Buffer.concat([tiff, Buffer.alloc(Math.max(0, bytes - tiff.length - 4), 0xff)]));
}

/** ICC profile APP2 segments: the profile split into chunks, as in JPEGs from cameras and Photoshop. */
export function iccSegments(profileBytes: number, chunkBytes = 60000): Buffer[] {
  const profile = Buffer.alloc(profileBytes, 0x2a);
  const count = Math.ceil(profileBytes / chunkBytes);
  return Array.from({ length: count }, (_, i) =>
    jpegSegment(
      0xe2,
      Buffer.concat([
        Buffer.from('ICC_PROFILE\x00', 'latin1'),
        Buffer.from([i + 1, count]),
        profile.subarray(i * chunkBytes, (i + 1) * chunkBytes),
      ]),
    ),
  );
}

// ---------------------------------------------------------------------------------------------- ISO media

export function isoBox(type: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(payload.length + 8);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, payload]);
}

/** A box with `size == 1` and a 64-bit `largesize`. */
export function isoLargeBox(type: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(1);
  header.write(type, 4, 'latin1');
  header.writeBigUInt64BE(BigInt(payload.length + 16), 8);
  return Buffer.concat([header, payload]);
}

/** A box with `size == 0`: it runs to the end of the file. */
export function isoBoxToEnd(type: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, payload]);
}

export function ftypBox(major: string, compatible: string[] = [major]): Buffer {
  const brands = compatible.map((brand) => Buffer.from(brand, 'latin1'));
  return isoBox('ftyp', Buffer.concat([Buffer.from(major, 'latin1'), Buffer.alloc(4), ...brands]));
}

/** Handler types of ISO media tracks: video, sound, timed text. */
export type TrackHandler = 'vide' | 'soun' | 'text';

/**
 * A minimal `moov` with an `mvhd` (timescale 1000, the given duration) and one `trak` per handler, each
 * `trak` a `tkhd` and an `mdia` with `mdhd`, `hdlr` and `minf` (`stblBytes` of sample tables: the bulk of
 * a real moov, which the rules jump over).
 */
export function moovBox(
  durationMs: number,
  handlers: readonly TrackHandler[] = ['vide'],
  stblBytes = 64,
): Buffer {
  const mvhd = Buffer.alloc(100);
  mvhd.writeUInt32BE(1000, 12); // timescale
  mvhd.writeUInt32BE(durationMs, 16);
  mvhd.writeUInt32BE(0x00010000, 20); // rate 1.0
  mvhd.writeUInt16BE(0x0100, 24); // volume 1.0
  return isoBox('moov', Buffer.concat([isoBox('mvhd', mvhd), ...handlers.map(trakBox)]));

  function trakBox(handler: TrackHandler, index: number): Buffer {
    const tkhd = Buffer.alloc(84);
    tkhd.writeUInt32BE(index + 1, 12); // track id
    tkhd.writeUInt32BE(durationMs, 20);
    const mdhd = Buffer.alloc(24);
    mdhd.writeUInt32BE(1000, 12); // timescale
    mdhd.writeUInt32BE(durationMs, 16);
    // version and flags, pre_defined, handler type, 3 reserved words, an empty name
    const hdlr = Buffer.concat([Buffer.alloc(8), Buffer.from(handler, 'latin1'), Buffer.alloc(13)]);
    const minf = isoBox('minf', isoBox('stbl', Buffer.alloc(stblBytes)));
    const mdia = isoBox('mdia', Buffer.concat([isoBox('mdhd', mdhd), isoBox('hdlr', hdlr), minf]));
    return isoBox('trak', Buffer.concat([isoBox('tkhd', tkhd), mdia]));
  }
}
