import { WeixinMediaError } from './weixin-media.error';

/**
 * Thrown by a format reader when the walk past the signature shows the file is another format than the
 * signature said (JPEG-LS behind a JPEG start, sound alone in an MP4 box tree). `inspectMediaContent` turns
 * it into a `MediaValidationError('unsupported-format')`: "this is {label}; ...". It never leaves the library.
 */
export class OtherFormatError extends WeixinMediaError {
  override readonly name = 'OtherFormatError';
  override readonly code = 'WEIXIN_MEDIA_ERR_OTHER_FORMAT';

  /** What the file is, to follow "this is": "a JPEG-LS image". */
  constructor(readonly label: string) {
    super(`this is ${label}`);
  }
}
