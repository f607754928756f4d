import { createHash, type Hash } from 'node:crypto';
import type { MediaType, TemporaryMedia } from '../interfaces';
import type { MediaReuse } from './media-reuse';

/**
 * Reuse decided while a large new file uploads, so its content is read once: the chunks are hashed as
 * they are sent, and the last chunk waits for the lookup. A hit stops the upload (`stopped` aborts the
 * call) before Weixin has the whole request; a miss lets the last chunk go. Hashing first would read a
 * large file twice: reading it once keeps reuse's cost near nothing (`largeUpload.reuse.ratioMedian` in
 * bench/results.json).
 */
export class ReuseWhileSending {
  protected hash: Hash = createHash('sha256');
  protected readonly stop = new AbortController();
  /** The content's SHA-256 (hex), once a try has hashed all of it. */
  digest?: string;
  /** The reuse key of the content, once a try has hashed all of it. */
  key?: string;
  /** The media_id found for this content while it was being sent. */
  found?: TemporaryMedia;

  constructor(
    protected readonly reuse: MediaReuse,
    protected readonly appId: string,
    protected readonly type: MediaType,
  ) {}

  /** Aborted when a hit stops the upload: the call ends without further tries. */
  get stopped(): AbortSignal {
    return this.stop.signal;
  }

  /** A try starts reading the content from its first byte. */
  restart(): void {
    this.hash = createHash('sha256');
  }

  chunk(data: Buffer): void {
    this.hash.update(data);
  }

  /** With the last chunk read: looks the content up, and on a hit stops the upload. */
  async beforeLast(): Promise<void> {
    this.digest = this.hash.digest('hex');
    this.key = await this.reuse.keyFor(this.appId, this.type, { sha256: async () => this.digest! }, true);
    this.found = await this.reuse.lookup(this.key, this.type);
    if (this.found) {
      this.stop.abort();
      throw new Error('this content already has a media_id: the upload stops before its last bytes');
    }
  }
}
