export { FakeWeixinServer } from './fake-weixin-server';
export { FAKE_WEIXIN_PATHS } from './fake-weixin-paths';
export type { FakeWeixinServerOptions } from './fake-weixin-server-options.interface';
export type { FakeFault } from './fake-fault.interface';
export type { FakeWeixinRequest } from './fake-weixin-request.interface';
export type { FakeMedia } from './fake-media-store';
export type { FakeMediaType } from './fake-media-format';
export type { FakeQuota } from './fake-quota';
export type { FakeRidRecord } from './fake-rid-log';
export type {
  FakeDeliverOptions,
  FakeDelivery,
  FakeDeliveryReply,
  FakeInboundMessage,
} from './fake-callback-delivery';
export type { FakeFollower } from './fake-followers';
export type { FakeSentMessage } from './fake-message-endpoints';
