export { MessagesModule } from './messages.module';
export {
  HELP_TEXT,
  MessageRepliesService,
  REPLY_BUDGET_MS,
  SAMPLE_MEDIA_FILES,
} from './message-replies.service';
export { WEIXIN_CALLBACK_PATH, WeixinCallbackController } from './weixin-callback.controller';
export type { WeixinMessage, WeixinReply } from './weixin-message.interface';
export { buildWeixinReplyXml, parseWeixinMessageXml } from './weixin-message.xml';
export { weixinSignature, WeixinSignatureGuard } from './weixin-signature.guard';
export { MAX_MESSAGE_BYTES } from './xml-body.middleware';
