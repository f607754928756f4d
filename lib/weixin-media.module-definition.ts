import { ConfigurableModuleBuilder, type ModuleMetadata } from '@nestjs/common';
import type { WeixinCallbackOptions } from './callback/weixin-callback.options';
import { weixinCallbackMetadata } from './callback/weixin-callback.mount';
import { weixinMediaControllerMetadata } from './controller/weixin-media-controller.options';
import type { WeixinMediaModuleExtras, WeixinMediaModuleOptions } from './interfaces';
import { WEIXIN_MEDIA_MODULE_NAME } from './weixin-media.constants';

/** The module's shape flags: `isGlobal`, `controller`, and `callback`. */
export interface WeixinMediaModuleFlags extends WeixinMediaModuleExtras {
  /**
   * Serve Weixin's message callback (verified, decrypted, routed to `@OnWeixinMessage` handlers).
   * @default false
   */
  callback?: WeixinCallbackOptions | false;
}

export const {
  ConfigurableModuleClass,
  /** Internal: what the user gave, before configuration and defaults (see `WEIXIN_MEDIA_MODULE_OPTIONS`). */
  MODULE_OPTIONS_TOKEN: WEIXIN_MEDIA_GIVEN_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<WeixinMediaModuleOptions>({ moduleName: WEIXIN_MEDIA_MODULE_NAME })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createWeixinMediaOptions')
  .setExtras<Required<WeixinMediaModuleFlags>>(
    { isGlobal: false, controller: false, callback: false },
    (definition, extras) => {
      // The mounted parts' options are checked when the application boots, with the module's.
      const mounted: ModuleMetadata[] = [
        ...(extras.controller ? [weixinMediaControllerMetadata(extras.controller)] : []),
        ...(extras.callback ? [weixinCallbackMetadata(extras.callback)] : []),
      ];
      return {
        ...definition,
        global: extras.isGlobal,
        imports: [...(definition.imports ?? []), ...mounted.flatMap((parts) => parts.imports ?? [])],
        controllers: [
          ...(definition.controllers ?? []),
          ...mounted.flatMap((parts) => parts.controllers ?? []),
        ],
        providers: [...(definition.providers ?? []), ...mounted.flatMap((parts) => parts.providers ?? [])],
      };
    },
  )
  .build();
