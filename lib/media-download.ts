import { MediaFitError } from './errors/media-fit.error';
import { WeixinApiError } from './errors/weixin-api.error';
import { WeixinDownloadTooLargeError } from './errors/weixin-download-too-large.error';
import { WeixinErrorCode } from './errors/weixin-error-codes';
import type { DownloadedMedia, DownloadedMediaStream } from './interfaces';
import { formatBytes, MAX_MEDIA_BYTES } from './media-rules/media-limits';
import type { WeixinApiClient } from './weixin-api/weixin-api.client';
import { dispositionFilename } from './weixin-api/content-disposition';
import { watchDownload } from './weixin-api/download-watchdog';

const MEDIA_ID_PATTERN = /^[\w-]{1,256}$/;

/**
 * Downloads one media item from `path` (media/get or media/get/jssdk): a stream with its content type
 * and filename, or a video's URL. The stream ends on `signal` or after `idleMs` without a byte, and fails
 * with `WeixinDownloadTooLargeError` before it passes on more than the largest media Weixin serves.
 * `contentLength` is set only when it counts the stream's bytes (not for an answer that came compressed).
 */
export async function fetchMedia(
  client: WeixinApiClient,
  path: string,
  mediaId: string,
  idleMs: number,
  signal?: AbortSignal,
): Promise<DownloadedMediaStream> {
  if (typeof mediaId !== 'string' || !MEDIA_ID_PATTERN.test(mediaId)) {
    throw new WeixinApiError(
      WeixinErrorCode.INVALID_MEDIA_ID,
      'invalid media_id (not a media_id: letters, digits, - and _ only)',
      path,
    );
  }
  const answer = await client.media<{ video_url?: unknown }>(path, { media_id: mediaId }, signal);
  if (answer.kind === 'json') {
    if (typeof answer.data?.video_url === 'string') {
      return { kind: 'video', mediaId, videoUrl: answer.data.video_url };
    }
    throw new WeixinApiError(
      WeixinErrorCode.SYSTEM_BUSY,
      'the download answer was neither media nor a video_url',
      path,
    );
  }
  // The transport passes on a Content-Length only where it counts the bytes of the stream (weixin-answer.ts).
  if (answer.contentLength !== undefined && answer.contentLength > MAX_MEDIA_BYTES) {
    answer.stream.destroy();
    throw new WeixinDownloadTooLargeError(path, MAX_MEDIA_BYTES, answer.contentLength, true);
  }
  return {
    kind: 'file',
    mediaId,
    contentType: answer.contentType,
    filename: dispositionFilename(answer.contentDisposition, mediaId),
    contentLength: answer.contentLength,
    stream: watchDownload(answer.stream, { idleMs, maxBytes: MAX_MEDIA_BYTES, path, signal }),
  };
}

/** Reads a downloaded file whole (a video answers its URL as it is). */
export async function collectMedia(media: DownloadedMediaStream): Promise<DownloadedMedia> {
  if (media.kind === 'video') return media;
  const chunks: Buffer[] = [];
  for await (const chunk of media.stream) {
    chunks.push(chunk as Buffer);
  }
  const { stream: _stream, contentLength: _length, ...file } = media;
  return { ...file, data: Buffer.concat(chunks) };
}

/**
 * Reads a downloaded voice whole, at most `maxBytes` of it: an answer declared longer is refused before a
 * byte is read, one that runs past the bound as soon as it does, its socket closed with it.
 */
export async function collectVoice(media: DownloadedMediaStream, maxBytes: number): Promise<Buffer> {
  if (media.kind === 'video') {
    throw new MediaFitError(
      'unsupported-input',
      `media ${media.mediaId} is a video (Weixin answered its video_url); downloadAudio decodes voice`,
      { type: 'voice' },
    );
  }
  const tooLarge = (bytes: number, atLeast: boolean) => {
    media.stream.destroy();
    return voiceTooLarge(media.mediaId, maxBytes, bytes, atLeast);
  };
  if (media.contentLength !== undefined && media.contentLength > maxBytes) {
    throw tooLarge(media.contentLength, false);
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of media.stream) {
    bytes += (chunk as Buffer).length;
    if (bytes > maxBytes) throw tooLarge(bytes, true);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, bytes);
}

/** A download refused past the largest media Weixin serves is, for a voice, past the voice's own bound. */
export function asVoiceTooLarge(mediaId: string, maxBytes: number): (error: unknown) => never {
  return (error) => {
    if (!(error instanceof WeixinDownloadTooLargeError)) throw error;
    throw voiceTooLarge(mediaId, maxBytes, error.actual, !error.declared);
  };
}

function voiceTooLarge(mediaId: string, maxBytes: number, bytes: number, atLeast: boolean): MediaFitError {
  return new MediaFitError(
    'input-too-large',
    `Weixin answered ${atLeast ? 'more than ' : ''}${formatBytes(atLeast ? maxBytes : bytes)} for the voice ` +
      `${mediaId}; downloadAudio reads at most ${formatBytes(maxBytes)} (Weixin keeps no larger voice; ` +
      'fit.maxInputBytes when lower)',
    { type: 'voice', limit: maxBytes, actual: bytes },
  );
}
