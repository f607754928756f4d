import type { IncomingMessage } from 'node:http';
import { CallbackRefusedError } from '../errors/callback-refused.error';

/** Weixin's messages are a few hundred bytes; nothing near this is one. */
export const MAX_CALLBACK_BODY_BYTES = 64 * 1024;
/** The whole body must have arrived within this long. */
export const CALLBACK_BODY_TIMEOUT_MS = 5_000;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The callback body as text: `parsed` when a parser of the app already read it as text or bytes
 * (`express.text()`, a raw parser), else read from the Node request. Refuses (`CallbackRefusedError`) a
 * declared length over 64 KB before reading a byte (413), stops reading at 64 KB (413), and refuses a body
 * not whole within 5 s (408) or not UTF-8 (400). After a refusal nothing more is read.
 */
export function readCallbackBody(
  request: IncomingMessage,
  parsed: unknown,
  limits = { maxBytes: MAX_CALLBACK_BODY_BYTES, timeoutMs: CALLBACK_BODY_TIMEOUT_MS },
): Promise<string> {
  const { maxBytes, timeoutMs } = limits;
  if (typeof parsed === 'string') {
    // A UTF-16 unit is at most 3 bytes of UTF-8: only long text needs counting.
    const bytes = parsed.length * 3 <= maxBytes ? 0 : Buffer.byteLength(parsed);
    if (bytes > maxBytes) return Promise.reject(tooLarge(`${bytes} bytes`, maxBytes));
    return Promise.resolve(parsed);
  }
  if (Buffer.isBuffer(parsed)) {
    if (parsed.length > maxBytes) return Promise.reject(tooLarge(`${parsed.length} bytes`, maxBytes));
    return Promise.resolve().then(() => decode(parsed));
  }
  const declared = request.headers['content-length'];
  const length = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined;
  if (length !== undefined && length > maxBytes) {
    return Promise.reject(tooLarge(`${declared} bytes (declared)`, maxBytes));
  }
  if (length !== undefined && request.readableLength === length && !request.readableFlowing) {
    // The whole body is here already (it came in with the headers): taken as it is, no listeners or timer.
    const bytes: Buffer = request.read(length) ?? Buffer.alloc(0);
    return Promise.resolve().then(() => decode(bytes));
  }
  if (request.readableEnded || (parsed !== undefined && parsed !== null && !request.readable)) {
    return Promise.reject(
      new CallbackRefusedError(
        'xml',
        'the body was read by another parser of the app (as JSON or a form?): the callback needs the XML text',
      ),
    );
  }
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (error?: CallbackRefusedError): void => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('aborted', onAborted);
      request.off('error', onAborted);
      if (error) {
        // Nothing more is read: the refusal closes the connection.
        request.pause();
        reject(error);
        return;
      }
      try {
        resolve(decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received)));
      } catch (refusal) {
        reject(refusal);
      }
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > maxBytes) return finish(tooLarge(`over ${maxBytes} bytes so far`, maxBytes));
      chunks.push(chunk);
    };
    const onEnd = (): void => finish();
    const onAborted = (): void =>
      finish(
        new CallbackRefusedError('timeout', 'the client closed the connection before the body was whole'),
      );
    const timer = setTimeout(() => {
      const problem = `the body has not arrived whole within ${timeoutMs / 1000} s (${received} bytes so far)`;
      finish(new CallbackRefusedError('timeout', problem));
    }, timeoutMs);
    timer.unref();
    request.on('data', onData);
    // `finish` removes every listener, whichever event comes first.
    request.on('end', onEnd);
    request.on('aborted', onAborted);
    request.on('error', onAborted);
    request.resume();
  });
}

function tooLarge(size: string, maxBytes: number): CallbackRefusedError {
  return new CallbackRefusedError(
    'too-large',
    `the body is ${size}; a Weixin message is at most ${maxBytes / 1024} KB`,
  );
}

function decode(bytes: Buffer): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new CallbackRefusedError('xml', 'the body is not UTF-8 text');
  }
}
