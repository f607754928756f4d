import { ContentWindow } from './content-window';
import { DamagedMediaError } from './damaged-media.error';
import type { DetectedFormat } from './format-sniffer';
import type { MediaContent } from './media-content';

/**
 * MP4: an ISO base media file whose `ftyp` box names an MP4 brand. QuickTime (`qt  `), HEIF/AVIF images and
 * M4A audio share the box structure but are not what Weixin plays as video.
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

/** Classifies the content when it starts with an `ftyp` box; undefined when it does not. */
export function classifyFtyp(head: Buffer): DetectedFormat | undefined {
  if (head.length < 12 || head.toString('latin1', 4, 8) !== 'ftyp') return undefined;
  const major = head.toString('latin1', 8, 12);
  if (OTHER_ISO_MEDIA[major]) return { label: OTHER_ISO_MEDIA[major] };
  const brands = ftypBrands(head);
  if (brands.some((brand) => MP4_BRANDS.has(brand))) return { format: 'mp4', label: 'an MP4 video' };
  if (brands.some((brand) => brand.startsWith('3g'))) return { label: 'a 3GP video' };
  return { label: `an ISO media file of brand "${printable(major)}"` };
}

/** The major brand and the compatible brands that fit in `head`. */
function ftypBrands(head: Buffer): string[] {
  const end = Math.min(head.length, head.readUInt32BE(0), FTYP_MAX_BYTES);
  const brands = [head.toString('latin1', 8, 12)];
  for (let offset = 16; offset + 4 <= end; offset += 4) {
    brands.push(head.toString('latin1', offset, offset + 4));
  }
  return brands;
}

export interface Mp4Box {
  type: string;
  offset: number;
  /** Bytes including the box header; a box of declared size 0 runs to the end of the file. */
  size: number;
}

export interface Mp4Layout {
  majorBrand: string;
  /** The top-level boxes, read from their headers only (`mdat` is never read). */
  boxes: Mp4Box[];
  /** The boxes tile the file exactly; false when it is cut short or a box header is corrupt. */
  complete: boolean;
}

/**
 * Walks the top-level boxes by their headers: 32-bit sizes, 64-bit `largesize` (size 1) and "to the end"
 * (size 0). A file cut short or corrupt after `ftyp` is still taken, as Weixin takes it; only a broken
 * `ftyp` is refused.
 */
export async function readMp4Layout(content: MediaContent): Promise<Mp4Layout> {
  // Box headers close together share one read; `mdat` is jumped over, never read.
  const window = new ContentWindow(content, BOX_WINDOW_BYTES);
  const ftyp = await window.bytesAt(0, FTYP_MAX_BYTES);
  const ftypSize = ftyp.length >= 8 ? ftyp.readUInt32BE(0) : 0;
  if (ftypSize < FTYP_MIN_BYTES || ftypSize > content.size) {
    throw new DamagedMediaError(`its ftyp box declares an impossible size of ${ftypSize} bytes`);
  }
  const boxes: Mp4Box[] = [{ type: 'ftyp', offset: 0, size: ftypSize }];
  let offset = ftypSize;
  let complete = offset === content.size;
  while (!complete && boxes.length < MAX_TOP_LEVEL_BOXES) {
    const header = await window.bytesAt(offset, 16);
    if (header.length < 8) break;
    const declared = header.readUInt32BE(0);
    let size = declared;
    if (declared === 1) {
      if (header.length < 16) break;
      const large = header.readBigUInt64BE(8);
      size = large > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(large);
      if (size < 16) break;
    } else if (declared === 0) {
      size = content.size - offset;
    } else if (declared < 8) {
      break;
    }
    boxes.push({ type: printable(header.toString('latin1', 4, 8)), offset, size });
    offset += size;
    if (offset >= content.size) {
      complete = offset === content.size;
      break;
    }
  }
  return { majorBrand: ftyp.toString('latin1', 8, 12), boxes, complete };
}

function printable(fourcc: string): string {
  return fourcc.replace(/[^\x20-\x7e]/g, '?');
}
