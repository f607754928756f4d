/**
 * Files up to this size may be read whole when opened: a 1 MiB image is one read and one socket write
 * instead of a stream of 256 KiB chunks (`peerComparison.image1MiB.cpuMsPerUpload` in bench/results.json).
 */
const WHOLE_FILE_MAX_BYTES = 2 * 1024 * 1024;
/** All whole reads held at once by one module stay under this; past it, files are streamed. */
const WHOLE_FILE_BUDGET_BYTES = 32 * 1024 * 1024;

/** A buffer to read a file into, and its release (once) from the budget when the upload is done with it. */
export interface WholeFileBuffer {
  /** Exactly the file's size; read into it from the start. */
  readonly buffer: Buffer;
  release(): void;
}

/**
 * How much memory files read whole may hold at once: a module uploading thousands of images at the same
 * time streams most of them, so memory stays bounded whatever the concurrency. Every read gets its own
 * buffer, never one handed out before: what was read from a file may be kept by whoever got it. One per
 * module (the upload pipeline owns it).
 */
export class WholeFileReads {
  protected held = 0;

  constructor(
    readonly maxFileBytes = WHOLE_FILE_MAX_BYTES,
    readonly budgetBytes = WHOLE_FILE_BUDGET_BYTES,
  ) {}

  /** A buffer for a file of `bytes` when it may be read whole now; undefined when it should stream. */
  take(bytes: number): WholeFileBuffer | undefined {
    if (bytes > this.maxFileBytes || this.held + bytes > this.budgetBytes) return undefined;
    this.held += bytes;
    let released = false;
    return {
      buffer: Buffer.allocUnsafeSlow(bytes),
      release: () => {
        if (released) return;
        released = true;
        this.held -= bytes;
      },
    };
  }

  /** Bytes held by files read whole and not yet closed. */
  get heldBytes(): number {
    return this.held;
  }
}
