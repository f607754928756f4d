import type { FitOptions, UploadProgress } from './fit.interface';
import type { MediaSource, TemporaryMedia } from './media.interface';

/** A media_id you already hold (temporary or permanent): sent as given, never uploaded. */
export interface MediaRef {
  mediaId: string;
}

/** The customer-service message types `WeixinMessageService` sends. */
export type CustomMessageType = 'text' | 'image' | 'voice' | 'video' | 'music';

export interface VideoMessage {
  video: MediaSource | MediaRef;
  /**
   * The cover. Without one, a frame near 1 s of the video is made into a thumb when ffmpeg is installed;
   * otherwise (and for a video given as a `MediaRef`) the message goes without `thumb_media_id`.
   */
  thumb?: MediaSource | MediaRef;
  title?: string;
  description?: string;
}

export interface MusicMessage {
  /** The http(s) URL the music plays from. */
  musicUrl: string;
  /** The high-quality URL Wi-Fi plays from. @default musicUrl */
  hqMusicUrl?: string;
  /** The cover: Weixin needs one. */
  thumb: MediaSource | MediaRef;
  title?: string;
  description?: string;
}

/** Any message `WeixinMessageService.send` takes: the msgtype and that type's fields. */
export type CustomMessage =
  | { msgtype: 'text'; content: string }
  | { msgtype: 'image'; image: MediaSource | MediaRef }
  | { msgtype: 'voice'; voice: MediaSource | MediaRef }
  | ({ msgtype: 'video' } & VideoMessage)
  | ({ msgtype: 'music' } & MusicMessage);

export interface SendOptions {
  /** Aborts the send (the uploads it needs, and the request until it is written). */
  signal?: AbortSignal;
  /** The customer-service account to send as (`customservice.kf_account`, e.g. `kf2001@gh_xxx`). */
  kfAccount?: string;
}

export interface SendMediaOptions extends SendOptions {
  /** Convert sources that do not pass Weixin's rules (the thumb too), as `upload` does. @default false */
  fit?: boolean | FitOptions;
  /** Answer the media_id of identical content uploaded before, as `upload` does. @default true */
  reuse?: boolean;
  /** The name to upload the main media under. */
  filename?: string;
  /** Progress of the main media's conversion and upload. */
  onProgress?: (progress: UploadProgress) => void;
}

/** A message Weixin accepted for the user. */
export interface SentMessage {
  openId: string;
  msgtype: CustomMessageType;
  /** The uploaded (or reused) main media; unset for text, music and a `MediaRef`. */
  media?: TemporaryMedia;
  /** The uploaded (or reused) thumb of a video or music message. */
  thumb?: TemporaryMedia;
  /**
   * True when Weixin refused a media_id the reuse cache supplied (40007) and the message went after those
   * sources were uploaded again.
   */
  reuploaded: boolean;
}
