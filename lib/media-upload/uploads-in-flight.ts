import type { MediaCache, MediaType, TemporaryMedia } from '../interfaces';
import type { MediaReuse } from '../media-cache/media-reuse';
import { raceAbort, sleep } from '../weixin-api/retry-policy';

/** How often a process waiting for another process's upload of the same content looks for its entry. */
const POLL_MS = 100;

interface InFlight {
  readonly result: Promise<TemporaryMedia>;
  /** The signal of the caller whose upload this is. */
  readonly signal?: AbortSignal;
}

/**
 * Identical content in flight is uploaded once. In a process, concurrent uploads under one reuse key share
 * the first one's (no cache needed). Across processes, with a cache that locks (`RedisMediaCache`), the
 * process holding the content's lock uploads and remembers; the others wait for its entry, and upload
 * themselves when the lock frees without one (its upload failed) or after `waitMs`.
 */
export class UploadsInFlight {
  protected readonly inFlight = new Map<string, InFlight>();

  constructor(
    protected readonly cache: MediaCache | null,
    protected readonly reuse: MediaReuse,
    /** How long a process waits for another's upload, and the lease of its lock. */
    protected readonly waitMs: number,
  ) {}

  /**
   * What `upload` answers, or, while an upload of `key` is in flight, what that one answers (`reused: true`).
   * Sharers fail with the upload they share, unless its own caller stopped it: then they upload.
   */
  async once(
    key: string,
    type: MediaType,
    signal: AbortSignal | undefined,
    upload: () => Promise<TemporaryMedia>,
  ): Promise<TemporaryMedia> {
    const running = this.inFlight.get(key);
    if (running) {
      try {
        return { ...(await raceAbort(running.result, signal)), reused: true };
      } catch (error) {
        if (signal?.aborted || !running.signal?.aborted) throw error;
        if (this.inFlight.get(key) === running) this.inFlight.delete(key);
        return this.once(key, type, signal, upload);
      }
    }
    const entry: InFlight = { result: this.acrossProcesses(key, type, signal, upload), signal };
    this.inFlight.set(key, entry);
    try {
      return await entry.result;
    } finally {
      if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
    }
  }

  /** The upload, by whichever process takes the content's lock first; the others answer its entry. */
  protected async acrossProcesses(
    key: string,
    type: MediaType,
    signal: AbortSignal | undefined,
    upload: () => Promise<TemporaryMedia>,
  ): Promise<TemporaryMedia> {
    const cache = this.cache;
    if (!cache?.tryLock) return upload();
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const lock = await cache.tryLock(key, this.waitMs);
      if (lock) {
        try {
          // The holder before us may have remembered it since our last lookup.
          return (await this.reuse.lookup(key, type)) ?? (await upload());
        } finally {
          await lock.release().catch(() => undefined);
        }
      }
      const uploaded = await this.reuse.lookup(key, type);
      if (uploaded) return uploaded;
      if (Date.now() >= deadline) return upload();
      await sleep(POLL_MS, signal);
    }
  }
}
