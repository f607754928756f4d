import { CallbackRefusedError } from '../errors/callback-refused.error';
import type { CallbackXmlFields } from './callback-xml';

/**
 * How the account's server settings have Weixin post messages: `plain` (signed only), `compat` (the plain
 * fields and an `Encrypt` copy) or `safe` (only `Encrypt`).
 */
export type WeixinMessageMode = 'plain' | 'compat' | 'safe';

/**
 * What every message and event carries, by Weixin's field names. Text stays text as Weixin sent it, except
 * `CreateTime`; fields not typed here are on the object too.
 */
export interface WeixinMessageBase {
  /** The account's original ID (`gh_...`). */
  ToUserName: string;
  /** The user's OpenID. */
  FromUserName: string;
  /** Seconds since 1970. */
  CreateTime: number;
  MsgType: string;
}

/** A user's message (not an event): `MsgId` is 64-bit, past what a JavaScript number holds, so text. */
interface WeixinUserMessage extends WeixinMessageBase {
  MsgId: string;
}

export interface WeixinTextMessage extends WeixinUserMessage {
  MsgType: 'text';
  Content: string;
}

export interface WeixinImageMessage extends WeixinUserMessage {
  MsgType: 'image';
  PicUrl: string;
  /** A temporary media_id: `TemporaryMediaService.download` fetches the picture. */
  MediaId: string;
}

export interface WeixinVoiceMessage extends WeixinUserMessage {
  MsgType: 'voice';
  MediaId: string;
  /** `amr` or `speex`. */
  Format: string;
  /** Weixin's speech recognition of the voice, when the account turned it on. */
  Recognition?: string;
}

export interface WeixinVideoMessage extends WeixinUserMessage {
  MsgType: 'video';
  MediaId: string;
  ThumbMediaId: string;
}

export interface WeixinShortVideoMessage extends WeixinUserMessage {
  MsgType: 'shortvideo';
  MediaId: string;
  ThumbMediaId: string;
}

export interface WeixinLocationMessage extends WeixinUserMessage {
  MsgType: 'location';
  /** Latitude, as Weixin wrote it. */
  Location_X: string;
  /** Longitude. */
  Location_Y: string;
  /** The map's zoom level. */
  Scale: string;
  Label: string;
}

export interface WeixinLinkMessage extends WeixinUserMessage {
  MsgType: 'link';
  Title: string;
  Description: string;
  Url: string;
}

/** An event: following, a menu click, a QR code scan, a reported location, ... (no `MsgId`). */
export interface WeixinEvent extends WeixinMessageBase {
  MsgType: 'event';
  /** `subscribe`, `unsubscribe`, `SCAN`, `LOCATION`, `CLICK`, `VIEW`, `scancode_push`, ... */
  Event: string;
  /** The menu key, or `qrscene_` + the scene of a QR code that made the user follow. */
  EventKey?: string;
  /** A QR code's ticket (`subscribe` by a QR code, `SCAN`). */
  Ticket?: string;
  /** Of `LOCATION`. */
  Latitude?: string;
  Longitude?: string;
  Precision?: string;
  /** Of a personalised menu's click. */
  MenuId?: string;
  /** Of `scancode_push` and `scancode_waitmsg`. */
  ScanCodeInfo?: { ScanType?: string; ScanResult?: string };
  /** Of `pic_sysphoto`, `pic_photo_or_album`, `pic_weixin`: `PicList.item` is one picture or a list. */
  SendPicsInfo?: Record<string, unknown>;
  /** Of `location_select`. */
  SendLocationInfo?: Record<string, unknown>;
}

export type WeixinMessage =
  | WeixinTextMessage
  | WeixinImageMessage
  | WeixinVoiceMessage
  | WeixinVideoMessage
  | WeixinShortVideoMessage
  | WeixinLocationMessage
  | WeixinLinkMessage
  | WeixinEvent;

const REQUIRED = ['ToUserName', 'FromUserName', 'MsgType', 'CreateTime'] as const;

/**
 * A parsed callback body made the message (the same object): `CreateTime` as a number, every other field as
 * it came (a message type not listed above keeps its fields too). Refuses (400 `xml`) a body without the
 * base fields.
 */
export function toWeixinMessage(fields: CallbackXmlFields): WeixinMessage {
  const missing: string[] = [];
  for (const name of REQUIRED)
    if (typeof fields[name] !== 'string' || fields[name] === '') missing.push(name);
  if (missing.length > 0) {
    throw new CallbackRefusedError(
      'xml',
      `the callback body is not a Weixin message: no ${missing.join(', ')}`,
    );
  }
  const createTime = fields.CreateTime as string;
  if (!/^\d{1,12}$/.test(createTime)) {
    const got = JSON.stringify(createTime.slice(0, 32));
    throw new CallbackRefusedError(
      'xml',
      `the callback body is not a Weixin message: CreateTime is whole seconds; got ${got}`,
    );
  }
  // The fields were read for this message alone: they become it.
  const message = fields as unknown as WeixinMessage;
  message.CreateTime = Number(createTime);
  return message;
}
