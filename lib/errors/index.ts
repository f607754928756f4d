export * from './media-validation.error';
export * from './weixin-api.error';
export * from './weixin-network.error';
export * from './weixin-media-options.error';
export { redactSecrets } from './secret-redaction';
