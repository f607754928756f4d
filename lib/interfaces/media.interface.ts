import type { Readable } from 'node:stream';
import type { FitOptions, FittedSummary, UploadProgress } from './fit.interface';

/** The four kinds of temporary media Weixin accepts. */
export type MediaType = 'image' | 'voice' | 'video' | 'thumb';

/** A container format the rules recognise and Weixin accepts for at least one type. */
export type MediaFormat = 'png' | 'jpeg' | 'gif' | 'amr' | 'mp3' | 'mp4';

/** A file on disk, with an optional name and content type to send it under. */
export interface MediaFileReference {
  path: string;
  filename?: string;
  contentType?: string;
}

/** An in-memory file; an `Express.Multer.File` from memory storage fits this shape. */
export interface MediaBufferReference {
  buffer: Buffer;
  originalname?: string;
  mimetype?: string;
}

/** A file on the web, fetched with the type's size limit; its name and content type are only hints. */
export interface MediaUrlReference {
  url: string;
}

/** Anything an upload can read from. */
export type MediaSource =
  | Buffer
  | Uint8Array
  | string
  | NodeJS.ReadableStream
  | Readable
  | MediaFileReference
  | MediaBufferReference
  | URL
  | MediaUrlReference;

export interface UploadOptions {
  /** The name to send the file under; its extension is corrected to match the content. */
  filename?: string;
  /**
   * Answer the cached media_id when identical content of the same type was uploaded before.
   * @default true
   */
  reuse?: boolean;
  /** Aborts the upload (including retries, waiting for a token and a conversion in progress). */
  signal?: AbortSignal;
  /**
   * Convert the source locally when it does not pass Weixin's rules as it is (`true`, or `{ trim }`).
   * A source that passes is sent unchanged.
   * @default false
   */
  fit?: boolean | FitOptions;
  /** Called as the conversion and the upload progress, at most a few times a second. */
  onProgress?: (progress: UploadProgress) => void;
}

/** A temporary media item on Weixin's side; valid for 3 days from `createdAt`. */
export interface TemporaryMedia {
  type: MediaType;
  mediaId: string;
  createdAt: Date;
  expiresAt: Date;
  /** True when the media_id came from the reuse cache without a network call. */
  reused: boolean;
  /** What `fit` changed: set when the source was converted (also when that conversion's media_id was reused). */
  fitted?: FittedSummary;
}

export type DownloadedMedia =
  | { kind: 'file'; mediaId: string; contentType: string; filename: string; data: Buffer }
  | { kind: 'video'; mediaId: string; videoUrl: string };

export type DownloadedMediaStream =
  | {
      kind: 'file';
      mediaId: string;
      contentType: string;
      filename: string;
      contentLength?: number;
      stream: Readable;
    }
  | { kind: 'video'; mediaId: string; videoUrl: string };

/** What the local rules found out about a file. */
export interface MediaInspection {
  type: MediaType;
  format: MediaFormat;
  bytes: number;
  /** Playing time, for voice. */
  durationMs?: number;
}
