import { detectFormat } from '../media-rules/format-sniffer';

/** Short names for what the rules' sniffer labels, for `FittedMedia.from` and `TemporaryMedia.fitted.from`. */
const NAMES: ReadonlyArray<readonly [label: RegExp, name: string]> = [
  [/^WAV /, 'wav'],
  [/WebP/, 'webp'],
  [/AVI /, 'avi'],
  [/^Ogg Opus/, 'opus'],
  [/^Ogg Vorbis/, 'ogg'],
  [/Ogg/, 'ogg'],
  [/WebM/, 'webm'],
  [/Matroska/, 'mkv'],
  [/QuickTime/, 'mov'],
  [/^M4A/, 'm4a'],
  [/HEIC/, 'heic'],
  [/HEIF/, 'heif'],
  [/AVIF/, 'avif'],
  [/TIFF/, 'tiff'],
  [/BMP/, 'bmp'],
  [/^FLAC/, 'flac'],
  [/AAC/, 'aac'],
  [/AMR-WB/, 'amr-wb'],
  [/AIFF/, 'aiff'],
  [/FLV/, 'flv'],
  [/transport stream/, 'ts'],
  [/MPEG program/, 'mpeg'],
  [/Windows Media/, 'asf'],
  [/MP2/, 'mp2'],
  [/JPEG 2000/, 'jp2'],
  [/JPEG XL/, 'jxl'],
];

/** 'wav', 'webp', 'mov', 'png', ...; the engine's name for it, or 'unknown', when the sniffer has none. */
export function sourceFormatName(head: Buffer, engineName?: string): string {
  const { format, label } = detectFormat(head);
  if (format) return format;
  const named = label && NAMES.find(([pattern]) => pattern.test(label));
  if (named) return named[1];
  return engineName?.split(',')[0] || 'unknown';
}
