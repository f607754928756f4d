/**
 * Thrown by a format reader when the file is that format by its signature but its structure cannot be read.
 * `inspectMediaContent` turns it into a `MediaValidationError('unreadable')` that names the media type.
 */
export class DamagedMediaError extends Error {
  override readonly name = 'DamagedMediaError';
}
