import type { TokenMode } from './weixin-media-module-options.interface';

/** One Official Account the module may act for, beside (or instead of) the top-level one. */
export interface WeixinAccount {
  /** The account's AppID; `forAccount(appId)` and the controller's `appid` parameter select it. */
  appId: string;
  /** The account's AppSecret; leave it out when `accessTokenProvider` supplies the token. */
  appSecret?: string;
  /**
   * Supplies the account's access token instead of `appSecret`: for a third-party platform, the
   * authorizer token (the platform's own flow stays yours). Asked again once after Weixin rejects a token.
   */
  accessTokenProvider?: () => Promise<string>;
  /**
   * How this account's tokens are fetched.
   * @default the module's `tokenMode`
   */
  tokenMode?: TokenMode;
  /**
   * The Token of this account's server settings, which signs its callback requests.
   * @default the module's `callbackToken`
   */
  callbackToken?: string;
  /**
   * The EncodingAESKey of this account's server settings (compat and safe mode).
   * @default the module's `encodingAESKey`
   */
  encodingAESKey?: string;
}

/**
 * Answers the account for an AppID at run time (from a database, a platform's authorizer list, ...), or
 * `undefined` when there is none. Answers are cached per AppID for `accountCacheMs`; `undefined` never is.
 */
export type WeixinAccountResolver = (
  appId: string,
) => WeixinAccount | undefined | Promise<WeixinAccount | undefined>;
