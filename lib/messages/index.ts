export { WeixinMessageService, type AccountMessages } from './weixin-message.service';
export { MAX_TEXT_BYTES } from './message-validation';
