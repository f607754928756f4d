import busboy from 'busboy';
import type { IncomingMessage } from 'node:http';

/** The `media` part of an upload, as far as the fake read it. */
export interface FakeUploadPart {
  filename?: string;
  data: Buffer;
  /** The file was larger than `maxFileBytes`; `data` holds only the first `maxFileBytes + 1` bytes. */
  truncated: boolean;
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
      const part: FakeUploadPart = { filename: info.filename, data: Buffer.alloc(0), truncated: false };
      media = part;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => (part.truncated = true));
      // concat copies even one chunk, so a small file never pins a whole socket buffer.
      stream.on('end', () => (part.data = Buffer.concat(chunks)));
      stream.on('error', () => undefined);
    });
    // A `media` part without a filename arrives as a plain field; it is still "the media", with no name.
    parser.on('field', (name) => {
      if (name === 'media' && !media) media = { data: Buffer.alloc(0), truncated: false };
    });
    parser.on('error', () => settle({ kind: 'malformed' }));
    parser.on('close', () => settle({ kind: 'parsed', media }));
    req.on('close', onClose);
    req.pipe(parser);
  });
}
