import type { FittedSummary } from './fit.interface';
import type { MediaType } from './media.interface';

/** A media_id remembered for reuse of identical content. */
export interface CachedMedia {
  type: MediaType;
  mediaId: string;
  /** Epoch milliseconds when Weixin created the media. */
  createdAt: number;
  /** Epoch milliseconds after which the entry must not be answered (a margin before the media expires). */
  expiresAt: number;
  /** What `fit` changed, for a media_id uploaded from a converted source. */
  fitted?: FittedSummary;
}

/** A held upload lock of one content; release it once the upload is remembered (or failed). */
export interface MediaCacheLock {
  release(): Promise<void>;
}

/**
 * Where media_ids are remembered by content (`appId:type:sha256` keys).
 * The in-memory LRU serves one process; `RedisMediaCache` serves a fleet.
 */
export interface MediaCache {
  get(key: string): Promise<CachedMedia | undefined>;
  set(key: string, value: CachedMedia): Promise<void>;
  /**
   * Forgets every entry of the account `appId` (keys starting `${appId}:`) that answers `mediaId`: Weixin said
   * 40007 for it to that account. Another account's entries stay, even for the same media_id (a media_id
   * belongs to the account that uploaded it; 40007 for another account says nothing about it).
   */
  deleteByMediaId(mediaId: string, appId: string): Promise<void>;
  /**
   * Optional, for a cache shared by several processes: tries to take the upload lock of the content `key`
   * for at most `leaseMs`; `undefined` when another process holds it (it is uploading that content, and the
   * caller waits for its entry). Without it, identical content is shared only within a process.
   */
  tryLock?(key: string, leaseMs: number): Promise<MediaCacheLock | undefined>;
}
