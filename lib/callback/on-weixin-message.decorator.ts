import { SetMetadata } from '@nestjs/common';

/** The metadata key of a method that handles Weixin messages or events. */
export const WEIXIN_MESSAGE_HANDLER = 'nestjs-weixin-media:message-handler';

/** Which messages a method handles: a message type (or any), or an event (or any). */
export interface WeixinMessageHandlerMetadata {
  kind: 'message' | 'event';
  /** `text`, `image`, ... for a message; `subscribe`, `CLICK`, ... for an event; undefined for any. */
  name?: string;
}

/**
 * Marks a provider's method as the handler of messages of `type` (`text`, `image`, `voice`, `video`,
 * `shortvideo`, `location`, `link`), or, without a type, of every message type no other handler takes.
 * It is called with `(message, context)` and answers a `WeixinReply`, a string (a text) or nothing.
 */
export const OnWeixinMessage = (type?: string): MethodDecorator =>
  SetMetadata<string, WeixinMessageHandlerMetadata>(WEIXIN_MESSAGE_HANDLER, { kind: 'message', name: type });

/**
 * Marks a provider's method as the handler of the event `event` (`subscribe`, `SCAN`, `CLICK`, ..., any
 * case), or, without one, of every event no other handler takes.
 */
export const OnWeixinEvent = (event?: string): MethodDecorator =>
  SetMetadata<string, WeixinMessageHandlerMetadata>(WEIXIN_MESSAGE_HANDLER, { kind: 'event', name: event });
