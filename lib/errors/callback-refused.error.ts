import { WeixinMediaError } from './weixin-media.error';

/** Which rule a callback request broke. */
export type CallbackRefusalReason =
  | 'signature'
  | 'msg-signature'
  | 'timestamp'
  | 'receiveid'
  | 'mode'
  | 'xml'
  | 'padding'
  | 'length'
  | 'ciphertext'
  | 'too-large'
  | 'timeout';

/** The HTTP status each refusal answers: 401 for authenticity, 400 for a malformed body. */
const STATUS_BY_REASON: Record<CallbackRefusalReason, 400 | 401 | 408 | 413> = {
  signature: 401,
  'msg-signature': 401,
  timestamp: 401,
  receiveid: 401,
  mode: 401,
  xml: 400,
  padding: 400,
  length: 400,
  ciphertext: 400,
  'too-large': 413,
  timeout: 408,
};

/**
 * A callback request that is not taken: not signed with the account's Token, too old, encrypted for
 * another account, in a mode the account did not choose, or malformed. Found before any handler runs. The
 * message names the rule (with the numbers where they apply) and never a Token, key or plaintext.
 */
export class CallbackRefusedError extends WeixinMediaError {
  override readonly name = 'CallbackRefusedError';
  override readonly code = 'WEIXIN_MEDIA_ERR_CALLBACK_REFUSED';
  readonly status: 400 | 401 | 408 | 413;

  constructor(
    readonly reason: CallbackRefusalReason,
    message: string,
  ) {
    super(message);
    this.status = STATUS_BY_REASON[reason];
  }

  toJSON(): Record<string, unknown> {
    const { name, code, reason, status, message } = this;
    return { name, code, reason, status, message };
  }
}
