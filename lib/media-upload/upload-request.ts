import { WeixinApiError } from '../errors/weixin-api.error';
import { WeixinErrorCode } from '../errors/weixin-error-codes';
import type { MediaInspection, MediaType, TemporaryMedia, UploadOptions } from '../interfaces';
import { mediaTimes } from '../media-cache/media-reuse';
import { FORMAT_CONTENT_TYPES, weixinFilename } from '../media-rules';
import type { OpenedMedia } from '../media-source/open-media-source';
import { throttledProgress } from '../media-source/upload-progress';
import type { WeixinApiClient } from '../weixin-api/weixin-api.client';
import { multipartBody } from '../weixin-api/multipart-body';

const UPLOAD_PATH = '/cgi-bin/media/upload';

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
): Promise<TemporaryMedia> {
  const { type, format, bytes } = inspection;
  const report = throttledProgress(options.onProgress, 'upload');
  let read = 0;
  const multipart = multipartBody({
    field: 'media',
    filename: weixinFilename(format, options.filename ?? media.name),
    contentType: FORMAT_CONTENT_TYPES[format],
    size: bytes,
    // Progress sees each chunk as it is read (every try from the first byte), so with it, even content in
    // memory goes as chunks.
    data: report ? undefined : media.data,
    open: () => {
      read = 0;
      return media.readChunks();
    },
    onChunk: report && ((chunk) => report((read += chunk.length), bytes)),
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
