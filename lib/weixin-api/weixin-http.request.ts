import {
  request as httpRequest,
  type Agent as HttpAgent,
  type ClientRequest,
  type IncomingMessage,
} from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import { WeixinApiError } from '../errors/weixin-api.error';
import { WeixinNetworkError } from '../errors/weixin-network.error';
import type { MediaChunks } from '../media-rules/media-content';
import type { Attempt } from './request-attempts';

/** Where the Weixin API lives, parsed once per transport. */
export interface WeixinOrigin {
  https: boolean;
  hostname: string;
  port: string;
  /** The base URL's path without its trailing slashes ('' for an origin). */
  pathname: string;
}

/** One try of one call, as the transport built it. */
export interface WeixinHttpRequest {
  agent: HttpAgent | HttpsAgent;
  origin: WeixinOrigin;
  method: 'GET' | 'POST';
  /** The API path, for the request line (after the origin's path) and for error messages. */
  path: string;
  /** The query string, empty or starting with `?`: it holds the access token, so it never reaches an error. */
  search: string;
  headers: Record<string, string | number>;
  /** Pieces written in one go (corked: one `writev`, no copy), or chunks written one after another. */
  body?: Buffer[] | MediaChunks;
  /**
   * The try: told when the request may reach Weixin (its socket is connected, a reused keep-alive one at
   * once), and given the request to tear down when its timeout or the caller's abort stops it.
   */
  attempt: Attempt;
}

export function parseOrigin(baseUrl: string): WeixinOrigin {
  const url = new URL(baseUrl);
  return {
    https: url.protocol === 'https:',
    // An IPv6 literal is bracketed in a URL, bare in a request's hostname.
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port,
    pathname: url.pathname.replace(/\/+$/, ''),
  };
}

/**
 * One try of a call to Weixin on `node:http(s)`, answering what `read` makes of the response (it judges
 * the answer; see weixin-answer.ts). Socket failures become `WeixinNetworkError` without the URL.
 */
export function weixinHttpRequest<T>(
  call: WeixinHttpRequest,
  read: (response: IncomingMessage, path: string) => Promise<T>,
): Promise<T> {
  const { path, attempt, origin } = call;
  return new Promise<T>((settleResolve, settleReject) => {
    // Settled only once the request is done with its body: when a call settles, no try still writes, so the
    // caller may close its source. The last write's completion may still be queued behind the answer: one
    // turn of the loop for it; a request still writing after that was answered early, and is destroyed.
    const settle = (done: () => void) => {
      if (req.writableFinished || req.destroyed) return done();
      req.once('finish', done);
      req.once('close', done);
      setImmediate(() => req.writableFinished || req.destroy());
    };
    const resolve = (value: T) => settle(() => settleResolve(value));
    const reject = (error: Error) => settle(() => settleReject(error));
    const fail = (error: Error & { code?: string }) =>
      reject(
        error instanceof WeixinApiError || error instanceof WeixinNetworkError
          ? error
          : new WeixinNetworkError(
              `Calling Weixin ${path} failed: ${error.message}`,
              path,
              undefined,
              error.code,
            ),
      );
    const req = (origin.https ? httpsRequest : httpRequest)({
      hostname: origin.hostname,
      port: origin.port,
      path: `${origin.pathname}${path}${call.search}`,
      method: call.method,
      headers: call.headers,
      agent: call.agent,
    });
    req.once('socket', (socket: Socket) => {
      if (!socket.connecting) return void (attempt.written = true);
      socket.once(origin.https ? 'secureConnect' : 'connect', () => (attempt.written = true));
    });
    req.on('error', fail);
    req.on('response', (response) => read(response, path).then(resolve, fail));
    // The caller (withRetries) answers why the try was stopped; the request only tears its socket down.
    attempt.attach(req);
    const body = call.body;
    if (body === undefined) {
      req.end();
    } else if (Array.isArray(body)) {
      req.cork();
      for (const piece of body) req.write(piece);
      req.end();
    } else {
      writeChunks(req, body).catch((error: Error) => req.destroy(error));
    }
  });
}

/** Writes chunks one after another, each asked for only once the one before was written out. */
async function writeChunks(req: ClientRequest, chunks: MediaChunks): Promise<void> {
  for await (const chunk of chunks) {
    if (req.destroyed) return;
    await new Promise<void>((resolve, reject) =>
      req.write(chunk, (error) => (error ? reject(error) : resolve())),
    );
  }
  req.end();
}
