import { Inject, Injectable } from '@nestjs/common';
import type { AxiosInstance, AxiosRequestConfig, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { WeixinApiError } from '../errors/weixin-api.error';
import type { WeixinMediaModuleOptions } from '../interfaces';
import { AccessTokenManager } from '../tokens/access-token.manager';
import { WEIXIN_AXIOS, WEIXIN_MEDIA_RESOLVED_OPTIONS } from '../weixin-media.constants';
import { withRetries } from './request-attempts';
import { accessTokenRejectedBy } from './weixin-axios.factory';

/**
 * Calls the Weixin API with an access token attached by a request interceptor, retries passing
 * faults, and on an invalid/expired token (40001, 40014, 42001) refreshes it and tries once more.
 */
@Injectable()
export class WeixinHttpClient {
  constructor(
    @Inject(WEIXIN_MEDIA_RESOLVED_OPTIONS) protected readonly options: WeixinMediaModuleOptions,
    @Inject(WEIXIN_AXIOS) protected readonly http: AxiosInstance,
    protected readonly tokens: AccessTokenManager,
  ) {
    http.interceptors.request.use((config) => this.attachAccessToken(config));
  }

  /**
   * Sends the request to `path` built by `build` (called again for each try, so a streamed body is
   * fresh every time). `signal` aborts it, including the wait between tries.
   */
  async request<T>(
    path: string,
    build: () => AxiosRequestConfig,
    signal?: AbortSignal,
  ): Promise<AxiosResponse<T>> {
    const attempt = () =>
      withRetries(
        (attemptSignal, accessToken) =>
          this.http.request<T>({
            ...build(),
            url: path,
            signal: attemptSignal,
            weixinAccessToken: accessToken,
          }),
        {
          retry: this.options.retry,
          timeoutMs: this.options.timeoutMs,
          path,
          signal,
          // The token is awaited before each try's timeout starts: a refresh held by another
          // instance is bounded by its lock lease, not by this request's timeout.
          prepare: () => this.tokens.getToken(signal),
        },
      );
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof WeixinApiError) || !error.isTokenInvalid) {
        throw error;
      }
      const rejected = accessTokenRejectedBy(error);
      if (rejected) {
        await this.tokens.invalidate(rejected);
      }
      return attempt();
    }
  }

  /** The request interceptor: every Weixin call but the token endpoints carries `access_token`. */
  protected async attachAccessToken(config: InternalAxiosRequestConfig): Promise<InternalAxiosRequestConfig> {
    if (config.weixinAuth === false) {
      return config;
    }
    const token =
      config.weixinAccessToken ?? (await this.tokens.getToken(config.signal as AbortSignal | undefined));
    config.weixinAccessToken = token;
    config.params = { ...config.params, access_token: token };
    return config;
  }
}
