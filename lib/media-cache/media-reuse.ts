import type { CachedMedia, MediaCache, MediaType, TemporaryMedia } from '../interfaces';
import { MEDIA_LIFETIME_MS, MEDIA_REUSE_SAFETY_MARGIN_MS } from '../weixin-media.constants';

/** When a media_id created at `createdAtMs` was created and expires. */
export function mediaTimes(createdAtMs: number): Pick<TemporaryMedia, 'createdAt' | 'expiresAt'> {
  return { createdAt: new Date(createdAtMs), expiresAt: new Date(createdAtMs + MEDIA_LIFETIME_MS) };
}

/**
 * Reuse of media_ids for identical content, over the module's `MediaCache`. Keys are per account (one
 * account never answers another's media_id) and type; a cache that is down costs reuse, never the upload.
 */
export class MediaReuse {
  constructor(
    protected readonly cache: MediaCache | null,
    protected readonly warn: (message: string) => void,
  ) {}

  /**
   * The key of this content (`recipe`: how fit converts it, for fitted uploads), or undefined with
   * `reuse: false`. Without a cache it still names the content, for sharing uploads in flight.
   */
  async keyFor(
    appId: string,
    type: MediaType,
    content: { sha256(): Promise<string> },
    { reuse, recipe }: { reuse?: boolean; recipe?: string },
  ): Promise<string | undefined> {
    if (reuse === false) return undefined;
    return `${appId}:${type}:${await content.sha256()}${recipe ? `:${recipe}` : ''}`;
  }

  /** The media_id uploaded earlier under `key`, while it is still safe to send. */
  async lookup(key: string | undefined, type: MediaType): Promise<TemporaryMedia | undefined> {
    if (!key || !this.cache) return undefined;
    let cached: CachedMedia | undefined;
    try {
      cached = await this.cache!.get(key);
    } catch (error) {
      this.warn(`The media cache could not be read; uploading without reuse: ${(error as Error).message}`);
      return undefined;
    }
    if (!cached || cached.expiresAt <= Date.now()) return undefined;
    const reused: TemporaryMedia = {
      type,
      mediaId: cached.mediaId,
      ...mediaTimes(cached.createdAt),
      reused: true,
    };
    return cached.fitted ? { ...reused, fitted: cached.fitted } : reused;
  }

  /** Remembers an upload under `key`; reuse ends a safety margin before the media expires. */
  async remember(key: string | undefined, uploaded: TemporaryMedia): Promise<void> {
    if (!key || !this.cache) return;
    const entry: CachedMedia = {
      type: uploaded.type,
      mediaId: uploaded.mediaId,
      createdAt: uploaded.createdAt.getTime(),
      expiresAt: uploaded.expiresAt.getTime() - MEDIA_REUSE_SAFETY_MARGIN_MS,
      ...(uploaded.fitted ? { fitted: uploaded.fitted } : {}),
    };
    try {
      await this.cache!.set(key, entry);
    } catch (error) {
      this.warn(
        `The media cache could not be written; this media_id will not be reused: ${(error as Error).message}`,
      );
    }
  }

  /** Forgets a media_id Weixin no longer knows (40007) for `appId`: only that account's entries. */
  async forgetMediaId(mediaId: string, appId: string): Promise<void> {
    await this.cache?.deleteByMediaId(mediaId, appId).catch(() => undefined);
  }
}
