import { Inject, Injectable } from '@nestjs/common';
import { boundToAccount } from './accounts/account-bound';
import { WeixinAccounts } from './accounts/weixin-accounts';
import { WeixinApiError } from './errors/weixin-api.error';
import { WeixinErrorCode } from './errors/weixin-error-codes';
import { audioDecodeRequest } from './fit/audio-decode';
import type { MediaFitter } from './fit/media-fitter';
import type { ResolvedWeixinMediaOptions } from './interfaces/resolved-weixin-media-options.interface';
import type { MediaReuse } from './media-cache/media-reuse';
import { asVoiceTooLarge, collectMedia, collectVoice, fetchMedia } from './media-download';
import { MediaUploadPipeline } from './media-upload/media-upload.pipeline';
import { WeixinApiClient } from './weixin-api/weixin-api.client';
import type {
  AudioDownloadOptions,
  DownloadedAudio,
  DownloadedMedia,
  DownloadedMediaStream,
  FitOptions,
  FitSupport,
  FittedMedia,
  MediaInspection,
  MediaSource,
  MediaType,
  TemporaryMedia,
  UploadOptions,
  WeixinQuota,
  WeixinRequestRecord,
} from './interfaces';
import { assertMediaType } from './media-rules';
import { inspectMediaSource } from './media-source/inspect-media-source';
import { traced } from './telemetry';
import { lookupWeixinRequest } from './operations/request-lookup';
import { fetchUploadQuota } from './operations/upload-quota';
import { openMediaSource } from './media-source/open-media-source';
import { WEIXIN_MEDIA_MODULE_OPTIONS } from './weixin-media.constants';

const DOWNLOAD_PATH = '/cgi-bin/media/get';
const HD_VOICE_PATH = '/cgi-bin/media/get/jssdk';

/**
 * The service's whole surface bound to one Official Account (`forAccount(appId)`): the same methods,
 * each running for that account's token and reuse entries.
 */
export type AccountMedia = Omit<TemporaryMediaService, 'forAccount' | 'forgetAccount'>;

/**
 * Uploads and downloads Weixin temporary media. Every upload is checked against Weixin's rules
 * locally first, identical content is answered from the reuse cache, and tokens, retries and
 * multipart encoding are handled here.
 */
@Injectable()
export class TemporaryMediaService {
  protected readonly fitter: MediaFitter;
  protected readonly reuse: MediaReuse;

  constructor(
    @Inject(WEIXIN_MEDIA_MODULE_OPTIONS) protected readonly options: ResolvedWeixinMediaOptions,
    protected readonly weixin: WeixinApiClient,
    protected readonly accounts: WeixinAccounts,
    protected readonly uploads: MediaUploadPipeline,
  ) {
    this.fitter = uploads.fitter;
    this.reuse = uploads.reuse;
  }

  /**
   * This service for another Official Account: every method (uploads, downloads, inspect, and any added
   * later) runs with that account's token, lock and reuse entries. An AppID the module does not know
   * makes the calls reject with `UnknownAccountError`.
   */
  forAccount(appId: string): AccountMedia {
    return boundToAccount(this, this.accounts, appId);
  }

  /** Drops the cached resolution of `appId` (credentials rotated, account removed); asked again next time. */
  async forgetAccount(appId: string): Promise<void> {
    this.accounts.forget(appId);
  }

  uploadImage(source: MediaSource, options?: UploadOptions): Promise<TemporaryMedia> {
    return this.upload('image', source, options);
  }

  uploadVoice(source: MediaSource, options?: UploadOptions): Promise<TemporaryMedia> {
    return this.upload('voice', source, options);
  }

  uploadVideo(source: MediaSource, options?: UploadOptions): Promise<TemporaryMedia> {
    return this.upload('video', source, options);
  }

  uploadThumb(source: MediaSource, options?: UploadOptions): Promise<TemporaryMedia> {
    return this.upload('thumb', source, options);
  }

  /**
   * Checks `source` against the rules of `type`, then uploads it (or answers the reused media_id). With
   * `fit`, a source that does not pass is converted locally first (see `fit`). Concurrent uploads of the
   * same content share one upload (see `MediaUploadPipeline`).
   */
  upload(type: MediaType, source: MediaSource, options: UploadOptions = {}): Promise<TemporaryMedia> {
    return this.uploads.upload(type, source, options);
  }

  /** Forgets `mediaId` in this account's reuse entries (Weixin answered 40007 for it): its content uploads anew. */
  async forgetMediaId(mediaId: string): Promise<void> {
    await this.reuse.forgetMediaId(mediaId, this.accounts.currentAppId());
  }

  /** Applies Weixin's rules for `type` to `source` locally; no network call. */
  inspect(type: MediaType, source: MediaSource): Promise<MediaInspection> {
    assertMediaType(type);
    return inspectMediaSource(type, source, this.uploads.readingOptions(type, false));
  }

  /**
   * Makes `source` pass Weixin's rules for `type` locally (no call to Weixin): a source that passes is
   * answered byte for byte (`converted: false`); others are converted (images with sharp, voice and video
   * with ffmpeg) and checked by the same rules. Throws `MediaFitError` when this machine cannot convert it.
   */
  async fit(
    type: MediaType,
    source: MediaSource,
    options: FitOptions & { signal?: AbortSignal } = {},
  ): Promise<FittedMedia> {
    assertMediaType(type);
    const media = await openMediaSource(
      source,
      type,
      this.uploads.readingOptions(type, true, options.signal),
    );
    try {
      const { sourceDurationMs: _before, ...fitted } = await this.uploads.fitInSpan(
        type,
        { content: media.content, path: media.path },
        { trim: options.trim, signal: options.signal },
      );
      return fitted;
    } finally {
      await media.close();
    }
  }

  /** Which conversions `fit` can do on this machine, the engines found, and what to install for the rest. */
  fitSupport(): Promise<FitSupport> {
    return this.fitter.support();
  }

  /** Downloads a media item whole: bytes for images, voice and thumbs; the URL for a video. */
  async download(mediaId: string, signal?: AbortSignal): Promise<DownloadedMedia> {
    return collectMedia(await this.fetchMedia(DOWNLOAD_PATH, mediaId, signal));
  }

  /** Downloads a media item as a stream, for large files or piping to a response. */
  downloadStream(mediaId: string, signal?: AbortSignal): Promise<DownloadedMediaStream> {
    return this.fetchMedia(DOWNLOAD_PATH, mediaId, signal);
  }

  /** Downloads voice recorded by the JS-SDK in high definition (16 kHz speex). */
  async downloadHdVoice(mediaId: string, signal?: AbortSignal): Promise<DownloadedMedia> {
    return collectMedia(await this.fetchMedia(HD_VOICE_PATH, mediaId, signal));
  }

  /**
   * Downloads voice decoded for speech recognition: mono 16-bit WAV at 16 kHz unless `format` and
   * `sampleRate` say otherwise; with `hd`, the JS-SDK's Speex from media/get/jssdk. ffmpeg decodes it as
   * `fit` runs it (its time limit, concurrency and safety); `MediaFitError` when it cannot.
   */
  async downloadAudio(mediaId: string, options: AudioDownloadOptions = {}): Promise<DownloadedAudio> {
    const request = audioDecodeRequest(options);
    const path = request.hd ? HD_VOICE_PATH : DOWNLOAD_PATH;
    const decoded = await this.fitter.decodeAudio(request, async (maxBytes) =>
      collectVoice(
        await this.fetchMedia(path, mediaId, request.signal).catch(asVoiceTooLarge(mediaId, maxBytes)),
        maxBytes,
      ),
    );
    return { mediaId, ...decoded };
  }

  /**
   * Today's quota of `/cgi-bin/media/upload` (45009 stops every upload once `remain` is 0, until midnight
   * Beijing time): for a dashboard, a scheduled check or a health endpoint.
   */
  quota(signal?: AbortSignal): Promise<WeixinQuota> {
    return fetchUploadQuota(this.weixin, signal);
  }

  /**
   * What Weixin recorded of a failed call, by the rid in its errmsg (`WeixinApiError.rid`, kept 7 days):
   * the request's query and body, the answer, the caller IP. Tokens and secrets in it are redacted.
   */
  lookupRequest(rid: string, signal?: AbortSignal): Promise<WeixinRequestRecord> {
    return lookupWeixinRequest(this.weixin, rid, [this.options.appSecret], signal);
  }

  protected fetchMedia(path: string, mediaId: string, signal?: AbortSignal): Promise<DownloadedMediaStream> {
    return traced('weixin.media.download', {}, async (span) => {
      span.set({ appId: this.accounts.currentAppId() });
      const media = await this.fetchMediaInSpan(path, mediaId, signal);
      span.set(media.kind === 'file' ? { bytes: media.contentLength, outcome: 'ok' } : { type: 'video' });
      return media;
    });
  }

  /** A media_id Weixin no longer knows (40007) is dropped from this account's reuse entries. */
  protected async fetchMediaInSpan(
    path: string,
    mediaId: string,
    signal?: AbortSignal,
  ): Promise<DownloadedMediaStream> {
    try {
      return await fetchMedia(this.weixin, path, mediaId, this.options.timeoutMs, signal);
    } catch (error) {
      if (error instanceof WeixinApiError && error.errcode === WeixinErrorCode.INVALID_MEDIA_ID) {
        await this.reuse.forgetMediaId(mediaId, this.accounts.currentAppId());
      }
      throw error;
    }
  }
}
