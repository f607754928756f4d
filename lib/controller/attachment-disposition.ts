import { safeBaseName } from '../media-rules/safe-base-name';

const MAX_NAME_LENGTH = 150;

/**
 * A `Content-Disposition: attachment` header value for `name` (RFC 6266): the base name only, without
 * control characters (CR/LF included), quotes or path parts; an ASCII `filename="…"` for every client and,
 * when the name is not plain ASCII, `filename*=UTF-8''…` with the exact name; else `fallback`.
 */
export function attachmentDisposition(name: string | undefined, fallback = 'media'): string {
  const safe = attachmentName(name ?? '') || attachmentName(fallback) || 'media';
  // The ASCII fallback: printable ASCII only; `%` too is replaced, since some clients percent-decode it.
  const ascii = safe.replace(/[^\x20-\x7e]|%/g, '_');
  let header = `attachment; filename="${ascii}"`;
  if (ascii !== safe) {
    header += `; filename*=UTF-8''${encodeRfc5987(safe)}`;
  }
  return header;
}

function attachmentName(name: string): string {
  // `..`, hidden files and names some systems silently rewrite.
  const cleaned = safeBaseName(name).replace(/^[.\s]+|[.\s]+$/g, '');
  // Cut by code point, so no half surrogate pair is left to encode.
  return Array.from(cleaned).slice(0, MAX_NAME_LENGTH).join('');
}

/** `encodeURIComponent` plus the characters RFC 5987's attr-char excludes. */
function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
