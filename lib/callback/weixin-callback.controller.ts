import {
  Controller,
  Get,
  Inject,
  Post,
  Req,
  Res,
  SetMetadata,
  type Type,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { FASTIFY_ROUTE_CONFIG, sendText, WEIXIN_MEDIA_UPLOAD_ROUTE } from '../controller/http-platform';
import { CallbackRefusalFilter } from './callback-refusal.filter';
import { SUCCESS, WeixinCallbackDispatcher } from './weixin-callback.dispatcher';
import { verifiedCallback, WeixinCallbackGuard } from './weixin-callback.guard';

/**
 * Weixin's message callback as a route of the application: `GET` answers the URL check (`echostr`), `POST`
 * takes a message and answers its reply. `{path}` serves the default account, `{path}/:appId` each account.
 * Every check runs in `WeixinCallbackGuard` before anything else of the route; the app's own middleware,
 * guards and interceptors see the route as any other.
 */
@UseFilters(CallbackRefusalFilter)
@UseGuards(WeixinCallbackGuard)
export class WeixinCallbackController {
  constructor(@Inject(WeixinCallbackDispatcher) protected readonly dispatcher: WeixinCallbackDispatcher) {}

  @Get(['', ':appId'])
  verify(@Req() request: unknown, @Res() response: unknown): string {
    const echostr = verifiedCallback(request).echostr ?? '';
    sendText(response, 200, 'text/plain; charset=utf-8', echostr);
    return echostr;
  }

  /** Answers the message itself and returns the same text (for the app's interceptors to see). */
  @Post(['', ':appId'])
  // On Fastify the body is left unread for the guard, whatever its content type.
  @SetMetadata(FASTIFY_ROUTE_CONFIG, WEIXIN_MEDIA_UPLOAD_ROUTE)
  async receive(@Req() request: unknown, @Res() response: unknown): Promise<string> {
    const body = await this.dispatcher.answer(verifiedCallback(request));
    const type = body === SUCCESS ? 'text/plain' : 'application/xml';
    sendText(response, 200, `${type}; charset=utf-8`, body);
    return body;
  }
}

/** The callback controller at `path`. */
export function createWeixinCallbackController(path: string): Type<WeixinCallbackController> {
  @Controller(path)
  class MountedWeixinCallbackController extends WeixinCallbackController {}
  Object.defineProperty(MountedWeixinCallbackController, 'name', { value: WeixinCallbackController.name });
  return MountedWeixinCallbackController;
}
