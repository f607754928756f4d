import { Injectable, type INestApplication, type LoggerService, type ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomInt } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  CallbackReplySender,
  OnWeixinEvent,
  OnWeixinMessage,
  WeixinMediaModule,
  WeixinReply,
  type WeixinCallbackOptions,
  type WeixinEvent,
  type WeixinMediaModuleOptions,
  type WeixinMessage,
  type WeixinMessageContext,
  type WeixinTextMessage,
} from '../../lib';
import { WeixinCallbackCrypto } from '../../lib/callback/callback-crypto';
import { callbackXml, type CallbackXmlValue } from '../../lib/callback/callback-xml';
import { createHttpAdapter, type HttpAdapterName } from './media-controller-app';
import { optionsFor, type WeixinEndpoint } from './testing-module';

export const CALLBACK_TOKEN = 'callbackToken42';
/** 43 characters of base64: the EncodingAESKey of the server settings. */
export const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
export const USER = 'oUser0000000000000000000001';

/** What the bot saw: each call of a handler, in order. */
export interface HandledCall {
  handler: string;
  message: WeixinMessage;
  context: WeixinMessageContext;
}

/**
 * The bot of the callback specs: replies by keyword, records every call. `behaviour` lets a spec make a
 * text handler slow or throw.
 */
@Injectable()
export class RecordingBot {
  readonly calls: HandledCall[] = [];
  /** How the text handler answers; by default the keyword's reply. */
  textAnswer?: (message: WeixinTextMessage) => Promise<unknown> | unknown;
  image?: Buffer;

  @OnWeixinMessage('text')
  onText(message: WeixinTextMessage, context: WeixinMessageContext): unknown {
    this.calls.push({ handler: 'text', message, context });
    if (this.textAnswer) return this.textAnswer(message);
    if (message.Content === 'image') return WeixinReply.image(this.image!);
    if (message.Content === 'nothing') return undefined;
    if (message.Content === 'string') return `you said ${message.Content}`;
    return WeixinReply.text(`echo: ${message.Content}`);
  }

  @OnWeixinMessage()
  onAny(message: WeixinMessage, context: WeixinMessageContext): string {
    this.calls.push({ handler: 'any', message, context });
    return `any ${message.MsgType}`;
  }

  @OnWeixinEvent('subscribe')
  welcome(event: WeixinEvent, context: WeixinMessageContext): WeixinReply {
    this.calls.push({ handler: 'subscribe', message: event, context });
    return WeixinReply.text('welcome');
  }

  @OnWeixinEvent()
  onEvent(event: WeixinEvent, context: WeixinMessageContext): void {
    this.calls.push({ handler: 'event', message: event, context });
  }
}

/** The test double of the not-yet-merged sending service: records what the callback asks it to send. */
export class RecordingSender extends CallbackReplySender {
  readonly sent: Array<{ appId: string; openId: string; reply: WeixinReply }> = [];
  readonly typings: Array<{ appId: string; openId: string; on: boolean }> = [];

  async send(appId: string, openId: string, reply: WeixinReply): Promise<void> {
    this.sent.push({ appId, openId, reply });
  }

  async typing(appId: string, openId: string, on: boolean): Promise<void> {
    this.typings.push({ appId, openId, on });
  }
}

export interface CallbackAppOptions {
  adapter?: HttpAdapterName;
  callback?: WeixinCallbackOptions;
  module?: WeixinMediaModuleOptions;
  /** Extra parts of the app's root module (a global guard, middleware, ...). */
  metadata?: ModuleMetadata;
  configure?: (app: INestApplication) => void | Promise<void>;
  /** Where the app logs (by default nowhere, or the console with WEIXIN_CALLBACK_TEST_LOGS set). */
  logger?: LoggerService;
}

/** A logger that keeps every line, for specs that assert on what was logged. */
export class RecordingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string }> = [];
  log = (message: unknown) => this.keep('log', message);
  error = (message: unknown) => this.keep('error', message);
  warn = (message: unknown) => this.keep('warn', message);
  debug = (message: unknown) => this.keep('debug', message);
  verbose = (message: unknown) => this.keep('verbose', message);

  private keep(level: string, message: unknown): void {
    this.lines.push({ level, message: String(message) });
  }
}

export interface CallbackApp {
  app: INestApplication;
  url: string;
  port: number;
  bot: RecordingBot;
  close(): Promise<void>;
}

/** A real Nest app over a real socket with the callback mounted and `RecordingBot` as its handlers. */
export async function startCallbackApp(
  fake: WeixinEndpoint,
  options: CallbackAppOptions = {},
): Promise<CallbackApp> {
  const moduleRef = await Test.createTestingModule({
    ...options.metadata,
    imports: [
      WeixinMediaModule.forRoot({
        ...optionsFor(fake),
        retry: { attempts: 2, baseDelayMs: 5 },
        callbackToken: CALLBACK_TOKEN,
        ...options.module,
        callback: options.callback ?? {},
      }),
      ...(options.metadata?.imports ?? []),
    ],
    providers: [RecordingBot, ...(options.metadata?.providers ?? [])],
  }).compile();
  const app = moduleRef.createNestApplication(createHttpAdapter(options.adapter), {
    logger:
      options.logger ?? (process.env.WEIXIN_CALLBACK_TEST_LOGS ? ['error', 'warn', 'debug', 'log'] : false),
  });
  await options.configure?.(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, port, bot: app.get(RecordingBot), close: () => app.close() };
}

export interface SignedRequestOptions {
  token?: string;
  encodingAESKey?: string;
  /** The receiveid encrypted into the message. */
  appId: string;
  mode?: 'plain' | 'compat' | 'safe';
  /** Seconds. @default now */
  timestamp?: number;
  /** Replaces the encrypted text (a truncated or otherwise broken ciphertext). */
  encrypt?: (encrypt: string) => string;
  /** Sign this `Encrypt` instead of the one sent. */
  signedEncrypt?: string;
}

/** A callback request built by hand, for the refusals `fake.deliver` would never send. */
export function signedRequest(
  fields: Record<string, CallbackXmlValue>,
  options: SignedRequestOptions,
): { query: string; body: string } {
  const token = options.token ?? CALLBACK_TOKEN;
  const crypto = new WeixinCallbackCrypto({
    token,
    encodingAESKey: options.encodingAESKey,
    receiveId: options.appId,
  });
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = String(randomInt(1e8, 1e9));
  const query = new URLSearchParams({
    signature: crypto.signature(timestamp, nonce),
    timestamp,
    nonce,
    openid: USER,
  });
  const mode = options.mode ?? 'plain';
  if (mode === 'plain') return { query: query.toString(), body: callbackXml(fields) };
  const sealed = crypto.encrypt(callbackXml(fields));
  const encrypt = options.encrypt ? options.encrypt(sealed) : sealed;
  query.set('encrypt_type', 'aes');
  query.set('msg_signature', crypto.msgSignature(timestamp, nonce, options.signedEncrypt ?? encrypt));
  const envelope =
    mode === 'compat' ? { ...fields, Encrypt: encrypt } : { ToUserName: fields.ToUserName, Encrypt: encrypt };
  return { query: query.toString(), body: callbackXml(envelope) };
}

/** A text message from `USER` with a fresh 19-digit MsgId. */
export function textMessage(
  content: string,
  extra: Record<string, CallbackXmlValue> = {},
): Record<string, CallbackXmlValue> {
  return {
    ToUserName: 'gh_0123456789ab',
    FromUserName: USER,
    CreateTime: Math.floor(Date.now() / 1000),
    MsgType: 'text',
    Content: content,
    MsgId: String(BigInt(randomInt(1e9, 2e9)) * 10_000_000_000n + BigInt(randomInt(1e9))),
    ...extra,
  };
}
