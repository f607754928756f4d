import type { MediaFormat, MediaInspection } from './media.interface';

/** How `fit` treats media that cannot pass as it is. */
export interface FitOptions {
  /**
   * Voice over Weixin's 60 s limit is cut to the limit instead of refused.
   * @default false
   */
  trim?: boolean;
}

/** Media made to pass Weixin's rules (or found to pass already), with its bytes. */
export interface FittedMedia extends MediaInspection {
  /** The bytes to send: the source itself when `converted` is false. */
  data: Buffer;
  /** False when the source already passed the rules: `data` is the source, byte for byte. */
  converted: boolean;
  /** The format detected in the source: 'wav', 'webp', 'mov', 'png', ... */
  from: string;
}

/** What changed when an upload was fitted; set on `TemporaryMedia` only when the source was converted. */
export interface FittedSummary {
  /** The detected source format ('wav', 'webp', 'mov', ...). */
  from: string;
  /** The format sent to Weixin. */
  to: MediaFormat;
  bytesBefore: number;
  bytesAfter: number;
  /** Playing time of the source and of the result, for voice and video. */
  durationMsBefore?: number;
  durationMsAfter?: number;
}

/** Progress of an upload: the conversion (seconds of media converted), then the upload (bytes sent). */
export interface UploadProgress {
  phase: 'fit' | 'upload';
  done: number;
  total: number;
}

/** Which conversions this machine can do, with the engines found and what to install for the rest. */
export interface FitSupport {
  image: boolean;
  thumb: boolean;
  voice: boolean;
  video: boolean;
  /** The versions or paths of the engines found. */
  engines: { sharp?: string; ffmpeg?: string };
  /** What to install for each conversion that is false. */
  missing: string[];
}

/** The module option `fit`: engines and limits of local conversions. */
export interface WeixinMediaFitOptions {
  /**
   * The ffmpeg executable. When given it must run: it is never silently replaced by another ffmpeg.
   * @default `FFMPEG_PATH`, then `ffmpeg` on PATH, then the optional peer `@ffmpeg-installer/ffmpeg`
   */
  ffmpegPath?: string;
  /**
   * How many conversions run at once; the others wait their turn.
   * @default os.availableParallelism()
   */
  concurrency?: number;
  /**
   * The longest one conversion may take, in milliseconds; its engine is then stopped.
   * @default 120000
   */
  timeoutMs?: number;
  /**
   * The largest source a conversion reads, in bytes; larger sources are refused before they are read whole.
   * @default 209715200 (200 MB)
   */
  maxInputBytes?: number;
  /**
   * The most pixels an image source may have (width × height), against decompression bombs.
   * @default 100000000 (100 megapixels)
   */
  maxInputPixels?: number;
}
