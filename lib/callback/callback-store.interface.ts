/**
 * Where the callback keeps which messages it has taken and what it answered, so that Weixin's retries of a
 * message (up to 3, 5 s apart, maybe to other instances) run its handler once and get the same answer.
 * Keys start with the AppID (`wx123:msg:24123...`). `InMemoryCallbackStore` for one process,
 * `RedisCallbackStore` for a fleet.
 */
export interface CallbackStore {
  /** Takes `key` for `ttlMs` when nobody holds it: `true` means this caller runs the handler. */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** The answer stored for `key`, if any. */
  answer(key: string): Promise<string | undefined>;
  /** Keeps `answer` for `key` for `ttlMs`. */
  setAnswer(key: string, answer: string, ttlMs: number): Promise<void>;
}
