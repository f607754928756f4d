import busboy from 'busboy';
import type { IncomingMessage } from 'node:http';

/** The `media` part of an upload, as far as the fake read it. */
export interface FakeUploadPart {
  filename?: string;
  /**
   * The bytes in order: one copy for a small file (it never pins a whole socket buffer), the chunks as
   * received for a larger one (joining 10 MB would cost the fake more CPU than the client's whole upload).
   */
  chunks: Buffer[];
  bytes: number;
  /** The file was larger than `maxFileBytes`; `chunks` hold only the first `maxFileBytes + 1` bytes. */
  truncated: boolean;
}

/** Parts up to this size are copied into one buffer; larger ones keep the chunks they arrived in. */
const COPIED_UP_TO_BYTES = 64 * 1024;

/** The chunks as one buffer, joined on the first call and kept (the chunks let go). */
export function joinedWhenAsked(chunks: Buffer[]): () => Buffer {
  let joined: Buffer | undefined;
  return () => (joined ??= chunks.length === 1 ? chunks[0] : Buffer.concat(chunks.splice(0)));
}

/** The first `count` bytes of `chunks` (fewer when there are fewer), as one buffer. */
export function leadingBytes(chunks: Buffer[], count: number): Buffer {
  return chunks.length > 0 && chunks[0].length >= count
    ? chunks[0].subarray(0, count)
    : Buffer.concat(chunks).subarray(0, count);
}

export type MultipartOutcome =
  | { kind: 'parsed'; media?: FakeUploadPart }
  | { kind: 'malformed' }
  /** The client went away before the body ended: nobody is left to answer. */
  | { kind: 'aborted' };

/**
 * Reads the `media` part of a multipart body, holding at most `maxFileBytes` of it; every other part is
 * discarded as it streams by. Never rejects: hostile or broken bodies come back as an outcome.
 */
export function readMediaPart(req: IncomingMessage, maxFileBytes: number): Promise<MultipartOutcome> {
  return new Promise((resolve) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // Part filenames as UTF-8, as Weixin reads them (busboy defaults to latin1).
        defParamCharset: 'utf8',
        // busboy flags a file that reaches fileSize, so one byte more tells "at the limit" from "over it".
        limits: {
          files: 4,
          fileSize: maxFileBytes + 1,
          fields: 16,
          fieldSize: 64 * 1024,
          parts: 24,
          headerPairs: 64,
        },
      });
    } catch {
      // Not multipart at all, or no boundary.
      resolve({ kind: 'malformed' });
      return;
    }

    let media: FakeUploadPart | undefined;
    let settled = false;
    const settle = (outcome: MultipartOutcome): void => {
      if (settled) return;
      settled = true;
      req.off('close', onClose);
      if (outcome.kind !== 'parsed') {
        req.unpipe(parser);
        // Throw the rest of the body away so the connection can still carry the answer.
        req.resume();
      }
      resolve(outcome);
    };
    const onClose = (): void => {
      if (!req.complete) settle({ kind: 'aborted' });
    };

    parser.on('file', (name, stream, info) => {
      if (name !== 'media' || media) {
        stream.resume();
        return;
      }
      const part: FakeUploadPart = { filename: info.filename, chunks: [], bytes: 0, truncated: false };
      media = part;
      stream.on('data', (chunk: Buffer) => {
        part.chunks.push(chunk);
        part.bytes += chunk.length;
      });
      stream.on('limit', () => (part.truncated = true));
      // concat copies even one chunk, so a small file never pins a whole socket buffer.
      stream.on('end', () => {
        if (part.bytes <= COPIED_UP_TO_BYTES) part.chunks = [Buffer.concat(part.chunks)];
      });
      stream.on('error', () => undefined);
    });
    // A `media` part without a filename arrives as a plain field; it is still "the media", with no name.
    parser.on('field', (name) => {
      if (name === 'media' && !media) media = { chunks: [], bytes: 0, truncated: false };
    });
    parser.on('error', () => settle({ kind: 'malformed' }));
    parser.on('close', () => settle({ kind: 'parsed', media }));
    req.on('close', onClose);
    req.pipe(parser);
  });
}
