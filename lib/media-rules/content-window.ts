import type { MediaContent } from './media-content';

/**
 * Reads a `MediaContent` through a window, so a walk over many small headers close together (JPEG
 * segments, MP4 boxes) costs one read instead of one per header, and a jump far ahead costs one more.
 * Content in memory is read without the window: each read there is a copy, and a jump reads only its header.
 */
export class ContentWindow {
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly content: MediaContent,
    private readonly windowBytes: number,
  ) {}

  /** Bytes [offset, offset + length), fewer at the end of the content. */
  async bytesAt(offset: number, length: number): Promise<Buffer> {
    const windowEnd = this.windowStart + this.window.length;
    const inWindow = offset >= this.windowStart && offset + length <= windowEnd;
    // A window cut short by the end of the content holds all there is.
    const atEnd = offset >= this.windowStart && windowEnd === this.content.size && offset <= windowEnd;
    if (!inWindow && !atEnd) {
      if (offset >= this.content.size) return Buffer.alloc(0);
      const ahead = this.content.inMemory ? 0 : this.windowBytes;
      this.window = await this.content.read(offset, Math.max(length, ahead));
      this.windowStart = offset;
    }
    return this.window.subarray(offset - this.windowStart, offset - this.windowStart + length);
  }
}
