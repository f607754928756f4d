import type { MediaInspection, MediaSource, MediaType } from '../interfaces/media.interface';
import { assertMediaType, inspectMediaContent } from '../media-rules/inspect-media';
import { openMediaSource, type OpenMediaOptions } from './open-media-source';

/**
 * Applies Weixin's rules for `type` to any media source (a Multer file from memory or disk storage
 * included), reading only what the rules need; no network call.
 */
export async function inspectMediaSource(
  type: MediaType,
  source: MediaSource,
  options?: OpenMediaOptions,
): Promise<MediaInspection> {
  assertMediaType(type);
  const media = await openMediaSource(source, type, options);
  try {
    return await inspectMediaContent(type, media.content);
  } finally {
    await media.close();
  }
}
