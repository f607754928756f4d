import { redactSecrets } from './secret-redaction';

const RID_PATTERN = /rid:\s*([\w-]+)/;

/** Weixin answered a call with a non-zero `errcode`. */
export class WeixinApiError extends Error {
  override readonly name = 'WeixinApiError';
  /** The request id Weixin put into `errmsg`, for support tickets. */
  readonly rid?: string;

  constructor(
    readonly errcode: number,
    readonly errmsg: string,
    /** The API path that answered, e.g. `/cgi-bin/media/upload`. */
    readonly path: string,
  ) {
    const cleanMessage = redactSecrets(errmsg);
    super(`Weixin ${path} answered errcode ${errcode}: ${cleanMessage}${WeixinApiError.hint(errcode)}`);
    this.errmsg = cleanMessage;
    this.rid = RID_PATTERN.exec(errmsg)?.[1];
  }

  /** True for the codes that mean "this access token is no longer good". */
  get isTokenInvalid(): boolean {
    return this.errcode === 40001 || this.errcode === 40014 || this.errcode === 42001;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, errcode: this.errcode, errmsg: this.errmsg, rid: this.rid, path: this.path };
  }

  /** What a person can do about the codes that have a clear fix. */
  private static hint(errcode: number): string {
    const hints: Record<number, string> = {
      40013: ' (check the appId setting: WEIXIN_APP_ID)',
      40125: ' (check the appSecret setting: WEIXIN_APP_SECRET)',
      40164: " (add this server's public IP to the Official Account's IP allow-list)",
      45009: ' (the daily API quota is used up; it resets at midnight China time)',
      45011: ' (the per-minute API quota is used up; wait a minute)',
      48001: ' (the Official Account lacks the permission for this API)',
      40007: ' (the media_id is unknown or older than 3 days)',
    };
    return hints[errcode] ?? '';
  }
}
