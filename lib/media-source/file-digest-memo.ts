/**
 * SHA-256 digests of files by their identity (device, inode, size, change times), so that uploading the
 * same file again (a bot's welcome image) finds its reused media_id without reading and hashing it again.
 * One process, bounded by entry count, least recently used first out.
 */
export class FileDigestMemo {
  protected readonly digests = new Map<string, string>();

  constructor(protected readonly maxEntries = 1000) {}

  async digest(identity: string, compute: () => Promise<string>): Promise<string> {
    const known = this.digests.get(identity);
    if (known !== undefined) {
      this.digests.delete(identity);
      this.digests.set(identity, known);
      return known;
    }
    const computed = await compute();
    this.digests.set(identity, computed);
    if (this.digests.size > this.maxEntries) {
      this.digests.delete(this.digests.keys().next().value!);
    }
    return computed;
  }
}

/** The memo every upload of a file path shares. */
export const fileDigests = new FileDigestMemo();
