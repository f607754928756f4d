import { Inject, Injectable } from '@nestjs/common';
import { WeixinApiError } from '../errors/weixin-api.error';
import type { ResolvedWeixinMediaOptions } from '../interfaces/resolved-weixin-media-options.interface';
import type { MediaChunks } from '../media-rules/media-content';
import { WEIXIN_MEDIA_MODULE_OPTIONS } from '../weixin-media.constants';
import { AccountTokens } from './account-tokens';
import { RetryBudget } from './request-attempts';
import type { WeixinMediaAnswer } from './weixin-answer';
import { type WeixinCall, WeixinTransport } from './weixin-transport';

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
    protected readonly tokens: AccountTokens,
  ) {}

  /** POSTs `body` as JSON and answers the judged JSON. */
  json<T>(path: string, body: unknown, options: WeixinCallOptions): Promise<T> {
    const call = {
      method: 'POST',
      path,
      json: body,
      answer: 'json',
      repeatable: options.repeatable,
    } as const;
    return this.call(options.signal, (budget, access_token) =>
      this.transport.request<T>({ ...call, query: { access_token }, budget }, options.signal),
    );
  }

  /** POSTs an upload (repeatable: Weixin keeps each as a new media_id) and answers the judged JSON. */
  upload<T>(path: string, request: WeixinUploadRequest, signal?: AbortSignal): Promise<T> {
    const { query, headers, body } = request;
    return this.call(signal, (budget, access_token) =>
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
    const call: WeixinCall & { answer: 'media' } = { method: 'GET', path, answer: 'media', repeatable: true };
    return this.call(signal, (budget, access_token) =>
      this.transport.request<T>({ ...call, query: { ...query, access_token }, budget }, signal),
    );
  }

  /** Runs `attempt` with the current account's token, and once more with a fresh one if Weixin rejects it. */
  protected async call<T>(
    signal: AbortSignal | undefined,
    attempt: (budget: RetryBudget, accessToken: string) => Promise<T>,
  ): Promise<T> {
    const tokens = await this.tokens.currentTokens(signal);
    const budget = new RetryBudget(this.options.retry.attempts);
    const token = await tokens.getToken(signal, budget);
    try {
      return await attempt(budget, token);
    } catch (error) {
      if (!(error instanceof WeixinApiError) || !error.isTokenInvalid) throw error;
      await tokens.invalidate(token);
      return attempt(budget, await tokens.getToken(signal, budget));
    }
  }
}
