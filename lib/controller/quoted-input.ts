/** A value from the request, shortened and quoted as JSON (no control characters reach a message raw). */
export function quote(value: unknown, max = 40): string {
  return JSON.stringify(String(value).slice(0, max));
}

/**
 * Browsers escape LF, CR and `"` in a part's filename as %0A, %0D and %22 (WHATWG HTML, multipart/form-data),
 * and busboy leaves them so: exactly those three are turned back (a bare `%` is never escaped, so a full
 * decode would corrupt names like `50%.pdf`). The service reduces the name to a safe base name after.
 */
export function decodeFormDataName(name: string): string {
  return name.replace(/%0A|%0D|%22/gi, (match) => ({ '%0A': '\n', '%0D': '\r' })[match.toUpperCase()] ?? '"');
}

export function curlHint(fieldName: string): string {
  return `(curl -F ${fieldName}=@photo.jpg)`;
}

export function describeError(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 100);
}
