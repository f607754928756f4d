export { countAttempt, traced } from './weixin-telemetry';
export type { WeixinSpan, WeixinSpanFacts, WeixinSpanName } from './weixin-span.interface';
