import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { WeixinAccounts } from '../accounts/weixin-accounts';
import { MediaFitError } from '../errors/media-fit.error';
import { MediaFitter } from '../fit/media-fitter';
import type {
  FitOptions,
  FittedSummary,
  MediaCache,
  MediaInspection,
  MediaSource,
  MediaType,
  TemporaryMedia,
  UploadOptions,
} from '../interfaces';
import type { ResolvedWeixinMediaOptions } from '../interfaces/resolved-weixin-media-options.interface';
import { MediaReuse } from '../media-cache/media-reuse';
import { assertMediaType, formatBytes, inspectMediaContent, isMediaType } from '../media-rules';
import { FileDigestMemo } from '../media-source/file-digest-memo';
import { openMediaSource, type OpenedMedia, type OpenMediaOptions } from '../media-source/open-media-source';
import { throttledProgress } from '../media-source/upload-progress';
import { WholeFileReads } from '../media-source/whole-file-reads';
import { traced, type WeixinSpan } from '../telemetry';
import { WeixinApiClient } from '../weixin-api/weixin-api.client';
import {
  WEIXIN_MEDIA_CACHE,
  WEIXIN_MEDIA_FITTER,
  WEIXIN_MEDIA_MODULE_OPTIONS,
} from '../weixin-media.constants';
import { uploadMedia } from './upload-request';
import { UploadsInFlight } from './uploads-in-flight';

/** Part of the reuse key of fitted uploads: a change in how fit converts must not answer older results. */
const FIT_RECIPE = 'fit1';

/**
 * One upload, start to end: account → open → inspect → reuse key → lookup → in-flight share → (fit) → send
 * → remember. A reuse hit is an answer like any other. One per module (`TemporaryMediaService.upload*` runs
 * it); it owns what the module's uploads share: the reuse cache, the uploads in flight, the budget of files
 * read whole and the digests of files read.
 */
@Injectable()
export class MediaUploadPipeline {
  protected readonly logger = new Logger('TemporaryMediaService');
  readonly fitter: MediaFitter;
  readonly reuse: MediaReuse;
  protected readonly inFlight: UploadsInFlight;
  protected readonly wholeFileReads = new WholeFileReads();
  protected readonly fileDigests = new FileDigestMemo();

  constructor(
    @Inject(WEIXIN_MEDIA_MODULE_OPTIONS) protected readonly options: ResolvedWeixinMediaOptions,
    protected readonly weixin: WeixinApiClient,
    protected readonly accounts: WeixinAccounts,
    @Optional() @Inject(WEIXIN_MEDIA_CACHE) cache: MediaCache | null = null,
    @Optional() @Inject(WEIXIN_MEDIA_FITTER) fitter: MediaFitter | null = null,
  ) {
    this.fitter = fitter ?? new MediaFitter(options.fit);
    this.reuse = new MediaReuse(cache, (message) => this.logger.warn(message));
    this.inFlight = new UploadsInFlight(cache, this.reuse, options.timeoutMs);
  }

  /** Checks `source` against the rules of `type` (fitting it first with `fit`), then uploads it or answers its media_id. */
  upload(type: MediaType, source: MediaSource, options: UploadOptions = {}): Promise<TemporaryMedia> {
    const facts = isMediaType(type) ? { type } : {};
    return traced('weixin.media.upload', facts, async (span) => {
      const result = await this.run(type, source, options, span);
      span.set({
        reused: result.reused,
        outcome: result.reused ? 'reused' : 'uploaded',
        ...(options.fit ? { fitted: result.fitted !== undefined } : result.reused ? {} : { fitted: false }),
        ...(result.fitted ? { bytes: result.fitted.bytesAfter } : {}),
      });
      return result;
    });
  }

  protected async run(
    type: MediaType,
    source: MediaSource,
    options: UploadOptions,
    span: WeixinSpan,
  ): Promise<TemporaryMedia> {
    assertMediaType(type);
    const fit = options.fit ? (options.fit === true ? {} : options.fit) : undefined;
    // An unknown account fails before the source is read.
    const { appId } = await this.accounts.current(options.signal);
    span.set({ appId });
    const media = await openMediaSource(source, type, this.readingOptions(type, !!fit, options.signal));
    try {
      // A source to fit meets the rules once converted; any other breaks none before anything is asked.
      const inspection = fit ? undefined : await inspectMediaContent(type, media.content);
      if (inspection) span.set({ bytes: inspection.bytes });
      const recipe = fit && `${FIT_RECIPE}${fit.trim ? '-trim' : ''}`;
      const key = await this.reuse.keyFor(appId, type, media, { reuse: options.reuse, recipe });
      const send = async () => {
        const uploaded = inspection
          ? await this.send(media, inspection, options)
          : await this.fitAndSend(type, media, fit!, options);
        await this.reuse.remember(key, uploaded);
        return uploaded;
      };
      if (!key) return await send();
      return (
        (await this.reuse.lookup(key, type)) ?? (await this.inFlight.once(key, type, options.signal, send))
      );
    } finally {
      await media.close();
    }
  }

  /** Fits the source, then uploads what `fit` made (the source itself when it passes as it is). */
  protected async fitAndSend(
    type: MediaType,
    media: OpenedMedia,
    { trim }: FitOptions,
    options: UploadOptions,
  ): Promise<TemporaryMedia> {
    const fitted = await this.fitInSpan(
      type,
      { content: media.content, path: media.path },
      { trim, signal: options.signal, onProgress: throttledProgress(options.onProgress, 'fit') },
    );
    if (!fitted.converted) return this.send(media, fitted, options);
    const summary: FittedSummary = {
      from: fitted.from,
      to: fitted.format,
      bytesBefore: media.content.size,
      bytesAfter: fitted.bytes,
      ...(fitted.sourceDurationMs !== undefined ? { durationMsBefore: fitted.sourceDurationMs } : {}),
      ...(fitted.durationMs !== undefined ? { durationMsAfter: fitted.durationMs } : {}),
    };
    const output = await openMediaSource({ buffer: fitted.data, originalname: media.name }, type);
    return { ...(await this.send(output, fitted, options)), fitted: summary };
  }

  /** The fit engine's run, in its own span (`weixin.media.fit`): what it made, never what it read. */
  fitInSpan(...args: Parameters<MediaFitter['fit']>): ReturnType<MediaFitter['fit']> {
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

  /** Limits of reading a source: the type's, or `fit.maxInputBytes` when it may be converted. */
  readingOptions(type: MediaType, fitting: boolean, signal?: AbortSignal): OpenMediaOptions {
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

  protected async send(
    media: OpenedMedia,
    inspection: MediaInspection,
    options: UploadOptions,
  ): Promise<TemporaryMedia> {
    const uploaded = await uploadMedia(this.weixin, media, inspection, options);
    this.logger.debug(`Uploaded ${inspection.type} (${inspection.bytes} bytes) as ${uploaded.mediaId}`);
    return uploaded;
  }
}
