/**
 * A message or event as Weixin posts it to the callback (plain mode). Every value is text: `MsgId` has
 * more digits than a JavaScript number holds.
 */
export interface WeixinMessage {
  /** The Official Account's original ID (`gh_...`): the sender of the reply. */
  ToUserName: string;
  /** The user's OpenID: the receiver of the reply. */
  FromUserName: string;
  CreateTime: string;
  /** `text`, `image`, `voice`, `video`, `shortvideo`, `location`, `link`, `event`, ... */
  MsgType: string;
  MsgId?: string;
  /** Of `text`. */
  Content?: string;
  /** Of `image`, `voice`, `video`: a temporary media_id to download the user's file. */
  MediaId?: string;
  /** Of `voice`: `amr` or `speex`. */
  Format?: string;
  /** Of `image`. */
  PicUrl?: string;
  /** Of `event`: `subscribe`, `unsubscribe`, `CLICK`, ... */
  Event?: string;
}

/** A passive reply: the body of the callback's answer, sent to the user who wrote. */
export type WeixinReply =
  | { MsgType: 'text'; Content: string }
  | { MsgType: 'image'; Image: { MediaId: string } }
  | { MsgType: 'voice'; Voice: { MediaId: string } }
  | { MsgType: 'video'; Video: { MediaId: string; Title: string; Description: string } };
