import type { FittedSummary } from '../interfaces/fit.interface';
import type { MediaType } from '../interfaces/media.interface';

/** The upload controller's 201 answer: Weixin's own upload answer, plus when the media_id expires. */
export interface UploadedMediaResponse {
  type: MediaType;
  media_id: string;
  /** Seconds since the epoch, as Weixin answers it. */
  created_at: number;
  /** Seconds since the epoch: `created_at` + 3 days. */
  expires_at: number;
  /** With `controller.fit`: what the conversion changed (absent when the file passed as it was). */
  fitted?: FittedSummary;
}

/** The download route's answer for a video: Weixin hands out a URL instead of the bytes. */
export interface VideoUrlResponse {
  video_url: string;
}
