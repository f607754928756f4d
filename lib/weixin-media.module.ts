import { type DynamicModule, Inject, Module, type Provider } from '@nestjs/common';
import { WeixinAccounts } from './accounts/weixin-accounts';
import { loadOptionalPeer } from './common/optional-peer';
import { WEIXIN_MEDIA_CONTROLLER_PROBLEMS } from './controller/weixin-media-controller.options';
import { WeixinMediaHttpSetup } from './controller/weixin-media-http.setup';
import { AccountTokens } from './weixin-api/account-tokens';
import { WeixinApiClient } from './weixin-api/weixin-api.client';
import { WeixinTransport } from './weixin-api/weixin-transport';
import type { WeixinMediaModuleOptions } from './interfaces';
import type { ResolvedWeixinMediaOptions } from './interfaces/resolved-weixin-media-options.interface';
import { MediaFitter } from './fit/media-fitter';
import { InMemoryMediaCache } from './media-cache/in-memory-media.cache';
import { MediaUploadPipeline } from './media-upload/media-upload.pipeline';
import { withMediaCacheFallback, withTokenStoreFallback } from './store-circuit';
import { WeixinMediaHealthIndicator } from './health/weixin-media.health-indicator';
import { TemporaryMediaService } from './temporary-media.service';
import { WeixinMessageService } from './messages/weixin-message.service';
import { AccessTokenManager } from './tokens/access-token.manager';
import { WEIXIN_CALLBACK_OPTIONS, type WeixinCallbackOptions } from './callback/weixin-callback.options';
import { InMemoryTokenStore } from './tokens/in-memory-token.store';
import {
  WEIXIN_MEDIA_CACHE,
  WEIXIN_MEDIA_MODULE_OPTIONS,
  WEIXIN_MEDIA_FITTER,
  WEIXIN_TOKEN_STORE,
} from './weixin-media.constants';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
  WEIXIN_MEDIA_GIVEN_OPTIONS,
} from './weixin-media.module-definition';
import { resolveWeixinMediaOptions, type WeixinConfigReader } from './weixin-media-options.resolver';

/** The environment, read as `ConfigService.get` reads it, for apps without `@nestjs/config`. */
const ENVIRONMENT: WeixinConfigReader = { get: (key) => process.env[key] };

/**
 * `ConfigService` when `@nestjs/config` (an optional peer) is installed, else undefined. Loaded when the app
 * defines the module (`forRoot`), never when the package is imported.
 */
function optionalConfigService(): (abstract new (...args: never[]) => WeixinConfigReader) | undefined {
  return loadOptionalPeer<typeof import('@nestjs/config')>(
    '@nestjs/config',
    'reading settings with ConfigService',
  )?.ConfigService;
}

/**
 * Configuration fills what the options leave out: the app's `ConfigService` if it has one, else the environment.
 * The mounted controller's and callback's problems fail the same check, so one error lists them all.
 */
function resolvedOptionsProvider(): Provider {
  const ConfigService = optionalConfigService();
  const controllerProblems = { token: WEIXIN_MEDIA_CONTROLLER_PROBLEMS, optional: true };
  const callback = { token: WEIXIN_CALLBACK_OPTIONS, optional: true };
  return {
    provide: WEIXIN_MEDIA_MODULE_OPTIONS,
    useFactory: (
      given: WeixinMediaModuleOptions,
      problems?: string[],
      callbackOptions?: WeixinCallbackOptions,
      config?: WeixinConfigReader,
    ) => resolveWeixinMediaOptions(given, config ?? ENVIRONMENT, problems, callbackOptions),
    inject: ConfigService
      ? [WEIXIN_MEDIA_GIVEN_OPTIONS, controllerProblems, callback, { token: ConfigService, optional: true }]
      : [WEIXIN_MEDIA_GIVEN_OPTIONS, controllerProblems, callback],
  };
}

function withResolvedOptions(module: DynamicModule): DynamicModule {
  return { ...module, providers: [...(module.providers ?? []), resolvedOptionsProvider()] };
}

const providers: Provider[] = [
  WeixinTransport,
  {
    provide: WEIXIN_TOKEN_STORE,
    // A shared store sits behind a circuit: when it fails or stalls, this process carries on alone.
    useFactory: (options: ResolvedWeixinMediaOptions) =>
      options.tokenStore
        ? withTokenStoreFallback(options.tokenStore)
        : new InMemoryTokenStore(options.maxAccounts),
    inject: [WEIXIN_MEDIA_MODULE_OPTIONS],
  },
  {
    provide: WEIXIN_MEDIA_CACHE,
    useFactory: (options: ResolvedWeixinMediaOptions) =>
      options.mediaCache === false
        ? null
        : options.mediaCache
          ? withMediaCacheFallback(options.mediaCache)
          : new InMemoryMediaCache(),
    inject: [WEIXIN_MEDIA_MODULE_OPTIONS],
  },
  {
    provide: WEIXIN_MEDIA_FITTER,
    useFactory: (options: ResolvedWeixinMediaOptions) => new MediaFitter(options.fit),
    inject: [WEIXIN_MEDIA_MODULE_OPTIONS],
  },
  AccessTokenManager,
  WeixinAccounts,
  // The client asks the accounts for the current account's tokens through this seam (it sits below them).
  { provide: AccountTokens, useExisting: WeixinAccounts },
  WeixinApiClient,
  MediaUploadPipeline,
  TemporaryMediaService,
  WeixinMessageService,
  // Fastify needs a multipart parser for MediaUploadInterceptor, on the mounted controller or a route of the app.
  WeixinMediaHttpSetup,
  WeixinMediaHealthIndicator,
];

/**
 * Weixin temporary media for a Nest application: `forRoot(options?)` or `forRootAsync({ useFactory })`,
 * then inject `TemporaryMediaService` and `WeixinMessageService`.
 */
@Module({
  providers,
  exports: [
    TemporaryMediaService,
    WeixinMessageService,
    AccessTokenManager,
    WeixinMediaHealthIndicator,
    WEIXIN_MEDIA_MODULE_OPTIONS,
  ],
})
export class WeixinMediaModule extends ConfigurableModuleClass {
  /**
   * Options left out are read from configuration (`WEIXIN_APP_ID`, `WEIXIN_APP_SECRET`, ...); `forRoot()`
   * may be called with no argument at all.
   */
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return withResolvedOptions(super.forRoot(options));
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withResolvedOptions(super.forRootAsync(options));
  }
}

/** Injects the module's options as it uses them (configuration and defaults applied). */
export const InjectWeixinMediaOptions = (): PropertyDecorator & ParameterDecorator =>
  Inject(WEIXIN_MEDIA_MODULE_OPTIONS);
