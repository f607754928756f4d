import { Module } from '@nestjs/common';
import { WeixinBot } from './weixin-bot';

/**
 * The Official Account's answers to messages: `WeixinBot`'s `@OnWeixinMessage` handlers. The callback route
 * itself (signatures, decryption, replies) is `WeixinMediaModule`'s `callback` (see app.module.ts); the bot
 * needs `TemporaryMediaService` (a global `WeixinMediaModule`).
 */
@Module({ providers: [WeixinBot] })
export class MessagesModule {}
