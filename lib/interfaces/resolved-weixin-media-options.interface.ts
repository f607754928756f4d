import type {
  RetryOptions,
  TokenMode,
  WeixinMediaModuleOptions,
} from './weixin-media-module-options.interface';

/**
 * The options as the module uses them: configuration and defaults applied, checked at bootstrap.
 * Internal (not exported from the package): users pass and read `WeixinMediaModuleOptions`.
 */
export interface ResolvedWeixinMediaOptions extends WeixinMediaModuleOptions {
  /** The default account; absent only when `accounts` is set. */
  appId?: string;
  accountCacheMs: number;
  maxAccounts: number;
  tokenRefresh: boolean;
  apiBaseUrl: string;
  tokenMode: TokenMode;
  timeoutMs: number;
  retry: RetryOptions;
  maxSockets: number;
}
