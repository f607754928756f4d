import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createBrotliDecompress, createUnzip } from 'node:zlib';
import { WeixinApiError } from '../errors/weixin-api.error';
import { WeixinNetworkError } from '../errors/weixin-network.error';

/** The most of a JSON answer we read: Weixin's answers to uploads and API calls are tiny. */
export const MAX_JSON_ANSWER_BYTES = 1024 * 1024;
/** The most of an error body (HTTP ≥ 400) or of a download's JSON answer we read: enough to judge it. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** What a download answered: the media's bytes, or JSON instead (a video's URL). */
export type WeixinMediaAnswer<T> =
  | { kind: 'json'; data: T }
  | {
      kind: 'media';
      stream: Readable;
      contentType: string;
      contentDisposition?: string;
      /** The length of the bytes `stream` gives; absent when Weixin did not say or they were inflated. */
      contentLength?: number;
    };

/**
 * Judges a JSON answer: `errcode != 0` at any status → `WeixinApiError` (with its rid), otherwise HTTP ≥ 400
 * (an HTML 502 page) → `WeixinNetworkError`. Only the first `MAX_JSON_ANSWER_BYTES` are read (an error body's
 * first `MAX_ERROR_BODY_BYTES`); no error carries the URL, which holds the access token.
 */
export function readJsonAnswer<T>(response: IncomingMessage, path: string): Promise<T> {
  const status = response.statusCode ?? 0;
  const failed = status >= 400;
  return readCapped(response, path, failed ? MAX_ERROR_BODY_BYTES : MAX_JSON_ANSWER_BYTES, failed, (text) =>
    judgeJson<T>(status, text, path),
  );
}

/**
 * Judges a download's answer: bytes are answered as a stream (inflated when Weixin compressed them
 * anyway, without the wire length, which no longer describes them); JSON or text, at any status, is read
 * (at most `MAX_ERROR_BODY_BYTES`) and judged as `readJsonAnswer` does, since Weixin answers a download's
 * errors as JSON with status 200.
 */
export async function readMediaAnswer<T>(
  response: IncomingMessage,
  path: string,
): Promise<WeixinMediaAnswer<T>> {
  const status = response.statusCode ?? 0;
  const contentType = response.headers['content-type'] ?? '';
  if (status >= 400 || /json|text/i.test(contentType)) {
    return readCapped(response, path, MAX_ERROR_BODY_BYTES, true, (text) => ({
      kind: 'json',
      data: judgeJson<T>(status, text, path),
    }));
  }
  if (status !== 200) {
    // A 206 (or any other success) is not the whole file, whatever its Content-Range says.
    response.destroy();
    throw new WeixinNetworkError(
      `Weixin answered HTTP ${status} for ${path}, not a whole file`,
      path,
      status,
    );
  }
  const declared = response.headers['content-length'];
  return {
    kind: 'media',
    stream: decoded(response, path),
    contentType: contentType || 'application/octet-stream',
    contentDisposition: response.headers['content-disposition'],
    // The wire length describes the bytes only as a plain number on an answer neither encoded nor chunked.
    contentLength:
      !isEncoded(response) && !response.headers['transfer-encoding'] && /^\d{1,15}$/.test(declared ?? '')
        ? Number(declared)
        : undefined,
  };
}

function judgeJson<T>(status: number, text: string, path: string): T {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = { text };
  }
  const answer = data as { errcode?: unknown; errmsg?: unknown } | null;
  if (answer && typeof answer === 'object' && typeof answer.errcode === 'number' && answer.errcode !== 0) {
    throw new WeixinApiError(answer.errcode, String(answer.errmsg ?? ''), path);
  }
  if (status >= 400) {
    throw new WeixinNetworkError(`Weixin answered HTTP ${status} for ${path}`, path, status);
  }
  return data as T;
}

/**
 * Reads the (inflated) body up to `maxBytes` and answers what `judge` makes of its text: past it, a body
 * read only to judge an error is cut there (`truncate`); any other fails. Either way the socket is closed
 * rather than read on. Events rather than an async iterator, and the judge inside rather than a `.then`
 * after, which cost more per call.
 */
function readCapped<T>(
  response: IncomingMessage,
  path: string,
  maxBytes: number,
  truncate: boolean,
  judge: (text: string) => T,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const body = decoded(response, path);
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      try {
        resolve(judge(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    };
    body.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (total + chunk.length <= maxBytes) {
        total += chunk.length;
        chunks.push(chunk);
        return;
      }
      if (truncate) {
        chunks.push(chunk.subarray(0, maxBytes - total));
        done();
      } else {
        settled = true;
        reject(
          new WeixinNetworkError(
            `Weixin's answer to ${path} passed ${maxBytes} bytes, more than any answer of this API`,
            path,
            response.statusCode,
          ),
        );
      }
      body.destroy();
      response.destroy();
    });
    body.on('error', (error: NodeJS.ErrnoException) => {
      // A reset, or a body that does not decode: never the raw stream error.
      const code = error.code ?? 'ECONNRESET';
      if (!settled) {
        reject(new WeixinNetworkError(`the answer from ${path} broke off: ${code}`, path, undefined, code));
      }
      settled = true;
    });
    body.on('end', done);
  });
}

/** The codings decoded here (createUnzip reads gzip and zlib-wrapped deflate alike). */
const DECODERS: Record<string, () => NodeJS.ReadWriteStream> = {
  gzip: createUnzip,
  'x-gzip': createUnzip,
  deflate: createUnzip,
  br: createBrotliDecompress,
};

function isEncoded(response: IncomingMessage): boolean {
  const encoding = contentEncoding(response);
  return encoding !== '' && encoding !== 'identity';
}

function contentEncoding(response: IncomingMessage): string {
  return String(response.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
}

/**
 * The body as bytes: we ask for `identity`, but an answer compressed anyway is inflated here. An encoding
 * we cannot read fails the call rather than pass on bytes that are not what Weixin meant.
 */
function decoded(response: IncomingMessage, path: string): Readable {
  if (!isEncoded(response)) return response;
  const encoding = contentEncoding(response);
  const decoder = DECODERS[encoding];
  if (!decoder) {
    response.destroy();
    throw new WeixinNetworkError(
      `Weixin answered ${path} with Content-Encoding "${encoding.slice(0, 40)}", which is not decoded ` +
        `here (${Object.keys(DECODERS).join(', ')} are)`,
      path,
      undefined,
      'ERR_CONTENT_ENCODING',
    );
  }
  // pipeline() destroys both on an error, which the reader sees on the decoder.
  return pipeline(response, decoder(), () => undefined) as unknown as Readable;
}
