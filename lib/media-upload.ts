import { WeixinApiError } from './errors/weixin-api.error';
import { WeixinErrorCode } from './errors/weixin-error-codes';
import type { MediaInspection, MediaType, TemporaryMedia, UploadOptions } from './interfaces';
import { mediaTimes, type MediaReuse } from './media-cache/media-reuse';
import { ReuseWhileSending } from './media-cache/reuse-while-sending';
import { FORMAT_CONTENT_TYPES, weixinFilename } from './media-rules';
import type { OpenedMedia } from './media-source/open-media-source';
import { throttledProgress } from './media-source/upload-progress';
import type { WeixinApiClient } from './weixin-api/weixin-api.client';
import { multipartBody } from './weixin-api/multipart-body';

const UPLOAD_PATH = '/cgi-bin/media/upload';
/**
 * From this size a streamed file with reuse on is hashed as it uploads instead of before (see
 * `ReuseWhileSending`); smaller files are hashed first in a fraction of the request's time, so a hit never
 * starts a request. (Files read whole at opening, up to 2 MiB, are hashed in memory.)
 */
const HASH_WHILE_SENDING_BYTES = 1024 * 1024;

interface UploadAnswer {
  type: MediaType;
  media_id?: string;
  thumb_media_id?: string;
  created_at: number;
}

/**
 * One upload of opened media to `media/upload`: the multipart body (the content in memory as it is, a
 * file read in chunks through its one descriptor on every try), progress, and the answer checked.
 */
export async function uploadMedia(
  client: WeixinApiClient,
  media: OpenedMedia,
  inspection: MediaInspection,
  options: UploadOptions,
  watch?: ReuseWhileSending,
): Promise<TemporaryMedia> {
  const { type, format, bytes } = inspection;
  const report = throttledProgress(options.onProgress, 'upload');
  let read = 0;
  const multipart = multipartBody({
    field: 'media',
    filename: weixinFilename(format, options.filename ?? media.name),
    contentType: FORMAT_CONTENT_TYPES[format],
    size: bytes,
    // Progress and the hash see each chunk as it is read (every try from the first byte), so with either,
    // even content in memory goes as chunks.
    data: report || watch ? undefined : media.data,
    open: () => {
      watch?.restart();
      read = 0;
      return media.readChunks();
    },
    onChunk: (chunk) => {
      watch?.chunk(chunk);
      report?.((read += chunk.length), bytes);
    },
    beforeLast: watch && (() => watch.beforeLast()),
  });
  const data = await client.upload<UploadAnswer>(
    UPLOAD_PATH,
    {
      query: { type },
      headers: { 'content-type': multipart.contentType, 'content-length': multipart.contentLength },
      // A fresh body for every try: consumed chunks cannot be sent again. Every try reads the one
      // descriptor the upload opened (closed with the upload), so a try cut short leaves none open.
      body: () => multipart.body(),
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
  return { type, mediaId, ...mediaTimes(data.created_at * 1000), reused: false };
}

/** Whether reuse of this upload is decided while it is sent: a large file whose digest is not known yet. */
export function hashesWhileSending(
  media: OpenedMedia,
  inspection: MediaInspection,
  options: UploadOptions,
): boolean {
  return (
    options.reuse !== false &&
    !media.data &&
    inspection.bytes >= HASH_WHILE_SENDING_BYTES &&
    media.knownSha256() === undefined
  );
}

/**
 * Uploads while hashing what is sent (see `ReuseWhileSending`): the file is read once; a media_id found
 * before its last bytes answers `reused: true` and the upload stops; otherwise the upload is remembered.
 */
export async function uploadWhileHashing(
  client: WeixinApiClient,
  reuse: MediaReuse,
  appId: string,
  media: OpenedMedia,
  inspection: MediaInspection,
  options: UploadOptions,
): Promise<TemporaryMedia> {
  const watch = new ReuseWhileSending(reuse, appId, inspection.type);
  const signal = options.signal ? AbortSignal.any([options.signal, watch.stopped]) : watch.stopped;
  let uploaded: TemporaryMedia;
  try {
    uploaded = await uploadMedia(client, media, inspection, { ...options, signal }, watch);
  } catch (error) {
    if (!watch.found) throw error;
    media.learnSha256(watch.digest!);
    return watch.found;
  }
  media.learnSha256(watch.digest!);
  await reuse.remember(watch.key, uploaded);
  return uploaded;
}
