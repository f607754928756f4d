import type { WeixinReply } from './weixin-reply';

/**
 * Sends a reply that was not ready within `replyWithinMs` as a customer-service message, and the typing
 * state meanwhile: the module's `WeixinMessageService`, or the one given as `callback.replySender` (this class
 * is also the injection token). The reply's media are already uploaded: they arrive as `{ mediaId }` references.
 */
export abstract class CallbackReplySender {
  abstract send(appId: string, openId: string, reply: WeixinReply): Promise<void>;
  abstract typing(appId: string, openId: string, on: boolean): Promise<void>;
}
