import { hash, timingSafeEqual } from 'node:crypto';
import { CallbackRefusedError } from '../errors/callback-refused.error';
import { CallbackCipher, fillRandom } from './callback-cipher';
import { cdata } from './callback-xml';

/** The server settings' secrets, as Weixin's admin page gives them. */
export interface CallbackSettings {
  /** The Token: 3-32 letters and digits. */
  token?: unknown;
  /** The EncodingAESKey: 43 characters of the base64 alphabet; only for compat and safe mode. */
  encodingAESKey?: unknown;
}

const TOKEN = /^[A-Za-z0-9]{3,32}$/;
const TOKEN_ALPHABET = /^[A-Za-z0-9]*$/;
const AES_KEY = /^[A-Za-z0-9+/]{43}$/;
const KEY_ALPHABET = /^[A-Za-z0-9+/]*$/;
/** Tencent's WXBizMsgCrypt pads to 32-byte blocks (PKCS#7 with k = 32), not AES's 16. */
const PAD_BLOCK = 32;
const RANDOM_BYTES = 16;
/** 16 random bytes, then the XML's length as a big-endian uint32. */
const HEADER_BYTES = RANDOM_BYTES + 4;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * What is wrong with a callback's Token and EncodingAESKey, one message each (for the bootstrap error);
 * empty when both are usable. `where` names the setting's owner. The messages never repeat a secret.
 */
export function callbackSettingProblems(settings: CallbackSettings, where = 'callback'): string[] {
  const { token, encodingAESKey } = settings;
  const problems: string[] = [];
  if (token === undefined || token === '') {
    problems.push(
      `${where}: the Token is missing: set the Token of the server settings (3-32 letters and digits)`,
    );
  } else if (typeof token !== 'string' || !TOKEN.test(token)) {
    problems.push(
      `${where}: the Token must be 3-32 letters and digits; got ${describe(token, TOKEN_ALPHABET)}`,
    );
  }
  if (encodingAESKey !== undefined && (typeof encodingAESKey !== 'string' || !AES_KEY.test(encodingAESKey))) {
    const got = describe(encodingAESKey, KEY_ALPHABET);
    problems.push(`${where}: the EncodingAESKey must be 43 characters of A-Z, a-z, 0-9, + and /; got ${got}`);
  }
  return problems;
}

/** A secret's shape without its content. */
function describe(value: unknown, alphabet: RegExp): string {
  if (typeof value !== 'string') return `a ${typeof value}`;
  return `${value.length} characters${alphabet.test(value) ? '' : ', some outside that alphabet'}`;
}

/**
 * Weixin's callback cryptography (Tencent's WXBizMsgCrypt) for one account: the signatures of plain mode
 * and of encrypted messages, and AES-256-CBC with the key's first 16 bytes as IV and PKCS#7 over 32-byte
 * blocks. The plaintext is 16 random bytes, the XML's length (uint32, big-endian), the XML and the receiveid
 * (the account's AppID), which `decrypt` compares. The Token and key stay out of `util.inspect` and JSON.
 */
export class WeixinCallbackCrypto {
  readonly #token: string;
  readonly #cipher?: CallbackCipher;
  readonly #receiveId: Buffer;

  constructor(options: { token: string; encodingAESKey?: string; receiveId: string }) {
    const problems = callbackSettingProblems(options, 'WeixinCallbackCrypto');
    if (typeof options.receiveId !== 'string' || options.receiveId === '') {
      problems.push('WeixinCallbackCrypto: receiveId must be the AppID the messages are encrypted for');
    }
    if (problems.length > 0) throw new RangeError(problems.join('; '));
    this.#token = options.token;
    this.#receiveId = Buffer.from(options.receiveId, 'utf8');
    if (options.encodingAESKey !== undefined) {
      this.#cipher = new CallbackCipher(Buffer.from(`${options.encodingAESKey}=`, 'base64'));
    }
  }

  /** With an EncodingAESKey: the account takes encrypted (compat or safe mode) messages. */
  get encrypted(): boolean {
    return this.#cipher !== undefined;
  }

  /** The receiveid this account's messages carry: its AppID. */
  get receiveId(): string {
    return this.#receiveId.toString('utf8');
  }

  /** `signature` of every callback request (the only one in plain mode): hex SHA-1. */
  signature(timestamp: string, nonce: string): string {
    return sha1([this.#token, timestamp, nonce]);
  }

  verifySignature(signature: string, timestamp: string, nonce: string): boolean {
    return sameText(signature, this.signature(timestamp, nonce));
  }

  /** `msg_signature` of an encrypted message (and `MsgSignature` of an encrypted reply): covers `Encrypt`. */
  msgSignature(timestamp: string, nonce: string, encrypt: string): string {
    return sha1([this.#token, timestamp, nonce, encrypt]);
  }

  verifyMsgSignature(msgSignature: string, timestamp: string, nonce: string, encrypt: string): boolean {
    return sameText(msgSignature, this.msgSignature(timestamp, nonce, encrypt));
  }

  /**
   * The XML inside an `Encrypt` field. Call it once `verifyMsgSignature` holds, so that only Weixin learns
   * how a ciphertext fails. Refuses (`CallbackRefusedError`) a key-less account (401 `mode`), text that is
   * not base64 or not whole AES blocks (400 `ciphertext`), bad padding (400 `padding`), a length field past
   * the end (400 `length`) and a receiveid other than this account's (401 `receiveid`).
   */
  decrypt(encrypt: string): string {
    const cipher = this.#cipher;
    if (!cipher) {
      throw new CallbackRefusedError(
        'mode',
        'an encrypted message reached an account without an EncodingAESKey: set it to take compat or safe mode',
      );
    }
    const bytes = Buffer.from(typeof encrypt === 'string' ? encrypt : '', 'base64');
    if (!isBase64Of(encrypt, bytes))
      throw new CallbackRefusedError('ciphertext', 'Encrypt is not base64 text');
    if (bytes.length === 0 || bytes.length % PAD_BLOCK !== 0) {
      throw new CallbackRefusedError(
        'ciphertext',
        `Encrypt holds ${bytes.length} bytes; Weixin's are whole ${PAD_BLOCK}-byte padded blocks (truncated?)`,
      );
    }
    const padded = cipher.decrypt(bytes);
    const plain = padded.subarray(0, padded.length - paddingOf(padded));
    if (plain.length < HEADER_BYTES) {
      throw new CallbackRefusedError(
        'length',
        `the plaintext holds ${plain.length} bytes, fewer than its ${HEADER_BYTES}-byte header`,
      );
    }
    const xmlLength = plain.readUInt32BE(RANDOM_BYTES);
    if (xmlLength > plain.length - HEADER_BYTES) {
      throw new CallbackRefusedError(
        'length',
        `the plaintext's length field says ${xmlLength} bytes of XML; ${plain.length - HEADER_BYTES} follow`,
      );
    }
    const receiveId = plain.subarray(HEADER_BYTES + xmlLength);
    if (receiveId.length !== this.#receiveId.length || !timingSafeEqual(receiveId, this.#receiveId)) {
      throw new CallbackRefusedError(
        'receiveid',
        `the message is encrypted for ${JSON.stringify(receiveId.toString('utf8').slice(0, 64))}, ` +
          `not for this account (${this.receiveId}): is the EncodingAESKey another account's?`,
      );
    }
    try {
      return strictUtf8.decode(plain.subarray(HEADER_BYTES, HEADER_BYTES + xmlLength));
    } catch {
      throw new CallbackRefusedError('xml', 'the decrypted message is not UTF-8 text');
    }
  }

  /** `xml` encrypted for this account, base64 (a fresh random prefix every time). */
  encrypt(xml: string): string {
    const cipher = this.#cipher;
    if (!cipher) throw new RangeError('encrypt needs the account EncodingAESKey (compat or safe mode)');
    const xmlBytes = Buffer.byteLength(xml);
    const unpadded = HEADER_BYTES + xmlBytes + this.#receiveId.length;
    const pad = PAD_BLOCK - (unpadded % PAD_BLOCK);
    // Every byte is written: the random prefix, the length, the XML, the receiveid, the padding.
    const plain = Buffer.allocUnsafe(unpadded + pad);
    fillRandom(plain, 0, RANDOM_BYTES);
    plain.writeUInt32BE(xmlBytes, RANDOM_BYTES);
    plain.write(xml, HEADER_BYTES, 'utf8');
    this.#receiveId.copy(plain, HEADER_BYTES + xmlBytes);
    plain.fill(pad, unpadded);
    return cipher.encrypt(plain).toString('base64');
  }

  /** An encrypted reply's body (compat, safe mode): `xml` encrypted, signed with `timestamp`, `nonce`. */
  encryptedReply(xml: string, timestamp: string, nonce: string): string {
    if (!/^\d{1,20}$/.test(timestamp))
      throw new RangeError(`a reply's TimeStamp is decimal seconds; got ${timestamp}`);
    const encrypt = this.encrypt(xml);
    const signature = this.msgSignature(timestamp, nonce, encrypt);
    return (
      `<xml><Encrypt>${cdata(encrypt)}</Encrypt><MsgSignature>${cdata(signature)}</MsgSignature>` +
      `<TimeStamp>${timestamp}</TimeStamp><Nonce>${cdata(nonce)}</Nonce></xml>`
    );
  }

  /** How `util.inspect` shows it: the AppID and the mode, never the Token or key. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `WeixinCallbackCrypto { receiveId: '${this.receiveId}', encrypted: ${this.encrypted} }`;
  }

  toJSON(): Record<string, unknown> {
    return { receiveId: this.receiveId, encrypted: this.encrypted };
  }
}

/** PKCS#7 over 32-byte blocks: the last byte says how many (1-32) bytes pad; each of them says the same. */
function paddingOf(padded: Buffer): number {
  const pad = padded[padded.length - 1];
  if (pad < 1 || pad > PAD_BLOCK) {
    throw new CallbackRefusedError(
      'padding',
      `the padding byte is ${pad}; PKCS#7 over 32-byte blocks needs 1-32`,
    );
  }
  for (let at = padded.length - pad; at < padded.length; at++) {
    if (padded[at] !== pad) {
      throw new CallbackRefusedError(
        'padding',
        `the padding says ${pad} bytes of ${pad}; byte ${at} is ${padded[at]}`,
      );
    }
  }
  return pad;
}

/**
 * Whether `text` is base64 (+ and /, padded) that decoded to `bytes`: Node's decoder skips what is not
 * base64, so other text decodes to fewer bytes than its length promises, and reads - and _ as + and /.
 */
function isBase64Of(text: unknown, bytes: Buffer): boolean {
  if (typeof text !== 'string' || text.length % 4 !== 0 || text.includes('-') || text.includes('_')) {
    return false;
  }
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return bytes.length === (text.length / 4) * 3 - padding;
}

/** SHA-1 (hex) of `parts` sorted and joined, as Weixin signs. */
function sha1(parts: string[]): string {
  // An insertion sort in place: Array.prototype.sort allocated 0.9 KB of work space per call.
  for (let at = 1; at < parts.length; at++) {
    const part = parts[at];
    let to = at;
    for (; to > 0 && parts[to - 1] > part; to--) parts[to] = parts[to - 1];
    parts[to] = part;
  }
  return hash('sha1', parts.join(''), 'hex');
}

/** Constant time for equal lengths; a different length (or not text) is simply unequal. */
function sameText(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given.toLowerCase(), 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
