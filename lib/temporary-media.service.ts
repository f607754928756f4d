import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import FormData from 'form-data';
import type { Readable } from 'node:stream';
import { WeixinAccounts } from './accounts/weixin-accounts';
import { WeixinApiError } from './errors/weixin-api.error';
import { WeixinErrorCode } from './errors/weixin-error-codes';
import { dispositionFilename } from './weixin-api/content-disposition';
import type { ResolvedWeixinMediaOptions } from './interfaces/resolved-weixin-media-options.interface';
import { WeixinApiClient } from './weixin-api.client';
import type {
  CachedMedia,
  DownloadedMedia,
  DownloadedMediaStream,
  MediaCache,
  MediaInspection,
  MediaSource,
  MediaType,
  TemporaryMedia,
  UploadOptions,
  WeixinQuota,
  WeixinRequestRecord,
} from './interfaces';
import { assertMediaType, FORMAT_CONTENT_TYPES, inspectMediaContent, weixinFilename } from './media-rules';
import { inspectMediaSource } from './media-source/inspect-media-source';
import { lookupWeixinRequest } from './operations/request-lookup';
import { fetchUploadQuota } from './operations/upload-quota';
import { openMediaSource, type OpenedMedia } from './media-source/open-media-source';
import {
  MEDIA_LIFETIME_MS,
  MEDIA_REUSE_SAFETY_MARGIN_MS,
  WEIXIN_MEDIA_CACHE,
  WEIXIN_MEDIA_MODULE_OPTIONS,
} from './weixin-media.constants';

const UPLOAD_PATH = '/cgi-bin/media/upload';
const DOWNLOAD_PATH = '/cgi-bin/media/get';
const HD_VOICE_PATH = '/cgi-bin/media/get/jssdk';
const MEDIA_ID_PATTERN = /^[\w-]{1,256}$/;

/**
 * The service's whole surface bound to one Official Account (`forAccount(appId)`): the same methods,
 * each running for that account's token and reuse entries.
 */
export type AccountMedia = Omit<TemporaryMediaService, 'forAccount' | 'forgetAccount'>;

interface UploadAnswer {
  type: MediaType;
  media_id?: string;
  thumb_media_id?: string;
  created_at: number;
}

/**
 * Uploads and downloads Weixin temporary media. Every upload is checked against Weixin's rules
 * locally first, identical content is answered from the reuse cache, and tokens, retries and
 * multipart encoding are handled here.
 */
@Injectable()
export class TemporaryMediaService {
  protected readonly logger = new Logger(TemporaryMediaService.name);

  constructor(
    @Inject(WEIXIN_MEDIA_MODULE_OPTIONS) protected readonly options: ResolvedWeixinMediaOptions,
    protected readonly http: WeixinApiClient,
    protected readonly accounts: WeixinAccounts,
    @Optional() @Inject(WEIXIN_MEDIA_CACHE) protected readonly cache: MediaCache | null = null,
  ) {}

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

  /** Checks `source` against the rules of `type`, then uploads it (or answers the reused media_id). */
  async upload(type: MediaType, source: MediaSource, options: UploadOptions = {}): Promise<TemporaryMedia> {
    assertMediaType(type);
    // An unknown account fails before the source is read.
    const { appId } = await this.accounts.current();
    const media = await openMediaSource(source, type, options.signal);
    try {
      const inspection = await inspectMediaContent(type, media.content);
      const reuseKey =
        this.cache && options.reuse !== false ? await this.reuseKey(appId, type, media) : undefined;
      const cached = reuseKey ? await this.readCache(reuseKey) : undefined;
      if (cached) {
        return { type, mediaId: cached.mediaId, ...mediaTimes(cached.createdAt), reused: true };
      }
      const uploaded = await this.send(media, inspection, options);
      if (reuseKey) {
        await this.writeCache(reuseKey, {
          type,
          mediaId: uploaded.mediaId,
          createdAt: uploaded.createdAt.getTime(),
          expiresAt: uploaded.expiresAt.getTime() - MEDIA_REUSE_SAFETY_MARGIN_MS,
        });
      }
      return uploaded;
    } finally {
      await media.close();
    }
  }

  /** Applies Weixin's rules for `type` to `source` locally; no network call. */
  inspect(type: MediaType, source: MediaSource): Promise<MediaInspection> {
    return inspectMediaSource(type, source);
  }

  /** Downloads a media item whole: bytes for images, voice and thumbs; the URL for a video. */
  async download(mediaId: string, signal?: AbortSignal): Promise<DownloadedMedia> {
    return collect(await this.fetchMedia(DOWNLOAD_PATH, mediaId, signal));
  }

  /** Downloads a media item as a stream, for large files or piping to a response. */
  downloadStream(mediaId: string, signal?: AbortSignal): Promise<DownloadedMediaStream> {
    return this.fetchMedia(DOWNLOAD_PATH, mediaId, signal);
  }

  /** Downloads voice recorded by the JS-SDK in high definition (16 kHz speex). */
  async downloadHdVoice(mediaId: string, signal?: AbortSignal): Promise<DownloadedMedia> {
    return collect(await this.fetchMedia(HD_VOICE_PATH, mediaId, signal));
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

  protected async send(
    media: OpenedMedia,
    inspection: MediaInspection,
    options: UploadOptions,
  ): Promise<TemporaryMedia> {
    const { type, format, bytes } = inspection;
    const filename = weixinFilename(format, options.filename ?? media.name);
    const { data } = await this.http.request<UploadAnswer>(
      UPLOAD_PATH,
      () => {
        // A fresh form and file stream for every try: a consumed stream cannot be sent again.
        const form = new FormData();
        form.append('media', media.createReadStream(), {
          filename,
          contentType: FORMAT_CONTENT_TYPES[format],
          knownLength: bytes,
        });
        return {
          method: 'POST',
          params: { type },
          data: form,
          headers: form.getHeaders({ 'content-length': form.getLengthSync() }),
        };
      },
      options.signal,
    );
    const mediaId = data.media_id ?? data.thumb_media_id;
    if (!mediaId || typeof data.created_at !== 'number') {
      throw new WeixinApiError(
        WeixinErrorCode.SYSTEM_BUSY,
        'the upload answer had no media_id or created_at',
        UPLOAD_PATH,
      );
    }
    this.logger.debug(`Uploaded ${type} ${filename} (${bytes} bytes) as ${mediaId}`);
    return { type, mediaId, ...mediaTimes(data.created_at * 1000), reused: false };
  }

  protected async fetchMedia(
    path: string,
    mediaId: string,
    signal?: AbortSignal,
  ): Promise<DownloadedMediaStream> {
    if (typeof mediaId !== 'string' || !MEDIA_ID_PATTERN.test(mediaId)) {
      throw new WeixinApiError(
        WeixinErrorCode.INVALID_MEDIA_ID,
        'invalid media_id (not a media_id: letters, digits, - and _ only)',
        path,
      );
    }
    try {
      const response = await this.http.request<Readable | { video_url?: string }>(
        path,
        () => ({ method: 'GET', params: { media_id: mediaId }, responseType: 'stream' }),
        signal,
      );
      const body = response.data;
      if (!isStream(body)) {
        if (typeof body?.video_url === 'string') {
          return { kind: 'video', mediaId, videoUrl: body.video_url };
        }
        throw new WeixinApiError(
          WeixinErrorCode.SYSTEM_BUSY,
          'the download answer was neither media nor a video_url',
          path,
        );
      }
      const contentType = String(response.headers['content-type'] ?? 'application/octet-stream');
      const length = Number(response.headers['content-length']);
      return {
        kind: 'file',
        mediaId,
        contentType,
        filename: dispositionFilename(response.headers['content-disposition'] as string | undefined, mediaId),
        contentLength: Number.isFinite(length) ? length : undefined,
        stream: body,
      };
    } catch (error) {
      if (error instanceof WeixinApiError && error.errcode === WeixinErrorCode.INVALID_MEDIA_ID) {
        await this.cache?.deleteByMediaId(mediaId).catch(() => undefined);
      }
      throw error;
    }
  }

  /** A cache that is down costs reuse, never the upload. */
  protected async readCache(key: string): Promise<CachedMedia | undefined> {
    try {
      const cached = await this.cache!.get(key);
      return cached && cached.expiresAt > Date.now() ? cached : undefined;
    } catch (error) {
      this.logger.warn(
        `The media cache could not be read; uploading without reuse: ${(error as Error).message}`,
      );
      return undefined;
    }
  }

  protected async writeCache(key: string, entry: CachedMedia): Promise<void> {
    try {
      await this.cache!.set(key, entry);
    } catch (error) {
      this.logger.warn(
        `The media cache could not be written; this media_id will not be reused: ${(error as Error).message}`,
      );
    }
  }

  /** Per account: one account never answers another's media_id. */
  protected async reuseKey(appId: string, type: MediaType, media: OpenedMedia): Promise<string> {
    return `${appId}:${type}:${await media.sha256()}`;
  }
}

function mediaTimes(createdAtMs: number): Pick<TemporaryMedia, 'createdAt' | 'expiresAt'> {
  return { createdAt: new Date(createdAtMs), expiresAt: new Date(createdAtMs + MEDIA_LIFETIME_MS) };
}

function isStream(value: unknown): value is Readable {
  return typeof (value as Readable | undefined)?.pipe === 'function';
}

async function collect(media: DownloadedMediaStream): Promise<DownloadedMedia> {
  if (media.kind === 'video') return media;
  const chunks: Buffer[] = [];
  for await (const chunk of media.stream) {
    chunks.push(chunk as Buffer);
  }
  const { stream: _stream, contentLength: _length, ...file } = media;
  return { ...file, data: Buffer.concat(chunks) };
}
