/**
 * SHA-256 digests of files by their identity (device, inode, size, change times), so that uploading the
 * same file again (a bot's welcome image) finds its reused media_id without reading and hashing it again.
 * One process, bounded by entry count, least recently used first out.
 */
export class FileDigestMemo {
  protected readonly digests = new Map<string, string>();

  constructor(protected readonly maxEntries = 1000) {}

  async digest(identity: string, compute: () => Promise<string>): Promise<string> {
    return this.known(identity) ?? this.learn(identity, await compute());
  }

  /** The digest of this file version when it is known (and marks it used), without reading anything. */
  known(identity: string): string | undefined {
    const known = this.digests.get(identity);
    if (known !== undefined) {
      this.digests.delete(identity);
      this.digests.set(identity, known);
    }
    return known;
  }

  /** Records the digest of this file version, computed by whoever read it whole. */
  learn(identity: string, digest: string): string {
    this.digests.set(identity, digest);
    if (this.digests.size > this.maxEntries) {
      this.digests.delete(this.digests.keys().next().value!);
    }
    return digest;
  }
}

/** The memo every upload of a file path shares. */
export const fileDigests = new FileDigestMemo();
