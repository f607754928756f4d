import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { CallbackRefusedError } from '../../../lib/errors/callback-refused.error';
import { WeixinCallbackCrypto, callbackSettingProblems } from '../../../lib/callback/callback-crypto';

/**
 * Tencent's published WXBizMsgCrypt sample (its C#, Java, PHP and Python samples use the same numbers), checked
 * by hand: the message is padded with 30 bytes, the echostr with 7, so both need 32-byte PKCS#7 blocks.
 */
const TENCENT = {
  token: 'QDG6eK',
  encodingAESKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  receiveId: 'wx5823bf96d3bd56c7',
  message: {
    msgSignature: '477715d11cdb4164915debcba66cb864d751f3e6',
    timestamp: '1409659813',
    nonce: '1372623149',
    encrypt:
      'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvu' +
      'JTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+Ltw' +
      'Gc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2' +
      't9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptD' +
      'AVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
    xml:
      '<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[mycreate]]></FromUserName>\n' +
      '<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n' +
      '<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>',
  },
  echo: {
    msgSignature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
    timestamp: '1409659589',
    nonce: '263014780',
    encrypt: 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
    plain: '1616140317555161061',
  },
};

const KEY = Buffer.from(`${TENCENT.encodingAESKey}=`, 'base64');
const crypto = new WeixinCallbackCrypto(TENCENT);

/** An independent reading of the protocol: node:crypto alone, automatic padding off, every step by hand. */
const independent = {
  open(encrypt: string): { xml: string; receiveId: string; pad: number } {
    const decipher = createDecipheriv('aes-256-cbc', KEY, KEY.subarray(0, 16));
    decipher.setAutoPadding(false);
    const plain = Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()]);
    const pad = plain[plain.length - 1];
    const length = plain.readUInt32BE(16);
    return {
      xml: plain.subarray(20, 20 + length).toString('utf8'),
      receiveId: plain.subarray(20 + length, plain.length - pad).toString('utf8'),
      pad,
    };
  },
  /** A plaintext laid out by hand (random prefix, length field, body, receiveid), then `padding` appended. */
  seal(parts: { length?: number; xml?: string | Buffer; receiveId?: string; padding: Buffer }): string {
    const xml = Buffer.from(parts.xml ?? '<xml></xml>');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(parts.length ?? xml.length);
    const receiveId = Buffer.from(parts.receiveId ?? TENCENT.receiveId);
    return independent.encryptRaw(
      Buffer.concat([Buffer.alloc(16, 7), length, xml, receiveId, parts.padding]),
    );
  },
  encryptRaw(plain: Buffer): string {
    const cipher = createCipheriv('aes-256-cbc', KEY, KEY.subarray(0, 16));
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
  },
  sha1(...parts: string[]): string {
    return createHash('sha1').update(parts.sort().join('')).digest('hex');
  },
};

/** PKCS#7 over 32-byte blocks for a plaintext of `unpadded` bytes. */
function padFor(unpadded: number): Buffer {
  const pad = 32 - (unpadded % 32);
  return Buffer.alloc(pad, pad);
}

function refusal(run: () => unknown): CallbackRefusedError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof CallbackRefusedError, `expected CallbackRefusedError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

describe('WeixinCallbackCrypto', () => {
  describe("Tencent's published sample", () => {
    it('verifies the msg_signature and decrypts the message (a 64-bit MsgId, 30 bytes of padding)', () => {
      const { msgSignature, timestamp, nonce, encrypt, xml } = TENCENT.message;
      assert.equal(crypto.msgSignature(timestamp, nonce, encrypt), msgSignature);
      assert.equal(crypto.verifyMsgSignature(msgSignature, timestamp, nonce, encrypt), true);
      assert.equal(crypto.decrypt(encrypt), xml);
      assert.equal(independent.open(encrypt).pad, 30);
    });

    it("decrypts the URL check's echostr (7 bytes of padding)", () => {
      const { msgSignature, timestamp, nonce, encrypt, plain } = TENCENT.echo;
      assert.equal(crypto.verifyMsgSignature(msgSignature, timestamp, nonce, encrypt), true);
      assert.equal(crypto.decrypt(encrypt), plain);
    });

    it('signs plain mode with sha1 of the sorted token, timestamp and nonce', () => {
      const { timestamp, nonce } = TENCENT.message;
      const expected = independent.sha1(TENCENT.token, timestamp, nonce);
      assert.equal(crypto.signature(timestamp, nonce), expected);
      assert.equal(crypto.verifySignature(expected, timestamp, nonce), true);
      assert.equal(crypto.verifySignature(expected.toUpperCase(), timestamp, nonce), true);
    });
  });

  describe('round trips', () => {
    for (const size of [0, 1, 11, 12, 13, 31, 32, 33, 1000]) {
      it(`encrypts ${size} bytes of XML so an independent decoder reads it back`, () => {
        const xml = `<xml>${'字'.repeat(size)}</xml>`;
        const encrypt = crypto.encrypt(xml);
        const opened = independent.open(encrypt);
        assert.deepEqual(
          { xml: opened.xml, receiveId: opened.receiveId },
          { xml, receiveId: TENCENT.receiveId },
        );
        assert.ok(opened.pad >= 1 && opened.pad <= 32);
        assert.equal(Buffer.from(encrypt, 'base64').length % 32, 0);
        assert.equal(crypto.decrypt(encrypt), xml);
      });
    }

    it('pads a plaintext that fills whole 32-byte blocks with a full block of 32', () => {
      // 16 + 4 + 12 + 18 (the receiveid) = 50 bytes: 14 of padding. 16 + 4 + 26 + 18 = 64: 32 of padding.
      assert.equal(independent.open(crypto.encrypt('x'.repeat(12))).pad, 14);
      assert.equal(independent.open(crypto.encrypt('x'.repeat(26))).pad, 32);
    });

    it('starts every ciphertext with fresh random bytes', () => {
      assert.notEqual(crypto.encrypt('<xml/>'), crypto.encrypt('<xml/>'));
    });

    it('writes an encrypted reply signed over its own TimeStamp and Nonce', () => {
      const body = crypto.encryptedReply(
        '<xml><Content><![CDATA[hi]]></Content></xml>',
        '1409304348',
        'xxxxxx',
      );
      const match =
        /^<xml><Encrypt><!\[CDATA\[([^\]]+)\]\]><\/Encrypt><MsgSignature><!\[CDATA\[([0-9a-f]{40})\]\]><\/MsgSignature><TimeStamp>1409304348<\/TimeStamp><Nonce><!\[CDATA\[xxxxxx\]\]><\/Nonce><\/xml>$/.exec(
          body,
        );
      assert.ok(match, body);
      assert.equal(match[2], independent.sha1(TENCENT.token, '1409304348', 'xxxxxx', match[1]));
      assert.equal(independent.open(match[1]).xml, '<xml><Content><![CDATA[hi]]></Content></xml>');
    });
  });

  describe('refusals', () => {
    it('refuses a wrong signature or msg_signature, of any length, without throwing', () => {
      const { msgSignature, timestamp, nonce, encrypt } = TENCENT.message;
      assert.equal(crypto.verifySignature(msgSignature, timestamp, nonce), false);
      assert.equal(crypto.verifySignature('', timestamp, nonce), false);
      assert.equal(crypto.verifySignature('a'.repeat(1000), timestamp, nonce), false);
      assert.equal(crypto.verifySignature(undefined as unknown as string, timestamp, nonce), false);
      assert.equal(crypto.verifyMsgSignature(msgSignature, timestamp, nonce, `${encrypt}x`), false);
      // signature and msg_signature are not interchangeable.
      assert.equal(
        crypto.verifyMsgSignature(crypto.signature(timestamp, nonce), timestamp, nonce, encrypt),
        false,
      );
      const otherToken = new WeixinCallbackCrypto({ ...TENCENT, token: 'QDG6eL' });
      assert.equal(otherToken.verifyMsgSignature(msgSignature, timestamp, nonce, encrypt), false);
    });

    const cases: Array<[string, () => string, CallbackRefusedError['reason'], RegExp]> = [
      [
        'a padding byte that differs from the pad length',
        () => {
          const padding = padFor(16 + 4 + 11 + 18);
          padding[0] ^= 1;
          return independent.seal({ padding });
        },
        'padding',
        /padding says 15 bytes of 15; byte 49 is 14/,
      ],
      [
        'a pad of 0',
        () => independent.seal({ padding: Buffer.concat([Buffer.alloc(14, 15), Buffer.from([0])]) }),
        'padding',
        /padding byte is 0; PKCS#7 over 32-byte blocks needs 1-32/,
      ],
      [
        'a pad of 33',
        () => independent.seal({ padding: Buffer.alloc(15 + 32, 33) }),
        'padding',
        /padding byte is 33/,
      ],
      [
        '16-byte padding (a peer bug)',
        // 16 + 4 + 4 + 18 = 42 bytes: 6 to a 16-byte block, where Weixin pads 22 to a 32-byte one.
        () => independent.seal({ xml: '<x/>', padding: Buffer.alloc(6, 6) }),
        'ciphertext',
        /Encrypt holds 48 bytes; Weixin's are whole 32-byte padded blocks/,
      ],
      [
        'a truncated ciphertext',
        () => TENCENT.message.encrypt.slice(0, 40),
        'ciphertext',
        /Encrypt holds 30 bytes/,
      ],
      [
        'whole blocks cut off the end',
        () => Buffer.from(TENCENT.message.encrypt, 'base64').subarray(0, 320).toString('base64'),
        'padding',
        /the padding byte is 54/,
      ],
      ['text that is not base64', () => 'not base64!', 'ciphertext', /not base64/],
      ['an empty Encrypt', () => '', 'ciphertext', /holds 0 bytes/],
      [
        'a length field past the end',
        () => independent.seal({ length: 1000, padding: padFor(16 + 4 + 11 + 18) }),
        'length',
        /length field says 1000 bytes of XML; 29 follow/,
      ],
      [
        'a length field near 2^32',
        () => independent.seal({ length: 0xffffffff, padding: padFor(16 + 4 + 11 + 18) }),
        'length',
        /says 4294967295 bytes/,
      ],
      [
        'a plaintext shorter than its header',
        () => independent.encryptRaw(Buffer.alloc(32, 32)),
        'length',
        /the plaintext holds 0 bytes, fewer than its 20-byte header/,
      ],
      [
        "another account's receiveid",
        () => independent.seal({ receiveId: 'wx0000000000000000', padding: padFor(16 + 4 + 11 + 18) }),
        'receiveid',
        /encrypted for "wx0000000000000000", not for this account \(wx5823bf96d3bd56c7\)/,
      ],
      [
        'a receiveid that only starts like the AppID',
        () => independent.seal({ receiveId: `${TENCENT.receiveId}x`, padding: padFor(16 + 4 + 11 + 19) }),
        'receiveid',
        /encrypted for/,
      ],
      [
        'XML that is not UTF-8',
        () =>
          independent.seal({
            xml: Buffer.from([0xc3, 0x28, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69]),
            padding: padFor(16 + 4 + 11 + 18),
          }),
        'xml',
        /not UTF-8/,
      ],
    ];
    for (const [name, encrypt, reason, message] of cases) {
      it(`refuses ${name}: ${reason}`, () => {
        const error = refusal(() => crypto.decrypt(encrypt()));
        assert.equal(error.reason, reason);
        assert.equal(error.status, reason === 'receiveid' ? 401 : 400);
        assert.match(error.message, message);
      });
    }

    it('refuses an encrypted message to an account without a key (401 mode)', () => {
      const plainOnly = new WeixinCallbackCrypto({ token: TENCENT.token, receiveId: TENCENT.receiveId });
      assert.equal(plainOnly.encrypted, false);
      assert.equal(crypto.encrypted, true);
      const error = refusal(() => plainOnly.decrypt(TENCENT.message.encrypt));
      assert.deepEqual([error.reason, error.status], ['mode', 401]);
      assert.match(error.message, /without an EncodingAESKey/);
      assert.throws(() => plainOnly.encrypt('<xml/>'), /needs the account EncodingAESKey/);
    });
  });

  describe('settings and secrets', () => {
    it('lists every problem with the Token and EncodingAESKey without repeating them', () => {
      assert.deepEqual(callbackSettingProblems({ token: 'abc', encodingAESKey: TENCENT.encodingAESKey }), []);
      assert.deepEqual(callbackSettingProblems({ token: 'a'.repeat(32) }), []);
      const secretToken = 'sEcReT_tok';
      const secretKey = `${TENCENT.encodingAESKey.slice(0, 42)}-`;
      const problems = callbackSettingProblems(
        { token: secretToken, encodingAESKey: secretKey },
        'accounts[1]',
      );
      assert.deepEqual(problems, [
        'accounts[1]: the Token must be 3-32 letters and digits; got 10 characters, some outside that alphabet',
        'accounts[1]: the EncodingAESKey must be 43 characters of A-Z, a-z, 0-9, + and /; got 43 characters, some outside that alphabet',
      ]);
      assert.match(callbackSettingProblems({})[0], /^callback: the Token is missing/);
      assert.match(callbackSettingProblems({ token: 'ab' })[0], /got 2 characters$/);
      assert.match(
        callbackSettingProblems({ token: 'abc', encodingAESKey: 'x'.repeat(44) })[0],
        /got 44 characters$/,
      );
      assert.match(callbackSettingProblems({ token: 123 })[0], /got a number$/);
      assert.throws(
        () => new WeixinCallbackCrypto({ token: 'ab', receiveId: '' }),
        (error: Error) =>
          error instanceof RangeError && /Token/.test(error.message) && /receiveId/.test(error.message),
      );
    });

    it('never shows the Token or the key in util.inspect or JSON', () => {
      const shown = [
        inspect(crypto),
        inspect({ nested: { crypto } }, { depth: 5 }),
        JSON.stringify({ crypto }),
      ];
      for (const text of shown) {
        assert.ok(!text.includes(TENCENT.token), text);
        assert.ok(!text.includes(TENCENT.encodingAESKey), text);
        assert.ok(!text.includes(KEY.toString('hex')), text);
        assert.match(text, /wx5823bf96d3bd56c7/);
      }
      assert.deepEqual(Object.keys(crypto), []);
    });

    it('never puts the Token or key in a refusal', () => {
      const error = refusal(() =>
        crypto.decrypt(independent.seal({ receiveId: 'x', padding: padFor(16 + 4 + 11 + 1) })),
      );
      const shown = `${error.message} ${JSON.stringify(error)} ${inspect(error)}`;
      assert.ok(!shown.includes(TENCENT.token) && !shown.includes(TENCENT.encodingAESKey));
      assert.deepEqual(JSON.parse(JSON.stringify(error)), {
        name: 'CallbackRefusedError',
        code: 'WEIXIN_MEDIA_ERR_CALLBACK_REFUSED',
        reason: 'receiveid',
        status: 401,
        message: error.message,
      });
    });
  });
});
