import type { AxiosInstance, AxiosResponse, AxiosStatic, InternalAxiosRequestConfig } from 'axios';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import { WeixinApiError } from '../errors/weixin-api.error';
import { WeixinNetworkError } from '../errors/weixin-network.error';
import type { ResolvedWeixinMediaOptions } from '../interfaces/resolved-weixin-media-options.interface';
import { askUndecoded, decodeStreamedAnswer } from './content-encoding';

/** The most of an error body we read from a streamed download: Weixin's JSON errors are tiny. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * axios and what it pulls in (form-data, mime-db, follow-redirects, proxy-from-env) take about half of the
 * entry's import time, so it is loaded when the module first builds its client, not when the package is
 * required.
 */
let loadedAxios: AxiosStatic | undefined;
function axios(): AxiosStatic {
  return (loadedAxios ??= require('axios') as AxiosStatic);
}

/**
 * The one axios instance every Weixin call goes through. Its response side turns Weixin's answers
 * into typed errors: `errcode != 0` (even at HTTP 200) into `WeixinApiError`, HTTP errors and socket
 * failures into `WeixinNetworkError`, never an AxiosError (which carries the URL with the token).
 */
export function createWeixinAxios(
  options: Pick<ResolvedWeixinMediaOptions, 'apiBaseUrl' | 'maxSockets'>,
): AxiosInstance {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
  const instance = axios().create({
    baseURL: options.apiBaseUrl,
    // Statuses are judged by the interceptor, so an error body can still be read and mapped.
    validateStatus: () => true,
    // -1 is axios' "no limit"; any number, Infinity included, pipes every body through a counting stream.
    maxBodyLength: -1,
    maxContentLength: -1,
    maxRedirects: 0,
    httpAgent: new HttpAgent(agentOptions),
    httpsAgent: new HttpsAgent(agentOptions),
  });
  instance.interceptors.request.use(askUndecoded);
  instance.interceptors.response.use(mapWeixinResponse, mapWeixinFailure);
  return instance;
}

async function mapWeixinResponse(response: AxiosResponse): Promise<AxiosResponse> {
  const path = apiPath(response.config);
  const contentType = String(response.headers['content-type'] ?? '');
  if (response.config.responseType === 'stream') {
    decodeStreamedAnswer(response as AxiosResponse<Readable>, path);
    if (/json|text/i.test(contentType) || response.status >= 400) {
      // Weixin answers download errors as JSON with status 200: read it before trusting the body.
      response.data = parseJson(await readCapped(response.data as Readable, MAX_ERROR_BODY_BYTES, path));
    }
  }
  if (response.status >= 400) {
    throw new WeixinNetworkError(
      `Weixin answered HTTP ${response.status} for ${path}`,
      path,
      response.status,
    );
  }
  const data = response.data as { errcode?: unknown; errmsg?: unknown } | undefined;
  if (data && typeof data === 'object' && typeof data.errcode === 'number' && data.errcode !== 0) {
    throw new WeixinApiError(data.errcode, String(data.errmsg ?? ''), path);
  }
  return response;
}

function mapWeixinFailure(error: unknown): never {
  if (error instanceof WeixinApiError || error instanceof WeixinNetworkError || axios().isCancel(error)) {
    throw error;
  }
  if (axios().isAxiosError(error)) {
    const path = apiPath(error.config);
    const code = error.code === 'ECONNABORTED' ? 'ETIMEDOUT' : error.code;
    throw new WeixinNetworkError(
      `Calling Weixin ${path} failed: ${error.message}`,
      path,
      error.response?.status,
      code,
    );
  }
  throw error;
}

function apiPath(config: InternalAxiosRequestConfig | undefined): string {
  return (config?.url ?? '').split('?')[0];
}

async function readCapped(stream: Readable, maxBytes: number, path: string): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      total += (chunk as Buffer).length;
      if (total >= maxBytes) {
        stream.destroy();
        break;
      }
    }
  } catch (error) {
    // A reset, or a body that does not decode: never the raw stream error.
    const code = (error as NodeJS.ErrnoException).code ?? 'ECONNRESET';
    throw new WeixinNetworkError(`the answer from ${path} broke off: ${code}`, path, undefined, code);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { text };
  }
}
