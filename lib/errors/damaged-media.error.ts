import { WeixinMediaError } from './weixin-media.error';

/**
 * Thrown by a format reader when the file is that format by its signature but its structure cannot be read.
 * `inspectMediaContent` turns it into a `MediaValidationError('unreadable')` that names the media type: it
 * never leaves the library.
 */
export class DamagedMediaError extends WeixinMediaError {
  override readonly name = 'DamagedMediaError';
  override readonly code = 'WEIXIN_MEDIA_ERR_DAMAGED_MEDIA';
}
