/** Control characters (C0, DEL, C1), quotes, backslashes, bidi overrides: never in a header's filename. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f"\\\u202a-\u202e\u2066-\u2069]/g;
/** Half a surrogate pair cannot be encoded as UTF-8. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const MAX_NAME_LENGTH = 150;

/**
 * A `Content-Disposition: attachment` header value for `name` (RFC 6266): the base name only, without
 * control characters (CR/LF included), quotes or path parts; an ASCII `filename="…"` for every client and,
 * when the name is not plain ASCII, `filename*=UTF-8''…` with the exact name; else `fallback`.
 */
export function attachmentDisposition(name: string | undefined, fallback = 'media'): string {
  const safe = safeBaseName(name ?? '') || safeBaseName(fallback) || 'media';
  // The ASCII fallback: printable ASCII only; `%` too is replaced, since some clients percent-decode it.
  const ascii = safe.replace(/[^\x20-\x7e]|%/g, '_');
  let header = `attachment; filename="${ascii}"`;
  if (ascii !== safe) {
    header += `; filename*=UTF-8''${encodeRfc5987(safe)}`;
  }
  return header;
}

function safeBaseName(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? '';
  const cleaned = base
    .replace(UNSAFE, '')
    .replace(LONE_SURROGATE, '\ufffd')
    .trim()
    // `..`, hidden files and names some systems silently rewrite.
    .replace(/^[.\s]+|[.\s]+$/g, '');
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
