export * from './account-resolver-timeout.error';
export * from './media-source.error';
export * from './media-validation.error';
export * from './unknown-account.error';
export * from './weixin-api.error';
export * from './weixin-network.error';
export * from './weixin-download-too-large.error';
export * from './weixin-media.error';
export * from './weixin-media-options.error';
export * from './weixin-store.error';
export {
  WeixinErrorCode,
  WEIXIN_ERROR_CODES,
  isQuotaErrcode,
  isRetryableErrcode,
  isTokenInvalidErrcode,
  type WeixinErrorCodeInfo,
} from './weixin-error-codes';
export { nextQuotaReset } from './weixin-error-hints';
export { redactSecrets } from './secret-redaction';
export * from './media-fit.error';
