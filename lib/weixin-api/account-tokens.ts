import type { RetryBudget } from './request-attempts';

/** One account's access tokens, as the Weixin API client uses them (`AccessTokenManager` in tokens/). */
export interface WeixinTokenSource {
  /** A token valid now; a refresh this call starts spends `budget`. */
  getToken(signal?: AbortSignal, budget?: RetryBudget): Promise<string>;
  /** Drops `token` after Weixin rejected it, unless another caller already replaced it. */
  invalidate(token: string): Promise<void>;
}

/**
 * The tokens of the account the current call is for (the module's `WeixinAccounts`). The client sits above
 * tokens/ and accounts/ but lives beside the transport it drives, so it asks for them through this seam.
 */
export abstract class AccountTokens {
  /** The account of the current call, with its tokens; `signal` ends this caller's wait (a resolver may be slow). */
  abstract current(signal?: AbortSignal): Promise<{ readonly tokens: WeixinTokenSource }>;
}
