import type { MediaFormat, MediaType } from '../interfaces/media.interface';

const MB = 1024 * 1024;

export const MEDIA_TYPES: readonly MediaType[] = ['image', 'voice', 'video', 'thumb'];

export interface MediaTypeRules {
  /** The largest file Weixin accepts, in bytes. */
  maxBytes: number;
  /** The formats Weixin accepts for the type. */
  formats: readonly MediaFormat[];
  /** The longest playing time Weixin accepts, in milliseconds. */
  maxDurationMs?: number;
}

/** Weixin's rules for temporary media, per type. */
export const MEDIA_RULES: Record<MediaType, MediaTypeRules> = {
  image: { maxBytes: 10 * MB, formats: ['png', 'jpeg', 'gif'] },
  voice: { maxBytes: 2 * MB, formats: ['amr', 'mp3'], maxDurationMs: 60_000 },
  video: { maxBytes: 10 * MB, formats: ['mp4'] },
  thumb: { maxBytes: 64 * 1024, formats: ['jpeg'] },
};

/** The largest file any type accepts: what a reader may need to hold or spool. */
export const MAX_MEDIA_BYTES = Math.max(...MEDIA_TYPES.map((type) => MEDIA_RULES[type].maxBytes));

/** The extension Weixin expects in the part's filename for each format. */
export const FORMAT_EXTENSIONS: Record<MediaFormat, string> = {
  png: '.png',
  jpeg: '.jpg',
  gif: '.gif',
  amr: '.amr',
  mp3: '.mp3',
  mp4: '.mp4',
};

export const FORMAT_CONTENT_TYPES: Record<MediaFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  amr: 'audio/amr',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
};

export function isMediaType(value: unknown): value is MediaType {
  return typeof value === 'string' && (MEDIA_TYPES as readonly string[]).includes(value);
}

/** "2 MB", "64 KB", "1.5 MB": sizes as a person reads them. */
export function formatBytes(bytes: number): string {
  if (bytes >= MB) return `${+(bytes / MB).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}
