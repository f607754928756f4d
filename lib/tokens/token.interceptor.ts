import { WeixinApiError } from '../errors/weixin-api.error';
import type { RetryBudget } from '../weixin-api/request-attempts';
import type { AccessTokenManager } from './access-token.manager';

/**
 * The token interceptor: runs `call` with a valid access token, and when Weixin rejects exactly that
 * token (40001, 40014, 42001) drops it from the store (only if it is still the current one) and runs
 * `call` once more with a fresh token. The token is fetched before `call` starts, so waiting for a
 * refresh never counts against a request's own timeout.
 */
export async function withAccessToken<T>(
  tokens: AccessTokenManager,
  call: (accessToken: string) => Promise<T>,
  signal?: AbortSignal,
  budget?: RetryBudget,
): Promise<T> {
  const token = await tokens.getToken(signal, budget);
  try {
    return await call(token);
  } catch (error) {
    if (!(error instanceof WeixinApiError) || !error.isTokenInvalid) {
      throw error;
    }
    await tokens.invalidate(token);
    return call(await tokens.getToken(signal, budget));
  }
}
