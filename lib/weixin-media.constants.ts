/** The module's name as `ConfigurableModuleBuilder` sees it; its options token derives from it. */
export const WEIXIN_MEDIA_MODULE_NAME = 'WeixinMedia';
/**
 * The public options token: the module's options as it uses them (configuration and defaults applied,
 * validated at bootstrap). `InjectWeixinMediaOptions()` injects it.
 */
export const WEIXIN_MEDIA_MODULE_OPTIONS = Symbol('WEIXIN_MEDIA_MODULE_OPTIONS');
export const WEIXIN_TOKEN_STORE = Symbol('WEIXIN_TOKEN_STORE');
export const WEIXIN_MEDIA_CACHE = Symbol('WEIXIN_MEDIA_CACHE');
/** The module's one `MediaFitter`: every upload and account shares its concurrency limit. */
export const WEIXIN_MEDIA_FITTER = Symbol('WEIXIN_MEDIA_FITTER');

export const DEFAULT_API_BASE_URL = 'https://api.weixin.qq.com';
/** Sockets open at once to the Weixin API per origin: enough for any upload rate, never a burst of 1,000. */
export const DEFAULT_MAX_SOCKETS = 64;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRY = { attempts: 3, baseDelayMs: 200 } as const;
export const DEFAULT_CONTROLLER_PATH = 'weixin/media';
export const DEFAULT_ACCOUNT_CACHE_MS = 60_000;
export const DEFAULT_MAX_ACCOUNTS = 1000;

/** A media_id is valid for 3 days after Weixin created it. */
export const MEDIA_LIFETIME_MS = 3 * 24 * 60 * 60 * 1000;
/** Reuse stops this long before the media expires, so a reused id still has time to be sent. */
export const MEDIA_REUSE_SAFETY_MARGIN_MS = 60 * 60 * 1000;
