import { Inject, Injectable } from '@nestjs/common';
import type { AxiosInstance, AxiosRequestConfig, AxiosResponse } from 'axios';
import type { ResolvedWeixinMediaOptions } from './interfaces/resolved-weixin-media-options.interface';
import { WeixinAccounts } from './accounts/weixin-accounts';
import { withAccessToken } from './tokens/token.interceptor';
import { RetryBudget, withRetries } from './weixin-api/request-attempts';
import {
  weixinHttpRequest,
  type WeixinAgents,
  type WeixinHttpRequest,
} from './weixin-api/weixin-http.request';
import { WEIXIN_AXIOS, WEIXIN_MEDIA_MODULE_OPTIONS } from './weixin-media.constants';

/**
 * Calls the Weixin API with an access token (the token interceptor), retries passing faults, and on
 * an invalid or expired token refreshes it and tries once more. The token is the one of the account the
 * call is for (see `WeixinAccounts`): the default account unless `forAccount()` bound another.
 */
@Injectable()
export class WeixinApiClient {
  constructor(
    @Inject(WEIXIN_MEDIA_MODULE_OPTIONS) protected readonly options: ResolvedWeixinMediaOptions,
    @Inject(WEIXIN_AXIOS) protected readonly http: AxiosInstance,
    protected readonly accounts: WeixinAccounts,
  ) {}

  /** The axios instance's keep-alive agents: the direct path shares its bounded sockets. */
  private agents?: WeixinAgents;

  /**
   * Sends the request to `path` built by `build` (called again for each try, so a streamed body is
   * fresh every time). `signal` aborts it, including the wait between tries.
   */
  request<T>(path: string, build: () => AxiosRequestConfig, signal?: AbortSignal): Promise<AxiosResponse<T>> {
    return this.call(path, signal, (accessToken, attemptSignal) => {
      const config = build();
      return this.http.request<T>({
        ...config,
        url: path,
        params: { ...config.params, access_token: accessToken },
        signal: attemptSignal,
      });
    });
  }

  /**
   * Like `request`, on `node:http(s)` directly (see `weixinHttpRequest`), answering the parsed JSON:
   * the upload path, where axios' per-call work costs more than a small upload. Same token, retries,
   * timeouts, abort and error shapes.
   */
  send<T>(
    path: string,
    build: () => Pick<WeixinHttpRequest, 'method' | 'query' | 'headers' | 'body'>,
    signal?: AbortSignal,
  ): Promise<T> {
    const defaults = this.http.defaults;
    const agents = (this.agents ??= { http: defaults.httpAgent, https: defaults.httpsAgent });
    return this.call(path, signal, (accessToken, attemptSignal) => {
      const call = build();
      return weixinHttpRequest<T>(agents, {
        ...call,
        baseUrl: defaults.baseURL ?? this.options.apiBaseUrl,
        path,
        query: { ...call.query, access_token: accessToken },
        signal: attemptSignal,
      });
    });
  }

  /** What every call to Weixin goes through: the account's token interceptor around one budget of retries. */
  protected async call<T>(
    path: string,
    signal: AbortSignal | undefined,
    attempt: (accessToken: string, attemptSignal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const { tokens } = await this.accounts.current(signal);
    // One budget of passing faults for the whole call: the token requests made for it and its own tries.
    const budget = new RetryBudget(this.options.retry.attempts);
    return withAccessToken(
      tokens,
      (accessToken) =>
        withRetries((attemptSignal) => attempt(accessToken, attemptSignal), {
          retry: this.options.retry,
          timeoutMs: this.options.timeoutMs,
          path,
          signal,
          budget,
        }),
      signal,
      budget,
    );
  }
}
