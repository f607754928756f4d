import type { FitOptions, MediaRef, MediaSource, MusicMessage, VideoMessage } from '../interfaces';

/** Media of a reply: a source the library uploads (rules, fit, reuse), or an id you hold. */
export type ReplyMedia = MediaSource | MediaRef;

/** How a reply's sources are uploaded (as `TemporaryMediaService.upload`). */
export interface ReplyMediaOptions {
  /** Convert a source that does not pass Weixin's rules. @default false */
  fit?: boolean | FitOptions;
  /** Answer a cached media_id for identical content. @default true */
  reuse?: boolean;
  filename?: string;
}

/** What a reply says, by kind. */
export type WeixinReplyContent =
  | { kind: 'text'; content: string }
  | { kind: 'image' | 'voice'; media: ReplyMedia; options: ReplyMediaOptions }
  | { kind: 'video'; video: VideoMessage; options: ReplyMediaOptions }
  | { kind: 'music'; music: MusicMessage; options: ReplyMediaOptions };

/**
 * A handler's answer to a message: a passive reply within `replyWithinMs`, else a customer-service
 * message. A handler may also answer a string (a text reply) or nothing (`success`: no reply).
 */
export class WeixinReply {
  private constructor(readonly content: WeixinReplyContent) {}

  static text(content: string): WeixinReply {
    return new WeixinReply({ kind: 'text', content });
  }

  static image(image: ReplyMedia, options: ReplyMediaOptions = {}): WeixinReply {
    return new WeixinReply({ kind: 'image', media: image, options });
  }

  static voice(voice: ReplyMedia, options: ReplyMediaOptions = {}): WeixinReply {
    return new WeixinReply({ kind: 'voice', media: voice, options });
  }

  static video(video: VideoMessage, options: ReplyMediaOptions = {}): WeixinReply {
    return new WeixinReply({ kind: 'video', video, options });
  }

  static music(music: MusicMessage, options: ReplyMediaOptions = {}): WeixinReply {
    return new WeixinReply({ kind: 'music', music, options });
  }

  get kind(): WeixinReplyContent['kind'] {
    return this.content.kind;
  }
}

/** What a handler may answer. */
export type WeixinReplyLike = WeixinReply | string | void | undefined | null;

export function isMediaRef(media: ReplyMedia): media is MediaRef {
  return (
    typeof media === 'object' &&
    media !== null &&
    !Buffer.isBuffer(media) &&
    !(media instanceof Uint8Array) &&
    typeof (media as Partial<MediaRef>).mediaId === 'string'
  );
}
