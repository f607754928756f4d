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
}

export interface MultipartBody {
  /** `multipart/form-data; boundary=…` */
  contentType: string;
  /** The exact length of the body, so it is sent with `Content-Length` (Weixin wants it), never chunked. */
  contentLength: number;
  /** A fresh body for one try: one Buffer for content in memory, a stream otherwise. */
  body(): Buffer | Readable;
}

/**
 * A `multipart/form-data` body of one file: the part header, the file, the closing boundary; nothing
 * else (form-data + combined-stream cost more than the upload itself for small files). Content in memory
 * becomes one Buffer; a file's header and closing boundary travel in its first and last chunk, so a
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
    body: () =>
      file.data ? Buffer.concat([head, file.data, tail]) : new MultipartFileStream(head, file, tail),
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
        this.push(
          first || last ? Buffer.concat([first ? this.head : EMPTY, value, last ? this.tail : EMPTY]) : value,
        );
        if (last) this.push(null);
      },
      (error: Error) => this.destroy(error),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    void this.chunks?.return?.();
    callback(error);
  }
}

const EMPTY = Buffer.alloc(0);
