import { WeixinErrorCode } from './weixin-error-codes';
import type { MediaType } from '../interfaces/media.interface';
import { WeixinMediaError } from './weixin-media.error';

export type MediaValidationReason =
  'invalid-type' | 'empty' | 'too-large' | 'unsupported-format' | 'too-long' | 'unreadable';

/** The Weixin errcode the platform would have answered for each broken rule. */
export const ERRCODE_BY_REASON: Record<MediaValidationReason, number> = {
  'invalid-type': WeixinErrorCode.INVALID_MEDIA_TYPE,
  empty: WeixinErrorCode.INVALID_MEDIA_SIZE,
  'too-large': WeixinErrorCode.INVALID_MEDIA_SIZE,
  'unsupported-format': WeixinErrorCode.INVALID_FILE_TYPE,
  'too-long': WeixinErrorCode.INVALID_FILE_TYPE,
  unreadable: WeixinErrorCode.INVALID_FILE_TYPE,
};

export interface MediaValidationDetails {
  type?: MediaType;
  /** The rule's bound: bytes for sizes, milliseconds for durations. */
  limit?: number;
  /** The file's value measured against `limit`. */
  actual?: number;
}

/** A file breaks one of Weixin's rules; found locally, before any network call. */
export class MediaValidationError extends WeixinMediaError {
  override readonly name = 'MediaValidationError';
  override readonly code = 'WEIXIN_MEDIA_ERR_VALIDATION';
  readonly errcode: number;
  readonly type?: MediaType;
  readonly limit?: number;
  readonly actual?: number;

  constructor(
    readonly reason: MediaValidationReason,
    message: string,
    details: MediaValidationDetails = {},
  ) {
    super(message);
    this.errcode = ERRCODE_BY_REASON[reason];
    this.type = details.type;
    this.limit = details.limit;
    this.actual = details.actual;
  }

  toJSON(): Record<string, unknown> {
    const { name, code, reason, errcode, type, limit, actual, message } = this;
    return { name, code, reason, errcode, type, limit, actual, message };
  }
}
