import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { CallbackCipher, fillRandom } from '../../../lib/callback/callback-cipher';

const KEY = randomBytes(32);

/** What a cipher made afresh for one message gives (Weixin's IV: the key's first 16 bytes). */
const fresh = {
  encrypt(plain: Buffer): Buffer {
    const cipher = createCipheriv('aes-256-cbc', KEY, KEY.subarray(0, 16)).setAutoPadding(false);
    return Buffer.concat([cipher.update(plain), cipher.final()]);
  },
  decrypt(sealed: Buffer): Buffer {
    const decipher = createDecipheriv('aes-256-cbc', KEY, KEY.subarray(0, 16)).setAutoPadding(false);
    return Buffer.concat([decipher.update(sealed), decipher.final()]);
  },
};

describe('CallbackCipher', () => {
  it('gives the bytes of a fresh cipher for every message, however many and in whatever order', () => {
    const cipher = new CallbackCipher(KEY);
    for (let message = 0; message < 500; message++) {
      const plain = randomBytes(32 * (1 + (message % 7)));
      if (message % 3 === 0) {
        const sealed = fresh.encrypt(plain);
        assert.deepEqual(cipher.decrypt(sealed), plain, `decrypting message ${message}`);
      } else {
        const expected = fresh.encrypt(plain);
        assert.deepEqual(cipher.encrypt(Buffer.from(plain)), expected, `encrypting message ${message}`);
      }
    }
  });

  it('decrypts the same after a ciphertext that is not a message (random blocks)', () => {
    const cipher = new CallbackCipher(KEY);
    cipher.decrypt(randomBytes(64));
    const plain = randomBytes(96);
    assert.deepEqual(cipher.decrypt(fresh.encrypt(plain)), plain);
  });

  it('keeps its key out of util.inspect and JSON', () => {
    const cipher = new CallbackCipher(KEY);
    const shown = `${inspect(cipher, { depth: 10, showHidden: true })}${JSON.stringify(cipher)}`;
    assert.ok(!shown.includes(KEY.toString('hex')) && !shown.includes(KEY.toString('base64')), shown);
  });
});

describe('fillRandom', () => {
  it('hands out each random byte once, across refills of its pool', () => {
    const seen = new Set<string>();
    for (let draw = 0; draw < 1_000; draw++) {
      const target = Buffer.alloc(20);
      fillRandom(target, 2, 16);
      assert.deepEqual([target.subarray(0, 2), target.subarray(18)], [Buffer.alloc(2), Buffer.alloc(2)]);
      seen.add(target.subarray(2, 18).toString('hex'));
    }
    assert.equal(seen.size, 1_000);
  });
});
