import { type DynamicModule, Inject, Module, type Provider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createWeixinAxios } from './weixin-api/weixin-axios.factory';
import { WeixinApiClient } from './weixin-api.client';
import type { WeixinMediaModuleOptions } from './interfaces';
import { InMemoryMediaCache } from './media-cache/in-memory-media.cache';
import { TemporaryMediaService } from './temporary-media.service';
import { AccessTokenManager } from './tokens/access-token.manager';
import { InMemoryTokenStore } from './tokens/in-memory-token.store';
import {
  WEIXIN_AXIOS,
  WEIXIN_MEDIA_CACHE,
  WEIXIN_MEDIA_RESOLVED_OPTIONS,
  WEIXIN_TOKEN_STORE,
} from './weixin-media.constants';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
  WEIXIN_MEDIA_MODULE_OPTIONS,
  type WeixinMediaModuleInput,
} from './weixin-media.module-definition';
import { resolveWeixinMediaOptions, type WeixinConfigReader } from './weixin-media-options.resolver';

const providers: Provider[] = [
  {
    provide: WEIXIN_MEDIA_RESOLVED_OPTIONS,
    // Configuration fills what the options leave out; without a ConfigModule, the environment does.
    useFactory: (input: WeixinMediaModuleInput, config?: ConfigService) =>
      resolveWeixinMediaOptions(input, (config ?? new ConfigService()) as WeixinConfigReader),
    inject: [WEIXIN_MEDIA_MODULE_OPTIONS, { token: ConfigService, optional: true }],
  },
  {
    provide: WEIXIN_AXIOS,
    useFactory: (options: WeixinMediaModuleOptions) => createWeixinAxios(options),
    inject: [WEIXIN_MEDIA_RESOLVED_OPTIONS],
  },
  {
    provide: WEIXIN_TOKEN_STORE,
    useFactory: (options: WeixinMediaModuleOptions) => options.tokenStore ?? new InMemoryTokenStore(),
    inject: [WEIXIN_MEDIA_RESOLVED_OPTIONS],
  },
  {
    provide: WEIXIN_MEDIA_CACHE,
    useFactory: (options: WeixinMediaModuleOptions) =>
      options.mediaCache === false ? null : (options.mediaCache ?? new InMemoryMediaCache()),
    inject: [WEIXIN_MEDIA_RESOLVED_OPTIONS],
  },
  AccessTokenManager,
  WeixinApiClient,
  TemporaryMediaService,
];

/**
 * Weixin temporary media for a Nest application: `forRoot(options?)` or `forRootAsync({ useFactory })`,
 * then inject `TemporaryMediaService`.
 */
@Module({
  providers,
  exports: [TemporaryMediaService, AccessTokenManager, WEIXIN_MEDIA_RESOLVED_OPTIONS],
})
export class WeixinMediaModule extends ConfigurableModuleClass {
  /** Options left out are read from configuration (`WEIXIN_APP_ID`, `WEIXIN_APP_SECRET`, ...). */
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync(options);
  }
}

/** Injects the module's resolved options (configuration and defaults applied). */
export const InjectWeixinMediaOptions = (): PropertyDecorator & ParameterDecorator =>
  Inject(WEIXIN_MEDIA_RESOLVED_OPTIONS);
