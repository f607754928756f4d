import { randomUUID } from 'node:crypto';
import type { MediaChunks } from '../media-rules/media-content';

/** One file for a `multipart/form-data` body: in memory, or chunks read again for every try. */
export interface MultipartFile {
  /** The form field (`media` for Weixin uploads). */
  field: string;
  filename: string;
  contentType: string;
  size: number;
  /** The whole content when it is in memory; otherwise `open` is called for every try. */
  data?: Buffer;
  /** The content from its first byte, exactly `size` bytes. */
  open?: () => MediaChunks;
  /**
   * Sees every chunk of a streamed file once read, in order, before it is sent (a new try starts with a
   * new `open`).
   */
  onChunk?: (chunk: Buffer) => void;
}

export interface MultipartBody {
  /** `multipart/form-data; boundary=…` */
  contentType: string;
  /** The exact length of the body, so it is sent with `Content-Length` (Weixin wants it), never chunked. */
  contentLength: number;
  /**
   * A fresh body for one try: its pieces for content in memory (written at once, never copied), chunks
   * otherwise (ask for each only once the one before was written out: its memory may be read into again).
   */
  body(): Buffer[] | MediaChunks;
}

/**
 * A `multipart/form-data` body of one file: the part header, the file, the closing boundary; nothing
 * else (form-data + combined-stream cost more than the upload itself for small files). Content in memory
 * is sent as its three pieces in one write; a file's header and closing boundary travel in its first and
 * last chunk, so a file read in one chunk is written to the socket at once.
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
    body: () => (file.data ? [head, file.data, tail] : multipartFileChunks(head, file, tail)),
  };
}

/** Quotes a header parameter as browsers do (WHATWG): `"`, CR and LF percent-encoded. */
function quoted(value: string): string {
  return value.replace(/["\r\n]/g, (c) => (c === '"' ? '%22' : c === '\r' ? '%0D' : '%0A'));
}

/**
 * The file's chunks with the part header before the first and the closing boundary after the last. Each
 * chunk is sent as it was read; the next one is read while it is seen by `onChunk` and written, and the one
 * after only once this body's consumer asked for more, that is once the chunk was written out (so the
 * file's reader may read into its memory again: see `MediaChunks`). Small first and last chunks are copied
 * to travel with the header or boundary in one write.
 */
async function* multipartFileChunks(head: Buffer, file: MultipartFile, tail: Buffer): MediaChunks {
  if (file.size === 0) {
    yield Buffer.concat([head, tail]);
    return;
  }
  const chunks = file.open!();
  let reading = chunks.next();
  reading.catch(() => undefined); // a read ahead left behind when the request ends early is nobody's error
  let sent = 0;
  while (sent < file.size) {
    const { done, value } = await reading;
    if (done || value.length === 0) {
      // The file shrank since it was measured: the declared Content-Length can no longer be met.
      throw new Error(`the file ended at ${sent} of ${file.size} bytes while it was sent`);
    }
    const first = sent === 0;
    sent += value.length;
    const last = sent >= file.size;
    if (!last) {
      // The next chunk is read while this one is written.
      reading = chunks.next();
      reading.catch(() => undefined);
    }
    file.onChunk?.(value);
    if (value.length <= JOIN_BELOW_BYTES && (first || last)) {
      yield Buffer.concat([first ? head : EMPTY, value, last ? tail : EMPTY]);
      continue;
    }
    if (first) yield head;
    yield value;
    if (last) yield tail;
  }
}

const EMPTY = Buffer.alloc(0);
/** Chunks up to this size are joined with the part header or closing boundary; larger ones are not copied. */
const JOIN_BELOW_BYTES = 64 * 1024;
