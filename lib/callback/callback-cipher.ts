import { type Cipher, createCipheriv, createDecipheriv, type Decipher, randomFillSync } from 'node:crypto';

const BLOCK = 16;
/** Random bytes are drawn this many at a time: one draw per message cost more than the AES of it. */
const RANDOM_POOL_BYTES = 4096;

/**
 * AES-256-CBC with Weixin's fixed IV (the key's first 16 bytes), for one account, on one cipher and one
 * decipher kept for its life: making them per message cost more than the AES itself (bench/callback.bench.ts).
 * A kept CBC object chains each message from the last block of the one before instead of from the IV, so
 * the first block is corrected by XOR with that block and the IV: the bytes are those of a cipher made
 * afresh. Every input is whole blocks (the caller pads to 32 bytes), so no block is ever held back.
 */
export class CallbackCipher {
  readonly #iv: Buffer;
  readonly #encipher: Cipher;
  readonly #decipher: Decipher;
  /** The last ciphertext block each object chains from. */
  readonly #encipherChain: Buffer;
  readonly #decipherChain: Buffer;

  constructor(key: Buffer) {
    this.#iv = Buffer.from(key.subarray(0, BLOCK));
    this.#encipher = createCipheriv('aes-256-cbc', key, this.#iv).setAutoPadding(false);
    this.#decipher = createDecipheriv('aes-256-cbc', key, this.#iv).setAutoPadding(false);
    this.#encipherChain = Buffer.from(this.#iv);
    this.#decipherChain = Buffer.from(this.#iv);
  }

  /** `plain` (whole blocks; its first block is changed in place) encrypted as with a fresh cipher. */
  encrypt(plain: Buffer): Buffer {
    xorFirstBlock(plain, this.#encipherChain, this.#iv);
    const sealed = this.#encipher.update(plain);
    sealed.copy(this.#encipherChain, 0, sealed.length - BLOCK);
    return sealed;
  }

  /** `sealed` (whole blocks) decrypted as with a fresh decipher. */
  decrypt(sealed: Buffer): Buffer {
    const plain = this.#decipher.update(sealed);
    xorFirstBlock(plain, this.#decipherChain, this.#iv);
    sealed.copy(this.#decipherChain, 0, sealed.length - BLOCK);
    return plain;
  }

  /** The cipher objects hold the key: nothing of them is shown. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'CallbackCipher {}';
  }

  toJSON(): Record<string, never> {
    return {};
  }
}

/** `block ^= chain ^ iv` over the first block. */
function xorFirstBlock(block: Buffer, chain: Buffer, iv: Buffer): void {
  for (let at = 0; at < BLOCK; at++) block[at] ^= chain[at] ^ iv[at];
}

const randomPool = Buffer.allocUnsafe(RANDOM_POOL_BYTES);
let randomUsed = RANDOM_POOL_BYTES;

/** Writes `count` fresh random bytes (at most the pool's size) into `target` at `offset`. */
export function fillRandom(target: Buffer, offset: number, count: number): void {
  if (randomUsed + count > RANDOM_POOL_BYTES) {
    randomFillSync(randomPool);
    randomUsed = 0;
  }
  // Each byte goes out once.
  randomPool.copy(target, offset, randomUsed, randomUsed + count);
  randomUsed += count;
}
