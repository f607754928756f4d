import { Transform, type Readable } from 'node:stream';
import { WeixinDownloadTooLargeError } from '../errors/weixin-download-too-large.error';
import { WeixinNetworkError } from '../errors/weixin-network.error';
import { abortReason } from './retry-policy';

export interface DownloadWatchOptions {
  /** No byte moved for this long (Weixin stopped sending, or the reader stopped reading): stalled. */
  idleMs: number;
  /** The most bytes passed on: the chunk that would pass it fails the stream instead. */
  maxBytes: number;
  /** The API path, for error messages. */
  path: string;
  /** The caller's signal: aborting it destroys the download at any point of the body. */
  signal?: AbortSignal;
}

/**
 * The stream a caller gets for a download body. The per-try timeout ends with the headers; this keeps
 * the body from holding its socket forever: it is destroyed, the socket with it, when `signal` aborts,
 * when no byte moved for `idleMs` (a stalled Weixin, or a reader that walked away), when more than
 * `maxBytes` came (counted as decoded: a small gzip answer may inflate to any size), or when the caller
 * destroys it. A stream nobody listens to is closed without an error, which would crash the app.
 */
export function watchDownload(
  body: Readable,
  { idleMs, maxBytes, path, signal }: DownloadWatchOptions,
): Readable {
  let lastMoved = Date.now();
  let received = 0;
  const watched = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      lastMoved = Date.now();
      received += chunk.length;
      if (received > maxBytes) {
        stop(new WeixinDownloadTooLargeError(path, maxBytes, received));
        return callback();
      }
      callback(null, chunk);
    },
  });
  const stop = (error: Error) => {
    if (!watched.destroyed) watched.destroy(watched.listenerCount('error') > 0 ? error : undefined);
  };
  const onAbort = () => stop(abortReason(signal!));
  const timer = setInterval(
    () => {
      if (Date.now() - lastMoved >= idleMs) {
        stop(
          new WeixinNetworkError(
            `the download from ${path} stalled: no byte moved for ${idleMs} ms`,
            path,
            undefined,
            'ETIMEDOUT',
          ),
        );
      }
    },
    Math.max(10, Math.min(1_000, idleMs / 4)),
  );
  timer.unref();
  body.once('error', (error: NodeJS.ErrnoException) =>
    stop(
      new WeixinNetworkError(
        `the download from ${path} broke off: ${error.code ?? 'the connection closed'}`,
        path,
        undefined,
        error.code ?? 'ECONNRESET',
      ),
    ),
  );
  watched.once('close', () => {
    clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
    body.destroy();
  });
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  // By hand rather than pipe(): pipe() adds an 'error' listener of its own to `watched`.
  body.on('data', (chunk: Buffer) => {
    if (!watched.write(chunk)) body.pause();
  });
  watched.on('drain', () => body.resume());
  body.once('end', () => watched.end());
  return watched;
}
