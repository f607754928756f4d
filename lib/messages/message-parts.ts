import type {
  MediaRef,
  MediaSource,
  MediaType,
  SendMediaOptions,
  TemporaryMedia,
  UploadOptions,
} from '../interfaces';
import { openMediaSource, type OpenedMedia, type OpenMediaOptions } from '../media-source/open-media-source';
import type { MediaUploadPipeline } from '../media-upload/media-upload.pipeline';
import type { TemporaryMediaService } from '../temporary-media.service';
import { isMediaRef } from './message-validation';
import { videoThumb } from './video-thumb';

/** A media_id a message carries: the caller's own, or one an upload of a source answered. */
export interface MessagePart {
  mediaId: string;
  /** The upload (or reuse) that answered `mediaId`; unset for the caller's `MediaRef`. */
  media?: TemporaryMedia;
}

/**
 * The media of one message: sources uploaded through the service (the rules, `fit`, reuse, progress), the
 * caller's `MediaRef`s as given, and what is needed to upload a source again when Weixin refuses a media_id
 * the reuse cache supplied. A stream or URL is read once, into a temp file kept until the send ends, so it
 * can be uploaded again and a video's thumb taken from it.
 */
export class MessageParts {
  protected readonly opened: OpenedMedia[] = [];
  /** Each stream or URL source, as the temp file it was read into. */
  protected readonly readAgain = new Map<MediaSource, MediaSource>();
  /** The parts answered from the reuse cache, with how to upload each again. */
  protected readonly reusedParts: Array<{ part: MessagePart; again: () => Promise<TemporaryMedia> }> = [];

  constructor(
    protected readonly media: TemporaryMediaService,
    protected readonly uploads: MediaUploadPipeline,
    protected readonly options: SendMediaOptions,
  ) {}

  /** Uploads `value` as `type` (the main media: with the caller's filename and progress), or takes the MediaRef. */
  async part(type: MediaType, value: MediaSource | MediaRef, main: boolean): Promise<MessagePart> {
    if (isMediaRef(value)) return { mediaId: value.mediaId };
    return this.upload(type, await this.readable(type, value), main);
  }

  /**
   * A thumb made from the video source (a frame near 1 s, a JPEG within 64 KB) and uploaded; undefined for a
   * `MediaRef`, without ffmpeg, or when ffmpeg cannot take a frame of it (`onFailure` hears why).
   */
  async videoThumb(
    video: MediaSource | MediaRef,
    onFailure: (error: unknown) => void,
  ): Promise<MessagePart | undefined> {
    if (isMediaRef(video)) return undefined;
    const { signal } = this.options;
    let frame: Buffer | undefined;
    const opened = await openMediaSource(
      await this.readable('video', video),
      'video',
      this.openOptions('video'),
    );
    try {
      frame = await videoThumb(this.uploads.fitter, { content: opened.content, path: opened.path }, signal);
    } catch (error) {
      signal?.throwIfAborted();
      onFailure(error);
      return undefined;
    } finally {
      await opened.close();
    }
    return frame && this.upload('thumb', frame, false);
  }

  /** Whether a media_id of this message came from the reuse cache (then a 40007 may be healed). */
  get anyReused(): boolean {
    return this.reusedParts.length > 0;
  }

  /** Drops the reused media_ids from the cache and uploads their sources again; the parts take the new ids. */
  async uploadReusedAgain(): Promise<void> {
    for (const { part, again } of this.reusedParts.splice(0)) {
      await this.media.forgetMediaId(part.mediaId);
      part.media = await again();
      part.mediaId = part.media.mediaId;
    }
  }

  /** Removes the temp files of streams and URLs read for this message. */
  async close(): Promise<void> {
    for (const opened of this.opened.splice(0)) await opened.close();
  }

  protected async upload(type: MediaType, source: MediaSource, main: boolean): Promise<MessagePart> {
    const { fit, reuse, filename, onProgress, signal } = this.options;
    const options: UploadOptions = { fit, reuse, signal, ...(main ? { filename, onProgress } : {}) };
    const media = await this.media.upload(type, source, options);
    const part: MessagePart = { mediaId: media.mediaId, media };
    if (media.reused) this.reusedParts.push({ part, again: () => this.media.upload(type, source, options) });
    return part;
  }

  /** The source as one that can be read again: a stream or URL is read once into a temp file. */
  protected async readable(type: MediaType, source: MediaSource): Promise<MediaSource> {
    if (!readsOnce(source)) return source;
    const known = this.readAgain.get(source);
    if (known) return known;
    const opened = await openMediaSource(source, type, this.openOptions(type));
    this.opened.push(opened);
    const file = { path: opened.path!, filename: opened.name, contentType: opened.declaredType };
    this.readAgain.set(source, file);
    return file;
  }

  /** The limits an upload reads a source within: the type's, or `fit.maxInputBytes` when it may be converted. */
  protected openOptions(type: MediaType): OpenMediaOptions {
    const { signal, fit } = this.options;
    return this.uploads.readingOptions(type, fit !== undefined && fit !== false, signal);
  }
}

/** Streams and URLs: sources that cannot be read a second time (a URL's answer may change, and costs a fetch). */
function readsOnce(source: MediaSource): boolean {
  if (typeof source === 'string' || source instanceof Uint8Array) return false;
  if (typeof (source as { pipe?: unknown }).pipe === 'function') return true;
  return !('buffer' in source) && !(typeof (source as { path?: unknown }).path === 'string');
}
