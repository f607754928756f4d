import { ConfigurableModuleBuilder } from '@nestjs/common';
import { weixinMediaControllerMetadata } from './controller/weixin-media-controller.options';
import type { WeixinMediaModuleExtras, WeixinMediaModuleOptions } from './interfaces';
import { WEIXIN_MEDIA_MODULE_NAME } from './weixin-media.constants';

export const {
  ConfigurableModuleClass,
  /** Internal: what the user gave, before configuration and defaults (see `WEIXIN_MEDIA_MODULE_OPTIONS`). */
  MODULE_OPTIONS_TOKEN: WEIXIN_MEDIA_GIVEN_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<WeixinMediaModuleOptions>({ moduleName: WEIXIN_MEDIA_MODULE_NAME })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createWeixinMediaOptions')
  .setExtras<Required<WeixinMediaModuleExtras>>(
    { isGlobal: false, controller: false },
    (definition, extras) => {
      if (!extras.controller) return { ...definition, global: extras.isGlobal };
      // The controller's own options are checked when the application boots, with the module's.
      const mounted = weixinMediaControllerMetadata(extras.controller);
      return {
        ...definition,
        global: extras.isGlobal,
        controllers: [...(definition.controllers ?? []), ...mounted.controllers],
        providers: [...(definition.providers ?? []), ...mounted.providers],
      };
    },
  )
  .build();
