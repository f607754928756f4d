import type { CanActivate, Type } from '@nestjs/common';
import type { WeixinMediaFitOptions } from './fit.interface';
import type { MediaCache } from './media-cache.interface';
import type { WeixinAccount, WeixinAccountResolver } from './weixin-account.interface';
import type { TokenStore } from './token-store.interface';

/** `stable` uses `POST /cgi-bin/stable_token`; `classic` uses `GET /cgi-bin/token`. */
export type TokenMode = 'stable' | 'classic';

export interface RetryOptions {
  /**
   * How many times a call is tried in all (the first try included).
   * @default 3
   */
  attempts: number;
  /**
   * The first backoff; it doubles each retry, with jitter.
   * @default 200
   */
  baseDelayMs: number;
}

export interface WeixinMediaControllerOptions {
  /**
   * Where the upload controller is mounted.
   * @default 'weixin/media'
   */
  path?: string;
  /** Guards applied to every route of the controller. */
  guards?: Array<CanActivate | Type<CanActivate>>;
  /**
   * Mount the controller without guards. Required to be `true` when no guards are given.
   * @default false
   */
  public?: boolean;
  /** How much of a request body, and how slow a one, the upload route accepts. */
  limits?: WeixinMediaUploadLimits;
  /**
   * Fit every upload the controller receives (`upload(type, file, { fit: true })`): any image, audio or video
   * format is accepted and converted when it does not pass. The file limit is then `fit.maxInputBytes`.
   * @default false
   */
  fit?: boolean;
}

/**
 * The limits of an upload's request body. Every byte of the body counts against one budget: the file limit of
 * the type (10 MB for image and video, 2 MB for voice, 64 KB for thumb; the largest while the type is not yet
 * known) plus `formOverheadBytes`; past it the answer is 413 and the rest of the body is not read.
 */
export interface WeixinMediaUploadLimits {
  /**
   * Bytes of the body besides the file: boundaries, part headers, the `type` field.
   * @default 16384
   */
  formOverheadBytes?: number;
  /**
   * The body must make progress at least this often, in milliseconds; a stalled upload answers 408.
   * @default 30000
   */
  idleTimeoutMs?: number;
  /**
   * The slowest average rate accepted, in bytes per second: the whole body must arrive within
   * `max(minBodyTimeMs, bytes / minBytesPerSecond)`, else 408.
   * @default 65536
   */
  minBytesPerSecond?: number;
  /**
   * The time any body may take, however small, in milliseconds (see `minBytesPerSecond`).
   * @default 30000
   */
  minBodyTimeMs?: number;
}

/**
 * What `WeixinMediaModule.forRoot()` takes and an async factory answers. Every field is optional: what is
 * left out is read from configuration (`WEIXIN_APP_ID`, ...) or takes its default.
 */
export interface WeixinMediaModuleOptions {
  /**
   * The Official Account's AppID: the default account, which the plain service methods use. Read from
   * `WEIXIN_APP_ID` when not given; optional when `accounts` is set.
   */
  appId?: string;
  /** The Official Account's AppSecret. Read from `WEIXIN_APP_SECRET` when not given. */
  appSecret?: string;
  /**
   * The Token of the default account's server settings (3-32 letters and digits), which signs every callback
   * request; listed accounts without their own use it. Read from `WEIXIN_TOKEN` when not given. Used when
   * the module serves the `callback`.
   */
  callbackToken?: string;
  /**
   * The EncodingAESKey of the default account's server settings (43 characters): with it the callback takes
   * compat and safe mode (encrypted) requests only. Read from `WEIXIN_ENCODING_AES_KEY` when not given.
   */
  encodingAESKey?: string;
  /** Use an access token managed elsewhere instead of `appSecret` (for the default account). */
  accessTokenProvider?: () => Promise<string>;
  /**
   * More Official Accounts, reached with `service.forAccount(appId)` and the controller's `appid`
   * parameter: a list, or a resolver asked at run time (its answers cached for `accountCacheMs`). A resolver
   * that does not answer within `timeoutMs` fails the call with `AccountResolverTimeoutError` (the
   * controller: 503) and is asked again by the next call.
   */
  accounts?: WeixinAccount[] | WeixinAccountResolver;
  /**
   * How long a resolver's answer for an AppID is used before it is asked again, in milliseconds.
   * @default 60000
   */
  accountCacheMs?: number;
  /**
   * The most accounts (their resolution and token state) kept at once; the least recently used go first.
   * @default 1000
   */
  maxAccounts?: number;
  /**
   * `false`: this instance never asks Weixin for a token; it waits up to `timeoutMs` for one in the shared
   * `tokenStore`, written by instances that may refresh. For nodes outside the IP allow-list.
   * @default true
   */
  tokenRefresh?: boolean;
  /**
   * Where the Weixin API lives. Read from `WEIXIN_API_BASE_URL` when not given.
   * @default 'https://api.weixin.qq.com'
   */
  apiBaseUrl?: string;
  /**
   * How access tokens are fetched. Read from `WEIXIN_TOKEN_MODE` when not given.
   * @default 'stable'
   */
  tokenMode?: TokenMode;
  /**
   * Where access tokens are cached and refreshes are locked.
   * @default an in-memory store
   */
  tokenStore?: TokenStore;
  /**
   * Where media_ids are remembered for reuse of identical content; `false` turns reuse off.
   * @default an in-memory LRU
   */
  mediaCache?: MediaCache | false;
  /**
   * Timeout of each HTTP request to Weixin, and of an accounts resolver's answer, in milliseconds.
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * Retries for system-busy (-1), HTTP 5xx and network failures.
   * Each field left out takes its default.
   * @default { attempts: 3, baseDelayMs: 200 }
   */
  retry?: Partial<RetryOptions>;
  /**
   * Engines and limits of `fit` (local conversion of media that does not pass Weixin's rules).
   * @default { concurrency: os.availableParallelism(), timeoutMs: 120000, maxInputBytes: 200 MB, maxInputPixels: 100 megapixels }
   */
  fit?: WeixinMediaFitOptions;
  /**
   * Let URL sources reach loopback, private, link-local and unspecified addresses (an intranet file server).
   * @default false
   */
  allowPrivateUrls?: boolean;
  /**
   * The most sockets open at once to the Weixin API (per origin); further requests wait for a free one.
   * @default 64
   */
  maxSockets?: number;
}

/** The shape flags of the module: given to `forRoot`/`forRootAsync` themselves, never from a factory. */
export interface WeixinMediaModuleExtras {
  /**
   * Register the module globally.
   * @default false
   */
  isGlobal?: boolean;
  /**
   * Mount the upload controller.
   * @default false
   */
  controller?: WeixinMediaControllerOptions | false;
}
