import { request as httpRequest, type Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import { WeixinApiError } from '../errors/weixin-api.error';
import { WeixinNetworkError } from '../errors/weixin-network.error';

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
  body?: Buffer | Readable;
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
  return new Promise<T>((resolve, reject) => {
    const url = new URL(call.baseUrl.replace(/\/+$/, '') + path);
    for (const key of Object.keys(call.query)) url.searchParams.set(key, call.query[key]);
    const https = url.protocol === 'https:';
    const fail = (error: Error & { code?: string }) =>
      reject(
        new WeixinNetworkError(
          `Calling Weixin ${path} failed: ${error.message}`,
          path,
          undefined,
          error.code,
        ),
      );
    const req = (https ? httpsRequest : httpRequest)(url, {
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
      readAnswer<T>(response, path).then(resolve, (error: Error) =>
        error instanceof WeixinApiError || error instanceof WeixinNetworkError ? reject(error) : fail(error),
      ),
    );
    const body = call.body;
    if (body === undefined || Buffer.isBuffer(body)) {
      req.end(body);
    } else {
      body.on('error', (error) => req.destroy(error));
      body.pipe(req);
    }
  });
}

async function readAnswer<T>(response: IncomingMessage, path: string): Promise<T> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response) {
    chunks.push(chunk as Buffer);
    total += (chunk as Buffer).length;
    if (total > MAX_ANSWER_BYTES) {
      response.destroy();
      break;
    }
  }
  const status = response.statusCode ?? 0;
  if (status >= 400) {
    throw new WeixinNetworkError(`Weixin answered HTTP ${status} for ${path}`, path, status);
  }
  const text = Buffer.concat(chunks).toString('utf8');
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
