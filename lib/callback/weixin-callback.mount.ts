import type { ModuleMetadata, Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { concealSecrets } from '../errors/secret-redaction';
import { CallbackAccounts } from './callback-accounts';
import { CallbackReplySender } from './callback-reply-sender';
import { callbackStoreProvider } from './callback-store.provider';
import { MessageServiceReplySender } from './message-service-reply.sender';
import { WeixinCallbackDispatcher } from './weixin-callback.dispatcher';
import { createWeixinCallbackController } from './weixin-callback.controller';
import { WeixinCallbackGuard } from './weixin-callback.guard';
import {
  DEFAULT_CALLBACK_PATH,
  WEIXIN_CALLBACK_OPTIONS,
  type WeixinCallbackOptions,
} from './weixin-callback.options';
import { WeixinMessageHandlers } from './weixin-message-handlers';

/**
 * What the module definition gains when `callback` is set: the callback controller, its parts, and Nest's
 * discovery (to find the handlers). Its options are checked when the application boots, with the module's.
 */
export function weixinCallbackMetadata(
  callback: WeixinCallbackOptions,
): Required<Pick<ModuleMetadata, 'controllers' | 'providers' | 'imports'>> {
  const given: WeixinCallbackOptions = typeof callback === 'object' && callback !== null ? callback : {};
  const path =
    typeof given.path === 'string' && given.path.trim() !== '' ? given.path : DEFAULT_CALLBACK_PATH;
  const providers: Provider[] = [
    { provide: WEIXIN_CALLBACK_OPTIONS, useValue: concealSecrets({ ...given }) },
    callbackStoreProvider,
    CallbackAccounts,
    WeixinCallbackGuard,
    WeixinMessageHandlers,
    WeixinCallbackDispatcher,
  ];
  providers.push(
    given.replySender
      ? { provide: CallbackReplySender, useValue: given.replySender }
      : { provide: CallbackReplySender, useClass: MessageServiceReplySender },
  );
  return {
    imports: [DiscoveryModule],
    controllers: [createWeixinCallbackController(path)],
    providers,
  };
}
