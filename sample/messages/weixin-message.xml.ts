import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { WeixinMessage, WeixinReply } from './weixin-message.interface';

const MESSAGE_FIELDS = [
  'ToUserName',
  'FromUserName',
  'CreateTime',
  'MsgType',
  'MsgId',
  'Content',
  'MediaId',
  'Format',
  'PicUrl',
  'Event',
] as const satisfies ReadonlyArray<keyof WeixinMessage>;
const REQUIRED_FIELDS = ['ToUserName', 'FromUserName', 'MsgType'] as const;

const parser = new XMLParser({
  ignoreAttributes: true,
  // Text stays text: MsgId and CreateTime are not numbers to round.
  parseTagValue: false,
  trimValues: true,
  // Weixin wraps every string in CDATA; leaving entities alone rules out entity-expansion attacks.
  processEntities: false,
});

const CDATA = '#cdata';
const builder = new XMLBuilder({ cdataPropName: CDATA, suppressEmptyNode: false });

/** Why a callback body is not a Weixin message (a 400 for the caller). */
export class WeixinMessageFormatError extends Error {
  override readonly name = 'WeixinMessageFormatError';
}

/** Parses a plain-mode callback body (`<xml><ToUserName>...</xml>`) into a message. */
export function parseWeixinMessageXml(xml: string): WeixinMessage {
  let document: unknown;
  try {
    document = parser.parse(xml, true);
  } catch (error) {
    throw new WeixinMessageFormatError(`the body is not well-formed XML: ${(error as Error).message}`);
  }
  const root = (document as { xml?: unknown } | undefined)?.xml;
  if (typeof root !== 'object' || root === null) {
    throw new WeixinMessageFormatError('the body has no <xml> root element');
  }
  const fields = root as Record<string, unknown>;
  if (fields.Encrypt !== undefined && fields.MsgType === undefined) {
    throw new WeixinMessageFormatError(
      'the message is encrypted (safe mode); the sample handles plain mode: choose 明文模式 in the server settings',
    );
  }
  const message: Partial<Record<keyof WeixinMessage, string>> = {};
  for (const field of MESSAGE_FIELDS) {
    const value = fields[field];
    if (typeof value === 'string') message[field] = value;
  }
  const missing = REQUIRED_FIELDS.filter((field) => !message[field]);
  if (missing.length > 0) {
    throw new WeixinMessageFormatError(`the message has no ${missing.join(', ')}`);
  }
  return message as WeixinMessage;
}

/**
 * Builds the passive reply to `message`: sender and receiver swapped, every string in CDATA
 * (the builder splits a `]]>` inside a value across two sections).
 */
export function buildWeixinReplyXml(message: WeixinMessage, reply: WeixinReply, now = Date.now()): string {
  return builder.build({
    xml: {
      ToUserName: cdata(message.FromUserName),
      FromUserName: cdata(message.ToUserName),
      CreateTime: Math.floor(now / 1000),
      ...wrapStrings(reply),
    },
  }) as string;
}

function cdata(value: string): Record<string, string> {
  return { [CDATA]: value };
}

function wrapStrings(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, wrapValue(item)]));
}

function wrapValue(item: unknown): unknown {
  if (typeof item === 'string') return cdata(item);
  return typeof item === 'object' && item !== null ? wrapStrings(item) : item;
}
