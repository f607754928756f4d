/**
 * At most `concurrency` conversions at once (and codec checks, which run ffmpeg too); the others wait in
 * arrival order. A waiting conversion whose signal aborts leaves the queue without ever starting.
 */
export class FitLimiter {
  protected running = 0;
  protected readonly waiting: Array<() => void> = [];

  constructor(readonly concurrency: number) {}

  /** Conversions running now and waiting for a turn. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  protected acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const turn = () => {
        signal?.removeEventListener('abort', onAbort);
        this.running++;
        resolve();
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(turn);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(turn);
    });
  }

  protected release(): void {
    this.running--;
    this.waiting.shift()?.();
  }
}
