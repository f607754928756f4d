import { isUtf8 } from 'node:buffer';
import type { MediaFormat } from '../interfaces/media.interface';
import { AMR_MAGIC } from './amr';
import { id3v2TagLength } from './id3-tags';
import type { MediaContent } from './media-content';
import { mp3FrameLengthAt, startsMp3FrameRun } from './mp3';
import { classifyFtyp } from './mp4';
import { PNG_SIGNATURE } from './png';

/**
 * Names a file's format from its first bytes, never from its name or declared mimetype. Formats Weixin takes
 * come with `format`; the others only with a `label`, so the refusal can say what the file is.
 */

/** Enough for every signature here, a full `ftyp` box and a short ID3 tag with what follows. */
export const SNIFF_BYTES = 4096;
/** Junk before an MP3's first frame that decoders skip (ffmpeg and mpg123 look through 64 KiB). */
const MP3_JUNK_BYTES = 64 * 1024;
/** Frames in a row that make junk followed by MPEG audio an MP3: chance does not line up four headers. */
const MP3_RUN_FRAMES = 4;
/** Room for that run after the last byte where it may start: the largest Layer III frame is 1441 bytes. */
const MP3_RUN_BYTES = MP3_RUN_FRAMES * 1441;

export interface DetectedFormat {
  /** Set when the content is a format Weixin accepts for at least one media type. */
  format?: MediaFormat;
  /** What the content is, to follow "this is": "a PNG image", "WAV audio", "a Windows executable (EXE)". */
  label?: string;
}

const ACCEPTED: Record<MediaFormat, DetectedFormat> = {
  png: { format: 'png', label: 'a PNG image' },
  jpeg: { format: 'jpeg', label: 'a JPEG image' },
  gif: { format: 'gif', label: 'a GIF image' },
  amr: { format: 'amr', label: 'AMR audio' },
  mp3: { format: 'mp3', label: 'MP3 audio' },
  mp4: { format: 'mp4', label: 'an MP4 video' },
};

const latin1 = (text: string) => Buffer.from(text, 'latin1');
const hex = (digits: string) => Buffer.from(digits, 'hex');

/** Signatures at offset 0 (after `ftyp`-based ISO media, RIFF, Ogg and EBML, which need a closer look). */
const MAGIC: ReadonlyArray<readonly [signature: Buffer, label: string]> = [
  [latin1('#!AMR-WB\n'), 'AMR-WB (wideband) audio'],
  [latin1('#!AMR_MC1.0\n'), 'multichannel AMR audio'],
  [latin1('#!AMR-WB_MC1.0\n'), 'multichannel AMR-WB audio'],
  [latin1('#!SILK_V3'), 'SILK audio (the format of WeChat voice messages)'],
  [latin1('\x02#!SILK_V3'), 'SILK audio (the format of WeChat voice messages)'],
  [latin1('fLaC'), 'FLAC audio'],
  [latin1('ADIF'), 'AAC (ADIF) audio'],
  [latin1('.snd'), 'AU audio'],
  [latin1('MThd'), 'a MIDI file'],
  [latin1('caff'), 'CAF audio'],
  [latin1('#!/'), 'a script (text)'],
  [hex('3026b2758e66cf11'), 'a Windows Media (ASF/WMA/WMV) file'],
  [latin1('FLV\x01'), 'an FLV video'],
  [hex('000001ba'), 'an MPEG program stream video'],
  [hex('000001b3'), 'an MPEG video stream'],
  [latin1('8BPS'), 'a Photoshop (PSD) image'],
  [latin1('II*\x00'), 'a TIFF image'],
  [latin1('MM\x00*'), 'a TIFF image'],
  [latin1('IIRO'), 'an Olympus RAW image'],
  [hex('0000000c6a5020200d0a870a'), 'a JPEG 2000 image'],
  [hex('ff4fff51'), 'a JPEG 2000 image'],
  [hex('ff0a'), 'a JPEG XL image'],
  [hex('0000000c4a584c200d0a870a'), 'a JPEG XL image'],
  [latin1('%PDF'), 'a PDF document'],
  [latin1('PK\x03\x04'), 'a ZIP archive (or a document packed as one, like DOCX or APK)'],
  [latin1('PK\x05\x06'), 'a ZIP archive'],
  [latin1('Rar!\x1a\x07'), 'a RAR archive'],
  [hex('377abcaf271c'), 'a 7-Zip archive'],
  [hex('1f8b'), 'a gzip archive'],
  [latin1('BZh'), 'a bzip2 archive'],
  [hex('fd377a585a00'), 'an XZ archive'],
  [hex('28b52ffd'), 'a Zstandard archive'],
  [latin1('MZ'), 'a Windows executable (EXE/DLL)'],
  [latin1('\x7fELF'), 'an ELF executable'],
  [hex('feedface'), 'a Mach-O executable'],
  [hex('feedfacf'), 'a Mach-O executable'],
  [hex('cefaedfe'), 'a Mach-O executable'],
  [hex('cffaedfe'), 'a Mach-O executable'],
  [hex('cafebabe'), 'a Java class or Mach-O universal binary'],
  [latin1('\x00asm'), 'a WebAssembly module'],
  [hex('d0cf11e0a1b11ae1'), 'an Office (OLE) document'],
  [latin1('SQLite format 3\x00'), 'an SQLite database'],
  [latin1('{\\rtf'), 'an RTF document'],
];

const RIFF_FORMS: Record<string, string> = {
  WAVE: 'WAV audio',
  WEBP: 'a WebP image',
  'AVI ': 'an AVI video',
  RMID: 'a MIDI file',
  CDXA: 'a Video CD (DAT) file',
};
/** QuickTime files from before `ftyp` start with one of these top-level atoms. */
const QUICKTIME_ATOMS = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot']);

/** Names the format of content that starts with `head`. */
export function detectFormat(head: Buffer): DetectedFormat {
  return detectAt(head, 0);
}

function detectAt(head: Buffer, depth: number): DetectedFormat {
  if (startsWith(head, PNG_SIGNATURE)) return ACCEPTED.png;
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return ACCEPTED.jpeg;
  const six = head.toString('latin1', 0, 6);
  if (six === 'GIF87a' || six === 'GIF89a') return ACCEPTED.gif;
  if (six === AMR_MAGIC) return ACCEPTED.amr;
  const id3 = id3v2TagLength(head);
  if (id3 > 0) return detectAfterId3(head, id3, depth);
  const mpeg = detectMpegAudio(head);
  if (mpeg) return mpeg;
  const iso = classifyFtyp(head) ?? classifyContainer(head);
  if (iso) return iso;
  for (const [signature, label] of MAGIC) {
    if (startsWith(head, signature)) return { label };
  }
  return (
    classifyBitmap(head) ?? detectZeroPaddedMp3(head) ?? detectMp3AfterJunk(head) ?? classifyText(head) ?? {}
  );
}

/**
 * Reads the head of the content, looking past an ID3 tag too large for it (big cover art), and, when the
 * head names nothing, for MP3 frames after junk too long for it.
 */
export async function sniffContent(content: MediaContent): Promise<DetectedFormat & { head: Buffer }> {
  const head = await content.read(0, SNIFF_BYTES);
  const detected = detectFormat(head);
  const unnamed = detected.label === undefined || detected.label === 'text';
  if (unnamed && content.size > head.length) {
    const junkAndRun = await content.read(0, MP3_JUNK_BYTES + MP3_RUN_BYTES);
    return { ...(detectMp3AfterJunk(junkAndRun) ?? detected), head };
  }
  const tagLength = id3v2TagLength(head);
  if (detected.format !== 'mp3' || tagLength === 0 || tagLength < head.length) return { ...detected, head };
  const after = detectAt(await content.read(tagLength, SNIFF_BYTES), 1);
  return isStrongerThanId3(after) ? { label: `${after.label} with an ID3 tag`, head } : { ...detected, head };
}

/** An ID3 tag usually means MP3, but AAC and FLAC files carry them too. */
function detectAfterId3(head: Buffer, tagLength: number, depth: number): DetectedFormat {
  if (tagLength >= head.length || depth >= 16) return ACCEPTED.mp3;
  const after = detectAt(head.subarray(tagLength), depth + 1);
  if (!isStrongerThanId3(after)) return ACCEPTED.mp3;
  return after.label?.endsWith(' with an ID3 tag') ? after : { label: `${after.label} with an ID3 tag` };
}

/** Padding, text or unknown bytes before the first frame are the MP3 reader's to judge; signatures not. */
function isStrongerThanId3(after: DetectedFormat): boolean {
  return after.format !== 'mp3' && after.label !== undefined && after.label !== 'text';
}

/** MPEG audio frame sync at offset 0: Layer III is MP3; Layers I/II and AAC's ADTS are named. */
function detectMpegAudio(head: Buffer): DetectedFormat | undefined {
  if (head.length < 4 || head[0] !== 0xff || (head[1] & 0xe0) !== 0xe0) return undefined;
  if (mp3FrameLengthAt(head, 0) > 0) return ACCEPTED.mp3;
  const layer = (head[1] >> 1) & 3;
  if ((head[1] & 0xf6) === 0xf0 && ((head[2] >> 2) & 0x0f) < 13) return { label: 'AAC (ADTS) audio' };
  const version = (head[1] >> 3) & 3;
  const bitrate = head[2] >> 4;
  if (version === 1 || layer === 0 || bitrate === 15 || (head[2] & 0x0c) === 0x0c) return undefined;
  if (layer === 1) return ACCEPTED.mp3; // a free-format Layer III header: MP3 the reader refuses by name
  return { label: layer === 2 ? 'MPEG Layer II audio (MP2)' : 'MPEG Layer I audio (MP1)' };
}

/** Some rippers pad the start with zeros: MP3 when two frames follow the padding. */
function detectZeroPaddedMp3(head: Buffer): DetectedFormat | undefined {
  let start = 0;
  while (start < head.length && head[start] === 0) start++;
  const length = start > 0 ? mp3FrameLengthAt(head, start) : 0;
  return length > 0 && mp3FrameLengthAt(head, start + length) > 0 ? ACCEPTED.mp3 : undefined;
}

/** Junk before the first frame (a broken tag, a download's leftovers): MP3 when a run of frames follows. */
function detectMp3AfterJunk(data: Buffer): DetectedFormat | undefined {
  const end = Math.min(data.length, MP3_JUNK_BYTES);
  for (let at = data.indexOf(0xff); at >= 0 && at < end; at = data.indexOf(0xff, at + 1)) {
    if (startsMp3FrameRun(data, at, MP3_RUN_FRAMES)) return ACCEPTED.mp3;
  }
  return undefined;
}

function classifyContainer(head: Buffer): DetectedFormat | undefined {
  const four = head.toString('latin1', 0, 4);
  if (four === 'RIFF' && head.length >= 12) {
    const form = head.toString('latin1', 8, 12);
    return { label: RIFF_FORMS[form] ?? 'a RIFF file' };
  }
  if (four === 'OggS') return { label: oggLabel(head) };
  if (four === 'FORM' && head.toString('latin1', 8, 11) === 'AIF') return { label: 'AIFF audio' };
  if (four === '\x1a\x45\xdf\xa3') {
    // EBML: the DocType string names WebM or Matroska within the first few dozen bytes.
    return { label: head.subarray(0, 64).includes('webm') ? 'a WebM video' : 'a Matroska (MKV) video' };
  }
  if (head.length >= 8 && QUICKTIME_ATOMS.has(head.toString('latin1', 4, 8)) && head.readUInt32BE(0) >= 8) {
    return { label: 'a QuickTime movie (MOV)' };
  }
  if (head.length > 376 && head[0] === 0x47 && head[188] === 0x47 && head[376] === 0x47) {
    return { label: 'an MPEG transport stream (TS) video' };
  }
  return undefined;
}

function oggLabel(head: Buffer): string {
  const codec = head.subarray(28, 36).toString('latin1');
  if (codec.startsWith('OpusHead')) return 'Ogg Opus audio';
  if (codec.startsWith('\x01vorbis')) return 'Ogg Vorbis audio';
  if (codec.startsWith('Speex')) return 'Ogg Speex audio';
  if (codec.startsWith('\x7fFLAC')) return 'Ogg FLAC audio';
  if (codec.startsWith('\x80theora')) return 'an Ogg Theora video';
  return 'Ogg media';
}

/** BMP and ICO have two- and four-byte signatures, so a second field has to agree. */
function classifyBitmap(head: Buffer): DetectedFormat | undefined {
  if (head.length >= 18 && head[0] === 0x42 && head[1] === 0x4d) {
    const dibHeader = head.readUInt32LE(14);
    if ([12, 16, 40, 52, 56, 64, 108, 124].includes(dibHeader)) return { label: 'a BMP image' };
  }
  if (head.length >= 6 && head.readUInt32BE(0) === 0x00000100 && head.readUInt16LE(4) > 0) {
    return { label: 'an ICO image' };
  }
  return undefined;
}

/** Text: printable UTF-8 (or UTF-16 with a byte-order mark); markup is named when it says what it is. */
const TEXT_CONTROLS = new Set([0x09, 0x0a, 0x0c, 0x0d, 0x1b]);

function classifyText(head: Buffer): DetectedFormat | undefined {
  if (head.length === 0) return undefined;
  const bom = head.length >= 2 ? head.readUInt16BE(0) : 0;
  if (bom === 0xfffe || bom === 0xfeff) return { label: 'text (UTF-16)' };
  const sample = head.subarray(0, 512);
  for (const byte of sample) {
    // Control characters other than tab, line breaks, form feed and escape mean binary.
    if ((byte < 0x20 && !TEXT_CONTROLS.has(byte)) || byte === 0x7f) return undefined;
  }
  // A multi-byte character may be cut at the end of the sample.
  const whole = sample.length === head.length ? sample : trimPartialUtf8(sample);
  if (!isUtf8(whole)) return undefined;
  const text = whole
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .slice(0, 256)
    .toLowerCase();
  if (text.includes('<svg')) return { label: 'an SVG image' };
  if (text.startsWith('<!doctype html') || text.startsWith('<html')) return { label: 'an HTML document' };
  if (text.startsWith('<?xml')) return { label: 'an XML document' };
  return { label: 'text' };
}

function trimPartialUtf8(sample: Buffer): Buffer {
  for (let back = 1; back <= 3 && back <= sample.length; back++) {
    const byte = sample[sample.length - back];
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look for its lead byte
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? sample.subarray(0, sample.length - back) : sample;
  }
  return sample;
}

function startsWith(head: Buffer, signature: Buffer): boolean {
  return head.length >= signature.length && signature.equals(head.subarray(0, signature.length));
}
