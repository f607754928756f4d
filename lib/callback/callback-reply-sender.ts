import type { WeixinReply } from './weixin-reply';

/**
 * Sends a reply that was not ready within `replyWithinMs` as a customer-service message, and the typing
 * state meanwhile. The module uses the one given as `callback.replySender` (also its injection token).
 * The reply's media are already uploaded: they arrive as `{ mediaId }` references.
 */
export abstract class CallbackReplySender {
  abstract send(appId: string, openId: string, reply: WeixinReply): Promise<void>;
  abstract typing(appId: string, openId: string, on: boolean): Promise<void>;
}
