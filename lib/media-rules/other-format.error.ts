/**
 * Thrown by a format reader when the walk past the signature shows the file is another format than the
 * signature said (JPEG-LS behind a JPEG start, sound alone in an MP4 box tree). `inspectMediaContent` turns
 * it into a `MediaValidationError('unsupported-format')`: "this is {label}; ...".
 */
export class OtherFormatError extends Error {
  override readonly name = 'OtherFormatError';

  /** What the file is, to follow "this is": "a JPEG-LS image". */
  constructor(readonly label: string) {
    super(`this is ${label}`);
  }
}
