import type { FakeExchange } from './fake-exchange';
import type { FakeFollower, FakeFollowers } from './fake-followers';
import type { FakeMediaType } from './fake-media-format';
import type { FakeMediaStore } from './fake-media-store';

/** A customer-service message the fake accepted, as `sentMessages()` lists it. */
export interface FakeSentMessage {
  /** The account that sent it. */
  appId: string;
  openId: string;
  msgtype: string;
  /** The msgtype's object as sent: `{ content }`, `{ media_id }`, `{ media_id, thumb_media_id, title, ... }`. */
  message: Record<string, unknown>;
  /** `customservice.kf_account`, when the message named one. */
  kfAccount?: string;
  /** When it was accepted, on the fake clock. */
  at: Date;
}

const WINDOW_MS = 48 * 60 * 60 * 1000;
const TYPING_INTERACTION_MS = 30 * 1000;
const TYPING_SHOWN_MS = 15 * 1000;
/** The fake refuses text content past the library's limit, as Weixin does past its own (45002). */
const MAX_TEXT_BYTES = 2048;
/** The media type each media_id field must be of. */
const MEDIA_FIELDS: Record<string, Array<[field: string, type: FakeMediaType, required: boolean]>> = {
  image: [['media_id', 'image', true]],
  voice: [['media_id', 'voice', true]],
  video: [
    ['media_id', 'video', true],
    ['thumb_media_id', 'thumb', false],
  ],
  music: [['thumb_media_id', 'thumb', true]],
};

/**
 * Customer-service messages and the typing state as Weixin answers them: only to followers of the account,
 * within 48 hours of their last message, a limited number per message they wrote, media_ids of the
 * account and of the right type. Accepted messages are kept for `sentMessages()`.
 */
export class FakeMessageEndpoints {
  private sent: FakeSentMessage[] = [];
  /** appId\0openId → the messages sent since the follower last wrote. */
  private readonly counts = new Map<string, { since: number; count: number }>();
  /** appId\0openId → until when the typing state shows. */
  private readonly typingUntil = new Map<string, number>();

  constructor(
    private readonly followers: FakeFollowers,
    private readonly media: FakeMediaStore,
    private readonly now: () => number,
    private readonly perWindow: number,
  ) {
    if (!(Number.isInteger(perWindow) && perWindow >= 0)) {
      throw new RangeError(`messagesPerWindow must be an integer >= 0, got ${perWindow}`);
    }
  }

  /**
   * `POST /cgi-bin/message/custom/send` for the account `appId`: the message is recorded (or refused) before
   * `afterRecord` runs, which may hold or drop the answer (an injected delay, reset or status).
   */
  async send(exchange: FakeExchange, appId: string, afterRecord?: () => Promise<boolean>): Promise<void> {
    const body = await exchange.readJsonObject();
    if (body === 'aborted') return;
    const refused = body ? this.refusal(appId, body) : 47001;
    if (refused !== undefined) return exchange.error(refused);
    const { touser, msgtype, customservice } = body as Record<string, unknown> & {
      touser: string;
      msgtype: string;
    };
    const kfAccount = (customservice as { kf_account?: unknown } | undefined)?.kf_account;
    const key = `${appId}\0${touser}`;
    this.counts.get(key)!.count++;
    this.typingUntil.delete(key);
    this.sent.push({
      appId,
      openId: touser,
      msgtype,
      message: body![msgtype] as Record<string, unknown>,
      ...(typeof kfAccount === 'string' ? { kfAccount } : {}),
      at: new Date(this.now()),
    });
    if (afterRecord && (await afterRecord())) return;
    exchange.json(200, { errcode: 0, errmsg: 'ok' });
  }

  /** `POST /cgi-bin/message/custom/typing` for the account `appId`. */
  async typing(exchange: FakeExchange, appId: string): Promise<void> {
    const body = await exchange.readJsonObject();
    if (body === 'aborted') return;
    if (!body) return exchange.error(47001);
    const follower = this.follower(appId, body.touser);
    if (!follower) return exchange.error(40003);
    if (body.command !== 'Typing' && body.command !== 'CancelTyping') return exchange.error(45072);
    const wrote = follower.lastMessageAt?.getTime();
    if (wrote === undefined || this.now() - wrote > TYPING_INTERACTION_MS) return exchange.error(45080);
    const key = `${appId}\0${follower.openId}`;
    if (body.command === 'CancelTyping') {
      this.typingUntil.delete(key);
    } else {
      if ((this.typingUntil.get(key) ?? 0) > this.now()) return exchange.error(45081);
      this.typingUntil.set(key, this.now() + TYPING_SHOWN_MS);
    }
    exchange.json(200, { errcode: 0, errmsg: 'ok' });
  }

  /** The accepted messages, oldest first, of `openId` and of the account `appId` when given. */
  sentMessages(filter: { openId?: string; appId?: string } = {}): FakeSentMessage[] {
    return this.sent
      .filter(
        (sent) =>
          (filter.openId === undefined || sent.openId === filter.openId) &&
          (filter.appId === undefined || sent.appId === filter.appId),
      )
      .map((sent) => ({ ...sent, message: { ...sent.message }, at: new Date(sent.at) }));
  }

  clear(): void {
    this.sent = [];
    this.counts.clear();
    this.typingUntil.clear();
  }

  /** The errcode Weixin refuses this send with, in its order of checks; undefined when it goes. */
  private refusal(appId: string, body: Record<string, unknown>): number | undefined {
    const follower = this.follower(appId, body.touser);
    // An openid of another account is as unknown here as one nobody has.
    if (!follower) return 40003;
    const msgtype = body.msgtype;
    if (typeof msgtype !== 'string' || !['text', ...Object.keys(MEDIA_FIELDS)].includes(msgtype))
      return 40008;
    const wrote = follower.lastMessageAt?.getTime();
    if (wrote === undefined || this.now() - wrote >= WINDOW_MS) return 45015;
    const key = `${appId}\0${follower.openId}`;
    let window = this.counts.get(key);
    if (window?.since !== wrote) this.counts.set(key, (window = { since: wrote, count: 0 }));
    if (window.count >= this.perWindow) return 45047;
    const message = body[msgtype];
    if (typeof message !== 'object' || message === null) return 47001;
    return msgtype === 'text'
      ? this.textRefusal(message as Record<string, unknown>)
      : this.mediaRefusal(appId, msgtype, message as Record<string, unknown>);
  }

  private textRefusal(message: Record<string, unknown>): number | undefined {
    const { content } = message;
    if (typeof content !== 'string' || content === '') return 44004;
    return Buffer.byteLength(content, 'utf8') > MAX_TEXT_BYTES ? 45002 : undefined;
  }

  private mediaRefusal(appId: string, msgtype: string, message: Record<string, unknown>): number | undefined {
    if (msgtype === 'music' && typeof message.musicurl !== 'string') return 47001;
    for (const [field, type, required] of MEDIA_FIELDS[msgtype]) {
      const mediaId = message[field];
      if (mediaId === undefined && !required) continue;
      const media = typeof mediaId === 'string' ? this.media.getLive(mediaId, this.now()) : undefined;
      // Unknown, expired, another account's and another type's media_ids are all 40007.
      if (media?.appId !== appId || media.type !== type) return 40007;
    }
    return undefined;
  }

  private follower(appId: string, openId: unknown): FakeFollower | undefined {
    return typeof openId === 'string' ? this.followers.get(appId, openId) : undefined;
  }
}
