import { isTokenInvalidErrcode } from './weixin-error-codes';
import { weixinErrorHint } from './weixin-error-hints';
import { redactSecrets } from './secret-redaction';
import { WeixinMediaError } from './weixin-media.error';

const RID_PATTERN = /rid:\s*([\w-]+)/;

/** Weixin answered a call with a non-zero `errcode`. */
export class WeixinApiError extends WeixinMediaError {
  override readonly name = 'WeixinApiError';
  override readonly code = 'WEIXIN_MEDIA_ERR_API';
  /** The request id Weixin put into `errmsg`, for support tickets and `lookupRequest(rid)`. */
  readonly rid?: string;
  /** One sentence on what to do, for the codes that have a clear fix (40164, 40013, 45009, 40007, ...). */
  readonly hint?: string;

  constructor(
    readonly errcode: number,
    readonly errmsg: string,
    /** The API path that answered, e.g. `/cgi-bin/media/upload`. */
    readonly path: string,
  ) {
    const cleanMessage = redactSecrets(errmsg);
    const hint = weixinErrorHint(errcode, cleanMessage, path);
    super(`Weixin ${path} answered errcode ${errcode}: ${cleanMessage}${hint ? ` (${hint})` : ''}`);
    this.errmsg = cleanMessage;
    this.hint = hint;
    this.rid = RID_PATTERN.exec(errmsg)?.[1];
  }

  /** True for the codes that mean "this access token is no longer good" (40001, 40014, 42001). */
  get isTokenInvalid(): boolean {
    return isTokenInvalidErrcode(this.errcode);
  }

  toJSON(): Record<string, unknown> {
    const { name, code, errcode, errmsg, rid, path, hint } = this;
    return { name, code, errcode, errmsg, rid, path, hint };
  }
}
