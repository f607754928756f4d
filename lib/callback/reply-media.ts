import type { MediaType } from '../interfaces';
import type { AccountMedia } from '../temporary-media.service';
import type { CallbackReplyBody } from './callback-xml';
import { isMediaRef, type ReplyMedia, type ReplyMediaOptions, WeixinReply } from './weixin-reply';

/** A reply whose sources are uploaded: the passive reply's fields, and the same reply with `{ mediaId }`s. */
export interface UploadedReply {
  body: CallbackReplyBody;
  reply: WeixinReply;
}

/**
 * Uploads what `reply` needs uploaded for the account `media` gives (Weixin's rules, `fit`, reuse: as
 * `TemporaryMediaService.upload`); a `{ mediaId }` is used as given, and text asks for no account.
 */
export async function uploadReplyMedia(
  reply: WeixinReply,
  media: () => AccountMedia,
  signal: AbortSignal,
): Promise<UploadedReply> {
  const content = reply.content;
  switch (content.kind) {
    case 'text':
      return { body: { MsgType: 'text', Content: content.content }, reply };
    case 'image':
    case 'voice': {
      const mediaId = await upload(media, content.kind, content.media, content.options, signal);
      return {
        body: { MsgType: content.kind, MediaId: mediaId },
        reply: WeixinReply[content.kind]({ mediaId }, content.options),
      };
    }
    case 'video': {
      const { video, thumb, title, description } = content.video;
      const mediaId = await upload(media, 'video', video, content.options, signal);
      return {
        body: { MsgType: 'video', MediaId: mediaId, Title: title, Description: description },
        // The thumb goes as it was: only a customer-service message uses it.
        reply: WeixinReply.video({ video: { mediaId }, thumb, title, description }, content.options),
      };
    }
    case 'music': {
      const { musicUrl, hqMusicUrl, thumb, title, description } = content.music;
      const thumbId = await upload(media, 'thumb', thumb, content.options, signal);
      return {
        body: {
          MsgType: 'music',
          ThumbMediaId: thumbId,
          Title: title,
          Description: description,
          MusicUrl: musicUrl,
          HQMusicUrl: hqMusicUrl,
        },
        reply: WeixinReply.music({ ...content.music, thumb: { mediaId: thumbId } }, content.options),
      };
    }
  }
}

/** The passive reply's fields when `reply` needs nothing uploaded (text). */
export function readyReplyBody(reply: WeixinReply): CallbackReplyBody | undefined {
  const content = reply.content;
  return content.kind === 'text' ? { MsgType: 'text', Content: content.content } : undefined;
}

async function upload(
  media: () => AccountMedia,
  type: MediaType,
  source: ReplyMedia,
  options: ReplyMediaOptions,
  signal: AbortSignal,
): Promise<string> {
  if (isMediaRef(source)) return source.mediaId;
  const { fit, reuse, filename } = options;
  const uploaded = await media().upload(type, source, { fit, reuse, filename, signal });
  return uploaded.mediaId;
}
