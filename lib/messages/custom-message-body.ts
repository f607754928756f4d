import type { CustomMessage } from '../interfaces';

/** The media_ids a message goes with: its main media's and its thumb's. */
export interface MessageMediaIds {
  media?: string;
  thumb?: string;
}

/**
 * The JSON of `custom/send` for `message` (weixin-api.md "Messages"): Weixin's field names, empty optional
 * fields left out, the music's high-quality URL defaulting to its URL.
 */
export function customMessageBody(
  openId: string,
  message: CustomMessage,
  ids: MessageMediaIds,
  kfAccount?: string,
): Record<string, unknown> {
  const customservice = kfAccount === undefined ? {} : { customservice: { kf_account: kfAccount } };
  return {
    touser: openId,
    msgtype: message.msgtype,
    [message.msgtype]: content(message, ids),
    ...customservice,
  };
}

function content(message: CustomMessage, ids: MessageMediaIds): Record<string, string> {
  switch (message.msgtype) {
    case 'text':
      return { content: message.content };
    case 'image':
    case 'voice':
      return { media_id: ids.media! };
    case 'video':
      return present({
        media_id: ids.media,
        thumb_media_id: ids.thumb,
        title: message.title,
        description: message.description,
      });
    case 'music':
      return present({
        title: message.title,
        description: message.description,
        musicurl: message.musicUrl,
        hqmusicurl: message.hqMusicUrl ?? message.musicUrl,
        thumb_media_id: ids.thumb,
      });
  }
}

function present(fields: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
    ),
  );
}
