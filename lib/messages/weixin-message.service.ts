import { Injectable, Logger } from '@nestjs/common';
import { boundToAccount } from '../accounts/account-bound';
import { WeixinAccounts } from '../accounts/weixin-accounts';
import { WeixinApiError } from '../errors/weixin-api.error';
import { WeixinErrorCode } from '../errors/weixin-error-codes';
import type {
  CustomMessage,
  MediaRef,
  MediaSource,
  MusicMessage,
  SendMediaOptions,
  SendOptions,
  SentMessage,
  VideoMessage,
} from '../interfaces';
import { MediaUploadPipeline } from '../media-upload/media-upload.pipeline';
import { TemporaryMediaService } from '../temporary-media.service';
import { WeixinApiClient } from '../weixin-api/weixin-api.client';
import { customMessageBody } from './custom-message-body';
import { MessageParts, type MessagePart } from './message-parts';
import { assertMessage, assertOpenId, assertSendOptions } from './message-validation';

const SEND_PATH = '/cgi-bin/message/custom/send';
const TYPING_PATH = '/cgi-bin/message/custom/typing';

/** The service's sending methods bound to one Official Account (`forAccount(appId)`). */
export type AccountMessages = Omit<WeixinMessageService, 'forAccount'>;

/**
 * Customer-service messages (`custom/send`) and the typing state (`custom/typing`). Sources are uploaded
 * first as `TemporaryMediaService.upload` does (the rules, `fit`, reuse, progress); a `MediaRef` goes as
 * given. A message reaches the user at most once: a send is tried again only where Weixin cannot have acted
 * on it (-1, a refused connection, a token error); once its request may have reached Weixin, a timeout,
 * reset or 5xx rejects with `WeixinNetworkError.maybeDelivered`. Bad input is refused before any call.
 */
@Injectable()
export class WeixinMessageService {
  protected readonly logger = new Logger(WeixinMessageService.name);

  constructor(
    protected readonly client: WeixinApiClient,
    protected readonly media: TemporaryMediaService,
    protected readonly accounts: WeixinAccounts,
    protected readonly uploads: MediaUploadPipeline,
  ) {}

  /**
   * This service for another Official Account: every method sends with that account's token, uploads
   * with its reuse entries. An AppID the module does not know rejects with `UnknownAccountError`.
   */
  forAccount(appId: string): AccountMessages {
    return boundToAccount(this, this.accounts, appId);
  }

  /** A text of at most 2048 bytes of UTF-8. */
  sendText(openId: string, content: string, options?: SendOptions): Promise<SentMessage> {
    return this.send(openId, { msgtype: 'text', content }, options);
  }

  sendImage(openId: string, image: MediaSource | MediaRef, options?: SendMediaOptions): Promise<SentMessage> {
    return this.send(openId, { msgtype: 'image', image }, options);
  }

  sendVoice(openId: string, voice: MediaSource | MediaRef, options?: SendMediaOptions): Promise<SentMessage> {
    return this.send(openId, { msgtype: 'voice', voice }, options);
  }

  /** Without `thumb`, a frame of the video becomes its thumb when ffmpeg is installed (see `VideoMessage`). */
  sendVideo(openId: string, video: VideoMessage, options?: SendMediaOptions): Promise<SentMessage> {
    return this.send(openId, { ...video, msgtype: 'video' }, options);
  }

  sendMusic(openId: string, music: MusicMessage, options?: SendMediaOptions): Promise<SentMessage> {
    return this.send(openId, { ...music, msgtype: 'music' }, options);
  }

  /**
   * Sends any message (`msgtype` and its fields). A 40007 for a media_id the reuse cache supplied drops
   * the message's cached ids, uploads those sources again and sends once more (`reuploaded: true`).
   */
  async send(openId: string, message: CustomMessage, options: SendMediaOptions = {}): Promise<SentMessage> {
    assertOpenId(openId);
    assertMessage(message);
    assertSendOptions(options);
    const parts = new MessageParts(this.media, this.uploads, options);
    try {
      const { media, thumb } = await this.uploadParts(message, parts);
      const sent = (reuploaded: boolean): SentMessage => ({
        openId,
        msgtype: message.msgtype,
        ...(media?.media ? { media: media.media } : {}),
        ...(thumb?.media ? { thumb: thumb.media } : {}),
        reuploaded,
      });
      const post = () =>
        this.post(
          customMessageBody(
            openId,
            message,
            { media: media?.mediaId, thumb: thumb?.mediaId },
            options.kfAccount,
          ),
          options.signal,
        );
      try {
        await post();
        return sent(false);
      } catch (error) {
        // Weixin does not say which media_id died: every cached one of the message is uploaded again.
        if (!isInvalidMediaId(error) || !parts.anyReused) throw error;
        await parts.uploadReusedAgain();
        await post();
        return sent(true);
      }
    } finally {
      await parts.close();
    }
  }

  /**
   * Shows (`on`, the default) or cancels the typing state for up to 15 s; a sent message cancels it. Weixin
   * shows it only within 30 s of the user's interaction (45080 rejects); "already typing" (45081) resolves.
   */
  async typing(openId: string, on = true, options: SendOptions = {}): Promise<void> {
    assertOpenId(openId);
    const body = { touser: openId, command: on ? 'Typing' : 'CancelTyping' };
    try {
      // The state is idempotent: showing it twice shows it once, so a try may be repeated.
      await this.client.json(TYPING_PATH, body, { repeatable: true, signal: options.signal });
    } catch (error) {
      if (error instanceof WeixinApiError && error.errcode === WeixinErrorCode.ALREADY_TYPING) return;
      throw error;
    }
  }

  /** One send: never repeated once its request may have reached Weixin (`repeatable: false`). */
  protected async post(body: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
    await this.client.json(SEND_PATH, body, { repeatable: false, signal });
  }

  /** The message's media uploaded (or taken as given): the main media, then the thumb. */
  protected async uploadParts(
    message: CustomMessage,
    parts: MessageParts,
  ): Promise<{ media?: MessagePart; thumb?: MessagePart }> {
    switch (message.msgtype) {
      case 'text':
        return {};
      case 'image':
        return { media: await parts.part('image', message.image, true) };
      case 'voice':
        return { media: await parts.part('voice', message.voice, true) };
      case 'video': {
        const media = await parts.part('video', message.video, true);
        const thumb =
          message.thumb !== undefined
            ? await parts.part('thumb', message.thumb, false)
            : await parts.videoThumb(message.video, (error) =>
                this.logger.warn(`The video goes without a thumb: ${(error as Error)?.message ?? error}`),
              );
        return { media, thumb };
      }
      case 'music':
        return { thumb: await parts.part('thumb', message.thumb, false) };
    }
  }
}

function isInvalidMediaId(error: unknown): boolean {
  return error instanceof WeixinApiError && error.errcode === WeixinErrorCode.INVALID_MEDIA_ID;
}
