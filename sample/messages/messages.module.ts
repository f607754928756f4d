import { type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { MessageRepliesService } from './message-replies.service';
import { WEIXIN_CALLBACK_PATH, WeixinCallbackController } from './weixin-callback.controller';
import { WeixinSignatureGuard } from './weixin-signature.guard';
import { XmlBodyMiddleware } from './xml-body.middleware';

/** The Official Account's message callback; needs `TemporaryMediaService` (a global `WeixinMediaModule`). */
@Module({
  controllers: [WeixinCallbackController],
  providers: [MessageRepliesService, WeixinSignatureGuard],
})
export class MessagesModule implements NestModule {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  configure(consumer: MiddlewareConsumer): void {
    // On Fastify a content-type parser reads the XML (see sample-app.ts): Fastify parses before middleware ends.
    if (this.adapterHost.httpAdapter?.getType() === 'fastify') return;
    consumer.apply(XmlBodyMiddleware).forRoutes({ path: WEIXIN_CALLBACK_PATH, method: RequestMethod.POST });
  }
}
