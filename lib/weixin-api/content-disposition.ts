import { safeBaseName } from '../media-rules/safe-base-name';

/**
 * The filename of a `Content-Disposition` header (`filename*=UTF-8''…` preferred over `filename="…"`),
 * reduced to a safe base name; `fallback` when there is none.
 */
export function dispositionFilename(header: string | undefined, fallback: string): string {
  if (!header) return fallback;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header)?.[1];
  const plain = /filename\s*=\s*"?([^";]+)"?/.exec(header)?.[1];
  let name = plain;
  if (extended) {
    try {
      name = decodeURIComponent(extended);
    } catch {
      name = plain;
    }
  }
  const safe = safeBaseName(name ?? '');
  return safe === '' || safe === '.' || safe === '..' ? fallback : safe;
}
