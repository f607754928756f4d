import { WeixinMessageService } from '../../lib';
import { FAKE_WEIXIN_PATHS, type FakeWeixinServer } from '../../lib/testing';
import type { MediaTestContext } from './testing-module';

export const SEND = FAKE_WEIXIN_PATHS.customSend;
export const TYPING = FAKE_WEIXIN_PATHS.customTyping;
export const UPLOAD = FAKE_WEIXIN_PATHS.upload;

/** The module's message service. */
export function messagesOf(context: MediaTestContext): WeixinMessageService {
  return context.moduleRef.get(WeixinMessageService);
}

/** Makes `openId` a follower of `appId` (default: the fake's first account) who wrote `agoMs` ago on the fake clock. */
export function follow(fake: FakeWeixinServer, openId: string, agoMs = 0, appId?: string): void {
  fake.addFollower(openId, { appId, lastMessageAt: new Date(fake.now() - agoMs) });
}
