import type { MediaFormat } from '../interfaces/media.interface';
import { FORMAT_EXTENSIONS } from './media-limits';
import { safeBaseName } from './safe-base-name';

/** Extensions Weixin takes for each format; the first is the one added. */
const ACCEPTED_EXTENSIONS: Record<MediaFormat, readonly string[]> = {
  png: ['.png'],
  jpeg: [FORMAT_EXTENSIONS.jpeg, '.jpeg'],
  gif: ['.gif'],
  amr: ['.amr'],
  mp3: ['.mp3'],
  mp4: ['.mp4'],
};
const DEFAULT_BASE = 'media';
const MAX_BASE_LENGTH = 100;
/** A short extension with a letter in it: `.jpg`, `.webp`, `.m4a`; not the `.01` of `photo.2024.03.01`. */
const EXTENSION = /\.(?=[a-z0-9]{0,4}[a-z])[a-z0-9]{1,5}$/i;

/**
 * The filename to send a file under: Weixin judges the format by the extension too, so `photo.jpg` holding
 * PNG bytes goes as `photo.png`, and a temp name like `phpA1B2` or a nameless Buffer gets one (`media.png`).
 * Only the base name is kept, without control characters or quotes that could break the multipart header.
 */
export function weixinFilename(format: MediaFormat, name?: string): string {
  const base = safeBaseName(typeof name === 'string' ? name : '');
  const extensionMatch = EXTENSION.exec(base);
  const extension = extensionMatch?.[0].toLowerCase();
  const accepted = ACCEPTED_EXTENSIONS[format];
  // Leading dots would make `..` or a hidden file; trailing dots and spaces are dropped by most systems.
  const withoutExtension = extensionMatch ? base.slice(0, extensionMatch.index) : base;
  const trimmed = withoutExtension.replace(/^[.\s]+|[.\s]+$/g, '');
  // Cut by code point, so a long Chinese or emoji name is not left with half a surrogate pair.
  const stem = Array.from(trimmed).slice(0, MAX_BASE_LENGTH).join('');
  return (stem || DEFAULT_BASE) + (extension && accepted.includes(extension) ? extension : accepted[0]);
}
