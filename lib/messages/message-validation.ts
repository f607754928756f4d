import { MessageValidationError } from '../errors/message-validation.error';
import type { CustomMessage, CustomMessageType, MediaRef, SendOptions } from '../interfaces';

/**
 * An openid as Weixin issues them: 28 characters of letters, digits, `-` and `_` for an Official Account
 * (unionids and other platforms' ids are of the same alphabet). Up to 64 is allowed, so test ids and
 * future lengths pass; whitespace, `@`, quotes and other characters never do.
 */
export const OPEN_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The longest text content sent, in bytes of UTF-8 (about 680 Chinese characters). weixin-api.md and
 * Weixin's customer-service page give no figure; Weixin answers 45002 past its limit, and 2048 bytes is the
 * limit of text replies that customer-service text is reported to share. Refused here so that a text over
 * it never costs a call; split longer text into several messages.
 */
export const MAX_TEXT_BYTES = 2048;

export const CUSTOM_MESSAGE_TYPES: readonly CustomMessageType[] = [
  'text',
  'image',
  'voice',
  'video',
  'music',
];

/** A customer-service account: `name@weixin-id`. */
const KF_ACCOUNT_PATTERN = /^[^\s@]{1,64}@[^\s@]{1,64}$/;
const MEDIA_ID_PATTERN = /^[^\s\x00-\x1f]{1,256}$/;

/** A `{ mediaId }` given instead of a source; anything else is a source for the upload's rules to judge. */
export function isMediaRef(value: unknown): value is MediaRef {
  return typeof value === 'object' && value !== null && 'mediaId' in value;
}

export function assertOpenId(openId: unknown): asserts openId is string {
  if (typeof openId !== 'string' || openId === '') {
    throw new MessageValidationError(
      'invalid-openid',
      `openId must be the user's openid (FromUserName of their message); got ${describe(openId)}`,
      { field: 'openId' },
    );
  }
  if (!OPEN_ID_PATTERN.test(openId)) {
    throw new MessageValidationError(
      'invalid-openid',
      `openId "${printable(openId)}" is not an openid: 1-64 letters, digits, - or _ (Weixin's are 28)`,
      { field: 'openId', limit: 64, actual: openId.length },
    );
  }
}

export function assertSendOptions(options: SendOptions): void {
  const { kfAccount } = options;
  if (kfAccount !== undefined && (typeof kfAccount !== 'string' || !KF_ACCOUNT_PATTERN.test(kfAccount))) {
    throw new MessageValidationError(
      'invalid-field',
      `kfAccount must be a customer-service account, name@weixin-id; got ${describe(kfAccount)}`,
      { field: 'kfAccount' },
    );
  }
}

/** Checks everything Weixin would refuse about `message` that is knowable without uploading its media. */
export function assertMessage(message: CustomMessage): void {
  const msgtype: unknown = (message as { msgtype?: unknown } | null)?.msgtype;
  if (!CUSTOM_MESSAGE_TYPES.includes(msgtype as CustomMessageType)) {
    throw new MessageValidationError(
      'unknown-msgtype',
      `msgtype must be one of ${CUSTOM_MESSAGE_TYPES.join(', ')}; got ${describe(msgtype)}`,
      { field: 'msgtype' },
    );
  }
  switch (message.msgtype) {
    case 'text':
      return assertText(message.content);
    case 'image':
      return assertMedia(message.image, 'image');
    case 'voice':
      return assertMedia(message.voice, 'voice');
    case 'video':
      assertMedia(message.video, 'video');
      if (message.thumb !== undefined) assertMedia(message.thumb, 'thumb');
      return assertTexts(message, ['title', 'description']);
    case 'music':
      assertUrl(message.musicUrl, 'musicUrl', true);
      assertUrl(message.hqMusicUrl, 'hqMusicUrl', false);
      assertMedia(message.thumb, 'thumb');
      return assertTexts(message, ['title', 'description']);
  }
}

function assertText(content: unknown): void {
  if (typeof content !== 'string' || content === '') {
    throw new MessageValidationError(
      'empty-text',
      `a text message needs content, a non-empty string; got ${describe(content)}`,
      { field: 'content' },
    );
  }
  const bytes = Buffer.byteLength(content, 'utf8');
  if (bytes > MAX_TEXT_BYTES) {
    throw new MessageValidationError(
      'text-too-long',
      `the text is ${bytes} bytes of UTF-8; Weixin sends at most ${MAX_TEXT_BYTES}: split it into several messages`,
      { field: 'content', limit: MAX_TEXT_BYTES, actual: bytes },
    );
  }
}

function assertMedia(value: unknown, field: string): void {
  if (value === undefined || value === null) {
    throw new MessageValidationError(
      'missing-field',
      `this message needs ${field}: a media source or { mediaId }`,
      { field },
    );
  }
  if (!isMediaRef(value)) return;
  const { mediaId } = value as { mediaId: unknown };
  if (typeof mediaId !== 'string' || !MEDIA_ID_PATTERN.test(mediaId)) {
    throw new MessageValidationError(
      'invalid-field',
      `${field}.mediaId must be a media_id (1-256 characters, no spaces); got ${describe(mediaId)}`,
      { field },
    );
  }
}

function assertUrl(value: unknown, field: string, required: boolean): void {
  if (value === undefined && !required) return;
  if (value === undefined || value === '') {
    throw new MessageValidationError('missing-field', `a music message needs ${field}`, { field });
  }
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new MessageValidationError(
      'invalid-field',
      `${field} must be an http or https URL; got ${describe(value)}`,
      { field },
    );
  }
}

function assertTexts(message: object, fields: string[]): void {
  for (const field of fields) {
    const value: unknown = (message as Record<string, unknown>)[field];
    if (value !== undefined && typeof value !== 'string') {
      throw new MessageValidationError('invalid-field', `${field} must be a string; got ${describe(value)}`, {
        field,
      });
    }
  }
}

/** What a wrong value was, without echoing more than a short, printable piece of it. */
function describe(value: unknown): string {
  if (typeof value === 'string') return value === '' ? 'an empty string' : `"${printable(value)}"`;
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : typeof value;
}

function printable(text: string): string {
  const clean = text.replace(/[\x00-\x1f\x7f]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}...` : clean;
}
