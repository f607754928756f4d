import type { AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createUnzip } from 'node:zlib';
import { WeixinNetworkError } from '../errors/weixin-network.error';

/** The codings asked for on a streamed answer: all those decoded here. */
const ACCEPTED_ENCODINGS = 'gzip, deflate, br';

/**
 * Streamed answers are decoded here rather than by axios: axios drops the Content-Encoding it decoded but keeps
 * the Content-Length of the compressed bytes, which then no longer says whether the body is the one on the wire.
 */
export function askUndecoded(config: InternalAxiosRequestConfig): InternalAxiosRequestConfig {
  if (config.responseType === 'stream') {
    config.decompress = false;
    config.headers.set('Accept-Encoding', ACCEPTED_ENCODINGS);
  }
  return config;
}

/**
 * Replaces a streamed answer's body by its decoded bytes, and leaves only headers that describe those: a decoded
 * body loses Content-Encoding and Content-Length (passed on, the compressed length would frame a response by
 * the wrong count, the inflated tail read as the next response on the connection). A Content-Length is kept
 * only as a plain number on an answer neither encoded nor chunked. A coding not decoded here is refused, unread.
 */
export function decodeStreamedAnswer(response: AxiosResponse<Readable>, path: string): void {
  const headers = response.headers;
  const encoding = String(headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  const body = response.data;
  if (encoding === 'identity' || encoding === '') {
    const length = headers['content-length'];
    if (headers['transfer-encoding'] !== undefined || !/^\d{1,15}$/.test(String(length))) {
      delete headers['content-length'];
    }
    delete headers['content-encoding'];
    return;
  }
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate'
      ? createUnzip()
      : encoding === 'br'
        ? createBrotliDecompress()
        : undefined;
  if (!decoder) {
    body.destroy();
    throw new WeixinNetworkError(
      `Weixin answered ${path} with Content-Encoding "${encoding.slice(0, 40)}", which is not decoded ` +
        `here (${ACCEPTED_ENCODINGS} are)`,
      path,
      undefined,
      'ERR_CONTENT_ENCODING',
    );
  }
  delete headers['content-encoding'];
  delete headers['content-length'];
  // Either side's end tears the other down: a reader that stops closes the socket, a broken socket fails the reader.
  response.data = pipeline(body, decoder, () => undefined);
}
