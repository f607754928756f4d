import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { ResolvedWeixinMediaOptions } from '../interfaces/resolved-weixin-media-options.interface';
import type { MediaChunks } from '../media-rules/media-content';
import { WEIXIN_MEDIA_MODULE_OPTIONS } from '../weixin-media.constants';
import { type RetryBudget, withRetries } from './request-attempts';
import { readJsonAnswer, readMediaAnswer, type WeixinMediaAnswer } from './weixin-answer';
import { parseOrigin, type WeixinOrigin, weixinHttpRequest } from './weixin-http.request';

/** One call to the Weixin API, as every caller describes it to the transport. */
export interface WeixinCall {
  method: 'GET' | 'POST';
  /** The API path, e.g. `/cgi-bin/media/upload`: what errors name (never the query, which holds secrets). */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string | number>;
  /** A JSON body, serialized once for all tries. */
  json?: unknown;
  /** A body built fresh for every try (consumed chunks cannot be sent again); `headers` describe it. */
  body?: () => Buffer[] | MediaChunks;
  /** `json`: the judged JSON. `media`: the bytes as a stream, or the JSON Weixin answered instead. */
  answer: 'json' | 'media';
  /**
   * Whether Weixin may act on the request twice: an upload, a read or a token fetch may be repeated; a
   * message send may not, once its request was written (see `AttemptOptions.repeatable`).
   */
  repeatable: boolean;
  /** The call's budget of passing faults when it spans several requests (the client's token fetch and call). */
  budget?: RetryBudget;
  /** Each try's limit when shorter than `timeoutMs` (a token fetch within its lock's lease). */
  timeoutMs?: number;
}

/**
 * The one way to Weixin: every call (tokens, uploads, downloads, operations) goes through `request` on
 * `node:http(s)` keep-alive agents of at most `maxSockets` sockets, with one retry budget, one per-try
 * timeout and one judge of answers (weixin-answer.ts). `node:http` rather than axios: axios' per-call
 * config merging, interceptors and adapters cost more CPU than a small upload itself
 * (bench/peer-comparison.bench.ts). The agents close with the module.
 */
@Injectable()
export class WeixinTransport implements OnModuleDestroy {
  /** The keep-alive agent of the base URL's protocol: every call of the module shares its sockets. */
  readonly agent: HttpAgent | HttpsAgent;
  protected readonly origin: WeixinOrigin;

  constructor(
    @Inject(WEIXIN_MEDIA_MODULE_OPTIONS)
    protected readonly options: Pick<
      ResolvedWeixinMediaOptions,
      'apiBaseUrl' | 'maxSockets' | 'timeoutMs' | 'retry'
    >,
  ) {
    this.origin = parseOrigin(options.apiBaseUrl);
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
    this.agent = this.origin.https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  }

  /** Sends `call` (retries, timeouts and `signal` included) and answers what Weixin answered, judged. */
  request<T>(call: WeixinCall & { answer: 'json' }, signal?: AbortSignal): Promise<T>;
  request<T>(call: WeixinCall & { answer: 'media' }, signal?: AbortSignal): Promise<WeixinMediaAnswer<T>>;
  request<T>(call: WeixinCall, signal?: AbortSignal): Promise<T | WeixinMediaAnswer<T>> {
    const query = call.query && new URLSearchParams(call.query).toString();
    const search = query ? `?${query}` : '';
    const json = call.json === undefined ? undefined : Buffer.from(JSON.stringify(call.json));
    // Never compressed: a download's length then describes its bytes (weixin-answer.ts inflates anyway).
    const headers: Record<string, string | number> = { 'accept-encoding': 'identity' };
    if (json) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = json.length;
    }
    if (call.headers) Object.assign(headers, call.headers);
    const read: (response: IncomingMessage, path: string) => Promise<T | WeixinMediaAnswer<T>> =
      call.answer === 'media' ? readMediaAnswer<T> : readJsonAnswer<T>;
    return withRetries<T | WeixinMediaAnswer<T>>(
      (attempt) =>
        weixinHttpRequest(
          {
            agent: this.agent,
            origin: this.origin,
            method: call.method,
            path: call.path,
            search,
            headers,
            body: json ? [json] : call.body?.(),
            attempt,
          },
          read,
        ),
      {
        retry: this.options.retry,
        budget: call.budget,
        timeoutMs: call.timeoutMs ?? this.options.timeoutMs,
        path: call.path,
        signal,
        repeatable: call.repeatable,
      },
    );
  }

  /** Closes the sockets, idle and busy, when the module closes. */
  onModuleDestroy(): void {
    this.agent.destroy();
  }
}
