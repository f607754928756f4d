export { CallbackRefusedError, type CallbackRefusalReason } from '../errors/callback-refused.error';
export type {
  WeixinEvent,
  WeixinImageMessage,
  WeixinLinkMessage,
  WeixinLocationMessage,
  WeixinMessage,
  WeixinMessageBase,
  WeixinMessageMode,
  WeixinShortVideoMessage,
  WeixinTextMessage,
  WeixinVideoMessage,
  WeixinVoiceMessage,
} from './weixin-message.interface';
