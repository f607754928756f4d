import { randomBytes } from 'node:crypto';
import type { FakeExchange } from './fake-exchange';
import {
  contentMatchesFormat,
  FAKE_MEDIA_RULES,
  FORMAT_CONTENT_TYPES,
  FORMAT_EXTENSIONS,
  FORMAT_SIGNATURE_BYTES,
  formatFromContentType,
  formatFromFilename,
  isFakeMediaType,
} from './fake-media-format';
import type { FakeMedia, FakeMediaStore } from './fake-media-store';
import { joinedWhenAsked, leadingBytes, readMediaPart } from './fake-multipart';
import type { FakeQuotaLedger } from './fake-quota';

/** Not Weixin's: where the fake serves the `video_url` it hands out. */
export const FAKE_VIDEO_PATH = '/fake-video/';

/**
 * Temporary media as Weixin serves it: upload with its rules and error codes, download (a JSON
 * `video_url` for videos, speex for the JS-SDK's HD voice), each media_id visible to its own account only.
 */
export class FakeMediaEndpoints {
  constructor(
    private readonly media: FakeMediaStore,
    private readonly quotas: FakeQuotaLedger,
    private readonly now: () => number,
    private readonly baseUrl: () => string,
  ) {}

  /** `POST /cgi-bin/media/upload` for the account `appId` (already authenticated). */
  async upload(exchange: FakeExchange, appId: string): Promise<void> {
    const type = exchange.query.type;
    if (type !== undefined) exchange.entry.mediaType = type;
    if (!isFakeMediaType(type)) return exchange.error(40004);
    if (!this.quotas.allowsUpload(appId, this.now())) return exchange.error(45009);
    const rules = FAKE_MEDIA_RULES[type];

    const outcome = await readMediaPart(exchange.req, rules.maxBytes);
    if (outcome.kind === 'aborted') return;
    if (outcome.kind === 'malformed' || !outcome.media) return exchange.error(41005);
    const part = outcome.media;
    if (part.filename !== undefined) exchange.entry.filename = part.filename;
    exchange.entry.bytes = part.bytes;

    // Weixin goes by the filename extension first: `blob` or `phpA1B2` is refused whatever the bytes are.
    const format = formatFromFilename(part.filename);
    if (!format || !rules.formats.includes(format)) return exchange.error(40005);
    if (part.truncated || part.bytes === 0) return exchange.error(40006);
    if (!contentMatchesFormat(leadingBytes(part.chunks, FORMAT_SIGNATURE_BYTES), format)) {
      return exchange.error(40005);
    }

    const data = joinedWhenAsked(part.chunks);
    const media: FakeMedia = {
      mediaId: randomBytes(48).toString('base64url'),
      appId,
      type,
      filename: part.filename ?? '',
      contentType: FORMAT_CONTENT_TYPES[format],
      // Joined when first asked for (a download, or a test reading it), not for every upload.
      get data() {
        return data();
      },
      createdAt: this.now(),
    };
    this.media.add(media, part.bytes);
    this.quotas.recordUpload(appId, media.createdAt);
    const idKey = type === 'thumb' ? 'thumb_media_id' : 'media_id';
    exchange.json(200, { type, [idKey]: media.mediaId, created_at: Math.floor(media.createdAt / 1000) });
  }

  /** `GET /cgi-bin/media/get` (or `/get/jssdk` when `hdVoice`) for the account `appId`. */
  download(exchange: FakeExchange, appId: string, hdVoice: boolean): void {
    const mediaId = exchange.query.media_id;
    if (!mediaId) return exchange.error(41006);
    const stored = this.media.getLive(mediaId, this.now());
    // Another account's media_id is as unknown as an expired one.
    const media = stored?.appId === appId ? stored : undefined;
    if (hdVoice) {
      // Only voice has a high-definition (speex) version.
      if (!media || media.type !== 'voice') return exchange.error(40007);
      return this.sendMedia(exchange, media, 'audio/speex', 'speex', media.hdVoice);
    }
    if (!media) return exchange.error(40007);
    if (media.type === 'video') {
      return exchange.json(200, {
        video_url: `${this.baseUrl()}${FAKE_VIDEO_PATH}${encodeURIComponent(media.mediaId)}`,
      });
    }
    const format = formatFromContentType(media.contentType) ?? 'jpeg';
    this.sendMedia(exchange, media, media.contentType, FORMAT_EXTENSIONS[format]);
  }

  /** The `video_url` download: no token, like Weixin's video CDN. */
  videoFile(exchange: FakeExchange): void {
    let mediaId: string;
    try {
      mediaId = decodeURIComponent(exchange.path.slice(FAKE_VIDEO_PATH.length));
    } catch {
      mediaId = '';
    }
    const media = this.media.getLive(mediaId, this.now());
    if (!media || media.type !== 'video') return exchange.json(404, { errcode: 404, errmsg: 'not found' });
    exchange.send(200, { 'Content-Type': 'video/mp4' }, media.data);
  }

  private sendMedia(
    exchange: FakeExchange,
    media: FakeMedia,
    contentType: string,
    extension: string,
    data = media.data,
  ): void {
    exchange.send(
      200,
      {
        'Content-Type': contentType,
        'Content-disposition': `attachment; filename="${media.mediaId}.${extension}"`,
        'Cache-Control': 'no-cache, must-revalidate',
      },
      data,
    );
  }
}
