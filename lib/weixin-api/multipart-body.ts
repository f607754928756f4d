import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';

/** One file for a `multipart/form-data` body: in memory, or a stream opened again for every try. */
export interface MultipartFile {
  /** The form field (`media` for Weixin uploads). */
  field: string;
  filename: string;
  contentType: string;
  size: number;
  /** The whole content when it is in memory; otherwise `open` is called for every try. */
  data?: Buffer;
  /** The content from its first byte, exactly `size` bytes. */
  open?: () => Readable;
  /** Sees every chunk of a streamed file as it is sent, in order (a new try starts with a new `open`). */
  onChunk?: (chunk: Buffer) => void;
  /**
   * Awaited with a streamed file's last chunk in hand, before it and the closing boundary are sent; a
   * rejection ends the body with that error, so the server never receives the whole request.
   */
  beforeLast?: () => Promise<void>;
}

export interface MultipartBody {
  /** `multipart/form-data; boundary=…` */
  contentType: string;
  /** The exact length of the body, so it is sent with `Content-Length` (Weixin wants it), never chunked. */
  contentLength: number;
  /** A fresh body for one try: its pieces for content in memory (written at once, never copied), a stream otherwise. */
  body(): Buffer[] | Readable;
}

/**
 * A `multipart/form-data` body of one file: the part header, the file, the closing boundary; nothing
 * else (form-data + combined-stream cost more than the upload itself for small files). Content in memory
 * is sent as its three pieces in one write; a file's header and closing boundary travel in its first and last chunk, so a
 * file read in one chunk is written to the socket at once.
 */
export function multipartBody(file: MultipartFile): MultipartBody {
  const boundary = `----WeixinMediaBoundary${randomUUID().replaceAll('-', '')}`;
  const head = Buffer.from(
    `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="${quoted(file.field)}"; filename="${quoted(file.filename)}"\r\n` +
      `Content-Type: ${file.contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    contentLength: head.length + file.size + tail.length,
    body: () => (file.data ? [head, file.data, tail] : new MultipartFileStream(head, file, tail)),
  };
}

/** Quotes a header parameter as browsers do (WHATWG): `"`, CR and LF percent-encoded. */
function quoted(value: string): string {
  return value.replace(/["\r\n]/g, (c) => (c === '"' ? '%22' : c === '\r' ? '%0D' : '%0A'));
}

/** The file's stream with the part header before its first chunk and the closing boundary after its last. */
class MultipartFileStream extends Readable {
  private chunks?: AsyncIterator<Buffer>;
  private sent = 0;

  constructor(
    private readonly head: Buffer,
    private readonly file: MultipartFile,
    private readonly tail: Buffer,
  ) {
    super();
  }

  override _read(): void {
    if (this.file.size === 0) {
      this.push(Buffer.concat([this.head, this.tail]));
      this.push(null);
      return;
    }
    this.chunks ??= this.file.open!()[Symbol.asyncIterator]();
    this.chunks.next().then(
      ({ done, value }) => {
        if (done || value.length === 0) {
          // The file shrank since it was measured: the declared Content-Length can no longer be met.
          this.destroy(
            new Error(`the file ended at ${this.sent} of ${this.file.size} bytes while it was sent`),
          );
          return;
        }
        const first = this.sent === 0;
        this.sent += value.length;
        const last = this.sent >= this.file.size;
        this.file.onChunk?.(value);
        // Small pieces are copied to travel with their chunk (one write); a large chunk goes as it is.
        const joined = value.length <= JOIN_BELOW_BYTES;
        if (first && !joined) this.push(this.head);
        const chunk =
          joined && (first || last)
            ? Buffer.concat([first ? this.head : EMPTY, value, last ? this.tail : EMPTY])
            : value;
        if (!last || !this.file.beforeLast) return this.pushChunk(chunk, last && !joined);
        this.file.beforeLast().then(
          () => this.pushChunk(chunk, !joined),
          (error: Error) => this.destroy(error),
        );
      },
      (error: Error) => this.destroy(error),
    );
  }

  /** Pushes a chunk; after the last, the closing boundary (unless it was joined to it) and the end. */
  private pushChunk(chunk: Buffer, tailApart: boolean): void {
    if (this.destroyed) return;
    this.push(chunk);
    if (this.sent < this.file.size) return;
    if (tailApart) this.push(this.tail);
    this.push(null);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    void this.chunks?.return?.();
    callback(error);
  }
}

const EMPTY = Buffer.alloc(0);
/** Chunks up to this size are joined with the part header or closing boundary; larger ones are not copied. */
const JOIN_BELOW_BYTES = 64 * 1024;
