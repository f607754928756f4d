/**
 * Files up to this size may be read whole when opened: a 1 MiB image is one read and one socket write
 * instead of a stream of 256 KiB chunks (`peerComparison.image1MiB.cpuMsPerUpload` in bench/results.json).
 */
const WHOLE_FILE_MAX_BYTES = 2 * 1024 * 1024;
/** All whole reads held at once by one module stay under this; past it, files are streamed. */
const WHOLE_FILE_BUDGET_BYTES = 32 * 1024 * 1024;
/**
 * Buffers from this size are kept for the next read when released: a fresh buffer per upload costs new
 * pages and garbage collections driven by external memory, for 1 MiB images and 64 KiB thumbs alike
 * (`peerComparison.image1MiB` and `peerComparison.thumb64KiB` in bench/results.json). Below it,
 * allocations come cheap from the heap.
 */
const POOLED_FROM_BYTES = 16 * 1024;

/** A buffer to read a file into, and its release (once) when the upload no longer needs it. */
export interface WholeFileBuffer {
  /** At least the file's size; read into it from the start. */
  readonly buffer: Buffer;
  release(): void;
}

/**
 * How much memory files read whole may hold at once: a module uploading thousands of images at the same
 * time streams most of them, so memory stays bounded whatever the concurrency. Released buffers of larger
 * files are kept (by power-of-two size, within the same budget) for the next read: the one reader of a
 * buffer (open-media-source.ts `readWholeFile`) hands out copies and releases it only once its upload settled.
 * One per module (the upload pipeline owns it).
 */
export class WholeFileReads {
  protected held = 0;
  protected pooled = 0;
  protected readonly free = new Map<number, Buffer[]>();

  constructor(
    readonly maxFileBytes = WHOLE_FILE_MAX_BYTES,
    readonly budgetBytes = WHOLE_FILE_BUDGET_BYTES,
  ) {}

  /** A buffer for a file of `bytes` when it may be read whole now; undefined when it should stream. */
  take(bytes: number): WholeFileBuffer | undefined {
    if (bytes > this.maxFileBytes) return undefined;
    const size = bytes < POOLED_FROM_BYTES ? bytes : 2 ** Math.ceil(Math.log2(bytes));
    if (this.held + size > this.budgetBytes) return undefined;
    let buffer = this.free.get(size)?.pop();
    if (buffer) this.pooled -= size;
    else buffer = Buffer.allocUnsafeSlow(size);
    this.held += size;
    let released = false;
    return {
      buffer,
      release: () => {
        if (released) return;
        released = true;
        this.held -= size;
        if (size >= POOLED_FROM_BYTES && this.held + this.pooled + size <= this.budgetBytes) {
          const list = this.free.get(size) ?? [];
          list.push(buffer);
          this.free.set(size, list);
          this.pooled += size;
        }
      },
    };
  }

  /** Bytes held by files read whole and not yet closed. */
  get heldBytes(): number {
    return this.held;
  }
}
