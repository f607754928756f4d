import type { MediaContent } from './media-content';

/**
 * Reads a `MediaContent` through a window, so a walk over many small headers close together (JPEG
 * segments, MP4 boxes) costs one read instead of one per header, and a jump far ahead costs one more.
 * A file is read into one window buffer again and again (a walk over a 10 MB file of big segments leaves
 * no garbage per jump), so what `bytesAt` answers from it is a copy. Content in memory is read without
 * the window: each read there is a copy, and a jump reads only its header. A walk that starts in the bytes
 * the sniffer already read starts with them as its window, so it reads nothing twice.
 */
export class ContentWindow {
  private window: Buffer;
  private windowStart = 0;
  /** The memory a file's windows are read into, when the content can read into a buffer. */
  private reused?: Buffer;

  constructor(
    private readonly content: MediaContent,
    private readonly windowBytes: number,
    /** The content's first bytes, when already read. */
    head: Buffer = Buffer.alloc(0),
  ) {
    this.window = head;
  }

  /** Bytes [offset, offset + length), fewer at the end of the content. */
  async bytesAt(offset: number, length: number): Promise<Buffer> {
    const windowEnd = this.windowStart + this.window.length;
    const inWindow = offset >= this.windowStart && offset + length <= windowEnd;
    // A window cut short by the end of the content holds all there is.
    const atEnd = offset >= this.windowStart && windowEnd === this.content.size && offset <= windowEnd;
    if (!inWindow && !atEnd) {
      if (offset >= this.content.size) return Buffer.alloc(0);
      this.window = await this.read(offset, length);
      this.windowStart = offset;
    }
    const bytes = this.window.subarray(offset - this.windowStart, offset - this.windowStart + length);
    return this.reused ? Buffer.from(bytes) : bytes;
  }

  private read(offset: number, length: number): Promise<Buffer> {
    const { content, windowBytes } = this;
    if (content.inMemory) return content.read(offset, length);
    if (content.readInto && length <= windowBytes) {
      this.reused ??= Buffer.allocUnsafe(windowBytes);
      return content.readInto(this.reused, offset);
    }
    return content.read(offset, Math.max(length, windowBytes));
  }
}
