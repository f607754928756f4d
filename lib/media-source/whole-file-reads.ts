/**
 * Files up to this size may be read whole when opened: a 1 MiB image is one read and one socket write
 * (streamed in 256 KiB chunks it cost about 1.7× the CPU per upload).
 */
const WHOLE_FILE_MAX_BYTES = 2 * 1024 * 1024;
/** All whole reads held at once by the process stay under this; past it, files are streamed. */
const WHOLE_FILE_BUDGET_BYTES = 32 * 1024 * 1024;

/**
 * How much memory files read whole may hold at once: a process uploading thousands of images at the same
 * time streams most of them, so memory stays bounded whatever the concurrency.
 */
export class WholeFileReads {
  protected held = 0;

  constructor(
    readonly maxFileBytes = WHOLE_FILE_MAX_BYTES,
    readonly budgetBytes = WHOLE_FILE_BUDGET_BYTES,
  ) {}

  /** Reserves `bytes` when a file that size may be read whole now; answers the release (once), or undefined. */
  take(bytes: number): (() => void) | undefined {
    if (bytes > this.maxFileBytes || this.held + bytes > this.budgetBytes) return undefined;
    this.held += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= bytes;
    };
  }

  /** Bytes held by files read whole and not yet closed. */
  get heldBytes(): number {
    return this.held;
  }
}

/** The budget every upload in the process shares. */
export const wholeFileReads = new WholeFileReads();
