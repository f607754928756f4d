import { type DynamicModule, Inject, Module, type Provider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { WeixinAccounts } from './accounts/weixin-accounts';
import { createWeixinAxios } from './weixin-api/weixin-axios.factory';
import { WeixinApiClient } from './weixin-api.client';
import type { WeixinMediaModuleOptions } from './interfaces';
import type { ResolvedWeixinMediaOptions } from './interfaces/resolved-weixin-media-options.interface';
import { InMemoryMediaCache } from './media-cache/in-memory-media.cache';
import { TemporaryMediaService } from './temporary-media.service';
import { AccessTokenManager } from './tokens/access-token.manager';
import { InMemoryTokenStore } from './tokens/in-memory-token.store';
import {
  WEIXIN_AXIOS,
  WEIXIN_MEDIA_CACHE,
  WEIXIN_MEDIA_MODULE_OPTIONS,
  WEIXIN_TOKEN_STORE,
} from './weixin-media.constants';
import {
  ConfigurableModuleClass,
  OPTIONS_TYPE,
  WEIXIN_MEDIA_GIVEN_OPTIONS,
} from './weixin-media.module-definition';
import { resolveWeixinMediaOptions, type WeixinConfigReader } from './weixin-media-options.resolver';

const providers: Provider[] = [
  {
    provide: WEIXIN_MEDIA_MODULE_OPTIONS,
    // Configuration fills what the options leave out; without a ConfigModule, the environment does.
    useFactory: (given: WeixinMediaModuleOptions, config?: ConfigService) =>
      resolveWeixinMediaOptions(given, (config ?? new ConfigService()) as WeixinConfigReader),
    inject: [WEIXIN_MEDIA_GIVEN_OPTIONS, { token: ConfigService, optional: true }],
  },
  {
    provide: WEIXIN_AXIOS,
    useFactory: (options: ResolvedWeixinMediaOptions) => createWeixinAxios(options),
    inject: [WEIXIN_MEDIA_MODULE_OPTIONS],
  },
  {
    provide: WEIXIN_TOKEN_STORE,
    useFactory: (options: ResolvedWeixinMediaOptions) =>
      options.tokenStore ?? new InMemoryTokenStore(options.maxAccounts),
    inject: [WEIXIN_MEDIA_MODULE_OPTIONS],
  },
  {
    provide: WEIXIN_MEDIA_CACHE,
    useFactory: (options: ResolvedWeixinMediaOptions) =>
      options.mediaCache === false ? null : (options.mediaCache ?? new InMemoryMediaCache()),
    inject: [WEIXIN_MEDIA_MODULE_OPTIONS],
  },
  AccessTokenManager,
  WeixinAccounts,
  WeixinApiClient,
  TemporaryMediaService,
];

/**
 * Weixin temporary media for a Nest application: `forRoot(options?)` or `forRootAsync({ useFactory })`,
 * then inject `TemporaryMediaService`.
 */
@Module({
  providers,
  exports: [TemporaryMediaService, AccessTokenManager, WEIXIN_MEDIA_MODULE_OPTIONS],
})
export class WeixinMediaModule extends ConfigurableModuleClass {
  /**
   * Options left out are read from configuration (`WEIXIN_APP_ID`, `WEIXIN_APP_SECRET`, ...); this
   * override only lets `forRoot()` be called with no argument at all.
   */
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}

/** Injects the module's options as it uses them (configuration and defaults applied). */
export const InjectWeixinMediaOptions = (): PropertyDecorator & ParameterDecorator =>
  Inject(WEIXIN_MEDIA_MODULE_OPTIONS);
