import { FAKE_VIDEO_PATH } from './fake-media-endpoints';

/** The API paths the fake answers. */
export const FAKE_WEIXIN_PATHS = {
  token: '/cgi-bin/token',
  stableToken: '/cgi-bin/stable_token',
  upload: '/cgi-bin/media/upload',
  download: '/cgi-bin/media/get',
  downloadJssdk: '/cgi-bin/media/get/jssdk',
  quota: '/cgi-bin/openapi/quota/get',
  rid: '/cgi-bin/openapi/rid/get',
  customSend: '/cgi-bin/message/custom/send',
  customTyping: '/cgi-bin/message/custom/typing',
  /** Not Weixin's: where the fake serves the `video_url` it hands out. */
  video: FAKE_VIDEO_PATH,
} as const;
