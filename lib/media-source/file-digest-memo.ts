import { BoundedLruMap } from '../common/bounded-lru-map';

/**
 * SHA-256 digests of files by their identity (device, inode, size, change times), so that uploading the
 * same file again (a bot's welcome image) finds its reused media_id without reading and hashing it again.
 * One per module (the service owns it), bounded by entry count, least recently used first out.
 */
export class FileDigestMemo {
  protected readonly digests: BoundedLruMap<string, string>;

  constructor(maxEntries = 1000) {
    this.digests = new BoundedLruMap(maxEntries, 'FileDigestMemo');
  }

  async digest(identity: string, compute: () => Promise<string>): Promise<string> {
    return this.known(identity) ?? this.learn(identity, await compute());
  }

  /** The digest of this file version when it is known (and marks it used), without reading anything. */
  known(identity: string): string | undefined {
    return this.digests.get(identity);
  }

  /** Records the digest of this file version, computed by whoever read it whole. */
  learn(identity: string, digest: string): string {
    this.digests.set(identity, digest);
    return digest;
  }
}
