import { WeixinErrorCode } from './weixin-error-codes';
import { WeixinMediaError } from './weixin-media.error';

/**
 * - `invalid-openid`: the openId is empty or not the shape of a Weixin openid
 * - `empty-text`, `text-too-long`: a text message's content is empty or over Weixin's length
 * - `unknown-msgtype`: a message of a type customer-service sending has not (text, image, voice, video, music)
 * - `missing-field`: a field the message needs is absent (a music message's `musicUrl` or `thumb`, ...)
 * - `invalid-field`: a field is of the wrong kind (a `musicUrl` that is not an http(s) URL, ...)
 */
export type MessageValidationReason =
  'invalid-openid' | 'empty-text' | 'text-too-long' | 'unknown-msgtype' | 'missing-field' | 'invalid-field';

/** The Weixin errcode the platform would have answered for each broken rule. */
const ERRCODE_BY_REASON: Record<MessageValidationReason, number> = {
  'invalid-openid': WeixinErrorCode.INVALID_OPENID,
  'empty-text': WeixinErrorCode.EMPTY_CONTENT,
  'text-too-long': WeixinErrorCode.CONTENT_TOO_LONG,
  'unknown-msgtype': WeixinErrorCode.INVALID_MESSAGE_TYPE,
  'missing-field': WeixinErrorCode.INVALID_ARGS,
  'invalid-field': WeixinErrorCode.INVALID_ARGS,
};

export interface MessageValidationDetails {
  /** The field at fault, as the method takes it: `openId`, `content`, `musicUrl`, `thumb`, ... */
  field?: string;
  /** The rule's bound (bytes for a text's length). */
  limit?: number;
  /** The message's value measured against `limit`. */
  actual?: number;
}

/** A message to send breaks one of Weixin's rules; found locally, before any upload or network call. */
export class MessageValidationError extends WeixinMediaError {
  override readonly name = 'MessageValidationError';
  override readonly code = 'WEIXIN_MEDIA_ERR_MESSAGE_VALIDATION';
  readonly errcode: number;
  readonly field?: string;
  readonly limit?: number;
  readonly actual?: number;

  constructor(
    readonly reason: MessageValidationReason,
    message: string,
    details: MessageValidationDetails = {},
  ) {
    super(message);
    this.errcode = ERRCODE_BY_REASON[reason];
    this.field = details.field;
    this.limit = details.limit;
    this.actual = details.actual;
  }

  toJSON(): Record<string, unknown> {
    const { name, code, reason, errcode, field, limit, actual, message } = this;
    return { name, code, reason, errcode, field, limit, actual, message };
  }
}
