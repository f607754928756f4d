/** C0 and C1 controls (CR and LF included), DEL, quotes and bidi overrides: never in a header's filename. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f"\u202a-\u202e\u2066-\u2069]/g;
/** Half a surrogate pair cannot be encoded as UTF-8. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * The last path part of `name` (after `/` or `\`), without the characters that could break a multipart
 * or `Content-Disposition` header, trimmed. Callers add their own rules (extension, length, dots).
 */
export function safeBaseName(name: string): string {
  const last = name.split(/[/\\]/).pop() ?? '';
  return last.replace(UNSAFE, '').replace(LONE_SURROGATE, '\ufffd').trim();
}
