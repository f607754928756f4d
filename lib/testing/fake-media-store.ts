import type { FakeMediaType } from './fake-media-format';

/** A temporary media file the fake holds, as `getMedia()` shows it. */
export interface FakeMedia {
  mediaId: string;
  /** The account that uploaded it: only that account's tokens can download it (others get 40007). */
  appId: string;
  type: FakeMediaType;
  /** The filename of the uploaded part. */
  filename: string;
  /** Derived from the format the fake recognised, not from what the client claimed. */
  contentType: string;
  data: Buffer;
  /**
   * A voice's high-definition recording as the JS-SDK makes it (`setHdVoice`): headerless 16 kHz wideband
   * Speex, what `media/get/jssdk` answers. Without one it answers `data`.
   */
  hdVoice?: Buffer;
  /** Upload time on the fake clock (ms). */
  createdAt: number;
}

/** Weixin keeps temporary media for 3 days. */
export const MEDIA_LIFETIME_MS = 3 * 24 * 60 * 60 * 1000;

/**
 * The uploaded media by media_id. A byte budget bounds memory under benchmarks: past it the oldest
 * media are dropped (a Map iterates in insertion order, so eviction is O(1) per entry).
 */
export class FakeMediaStore {
  private readonly media = new Map<string, { media: FakeMedia; bytes: number }>();
  private storedBytes = 0;

  constructor(private readonly maxStoredBytes: number) {}

  /** Stores `media` of `bytes` bytes (its `data` may not be joined yet). */
  add(media: FakeMedia, bytes: number): void {
    this.media.set(media.mediaId, { media, bytes });
    this.storedBytes += bytes;
    for (const [mediaId, oldest] of this.media) {
      if (this.storedBytes <= this.maxStoredBytes || oldest.media === media) break;
      this.media.delete(mediaId);
      this.storedBytes -= oldest.bytes;
    }
  }

  get(mediaId: string): FakeMedia | undefined {
    return this.media.get(mediaId)?.media;
  }

  /** The media as the API sees it: unknown and expired are the same 40007. */
  getLive(mediaId: string, now: number): FakeMedia | undefined {
    const media = this.get(mediaId);
    return media && now - media.createdAt < MEDIA_LIFETIME_MS ? media : undefined;
  }

  get size(): number {
    return this.media.size;
  }

  clear(): void {
    this.media.clear();
    this.storedBytes = 0;
  }
}
