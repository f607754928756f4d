import { Inject, Injectable } from '@nestjs/common';
import { WeixinApiError } from '../errors/weixin-api.error';
import type { ResolvedWeixinMediaOptions } from '../interfaces/resolved-weixin-media-options.interface';
import type { MediaChunks } from '../media-rules/media-content';
import { WEIXIN_MEDIA_MODULE_OPTIONS } from '../weixin-media.constants';
import { AccountTokens } from './account-tokens';
import { RetryBudget } from './request-attempts';
import type { WeixinMediaAnswer } from './weixin-answer';
import { WeixinTransport } from './weixin-transport';

export interface WeixinCallOptions {
  /** See `WeixinCall.repeatable`: false for a message send. */
  repeatable: boolean;
  signal?: AbortSignal;
}

/** An upload's request: built fresh for every try (a streamed body cannot be sent twice). */
export interface WeixinUploadRequest {
  query: Record<string, string>;
  headers: Record<string, string | number>;
  body: () => Buffer[] | MediaChunks;
}

/**
 * Calls the Weixin API with the access token of the account the call is for (the default account unless
 * `forAccount()` bound another), on the transport. The one place that attaches the token and, when Weixin
 * rejects exactly that token (40001, 40014, 42001), drops it (only if it is still the current one) and
 * tries once more with a fresh one. One budget of passing faults spans the call and the token fetches made
 * for it; the token is fetched before a try starts, so waiting for a refresh is never a request's time.
 */
@Injectable()
export class WeixinApiClient {
  constructor(
    @Inject(WEIXIN_MEDIA_MODULE_OPTIONS) protected readonly options: ResolvedWeixinMediaOptions,
    protected readonly transport: WeixinTransport,
    protected readonly accounts: AccountTokens,
  ) {}

  /** POSTs `body` as JSON and answers the judged JSON. */
  json<T>(path: string, body: unknown, options: WeixinCallOptions): Promise<T> {
    const { repeatable, signal } = options;
    return this.withToken(signal, (access_token, budget) =>
      this.transport.request<T>(
        { method: 'POST', path, query: { access_token }, json: body, answer: 'json', repeatable, budget },
        signal,
      ),
    );
  }

  /** POSTs an upload (repeatable: Weixin keeps each as a new media_id) and answers the judged JSON. */
  upload<T>(path: string, request: WeixinUploadRequest, signal?: AbortSignal): Promise<T> {
    const { query, headers, body } = request;
    return this.withToken(signal, (access_token, budget) =>
      this.transport.request<T>(
        {
          method: 'POST',
          path,
          query: { ...query, access_token },
          headers,
          body,
          answer: 'json',
          repeatable: true,
          budget,
        },
        signal,
      ),
    );
  }

  /** GETs media: its bytes as a stream, or the JSON Weixin answered instead (a video's URL). */
  media<T>(path: string, query: Record<string, string>, signal?: AbortSignal): Promise<WeixinMediaAnswer<T>> {
    return this.withToken(signal, (access_token, budget) =>
      this.transport.request<T>(
        { method: 'GET', path, query: { ...query, access_token }, answer: 'media', repeatable: true, budget },
        signal,
      ),
    );
  }

  /**
   * Sends with the current account's token (`send` puts it in the call's query), and once more with a
   * fresh one if Weixin rejects that token. Each call is built whole by its method: spreading a built
   * call into a copy per try costs a JSON call more CPU than building it (bench/message-send.bench.ts).
   */
  protected async withToken<R>(
    signal: AbortSignal | undefined,
    send: (accessToken: string, budget: RetryBudget) => Promise<R>,
  ): Promise<R> {
    const { tokens } = await this.accounts.current(signal);
    const budget = new RetryBudget(this.options.retry.attempts);
    const token = await tokens.getToken(signal, budget);
    try {
      return await send(token, budget);
    } catch (error) {
      if (!(error instanceof WeixinApiError) || !error.isTokenInvalid) throw error;
      await tokens.invalidate(token);
      return send(await tokens.getToken(signal, budget), budget);
    }
  }
}
