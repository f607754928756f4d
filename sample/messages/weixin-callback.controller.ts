import { Body, Controller, Get, Header, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import { MessageRepliesService } from './message-replies.service';
import { ParseWeixinMessagePipe } from './parse-weixin-message.pipe';
import type { WeixinMessage } from './weixin-message.interface';
import { buildWeixinReplyXml } from './weixin-message.xml';
import { WeixinSignatureGuard } from './weixin-signature.guard';

/** The URL to enter in the Official Account's server settings (服务器配置). */
export const WEIXIN_CALLBACK_PATH = 'weixin/callback';

/** Weixin's message callback, plain mode: every request must carry a valid signature. */
@Controller(WEIXIN_CALLBACK_PATH)
@UseGuards(WeixinSignatureGuard)
export class WeixinCallbackController {
  constructor(protected readonly replies: MessageRepliesService) {}

  /** Weixin's check when the URL is saved: a correctly signed request gets its `echostr` back. */
  @Get()
  @Header('Content-Type', 'text/plain; charset=utf-8')
  verify(@Query('echostr') echostr: unknown): string {
    return typeof echostr === 'string' ? echostr : '';
  }

  /** A user's message or an event: answered with a passive XML reply. */
  @Post()
  @HttpCode(200)
  @Header('Content-Type', 'application/xml; charset=utf-8')
  async receive(@Body(ParseWeixinMessagePipe) message: WeixinMessage): Promise<string> {
    return buildWeixinReplyXml(message, await this.replies.replyTo(message));
  }
}
