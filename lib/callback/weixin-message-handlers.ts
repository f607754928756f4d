import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { WeixinMediaOptionsError } from '../errors/weixin-media-options.error';
import { WEIXIN_MESSAGE_HANDLER, type WeixinMessageHandlerMetadata } from './on-weixin-message.decorator';
import type { WeixinMessage, WeixinMessageMode } from './weixin-message.interface';
import type { WeixinReplyLike } from './weixin-reply';

/** What a handler learns besides the message. */
export interface WeixinMessageContext {
  /** The account the message was sent to. */
  appId: string;
  /** The user who sent it (`FromUserName`). */
  openId: string;
  mode: WeixinMessageMode;
  /** Aborted when the reply no longer matters (the application shuts down). */
  signal: AbortSignal;
}

/** A discovered handler: `Bot.onText`, callable. */
export interface WeixinMessageHandler {
  name: string;
  call(message: WeixinMessage, context: WeixinMessageContext): WeixinReplyLike | Promise<WeixinReplyLike>;
}

const ANY = '*';

/**
 * The methods marked `@OnWeixinMessage` and `@OnWeixinEvent` among the application's providers, found once
 * when it boots (as `@nestjs/event-emitter` finds its listeners). A message goes to the handler of its exact
 * type (an event: of its event, any case), else to the catch-all of messages or of events. Two handlers of
 * the same messages fail bootstrap: a message has one reply. Request-scoped providers are skipped (warned).
 */
@Injectable()
export class WeixinMessageHandlers implements OnApplicationBootstrap {
  protected readonly logger = new Logger('WeixinCallback');
  protected readonly handlers = new Map<string, WeixinMessageHandler>();

  constructor(
    @Inject(DiscoveryService) protected readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) protected readonly scanner: MetadataScanner,
    @Inject(Reflector) protected readonly reflector: Reflector,
  ) {}

  onApplicationBootstrap(): void {
    const problems: string[] = [];
    const seen = new Set<object>();
    for (const wrapper of this.discovery.getProviders()) {
      const { instance } = wrapper;
      // A provider exported to other modules is listed once per module that sees it.
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      const prototype = Object.getPrototypeOf(instance) as object | null;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const target = (instance as Record<string, unknown>)[method];
        if (typeof target !== 'function') continue;
        const meta = this.reflector.get<WeixinMessageHandlerMetadata | undefined>(
          WEIXIN_MESSAGE_HANDLER,
          target,
        );
        if (!meta) continue;
        const name = `${instance.constructor.name}.${method}`;
        if (!wrapper.isDependencyTreeStatic()) {
          this.logger.warn(`${name} is not used: Weixin message handlers must be on singleton providers`);
          continue;
        }
        const key = routeKey(meta);
        const taken = this.handlers.get(key);
        if (taken) {
          problems.push(`${taken.name} and ${name} both handle ${describeKey(key)}: a message has one reply`);
          continue;
        }
        this.handlers.set(key, { name, call: (message, context) => target.call(instance, message, context) });
      }
    }
    if (problems.length > 0) throw new WeixinMediaOptionsError(problems);
  }

  /** The handler of `message`, if any. */
  find(message: WeixinMessage): WeixinMessageHandler | undefined {
    if (message.MsgType === 'event') {
      const event = typeof message.Event === 'string' ? message.Event.toLowerCase() : '';
      return this.handlers.get(`event:${event}`) ?? this.handlers.get(`event:${ANY}`);
    }
    return this.handlers.get(`message:${message.MsgType}`) ?? this.handlers.get(`message:${ANY}`);
  }
}

function routeKey({ kind, name }: WeixinMessageHandlerMetadata): string {
  // @OnWeixinMessage('event') is every event.
  if (kind === 'message' && name === 'event') return `event:${ANY}`;
  if (kind === 'event') return `event:${name === undefined ? ANY : name.toLowerCase()}`;
  return `message:${name ?? ANY}`;
}

function describeKey(key: string): string {
  const [kind, name] = key.split(':');
  return name === ANY ? `every ${kind} no other handler takes` : `the ${kind} ${JSON.stringify(name)}`;
}
