import {
  request as httpRequest,
  type Agent as HttpAgent,
  type ClientRequest,
  type IncomingMessage,
} from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { WeixinApiError } from '../errors/weixin-api.error';
import { WeixinNetworkError } from '../errors/weixin-network.error';
import type { MediaChunks } from '../media-rules/media-content';

/** The most of an answer we read: Weixin's JSON answers to uploads and API calls are tiny. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** The keep-alive agents every Weixin call shares (the axios instance's own, so sockets stay bounded). */
export interface WeixinAgents {
  http: HttpAgent;
  https: HttpsAgent;
}

export interface WeixinHttpRequest {
  method: 'GET' | 'POST';
  /** `apiBaseUrl` + the API path. */
  baseUrl: string;
  path: string;
  query: Record<string, string>;
  headers?: Record<string, string | number>;
  /** Pieces written in one go (corked: one `writev`, no copy), or chunks written one after another. */
  body?: Buffer[] | MediaChunks;
  signal: AbortSignal;
}

/**
 * One call to Weixin on `node:http(s)` with the shared keep-alive agents, answering its parsed JSON.
 * Uploads take this path instead of axios: per upload, axios' config merging, interceptors and adapters
 * cost more CPU than the upload itself for small files. The answer is judged as the axios instance's
 * response side does (`errcode != 0` → `WeixinApiError`, HTTP ≥ 400 and socket failures →
 * `WeixinNetworkError`), and no error ever carries the URL (it holds the access token).
 */
export function weixinHttpRequest<T>(agents: WeixinAgents, call: WeixinHttpRequest): Promise<T> {
  const { path, signal } = call;
  return new Promise<T>((settleResolve, settleReject) => {
    // Settled only once the request is done with its body, so the caller may reuse the memory it was written
    // from. The last write's completion may still be queued behind the answer: one turn of the loop for it;
    // a request still writing after that was answered early, and is destroyed (no byte of it is read again).
    const settle = (done: () => void) => {
      if (req.writableFinished || req.destroyed) return done();
      req.once('finish', done);
      req.once('close', done);
      setImmediate(() => req.writableFinished || req.destroy());
    };
    const resolve = (value: T) => settle(() => settleResolve(value));
    const reject = (error: Error) => settle(() => settleReject(error));
    const origin = originOf(call.baseUrl);
    const https = origin.protocol === 'https:';
    const fail = (error: Error & { code?: string }) =>
      reject(
        new WeixinNetworkError(
          `Calling Weixin ${path} failed: ${error.message}`,
          path,
          undefined,
          error.code,
        ),
      );
    const req = (https ? httpsRequest : httpRequest)({
      protocol: origin.protocol,
      hostname: origin.hostname,
      port: origin.port,
      path: `${origin.pathname}${path}?${new URLSearchParams(call.query).toString()}`,
      method: call.method,
      headers: call.headers,
      agent: https ? agents.https : agents.http,
    });
    // The caller (withRetries) answers the abort's reason; this only tears the socket down.
    const onAbort = () => req.destroy(new Error('canceled'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => signal.removeEventListener('abort', onAbort));
    req.on('error', fail);
    req.on('response', (response) =>
      readAnswer<T>(response, path, resolve, (error: Error) =>
        error instanceof WeixinApiError || error instanceof WeixinNetworkError ? reject(error) : fail(error),
      ),
    );
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

interface Origin {
  protocol: string;
  hostname: string;
  port: string;
  /** The base URL's path without its trailing slashes ('' for an origin). */
  pathname: string;
}

/** The last base URL parsed: every call of a module goes to the same one. */
let lastOrigin: { baseUrl: string; origin: Origin } | undefined;

function originOf(baseUrl: string): Origin {
  if (lastOrigin?.baseUrl !== baseUrl) {
    const url = new URL(baseUrl);
    const origin = {
      protocol: url.protocol,
      // An IPv6 literal is bracketed in a URL, bare in a request's hostname.
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port,
      pathname: url.pathname.replace(/\/+$/, ''),
    };
    lastOrigin = { baseUrl, origin };
  }
  return lastOrigin.origin;
}

/** Reads the (small) answer and judges it; events rather than an async iterator, which costs more per call. */
function readAnswer<T>(
  response: IncomingMessage,
  path: string,
  resolve: (value: T) => void,
  reject: (error: Error) => void,
): void {
  const chunks: Buffer[] = [];
  let total = 0;
  response.on('data', (chunk: Buffer) => {
    total += chunk.length;
    if (total > MAX_ANSWER_BYTES) {
      response.destroy(new Error(`the answer passed ${MAX_ANSWER_BYTES} bytes`));
      return;
    }
    chunks.push(chunk);
  });
  response.on('error', reject);
  response.on('end', () => {
    try {
      resolve(judgeAnswer<T>(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), path));
    } catch (error) {
      reject(error as Error);
    }
  });
}

function judgeAnswer<T>(status: number, text: string, path: string): T {
  if (status >= 400) {
    throw new WeixinNetworkError(`Weixin answered HTTP ${status} for ${path}`, path, status);
  }
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
  return data as T;
}
