export { MessagesModule } from './messages.module';
export {
  HELP_TEXT,
  REPLY_BUDGET_MS,
  SAMPLE_MEDIA_FILES,
  WEIXIN_CALLBACK_PATH,
  WeixinBot,
} from './weixin-bot';
