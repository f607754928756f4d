import { redactSecrets } from '../errors/secret-redaction';

/** A store call not answered within this long counts as a failure. */
export const STORE_TIMEOUT_MS = 500;
/** After a failure the store is left alone this long; then one call tries it again. */
export const STORE_DOWN_FOR_MS = 5_000;
/** A store that keeps failing (reads work, writes are refused) is warned about once a minute at most. */
const WARN_EVERY_MS = 60_000;

export interface StoreCircuitOptions {
  /** What the log calls the store, e.g. `token store`. */
  name: string;
  /** What the process does instead while the store is down, for the warning. */
  meanwhile: string;
  warn(message: string): void;
  log(message: string): void;
  /** @default STORE_TIMEOUT_MS */
  timeoutMs?: number;
  /** @default STORE_DOWN_FOR_MS */
  downForMs?: number;
}

/**
 * Keeps a slow or failing store (a Redis that is down, read-only or out of memory) from stalling
 * calls: each store call gets a short bound; the first failure marks the store down for a while (one
 * warning, not one per call, and at most one a minute for a store that keeps failing) and calls take
 * their fallback at once; after that while, one call tries the store again, and when it answers the
 * store is used again (one log line).
 */
export class StoreCircuit {
  protected downUntil = 0;
  protected probing = false;
  protected lastWarnedAt = -Infinity;
  protected warnedThisOutage = false;
  protected readonly timeoutMs: number;
  protected readonly downForMs: number;

  constructor(protected readonly options: StoreCircuitOptions) {
    this.timeoutMs = options.timeoutMs ?? STORE_TIMEOUT_MS;
    this.downForMs = options.downForMs ?? STORE_DOWN_FOR_MS;
  }

  get isDown(): boolean {
    return this.downUntil !== 0;
  }

  /**
   * `call` when the store is up (or it is time to try it again), `fallback` when it is down or fails.
   * `onLate` receives what a call that answered after its bound produced (to undo a lock it took).
   */
  async run<T>(
    operation: string,
    call: () => Promise<T>,
    fallback: () => T | Promise<T>,
    onLate?: (value: T) => void,
  ): Promise<T> {
    const wasDown = this.isDown;
    if (wasDown) {
      if (Date.now() < this.downUntil || this.probing) return fallback();
      this.probing = true;
    }
    try {
      const value = await this.bounded(operation, call, onLate);
      if (wasDown && this.isDown) {
        this.downUntil = 0;
        if (this.warnedThisOutage) this.options.log(`The ${this.options.name} answers again; using it again`);
      }
      return value;
    } catch (error) {
      if (!this.isDown) {
        this.warnedThisOutage = Date.now() - this.lastWarnedAt >= WARN_EVERY_MS;
      }
      if (!this.isDown && this.warnedThisOutage) {
        this.lastWarnedAt = Date.now();
        this.options.warn(
          `The ${this.options.name} failed (${describe(error)}); for the next ${this.downForMs / 1000} s ` +
            `${this.options.meanwhile}, then it is tried again`,
        );
      }
      this.downUntil = Date.now() + this.downForMs;
      return fallback();
    } finally {
      if (wasDown) this.probing = false;
    }
  }

  protected bounded<T>(operation: string, call: () => Promise<T>, onLate?: (value: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const pending = Promise.resolve().then(call);
      const timer = setTimeout(() => {
        // One more turn of the event loop first: an answer already read from the socket after a busy
        // stretch of the loop is not a store that failed to answer.
        setImmediate(() => {
          if (settled) return;
          settled = true;
          pending.then(onLate, () => undefined);
          reject(new StoreTimeout(`${operation}: no answer within ${this.timeoutMs} ms`));
        });
      }, this.timeoutMs);
      pending.then(
        (value) => {
          clearTimeout(timer);
          if (settled) return;
          settled = true;
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (settled) return;
          settled = true;
          reject(error);
        },
      );
    });
  }
}

class StoreTimeout extends Error {}

/** The failure in a few words, with anything shaped like a token or secret removed. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return redactSecrets(message.split('\n')[0]).slice(0, 300);
}
