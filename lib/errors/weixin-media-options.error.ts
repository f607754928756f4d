import { WeixinMediaError } from './weixin-media.error';

/** The module's options are missing or malformed; thrown at bootstrap with every problem listed. */
export class WeixinMediaOptionsError extends WeixinMediaError {
  override readonly name = 'WeixinMediaOptionsError';
  override readonly code = 'WEIXIN_MEDIA_ERR_OPTIONS';

  constructor(readonly problems: readonly string[]) {
    super(`WeixinMediaModule cannot start:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}
