export { WeixinMediaHealthIndicator } from './weixin-media.health-indicator';
export type {
  WeixinMediaHealthDetails,
  WeixinMediaHealthOptions,
  WeixinMediaHealthResult,
} from './weixin-media-health.options';
