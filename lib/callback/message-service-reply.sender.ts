import { Inject, Injectable } from '@nestjs/common';
import { WeixinMessageService } from '../messages/weixin-message.service';
import { CallbackReplySender } from './callback-reply-sender';
import type { WeixinReply } from './weixin-reply';

/** The module's own sender of late replies: `WeixinMessageService` (customer-service messages, typing). */
@Injectable()
export class MessageServiceReplySender extends CallbackReplySender {
  constructor(@Inject(WeixinMessageService) protected readonly messages: WeixinMessageService) {
    super();
  }

  async send(appId: string, openId: string, reply: WeixinReply): Promise<void> {
    const account = this.messages.forAccount(appId);
    const content = reply.content;
    switch (content.kind) {
      case 'text':
        await account.sendText(openId, content.content);
        return;
      case 'image':
        await account.sendImage(openId, content.media, content.options);
        return;
      case 'voice':
        await account.sendVoice(openId, content.media, content.options);
        return;
      case 'video':
        await account.sendVideo(openId, content.video, content.options);
        return;
      case 'music':
        await account.sendMusic(openId, content.music, content.options);
        return;
    }
  }

  async typing(appId: string, openId: string, on: boolean): Promise<void> {
    await this.messages.forAccount(appId).typing(openId, on);
  }
}
