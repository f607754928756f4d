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
export { OnWeixinEvent, OnWeixinMessage } from './on-weixin-message.decorator';
export type { WeixinMessageContext } from './weixin-message-handlers';
export {
  WeixinReply,
  type ReplyMedia,
  type ReplyMediaOptions,
  type WeixinReplyContent,
  type WeixinReplyLike,
} from './weixin-reply';
export type { WeixinCallbackOptions } from './weixin-callback.options';
export type { CallbackStore } from './callback-store.interface';
export { InMemoryCallbackStore } from './in-memory-callback.store';
export { RedisCallbackStore, type RedisCallbackStoreOptions } from './redis-callback.store';
export { CallbackReplySender } from './callback-reply-sender';
