import { XMLParser } from 'fast-xml-parser';
import { CallbackRefusedError } from '../errors/callback-refused.error';
import { flatCallbackFields } from './flat-callback-xml';

/**
 * A callback body's fields under `<xml>`, by Weixin's names. Every value is text as it came (`MsgId` has more
 * digits than a JavaScript number holds); an element with children (`ScanCodeInfo`, `SendPicsInfo`) is an
 * object of the same kind, a repeated child an array.
 */
export type CallbackXmlFields = Record<string, string | Record<string, unknown>>;

/** Weixin's bodies have a few dozen elements, 4 deep at most under `<xml>` (SendPicsInfo.PicList.item.X). */
const MAX_ELEMENTS = 256;
const MAX_DEPTH = 8;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const NAME_START = /[A-Za-z_:]/;
const SKIPPED = [
  { open: '<![CDATA[', close: ']]>', name: 'a CDATA section' },
  { open: '<!--', close: '-->', name: 'a comment' },
];

const parser = new XMLParser({
  ignoreAttributes: true,
  // Text stays text: MsgId "9223372036854775807" must not become a rounded number.
  parseTagValue: false,
  trimValues: true,
  // Declarations are refused before parsing; entities are never expanded either way.
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: MAX_DEPTH,
});

/**
 * Reads a callback body (`<xml>...</xml>`) into its fields. Refuses (`CallbackRefusedError`, reason `'xml'`,
 * 400) what is not well-formed, has another root, repeats a top-level field, or carries a DTD or entity
 * declaration (XXE, billion laughs), more than 256 elements, or fields nested more than 8 deep.
 */
export function parseCallbackXml(xml: string): CallbackXmlFields {
  const flat = flatCallbackFields(xml, MAX_ELEMENTS - 1);
  if (flat) return flat;
  const problem = markupProblem(xml);
  if (problem) throw refused(problem);
  let document: Record<string, unknown>;
  try {
    document = parser.parse(xml, true) as Record<string, unknown>;
  } catch (error) {
    const { message } = error as Error;
    if (message.startsWith('Maximum nested tags')) throw refused(`fields nested more than ${MAX_DEPTH} deep`);
    throw refused(`not well-formed: ${message.slice(0, 200)}`);
  }
  const roots = Object.keys(document);
  if (roots.length !== 1 || roots[0] !== 'xml') {
    throw refused(`the root element must be <xml> alone; found ${roots.length} root(s)`);
  }
  const root = document.xml;
  if (typeof root === 'string') {
    if (root === '') return {};
    throw refused('<xml> holds text, not fields');
  }
  const fields: CallbackXmlFields = {};
  for (const [name, value] of Object.entries(root as Record<string, unknown>)) {
    if (name === '#text') throw refused('<xml> holds text between its fields');
    if (Array.isArray(value)) throw refused(`<${name}> appears ${value.length} times; a field appears once`);
    fields[name] = value as string | Record<string, unknown>;
  }
  return fields;
}

/** The fields of an encrypted body (compat or safe mode) that are read before decryption. */
export interface CallbackEnvelope {
  Encrypt: string;
  /** The account's original ID (`gh_...`), as Weixin addressed the message. */
  ToUserName?: string;
  /** Compat mode: plain fields beside `Encrypt`, which `msg_signature` does not cover. */
  compat: boolean;
}

/**
 * Reads `Encrypt` and `ToUserName` from an encrypted callback body, and whether it is a compat body;
 * refuses a body without `<Encrypt>`.
 */
export function callbackEnvelopeFields(xml: string): CallbackEnvelope {
  const fields = parseCallbackXml(xml);
  const { Encrypt, ToUserName } = fields;
  if (typeof Encrypt !== 'string' || Encrypt === '') {
    throw refused('an encrypted request (encrypt_type=aes) needs a non-empty <Encrypt> field');
  }
  const compat = Object.keys(fields).some((name) => name !== 'ToUserName' && name !== 'Encrypt');
  return typeof ToUserName === 'string' ? { Encrypt, ToUserName, compat } : { Encrypt, compat };
}

/** Who a passive reply goes to and from, and when. */
export interface CallbackReplyHeader {
  /** The user's OpenID: the `FromUserName` of the message answered. */
  ToUserName: string;
  /** The account's original ID: the `ToUserName` of the message answered. */
  FromUserName: string;
  /** Seconds since 1970 (Weixin's unit; milliseconds are refused). */
  CreateTime: number;
}

/** A passive reply's own fields, flat: the media fields are nested into `<Image>`, `<Voice>`, ... when written. */
export type CallbackReplyBody =
  | { MsgType: 'text'; Content: string }
  | { MsgType: 'image' | 'voice'; MediaId: string }
  | { MsgType: 'video'; MediaId: string; Title?: string; Description?: string }
  | {
      MsgType: 'music';
      ThumbMediaId: string;
      Title?: string;
      Description?: string;
      MusicUrl?: string;
      HQMusicUrl?: string;
    };

/** Writes Weixin's passive-reply XML: every string in CDATA, empty optional nodes left out. */
export function callbackReplyXml(header: CallbackReplyHeader, reply: CallbackReplyBody): string {
  const { ToUserName, FromUserName, CreateTime } = header;
  if (!Number.isSafeInteger(CreateTime) || CreateTime < 0 || CreateTime >= 1e11) {
    throw new RangeError(`a reply's CreateTime is whole seconds since 1970; got ${CreateTime}`);
  }
  const fields = replyFields(reply);
  return (
    `<xml>${element('ToUserName', ToUserName)}${element('FromUserName', FromUserName)}` +
    `${element('CreateTime', CreateTime)}${element('MsgType', reply.MsgType)}${fields}</xml>`
  );
}

/** The fields after `MsgType`, media nested in their element. */
function replyFields(reply: CallbackReplyBody): string {
  switch (reply.MsgType) {
    case 'text':
      return element('Content', required(reply.Content, 'Content'));
    case 'image':
      return element('Image', { MediaId: required(reply.MediaId, 'MediaId') });
    case 'voice':
      return element('Voice', { MediaId: required(reply.MediaId, 'MediaId') });
    case 'video': {
      const { MediaId, Title, Description } = reply;
      return element('Video', { MediaId: required(MediaId, 'MediaId'), Title, Description });
    }
    case 'music': {
      const { Title, Description, MusicUrl, HQMusicUrl, ThumbMediaId } = reply;
      const music = { Title, Description, MusicUrl, HQMusicUrl };
      return element('Music', { ...music, ThumbMediaId: required(ThumbMediaId, 'ThumbMediaId') });
    }
    default: {
      const type = (reply as { MsgType?: unknown }).MsgType;
      throw new RangeError(`a passive reply is text, image, voice, video or music; got ${String(type)}`);
    }
  }
}

/** What `callbackXml` writes: text (in CDATA), numbers, nested elements, repeated elements. */
export type CallbackXmlValue =
  string | number | undefined | CallbackXmlValue[] | { [name: string]: CallbackXmlValue };

/** `<xml>` around `fields`, in their order; `undefined` and `''` are left out. */
export function callbackXml(fields: Record<string, CallbackXmlValue>): string {
  return `<xml>${elements(fields)}</xml>`;
}

/** Text in CDATA; a `]]>` inside is split across two sections, so no value can close it early. */
export function cdata(text: string): string {
  const safe = text.includes(']]>') ? text.split(']]>').join(']]]]><![CDATA[>') : text;
  return `<![CDATA[${safe}]]>`;
}

function elements(fields: Record<string, CallbackXmlValue>): string {
  let xml = '';
  for (const name of Object.keys(fields)) xml += element(name, fields[name]);
  return xml;
}

function element(name: string, value: CallbackXmlValue): string {
  if (value === undefined || value === '') return '';
  if (!NAME.test(name)) throw new RangeError(`not an XML element name: ${JSON.stringify(name.slice(0, 64))}`);
  if (Array.isArray(value)) return value.map((item) => element(name, item)).join('');
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`<${name}> must be a finite number; got ${value}`);
    return `<${name}>${value}</${name}>`;
  }
  return `<${name}>${typeof value === 'string' ? cdata(value) : elements(value)}</${name}>`;
}

function required(value: string, name: string): string {
  if (typeof value !== 'string' || value === '') throw new RangeError(`a reply needs a non-empty ${name}`);
  return value;
}

/**
 * Walks the markup outside CDATA sections and comments: any other `<!` is a declaration (DOCTYPE,
 * ENTITY), and the elements are counted. Text in CDATA may say `<!DOCTYPE` (a user may write that).
 */
function markupProblem(xml: string): string | undefined {
  if (typeof xml !== 'string') return 'the body is not text';
  let count = 0;
  for (let at = xml.indexOf('<'); at >= 0; at = xml.indexOf('<', at + 1)) {
    const section = SKIPPED.find(({ open }) => xml.startsWith(open, at));
    if (section) {
      const end = xml.indexOf(section.close, at + section.open.length);
      if (end < 0) return `${section.name} is never closed`;
      at = end + section.close.length - 1;
    } else if (xml[at + 1] === '!') {
      return 'a DTD or entity declaration (<!DOCTYPE, <!ENTITY, ...) is not allowed in a callback body';
    } else if (NAME_START.test(xml[at + 1] ?? '') && ++count > MAX_ELEMENTS) {
      return `more than ${MAX_ELEMENTS} elements`;
    }
  }
  return undefined;
}

function refused(problem: string): CallbackRefusedError {
  return new CallbackRefusedError('xml', `the callback body is not a Weixin message: ${problem}`);
}
