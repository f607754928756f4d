import type { MediaType } from '../interfaces/media.interface';
import { WeixinMediaError } from './weixin-media.error';

/**
 * - `engine-missing`: the engine for this conversion (sharp, ffmpeg, or an ffmpeg encoder) is not installed
 * - `input-too-large`: the source is over `fit.maxInputBytes` (or its image over `fit.maxInputPixels`), or
 *   voice `downloadAudio` reads is over 2 MB or plays over 61 s (Weixin keeps no such voice)
 * - `unsupported-input`: no engine on this machine decodes the source
 * - `timeout`: the conversion ran longer than `fit.timeoutMs` and was stopped
 * - `failed`: the engine failed on the source (damaged or hostile input)
 */
export type MediaFitReason =
  'engine-missing' | 'input-too-large' | 'unsupported-input' | 'timeout' | 'failed';

export interface MediaFitDetails {
  type?: MediaType;
  /** The bound that was hit: bytes, pixels or milliseconds. */
  limit?: number;
  actual?: number;
}

/** A source could not be converted to pass Weixin's rules on this machine. */
export class MediaFitError extends WeixinMediaError {
  override readonly name = 'MediaFitError';
  override readonly code = 'WEIXIN_MEDIA_ERR_FIT';
  readonly type?: MediaType;
  readonly limit?: number;
  readonly actual?: number;

  constructor(
    readonly reason: MediaFitReason,
    message: string,
    details: MediaFitDetails = {},
  ) {
    super(message);
    this.type = details.type;
    this.limit = details.limit;
    this.actual = details.actual;
  }

  toJSON(): Record<string, unknown> {
    const { name, code, reason, type, limit, actual, message } = this;
    return { name, code, reason, type, limit, actual, message };
  }
}
