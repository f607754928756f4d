import { ContentWindow } from './content-window';
import { DamagedMediaError } from '../errors/damaged-media.error';
import type { DetectedFormat } from './format-sniffer';
import type { MediaContent } from './media-content';
import { readMp4Tracks, printableFourcc as printable, type IsoBox, type Mp4Tracks } from './mp4-tracks';
import { OtherFormatError } from '../errors/other-format.error';

/**
 * MP4: an ISO base media file whose `ftyp` box names an MP4 brand and whose `moov` holds a video track.
 * QuickTime (`qt  `), 3GP, HEIF/AVIF images and M4A audio share the box structure but are not what Weixin
 * plays as video.
 */

const MP4_BRANDS = new Set([
  'isom',
  'iso2',
  'iso3',
  'iso4',
  'iso5',
  'iso6',
  'iso7',
  'iso8',
  'iso9',
  'isoa',
  'isob',
  'isoc',
  'mp41',
  'mp42',
  'mp71',
  'avc1',
  'avc2',
  'hvc1',
  'hev1',
  'av01',
  'dash',
  'msdh',
  'msix',
  'cmfc',
  'cmf2',
  'M4V ',
  'M4VH',
  'M4VP',
  'f4v ',
  'mmp4',
  'MSNV',
  'NDAS',
  'NDSC',
  'NDSH',
  'NDSM',
  'NDSP',
  'NDSS',
  'NDXC',
  'XAVC',
  'FACE',
  'dby1',
]);
const OTHER_ISO_MEDIA: Record<string, string> = {
  'qt  ': 'a QuickTime movie (MOV)',
  'M4A ': 'M4A (AAC) audio',
  'M4B ': 'an M4B audiobook',
  'M4P ': 'M4P (protected AAC) audio',
  'F4A ': 'F4A audio',
  heic: 'a HEIC image',
  heix: 'a HEIC image',
  heim: 'a HEIC image',
  heis: 'a HEIC image',
  hevc: 'a HEIF image sequence',
  hevx: 'a HEIF image sequence',
  mif1: 'a HEIF image',
  msf1: 'a HEIF image sequence',
  avif: 'an AVIF image',
  avis: 'an AVIF image sequence',
  'crx ': 'a Canon RAW (CR3) image',
  'jpm ': 'a JPEG 2000 image',
  'jpx ': 'a JPEG 2000 image',
};
const FTYP_MIN_BYTES = 16;
const FTYP_MAX_BYTES = 4096;
const MAX_TOP_LEVEL_BOXES = 1024;
const BOX_WINDOW_BYTES = FTYP_MAX_BYTES;

/** Brands for the box structure or a codec, not a file family: isom, iso2-iso9, isoa-isoc, avc1. */
const ISO_BASE_BRANDS = /^(iso[2-9a-c]|isom|avc1)$/;
const MP4_VIDEO: DetectedFormat = { format: 'mp4', label: 'an MP4 video' };

/** Classifies the content when it starts with an `ftyp` box; undefined when it does not. */
export function classifyFtyp(head: Buffer): DetectedFormat | undefined {
  if (head.length < 12 || head.toString('latin1', 4, 8) !== 'ftyp') return undefined;
  const [major, ...compatible] = ftypBrands(head);
  // The major brand names the file's family; failing that, the first compatible brand that names one. isom
  // and its kin say only that the file is built of ISO boxes (3GP and M4A files list them too), so they
  // count when no other brand does.
  const named = compatible.filter((brand) => brandFamily(brand));
  const telling = named.find((brand) => !ISO_BASE_BRANDS.test(brand)) ?? named[0];
  const family = brandFamily(major) ?? (telling === undefined ? undefined : brandFamily(telling));
  return family ?? { label: `an ISO media file of brand "${printable(major)}"` };
}

function brandFamily(brand: string): DetectedFormat | undefined {
  if (OTHER_ISO_MEDIA[brand]) return { label: OTHER_ISO_MEDIA[brand] };
  if (MP4_BRANDS.has(brand)) return MP4_VIDEO;
  return brand.startsWith('3g') ? { label: 'a 3GP video' } : undefined;
}

/** The major brand and the compatible brands that fit in `head`; NUL padding read as spaces (`M4A\0`). */
function ftypBrands(head: Buffer): string[] {
  const end = Math.min(head.length, head.readUInt32BE(0), FTYP_MAX_BYTES);
  const brands = [head.toString('latin1', 8, 12)];
  for (let offset = 16; offset + 4 <= end; offset += 4) {
    brands.push(head.toString('latin1', offset, offset + 4));
  }
  return brands.map((brand) => brand.replace(/\0/g, ' '));
}

export interface Mp4Layout {
  majorBrand: string;
  /** The top-level boxes, read from their headers only (`mdat` is never read). */
  boxes: IsoBox[];
  /** The boxes tile the file exactly; false when it is cut short or a box header is corrupt. */
  complete: boolean;
  /** The tracks in the first `moov` box, up to the first video track; undefined without a `moov`. */
  tracks?: Mp4Tracks;
}

/**
 * Walks the top-level boxes by their headers: 32-bit sizes, 64-bit `largesize` (size 1) and "to the end"
 * (size 0), then the tracks in `moov`. A file cut short or corrupt after `ftyp` is described as far as it
 * goes (`complete: false`); only a broken `ftyp` is refused here.
 */
export async function readMp4Layout(content: MediaContent, head?: Buffer): Promise<Mp4Layout> {
  // Box headers close together share one read; `mdat` is jumped over, never read.
  const window = new ContentWindow(content, BOX_WINDOW_BYTES, head);
  const ftyp = await window.bytesAt(0, FTYP_MAX_BYTES);
  const ftypSize = ftyp.length >= 8 ? ftyp.readUInt32BE(0) : 0;
  if (ftypSize < FTYP_MIN_BYTES || ftypSize > content.size) {
    throw new DamagedMediaError(`its ftyp box declares an impossible size of ${ftypSize} bytes`);
  }
  const boxes: IsoBox[] = [{ type: 'ftyp', offset: 0, size: ftypSize, headerBytes: 8 }];
  let offset = ftypSize;
  let complete = offset === content.size;
  while (!complete && boxes.length < MAX_TOP_LEVEL_BOXES) {
    const header = await window.bytesAt(offset, 16);
    if (header.length < 8) break;
    const declared = header.readUInt32BE(0);
    let size = declared;
    let headerBytes = 8;
    if (declared === 1) {
      headerBytes = 16;
      if (header.length < 16) break;
      const large = header.readBigUInt64BE(8);
      size = large > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(large);
      if (size < 16) break;
    } else if (declared === 0) {
      size = content.size - offset;
    } else if (declared < 8) {
      break;
    }
    boxes.push({ type: printable(header.toString('latin1', 4, 8)), offset, size, headerBytes });
    offset += size;
    if (offset >= content.size) {
      complete = offset === content.size;
      break;
    }
  }
  const majorBrand = ftyp.toString('latin1', 8, 12);
  const moov = boxes.find((box) => box.type === 'moov');
  if (!moov) return { majorBrand, boxes, complete };
  return { majorBrand, boxes, complete, tracks: await readMp4Tracks(window, moov, content.size) };
}

/**
 * Reads as far as the first video track: an MP4 without one (sound only) is another format for Weixin's
 * video, and one whose track list cannot be reached or read holds nothing a player shows.
 */
export async function readMp4Video(content: MediaContent, head: Buffer): Promise<Mp4Layout> {
  const layout = await readMp4Layout(content, head);
  const { boxes, complete, tracks } = layout;
  if (!tracks) {
    const last = boxes[boxes.length - 1];
    const stop = Math.min(last.offset + last.size, content.size);
    throw new DamagedMediaError(
      boxes.length >= MAX_TOP_LEVEL_BOXES
        ? `it has more than ${MAX_TOP_LEVEL_BOXES} top-level boxes before a moov box (the list of its tracks)`
        : complete
          ? 'it has no moov box (the list of its tracks)'
          : `it is cut short or damaged at byte ${stop}, before its moov box (the list of its tracks)`,
    );
  }
  if (tracks.handlers.includes('vide')) return layout;
  if (tracks.damage) throw new DamagedMediaError(`${tracks.damage}, before any video track`);
  const { handlers } = tracks;
  throw new OtherFormatError(
    handlers.includes('soun')
      ? 'audio in an MP4 file (it has no video track)'
      : handlers.length === 0
        ? 'an MP4 file with no tracks'
        : `an MP4 file with no video track (its tracks: ${handlers.join(', ')})`,
  );
}
