import { Injectable, Logger } from '@nestjs/common';
import { join } from 'node:path';
import {
  MediaFitError,
  MediaValidationError,
  OnWeixinEvent,
  OnWeixinMessage,
  TemporaryMediaService,
  WeixinApiError,
  WeixinReply,
  type MediaInspection,
  type MediaType,
  type TemporaryMedia,
  type WeixinImageMessage,
  type WeixinMessage,
  type WeixinTextMessage,
  type WeixinVoiceMessage,
} from '../../lib';
import { SAMPLE_ASSETS_DIR } from '../sample-paths';

/** The URL to enter in the Official Account's server settings (服务器配置). */
export const WEIXIN_CALLBACK_PATH = 'weixin/callback';

/**
 * Weixin waits 5 s for a passive reply, then retries the message; the work gets 4 s so that even a
 * slow Weixin API leaves time to answer.
 */
export const REPLY_BUDGET_MS = 4_000;

type SampleMediaType = Extract<MediaType, 'image' | 'voice' | 'video'>;

/** The texts that ask for a sample file (a Map: a message like "constructor" must not find anything). */
const KEYWORDS = new Map<string, SampleMediaType>([
  ['image', 'image'],
  ['图片', 'image'],
  ['voice', 'voice'],
  ['语音', 'voice'],
  ['video', 'video'],
  ['视频', 'video'],
]);

/** The bundled files in `sample/assets`. */
export const SAMPLE_MEDIA_FILES: Record<SampleMediaType, string> = {
  image: 'welcome.jpg',
  voice: 'welcome.amr',
  video: 'welcome.mp4',
};

export const HELP_TEXT = [
  'This is the nestjs-weixin-media sample.',
  'Send "image", "voice" or "video" and I reply with a sample file uploaded as temporary media.',
  'Send me a picture or a voice message and I tell you what arrived (a voice also as decoded for speech-to-text).',
].join('\n');

/**
 * What the sample answers to each message: the Official Account's behaviour in one place. The library
 * verifies, decrypts and routes the messages here, and writes (and encrypts) the replies.
 */
@Injectable()
export class WeixinBot {
  protected readonly logger = new Logger(WeixinBot.name);

  constructor(protected readonly media: TemporaryMediaService) {}

  /** "image", "voice", "video" (or 图片, 语音, 视频) get a sample file; anything else the help text. */
  @OnWeixinMessage('text')
  onText(message: WeixinTextMessage): Promise<WeixinReply> {
    return this.replyTo(message);
  }

  /** A picture or a voice message: downloaded by its MediaId and described. */
  @OnWeixinMessage('image')
  onImage(message: WeixinImageMessage): Promise<WeixinReply> {
    return this.replyTo(message);
  }

  @OnWeixinMessage('voice')
  onVoice(message: WeixinVoiceMessage): Promise<WeixinReply> {
    return this.replyTo(message);
  }

  /** Every other message type: the help text. */
  @OnWeixinMessage()
  onOther(): WeixinReply {
    return text(HELP_TEXT);
  }

  /** Every event (following, menus): the help text. */
  @OnWeixinEvent()
  onEvent(): WeixinReply {
    return text(HELP_TEXT);
  }

  /** The reply to `message`; never throws: a failure becomes a text that says what went wrong. */
  protected async replyTo(message: WeixinMessage): Promise<WeixinReply> {
    const signal = AbortSignal.timeout(REPLY_BUDGET_MS);
    // The signal also aborts the Weixin calls; the race makes sure nothing outlasts the budget.
    const deadline = new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
    );
    try {
      return await Promise.race([this.compose(message, signal), deadline]);
    } catch (error) {
      this.logger.warn(`No answer for a ${message.MsgType} message: ${describeError(error)}`);
      return text(signal.aborted ? timeoutText() : `Sorry, that did not work: ${describeError(error)}`);
    }
  }

  protected async compose(message: WeixinMessage, signal: AbortSignal): Promise<WeixinReply> {
    const keyword =
      message.MsgType === 'text' ? KEYWORDS.get(message.Content?.trim().toLowerCase() ?? '') : undefined;
    if (keyword) return this.sendSample(keyword, signal);
    if ((message.MsgType === 'image' || message.MsgType === 'voice') && message.MediaId) {
      const format = message.MsgType === 'voice' ? message.Format : undefined;
      return this.describeReceived(message.MsgType, message.MediaId, format, signal);
    }
    return text(HELP_TEXT);
  }

  /** Uploads the bundled file of `type` (reused while its media_id is valid) and replies with it. */
  protected async sendSample(type: SampleMediaType, signal: AbortSignal): Promise<WeixinReply> {
    const file = join(SAMPLE_ASSETS_DIR, SAMPLE_MEDIA_FILES[type]);
    const media = await this.media.upload(type, file, { signal });
    const { mediaId } = media;
    switch (type) {
      case 'image':
        return WeixinReply.image({ mediaId });
      case 'voice':
        return WeixinReply.voice({ mediaId });
      case 'video':
        return WeixinReply.video({
          video: { mediaId },
          title: 'A sample video',
          description: videoDescription(media),
        });
    }
  }

  /** Downloads what the user sent by its MediaId and replies with what it is. */
  protected async describeReceived(
    type: 'image' | 'voice',
    mediaId: string,
    declaredFormat: string | undefined,
    signal: AbortSignal,
  ): Promise<WeixinReply> {
    const media = await this.media.download(mediaId, signal);
    if (media.kind === 'video') return text(`Your ${type} came back as a video link: ${media.videoUrl}`);
    const found = await this.measure(type, media.data);
    const format = (found.format ?? declaredFormat ?? media.contentType).toUpperCase();
    const parts = [format, `${media.data.length} bytes`];
    if (found.durationMs !== undefined) parts.push(`${(found.durationMs / 1000).toFixed(1)} s`);
    const described = `Got your ${type === 'image' ? 'image' : 'voice message'}: ${parts.join(', ')}.`;
    return text(type === 'voice' ? `${described} ${await this.decodedVoice(mediaId, signal)}` : described);
  }

  /** What speech-to-text would get: the voice decoded to 16 kHz mono WAV, and how long it plays. */
  protected async decodedVoice(mediaId: string, signal: AbortSignal): Promise<string> {
    try {
      const audio = await this.media.downloadAudio(mediaId, { signal });
      const seconds = (audio.durationMs / 1000).toFixed(2);
      return `Decoded for speech recognition: ${seconds} s of 16 kHz WAV (${audio.data.length} bytes).`;
    } catch (error) {
      if (error instanceof MediaFitError && error.reason === 'engine-missing') {
        return 'Install ffmpeg to decode it for speech recognition.';
      }
      return `It could not be decoded for speech recognition: ${describeError(error)}`;
    }
  }

  /** Format and playing time by the library's local rules; whatever they can tell of a file they refuse. */
  protected async measure(type: MediaType, data: Buffer): Promise<Partial<MediaInspection>> {
    try {
      return await this.media.inspect(type, data);
    } catch (error) {
      // A voice over 60 s breaks the upload rule, but its length was measured all the same.
      if (error instanceof MediaValidationError && error.reason === 'too-long') {
        return { durationMs: error.actual };
      }
      return {};
    }
  }
}

function text(content: string): WeixinReply {
  return WeixinReply.text(content);
}

function videoDescription(media: TemporaryMedia): string {
  const until = media.expiresAt.toISOString();
  return `Uploaded by nestjs-weixin-media as temporary media; its media_id works until ${until}.`;
}

function timeoutText(): string {
  const seconds = REPLY_BUDGET_MS / 1000;
  return `Weixin did not answer within ${seconds} s, so this is all I can say in time. Please try again.`;
}

function describeError(error: unknown): string {
  if (error instanceof WeixinApiError) return `Weixin answered errcode ${error.errcode} (${error.errmsg})`;
  return error instanceof Error ? error.message : String(error);
}
