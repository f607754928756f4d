import 'reflect-metadata';
import { type INestApplication, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OnWeixinMessage, WeixinMediaModule, WeixinReply, type WeixinTextMessage } from '../lib';
import { requirePeer } from './bench-peers';
import { echo, OUR_PATH, SETTINGS, WECHAT_PATH } from './callback-messages';

@Injectable()
class EchoBot {
  @OnWeixinMessage('text')
  onText(message: WeixinTextMessage): WeixinReply {
    return WeixinReply.text(echo(message.Content));
  }
}

/** The app of the benchmark: the library's callback (safe mode) answering text with its echo. */
@Module({
  imports: [
    WeixinMediaModule.forRoot({
      appId: SETTINGS.appId,
      appSecret: 'bench-secret-0123456789',
      // A text reply calls no Weixin API.
      apiBaseUrl: 'http://127.0.0.1:9',
      callbackToken: SETTINGS.token,
      encodingAESKey: SETTINGS.encodingAESKey,
      mediaCache: false,
      callback: { path: OUR_PATH.slice(1) },
    }),
  ],
  providers: [EchoBot],
})
export class CallbackBenchModule {}

type WechatResponse = ServerResponse & { reply(content: string): void };
type WechatHandler = (message: { Content: string }, req: IncomingMessage, res: WechatResponse) => void;
interface Wechat {
  (
    config: object,
    handler: unknown,
  ): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;
  text(handler: WechatHandler): unknown;
}

/** `wechat` (node-webot) as its README mounts it, with the same settings and the same bot. */
export function wechatMiddleware(): ReturnType<Wechat> {
  const wechat = requirePeer<Wechat>('wechat');
  const config = { token: SETTINGS.token, appid: SETTINGS.appId, encodingAESKey: SETTINGS.encodingAESKey };
  return wechat(
    config,
    wechat.text((message, _req, res) => res.reply(echo(message.Content))),
  );
}

/** One Express app (Nest's adapter) with both callbacks: the library's route and `wechat` beside it. */
export async function createCallbackBenchApp(): Promise<INestApplication> {
  const app = await NestFactory.create(CallbackBenchModule, new ExpressAdapter(), { logger: false });
  app.use(WECHAT_PATH, wechatMiddleware());
  return app;
}

/**
 * The server process: listens on a free port (sent over IPC), answers `'cpu'` with its `process.cpuUsage()`
 * (so the figures are the server's own CPU), and ends when the parent goes.
 */
async function serve(): Promise<void> {
  const app = await createCallbackBenchApp();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  process.on('message', (command) => {
    if (command === 'cpu') process.send!(process.cpuUsage());
  });
  // A normal exit, so that --cpu-prof writes its profile.
  process.on('disconnect', () => void app.close().then(() => process.exit(0)));
  process.send!(port);
}

if (require.main === module) void serve();
