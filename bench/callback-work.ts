import type { ExecutionContext, INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IncomingMessage, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { WeixinCallbackDispatcher } from '../lib/callback/weixin-callback.dispatcher';
import { verifiedCallback, WeixinCallbackGuard } from '../lib/callback/weixin-callback.guard';
import { CallbackBenchModule, wechatMiddleware } from './callback-server';
import {
  echo,
  OUR_PATH,
  replyContent,
  type SignedMessage,
  signedMessages,
  WECHAT_PATH,
} from './callback-messages';

/** Answers one message without HTTP; resolves to the reply body. */
type Answer = () => Promise<string>;

/**
 * The work of each callback for one message without HTTP, on a request object built beforehand (as the
 * framework hands it): ours is the route's guard and dispatcher (account, signature, timestamp, body, XML,
 * msg_signature, decryption, once-only claim, handler, reply XML, encryption, kept answer); `wechat`'s is its
 * middleware on a body an XML parser already read (`rawBody`): msg_signature, xml2js twice, decryption, the
 * handler, its ejs reply template, encryption.
 */
export class CallbackWork {
  private constructor(
    private readonly context: INestApplicationContext,
    private readonly guard: WeixinCallbackGuard,
    private readonly dispatcher: WeixinCallbackDispatcher,
    private readonly wechat: ReturnType<typeof wechatMiddleware>,
  ) {}

  static async start(): Promise<CallbackWork> {
    const context = await NestFactory.createApplicationContext(CallbackBenchModule, { logger: false });
    const guard = context.get(WeixinCallbackGuard, { strict: false });
    const dispatcher = context.get(WeixinCallbackDispatcher, { strict: false });
    const work = new CallbackWork(context, guard, dispatcher, wechatMiddleware());
    await work.check();
    return work;
  }

  close(): Promise<void> {
    return this.context.close();
  }

  /** This process's CPU (user + system) per message for `count` messages, in microseconds. */
  async cpuMicrosPerMessage(kind: 'ours' | 'wechat', count: number): Promise<number> {
    const answers = signedMessages(count).map((message) => this.answerer(kind, message));
    const before = process.cpuUsage();
    for (const answer of answers) await answer();
    const used = process.cpuUsage(before);
    return (used.user + used.system) / count;
  }

  /** Both answer a message with its echo, or the figures mean nothing. */
  private async check(): Promise<void> {
    for (const kind of ['ours', 'wechat'] as const) {
      const [message] = signedMessages(1);
      const content = replyContent(await this.answerer(kind, message)());
      if (content !== echo(message.content)) throw new Error(`${kind} answered ${content} without HTTP`);
    }
  }

  private answerer(kind: 'ours' | 'wechat', message: SignedMessage): Answer {
    return kind === 'ours' ? this.ours(message) : this.theirs(message);
  }

  private ours(message: SignedMessage): Answer {
    const request = Object.assign(incoming(`${OUR_PATH}${message.search}`), {
      params: {},
      body: asReceived(message.body),
    });
    const context = { switchToHttp: () => ({ getRequest: () => request }) } as ExecutionContext;
    return async () => {
      await this.guard.canActivate(context);
      return this.dispatcher.answer(verifiedCallback(request));
    };
  }

  private theirs(message: SignedMessage): Answer {
    const request = Object.assign(incoming(`${WECHAT_PATH}${message.search}`), {
      rawBody: Buffer.from(message.body),
    });
    const search = asReceived(message.search);
    return () =>
      new Promise<string>((resolve, reject) => {
        // Express's query object, made per request as Express makes it.
        const query = Object.fromEntries(new URLSearchParams(search));
        const response = { writeHead: () => response, end: (body: string) => resolve(body) };
        Object.assign(request, { query });
        this.wechat(request, response as unknown as ServerResponse, (error?: unknown) =>
          reject(error ?? new Error('wechat did not answer')),
        );
      });
  }
}

/** One socket under every request: a request's own would be most of what the round allocates. */
const SOCKET = new Socket();

function incoming(url: string): IncomingMessage {
  const request = new IncomingMessage(SOCKET);
  request.method = 'POST';
  request.url = asReceived(url);
  request.headers = { 'content-type': 'text/xml' };
  return request;
}

/**
 * Text as Node hands it over, decoded from the bytes received: one flat string. The messages are built by
 * joining strings, which V8 keeps as a rope and flattens on first read, a copy neither callback makes.
 */
function asReceived(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
