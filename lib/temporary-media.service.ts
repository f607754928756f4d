import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { WeixinAccounts } from './accounts/weixin-accounts';
import { MediaFitError } from './errors/media-fit.error';
import { WeixinApiError } from './errors/weixin-api.error';
import { WeixinErrorCode } from './errors/weixin-error-codes';
import { audioDecodeRequest } from './fit/audio-decode';
import { MediaFitter } from './fit/media-fitter';
import type { ResolvedWeixinMediaOptions } from './interfaces/resolved-weixin-media-options.interface';
import { MediaReuse } from './media-cache/media-reuse';
import { asVoiceTooLarge, collectMedia, collectVoice, fetchMedia } from './media-download';
import { hashesWhileSending, uploadMedia, uploadWhileHashing } from './media-upload';
import { WeixinApiClient } from './weixin-api/weixin-api.client';
import type {
  AudioDownloadOptions,
  DownloadedAudio,
  DownloadedMedia,
  DownloadedMediaStream,
  FitOptions,
  FitSupport,
  FittedMedia,
  FittedSummary,
  MediaCache,
  MediaInspection,
  MediaSource,
  MediaType,
  TemporaryMedia,
  UploadOptions,
  WeixinQuota,
  WeixinRequestRecord,
} from './interfaces';
import { assertMediaType, formatBytes, inspectMediaContent, isMediaType } from './media-rules';
import { inspectMediaSource } from './media-source/inspect-media-source';
import { traced, type WeixinSpan } from './telemetry';
import { lookupWeixinRequest } from './operations/request-lookup';
import { fetchUploadQuota } from './operations/upload-quota';
import { FileDigestMemo } from './media-source/file-digest-memo';
import { openMediaSource, type OpenedMedia, type OpenMediaOptions } from './media-source/open-media-source';
import { WholeFileReads } from './media-source/whole-file-reads';
import { throttledProgress } from './media-source/upload-progress';
import {
  WEIXIN_MEDIA_CACHE,
  WEIXIN_MEDIA_MODULE_OPTIONS,
  WEIXIN_MEDIA_FITTER,
} from './weixin-media.constants';

const DOWNLOAD_PATH = '/cgi-bin/media/get';
const HD_VOICE_PATH = '/cgi-bin/media/get/jssdk';
/** Part of the reuse key of fitted uploads: a change in how fit converts must not answer older results. */
const FIT_RECIPE = 'fit1';

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
  protected readonly logger = new Logger(TemporaryMediaService.name);
  protected readonly fitter: MediaFitter;
  protected readonly reuse: MediaReuse;
  /** This module's budget of files read whole, and the digests of files it read: no state shared by the process. */
  protected readonly wholeFileReads = new WholeFileReads();
  protected readonly fileDigests = new FileDigestMemo();

  constructor(
    @Inject(WEIXIN_MEDIA_MODULE_OPTIONS) protected readonly options: ResolvedWeixinMediaOptions,
    protected readonly http: WeixinApiClient,
    protected readonly accounts: WeixinAccounts,
    @Optional() @Inject(WEIXIN_MEDIA_CACHE) protected readonly cache: MediaCache | null = null,
    @Optional() @Inject(WEIXIN_MEDIA_FITTER) fitter: MediaFitter | null = null,
  ) {
    this.fitter = fitter ?? new MediaFitter(options.fit);
    this.reuse = new MediaReuse(cache, (message) => this.logger.warn(message));
  }

  /**
   * This service for another Official Account: every method (uploads, downloads, inspect, and any added
   * later) runs with that account's token, lock and reuse entries. An AppID the module does not know
   * makes the calls reject with `UnknownAccountError`.
   */
  forAccount(appId: string): AccountMedia {
    const accounts = this.accounts;
    return new Proxy(this, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function' || key === 'constructor') return value;
        // The service's own method, on the service itself, inside the account's context.
        return (...args: unknown[]) =>
          accounts.run(appId, () => (value as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
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
   * Checks `source` against the rules of `type`, then uploads it (or answers the reused media_id).
   * With `fit`, a source that does not pass is converted locally first (see `fit`).
   */
  upload(type: MediaType, source: MediaSource, options: UploadOptions = {}): Promise<TemporaryMedia> {
    const facts = isMediaType(type) ? { type } : {};
    return traced('weixin.media.upload', facts, (span) => this.uploadInSpan(type, source, options, span));
  }

  protected async uploadInSpan(
    type: MediaType,
    source: MediaSource,
    options: UploadOptions,
    span: WeixinSpan,
  ): Promise<TemporaryMedia> {
    assertMediaType(type);
    const fitting = options.fit !== undefined && options.fit !== false;
    // An unknown account fails before the source is read.
    const { appId } = await this.accounts.current(options.signal);
    span.set({ appId });
    const media = await openMediaSource(source, type, this.openOptions(type, fitting, options.signal));
    try {
      if (fitting) {
        const result = await this.uploadFitted(appId, type, media, options);
        span.set({
          reused: result.reused,
          fitted: result.fitted !== undefined,
          outcome: result.reused ? 'reused' : 'uploaded',
          ...(result.fitted ? { bytes: result.fitted.bytesAfter } : {}),
        });
        return result;
      }
      const inspection = await inspectMediaContent(type, media.content);
      span.set({ bytes: inspection.bytes });
      if (this.cache && hashesWhileSending(media, inspection, options)) {
        const result = await uploadWhileHashing(this.http, this.reuse, appId, media, inspection, options);
        span.set({ reused: result.reused, outcome: result.reused ? 'reused' : 'uploaded' });
        return result;
      }
      const reuseKey = await this.reuse.keyFor(appId, type, media, options.reuse);
      const reused = await this.reuse.lookup(reuseKey, type);
      if (reused) {
        span.set({ reused: true, outcome: 'reused' });
        return reused;
      }
      const uploaded = await this.send(media, inspection, options);
      span.set({ reused: false, fitted: false, outcome: 'uploaded' });
      await this.reuse.remember(reuseKey, uploaded);
      return uploaded;
    } finally {
      await media.close();
    }
  }

  /** Forgets `mediaId` in this account's reuse entries (Weixin answered 40007 for it): its content uploads anew. */
  async forgetMediaId(mediaId: string): Promise<void> {
    await this.reuse.forgetMediaId(mediaId, this.accounts.currentAppId());
  }

  /** Applies Weixin's rules for `type` to `source` locally; no network call. */
  inspect(type: MediaType, source: MediaSource): Promise<MediaInspection> {
    assertMediaType(type);
    return inspectMediaSource(type, source, this.openOptions(type, false));
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
    const media = await openMediaSource(source, type, this.openOptions(type, true, options.signal));
    try {
      const { sourceDurationMs: _before, ...fitted } = await this.fitTraced(
        type,
        { content: media.content, path: media.path },
        { trim: options.trim, signal: options.signal },
      );
      return fitted;
    } finally {
      await media.close();
    }
  }

  /** The fit engine's run, in its own span (`weixin.media.fit`): what it made, never what it read. */
  protected fitTraced(...args: Parameters<MediaFitter['fit']>): ReturnType<MediaFitter['fit']> {
    return traced('weixin.media.fit', { type: args[0] }, async (span) => {
      const fitted = await this.fitter.fit(...args);
      span.set({
        bytes: fitted.bytes,
        fitted: fitted.converted,
        outcome: fitted.converted ? 'converted' : 'unchanged',
      });
      return fitted;
    });
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
    return fetchUploadQuota(this.http, signal);
  }

  /**
   * What Weixin recorded of a failed call, by the rid in its errmsg (`WeixinApiError.rid`, kept 7 days):
   * the request's query and body, the answer, the caller IP. Tokens and secrets in it are redacted.
   */
  lookupRequest(rid: string, signal?: AbortSignal): Promise<WeixinRequestRecord> {
    return lookupWeixinRequest(this.http, rid, [this.options.appSecret], signal);
  }

  /** Fits the source (or answers the media_id of an earlier fit of the same content), then uploads the result. */
  protected async uploadFitted(
    appId: string,
    type: MediaType,
    media: OpenedMedia,
    options: UploadOptions,
  ): Promise<TemporaryMedia> {
    const { trim } = typeof options.fit === 'object' ? options.fit : ({} as FitOptions);
    const contentKey = await this.reuse.keyFor(appId, type, media, options.reuse);
    const reuseKey = contentKey && `${contentKey}:${FIT_RECIPE}${trim ? '-trim' : ''}`;
    const reused = await this.reuse.lookup(reuseKey, type);
    if (reused) return reused;
    const fitted = await this.fitTraced(
      type,
      { content: media.content, path: media.path },
      { trim, signal: options.signal, onProgress: throttledProgress(options.onProgress, 'fit') },
    );
    let uploaded: TemporaryMedia;
    let summary: FittedSummary | undefined;
    if (!fitted.converted) {
      uploaded = await this.send(media, fitted, options);
    } else {
      summary = {
        from: fitted.from,
        to: fitted.format,
        bytesBefore: media.content.size,
        bytesAfter: fitted.bytes,
        ...(fitted.sourceDurationMs !== undefined ? { durationMsBefore: fitted.sourceDurationMs } : {}),
        ...(fitted.durationMs !== undefined ? { durationMsAfter: fitted.durationMs } : {}),
      };
      const output = await openMediaSource({ buffer: fitted.data, originalname: media.name }, type);
      uploaded = { ...(await this.send(output, fitted, options)), fitted: summary };
    }
    await this.reuse.remember(reuseKey, uploaded);
    return uploaded;
  }

  /** Limits of reading a source: the type's, or `fit.maxInputBytes` when it may be converted. */
  protected openOptions(type: MediaType, fitting: boolean, signal?: AbortSignal): OpenMediaOptions {
    const reading = {
      signal,
      allowPrivateUrls: this.options.allowPrivateUrls === true,
      urlTimeoutMs: this.options.timeoutMs,
      wholeFileReads: this.wholeFileReads,
      fileDigests: this.fileDigests,
    };
    if (!fitting) return reading;
    const maxBytes = this.fitter.maxInputBytes;
    return {
      ...reading,
      maxBytes,
      tooLarge: (bytes, atLeast) =>
        new MediaFitError(
          'input-too-large',
          `this ${type} source is ${atLeast ? 'more than ' : ''}${formatBytes(atLeast ? maxBytes : bytes)}; ` +
            `fit reads at most ${formatBytes(maxBytes)} (fit.maxInputBytes)`,
          { type, limit: maxBytes, actual: bytes },
        ),
    };
  }

  /**
   * Uploads the opened media; a large file with reuse on whose digest is not known yet is hashed as it
   * uploads (`uploadWhileHashing`), other reuse is decided by the caller before.
   */
  protected async send(
    media: OpenedMedia,
    inspection: MediaInspection,
    options: UploadOptions,
  ): Promise<TemporaryMedia> {
    const uploaded = await uploadMedia(this.http, media, inspection, options);
    this.logger.debug(`Uploaded ${inspection.type} (${inspection.bytes} bytes) as ${uploaded.mediaId}`);
    return uploaded;
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
      return await fetchMedia(this.http, path, mediaId, this.options.timeoutMs, signal);
    } catch (error) {
      if (error instanceof WeixinApiError && error.errcode === WeixinErrorCode.INVALID_MEDIA_ID) {
        await this.reuse.forgetMediaId(mediaId, this.accounts.currentAppId());
      }
      throw error;
    }
  }
}
