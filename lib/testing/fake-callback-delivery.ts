import { randomBytes, randomInt } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { WeixinCallbackCrypto } from '../callback/callback-crypto';
import { type CallbackXmlValue, callbackXml, parseCallbackXml } from '../callback/callback-xml';
import type { WeixinMessageMode } from '../callback/weixin-message.interface';
import type { FakeFollowers } from './fake-followers';

/** A message or event for `deliver`, by Weixin's field names, sent as given (nested objects as elements). */
export interface FakeInboundMessage {
  /** `text`, `image`, `voice`, `video`, `shortvideo`, `location`, `link`, `event`, ... */
  MsgType: string;
  /** @default 'oFakeUser0000000000000000000' */
  FromUserName?: string;
  /** @default the `appId` of the delivery */
  ToUserName?: string;
  /** @default now, in seconds */
  CreateTime?: number | string;
  /** @default a fresh 64-bit decimal id for a message; none for an event */
  MsgId?: string;
  [field: string]: CallbackXmlValue;
}

export interface FakeDeliverOptions {
  /** @default 'safe' with an `encodingAESKey`, else 'plain' */
  mode?: WeixinMessageMode;
  /** The Token of the app's server settings. */
  token: string;
  /** Needed for compat and safe mode. */
  encodingAESKey?: string;
  /** The account the message is for: the receiveid and default `ToUserName`. @default the fake's `appId` */
  appId?: string;
  /** How long a try waits for a whole answer (Weixin: 5 s). @default 5000 */
  timeoutMs?: number;
  /** Tries in all; a try that did not answer 200 in time is retried (Weixin: 3). @default 3 */
  tries?: number;
}

/** The app's passive reply, flat (`<Image><MediaId>` is `MediaId`); in compat and safe mode, decrypted. */
export interface FakeDeliveryReply {
  MsgType: string;
  Content?: string;
  MediaId?: string;
  Title?: string;
  Description?: string;
  MusicUrl?: string;
  HQMusicUrl?: string;
  ThumbMediaId?: string;
  ToUserName: string;
  FromUserName: string;
  /** Seconds. */
  CreateTime: number;
}

export interface FakeDelivery {
  /** Tries made (1 when the first answered 200 in time). */
  tries: number;
  /** The last try's HTTP status; 0 when it had no whole answer in time (or the connection failed). */
  status: number;
  /** None for `success`, an empty body or a status other than 200. */
  reply?: FakeDeliveryReply;
}

const DEFAULT_OPEN_ID = 'oFakeUser0000000000000000000';
/** More than any passive reply needs; the fake never reads an endless answer. */
const MAX_REPLY_BYTES = 1024 * 1024;
const REPLY_FIELDS = ['Content', 'MediaId', 'Title', 'Description', 'MusicUrl', 'HQMusicUrl', 'ThumbMediaId'];
/** Where a reply's media fields are nested, by its MsgType. */
const NESTED: Record<string, string> = { image: 'Image', voice: 'Voice', video: 'Video', music: 'Music' };

/** Posts messages to an app's callback URL as Weixin does; `FakeWeixinServer.deliver` runs on it. */
export class FakeCallbackDelivery {
  constructor(
    private readonly followers: FakeFollowers,
    private readonly defaultAppId: string,
    /** The fake clock: when the sender last wrote. */
    private readonly now: () => number,
  ) {}

  async deliver(
    url: string,
    message: FakeInboundMessage,
    options: FakeDeliverOptions,
  ): Promise<FakeDelivery> {
    const appId = options.appId ?? this.defaultAppId;
    const mode = options.mode ?? (options.encodingAESKey === undefined ? 'plain' : 'safe');
    if (mode !== 'plain' && options.encodingAESKey === undefined) {
      throw new TypeError(`deliver in ${mode} mode needs the encodingAESKey`);
    }
    const maxTries = options.tries ?? 3;
    const timeoutMs = options.timeoutMs ?? 5000;
    if (!Number.isInteger(maxTries) || maxTries < 1)
      throw new RangeError(`tries must be 1 or more; got ${maxTries}`);
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive; got ${timeoutMs}`);
    const crypto = new WeixinCallbackCrypto({
      token: options.token,
      encodingAESKey: options.encodingAESKey,
      receiveId: appId,
    });
    const fields = completed(message, appId);
    const openId = String(fields.FromUserName);
    if (fields.MsgType === 'event' && fields.Event === 'unsubscribe') this.followers.remove(appId, openId);
    else this.followers.add(appId, openId, new Date(this.now()));
    for (let tries = 1; ; tries++) {
      const { status, text } = await post(signedRequest(url, fields, mode, crypto), timeoutMs);
      if (status === 200) {
        if (text === undefined) throw replyError(`it is over ${MAX_REPLY_BYTES} bytes`);
        return { tries, status, ...readReply(text, mode, crypto, fields) };
      }
      if (tries >= maxTries) return { tries, status };
    }
  }
}

/** The message with what Weixin always sends filled in. */
function completed(message: FakeInboundMessage, appId: string): Record<string, CallbackXmlValue> {
  const given = Object.fromEntries(Object.entries(message).filter(([, value]) => value !== undefined));
  const fields: Record<string, CallbackXmlValue> = {
    ToUserName: appId,
    FromUserName: DEFAULT_OPEN_ID,
    CreateTime: Math.floor(Date.now() / 1000),
    ...given,
  };
  if (fields.MsgType !== 'event' && fields.MsgId === undefined) fields.MsgId = newMsgId();
  return fields;
}

/** A 19-digit id, above 2^53 as Weixin's are: a rounding client would show. */
function newMsgId(): string {
  const random = randomBytes(8).readBigUInt64BE() % 2n ** 62n;
  return (2n ** 60n + random).toString();
}

/** One try: signed (and encrypted) afresh, with its own timestamp and nonce. */
function signedRequest(
  url: string,
  fields: Record<string, CallbackXmlValue>,
  mode: WeixinMessageMode,
  crypto: WeixinCallbackCrypto,
): { target: URL; body: string } {
  const target = new URL(url);
  // Seconds of the real clock: the app compares them with its own.
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = String(randomInt(100_000_000, 10_000_000_000));
  const query = target.searchParams;
  query.set('signature', crypto.signature(timestamp, nonce));
  query.set('timestamp', timestamp);
  query.set('nonce', nonce);
  query.set('openid', String(fields.FromUserName));
  if (mode === 'plain') return { target, body: callbackXml(fields) };
  const encrypt = crypto.encrypt(callbackXml(fields));
  query.set('encrypt_type', 'aes');
  query.set('msg_signature', crypto.msgSignature(timestamp, nonce, encrypt));
  const envelope =
    mode === 'compat' ? { ...fields, Encrypt: encrypt } : { ToUserName: fields.ToUserName, Encrypt: encrypt };
  return { target, body: callbackXml(envelope) };
}

/** POSTs the body; status 0 when no whole answer came within `timeoutMs`. */
function post(
  { target, body }: { target: URL; body: string },
  timeoutMs: number,
): Promise<{ status: number; text?: string }> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (status: number, text?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (text === undefined) req.destroy();
      resolve({ status, text });
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    // A connection per try, as Weixin's retries arrive.
    const headers = { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(body) };
    const req = send(target, { method: 'POST', agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) return finish(res.statusCode ?? 0);
        chunks.push(chunk);
      });
      res.on('end', () => finish(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
      res.on('error', () => finish(0));
      res.on('close', () => finish(0));
    });
    req.on('error', () => finish(0));
    const timer = setTimeout(() => finish(0), timeoutMs);
    req.end(body);
  });
}

/** The reply as Weixin reads it: encrypted and signed in compat and safe mode, back to the sender. */
function readReply(
  text: string,
  mode: WeixinMessageMode,
  crypto: WeixinCallbackCrypto,
  message: Record<string, CallbackXmlValue>,
): { reply?: FakeDeliveryReply } {
  const body = text.trim();
  if (body === '' || body === 'success') return {};
  let fields = parseReply(body);
  if (mode !== 'plain') {
    const { Encrypt, MsgSignature, TimeStamp, Nonce } = fields;
    if (typeof Encrypt !== 'string')
      throw replyError(`in ${mode} mode the reply must be encrypted (<Encrypt>)`);
    if (!crypto.verifyMsgSignature(String(MsgSignature), String(TimeStamp), String(Nonce), Encrypt)) {
      throw replyError('its MsgSignature does not verify over TimeStamp, Nonce and Encrypt');
    }
    checkSeconds('TimeStamp', TimeStamp);
    fields = parseReply(decrypted(crypto, Encrypt));
  }
  const { MsgType, ToUserName, FromUserName, CreateTime } = fields;
  if (typeof MsgType !== 'string' || MsgType === '') throw replyError('it has no MsgType');
  if (ToUserName !== message.FromUserName || FromUserName !== message.ToUserName) {
    throw replyError('it must go back to the sender: ToUserName = the FromUserName, and the other way round');
  }
  const reply: FakeDeliveryReply = {
    MsgType,
    ToUserName: String(ToUserName),
    FromUserName: String(FromUserName),
    CreateTime: checkSeconds('CreateTime', CreateTime),
  };
  const nested = fields[NESTED[MsgType] ?? ''];
  const source = typeof nested === 'object' ? { ...fields, ...nested } : fields;
  for (const name of REPLY_FIELDS) {
    const value = source[name];
    if (typeof value === 'string') Object.assign(reply, { [name]: value });
  }
  return { reply };
}

function parseReply(xml: string): Record<string, unknown> {
  try {
    return parseCallbackXml(xml);
  } catch (error) {
    throw replyError((error as Error).message);
  }
}

function decrypted(crypto: WeixinCallbackCrypto, encrypt: string): string {
  try {
    return crypto.decrypt(encrypt);
  } catch (error) {
    throw replyError((error as Error).message);
  }
}

function checkSeconds(name: string, value: unknown): number {
  if (typeof value !== 'string' || !/^\d{1,10}$/.test(value)) {
    throw replyError(
      `its ${name} must be seconds since 1970 (at most 10 digits); got ${String(value).slice(0, 32)}`,
    );
  }
  return Number(value);
}

function replyError(problem: string): Error {
  return new Error(`deliver: the app answered 200 with a reply Weixin cannot use: ${problem}`);
}
