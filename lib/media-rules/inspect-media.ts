import { MediaValidationError } from '../errors/media-validation.error';
import type { MediaFormat, MediaInspection, MediaType } from '../interfaces/media.interface';
import { measureAmr } from './amr';
import { DamagedMediaError } from '../errors/damaged-media.error';
import { sniffContent, type DetectedFormat } from './format-sniffer';
import { readGifHeader } from './gif';
import { readJpegHeader } from './jpeg';
import type { MediaContent } from './media-content';
import { formatBytes, isMediaType, MAX_MEDIA_BYTES, MEDIA_RULES, MEDIA_TYPES } from './media-limits';
import { measureMp3 } from './mp3';
import { readMp4Video } from './mp4';
import { OtherFormatError } from '../errors/other-format.error';
import { readPngHeader } from './png';

export { detectFormat, sniffContent, type DetectedFormat } from './format-sniffer';
export { weixinFilename } from './weixin-filename';

const FORMAT_NAMES: Record<MediaFormat, string> = {
  png: 'PNG',
  jpeg: 'JPEG',
  gif: 'GIF',
  amr: 'AMR',
  mp3: 'MP3',
  mp4: 'MP4',
};

/**
 * Applies Weixin's rules for `type` to the content, in the order Weixin's answers make sense to a person:
 * the type, emptiness, size (no content read), the format from the content's first bytes, then what the
 * format's rules need (voice: the playing time, walked from the audio frames).
 * Answers what it found, or throws a `MediaValidationError` naming the rule; never reads more than that.
 */
export async function inspectMediaContent(type: unknown, content: MediaContent): Promise<MediaInspection> {
  assertMediaType(type);
  const rules = MEDIA_RULES[type];
  const bytes = content.size;
  if (bytes === 0) {
    throw new MediaValidationError('empty', `${type} is empty (0 bytes); send the file's content`, {
      type,
      actual: 0,
    });
  }
  if (bytes > rules.maxBytes) {
    throw tooLargeError(type, bytes);
  }

  const detected = await sniffContent(content);
  const { format } = detected;
  if (!format || !rules.formats.includes(format)) throw unsupportedFormatError(type, detected);

  let durationMs: number | undefined;
  try {
    durationMs = await readFormat(format, content, detected.head);
  } catch (error) {
    // The reader looked further than the signature and found another format.
    if (error instanceof OtherFormatError) {
      throw unsupportedFormatError(type, { ...detected, label: error.label });
    }
    if (!(error instanceof DamagedMediaError)) throw error;
    const message = `this ${FORMAT_NAMES[format]} file cannot be read: ${error.message}`;
    throw new MediaValidationError('unreadable', message, { type });
  }
  if (rules.maxDurationMs !== undefined && durationMs !== undefined && durationMs > rules.maxDurationMs) {
    const [actual, limit] = comparableSeconds(durationMs, rules.maxDurationMs);
    throw new MediaValidationError('too-long', `${type} is ${actual}; Weixin accepts at most ${limit}`, {
      type,
      limit: rules.maxDurationMs,
      actual: durationMs,
    });
  }
  return durationMs === undefined ? { type, format, bytes } : { type, format, bytes, durationMs };
}

/** Reads what the format's rules need; answers the playing time for audio. */
async function readFormat(
  format: MediaFormat,
  content: MediaContent,
  head: Buffer,
): Promise<number | undefined> {
  switch (format) {
    case 'png':
      await readPngHeader(content, head);
      return undefined;
    case 'gif':
      readGifHeader(head);
      return undefined;
    case 'jpeg':
      await readJpegHeader(content);
      return undefined;
    case 'mp4':
      await readMp4Video(content, head);
      return undefined;
    // Voice is at most 2 MB, so it is read whole: one read, then a synchronous walk over the frames.
    case 'amr':
      return measureAmr(await content.read(0, content.size)).durationMs;
    case 'mp3':
      return measureMp3(await content.read(0, content.size)).durationMs;
  }
}

/** The type rule on its own, for callers that need the type's limits before they read any content. */
export function assertMediaType(type: unknown): asserts type is MediaType {
  if (!isMediaType(type)) {
    throw new MediaValidationError('invalid-type', invalidTypeMessage(type));
  }
}

/**
 * How a size was measured: `exact`; `at-least` when reading stopped at the limit (a stream, a request body),
 * so only a lower bound is known; `declared` when it is what a request announced (`Content-Length`) and
 * nothing was read.
 */
export type MeasuredSize = 'exact' | 'at-least' | 'declared';

/**
 * The size rule's error, the one wording the service, the pipes and the controller share:
 * "thumb is 70.2 KB; Weixin accepts at most 64 KB", "voice is more than 2 MB (reading stopped at 2.1 MB); …".
 * Without a type (not known yet) the limit is the largest of all types.
 */
export function tooLargeError(
  type: MediaType | undefined,
  bytes: number,
  measured: MeasuredSize | boolean = 'exact',
): MediaValidationError {
  const how = measured === true ? 'at-least' : measured === false ? 'exact' : measured;
  const maxBytes = type ? MEDIA_RULES[type].maxBytes : MAX_MEDIA_BYTES;
  const [actual, limit] = comparableSizes(bytes, maxBytes);
  const measuredText =
    how === 'exact'
      ? actual
      : `more than ${limit} (${how === 'declared' ? 'the request declares' : 'reading stopped at'} ${actual})`;
  const subject = type ?? 'the file';
  const accepted = type ? limit : `${limit} for any type`;
  return new MediaValidationError(
    'too-large',
    `${subject} is ${measuredText}; Weixin accepts at most ${accepted}`,
    {
      type,
      limit: maxBytes,
      actual: bytes,
    },
  );
}

function invalidTypeMessage(type: unknown): string {
  const expected = `use ${MEDIA_TYPES.slice(0, -1).join(', ')} or ${MEDIA_TYPES[MEDIA_TYPES.length - 1]}`;
  if (type === undefined || type === null || type === '') return `the media type is missing; ${expected}`;
  const shown = typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : typeof type;
  return `${shown} is not a Weixin media type; ${expected}`;
}

function unsupportedFormatError(
  type: MediaType,
  detected: DetectedFormat & { head: Buffer },
): MediaValidationError {
  const message = `${describe(detected)}; ${type} accepts ${acceptedFormats(type)}`;
  return new MediaValidationError('unsupported-format', message, { type });
}

/** "this is WAV audio", or the first bytes of content no signature matched. */
function describe(detected: DetectedFormat & { head: Buffer }): string {
  if (detected.label) return `this is ${detected.label}`;
  const bytes = [...detected.head.subarray(0, 8)].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
  return `this is not a media format Weixin knows (it starts with bytes ${bytes})`;
}

/** "PNG, JPEG or GIF", "AMR or MP3", "JPEG only". */
function acceptedFormats(type: MediaType): string {
  const names = MEDIA_RULES[type].formats.map((format) => FORMAT_NAMES[format]);
  if (names.length === 1) return `${names[0]} only`;
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/** Sizes as a person reads them, with the exact bytes when rounding would make them look equal. */
function comparableSizes(actual: number, limit: number): [string, string] {
  const [shownActual, shownLimit] = [formatBytes(actual), formatBytes(limit)];
  if (shownActual !== shownLimit) return [shownActual, shownLimit];
  const exact = (bytes: number) => `${bytes.toLocaleString('en-US')} bytes`;
  return [`${shownActual} (${exact(actual)})`, `${shownLimit} (${exact(limit)})`];
}

/** "61.1 s" against "60 s"; "60.02 s" where one decimal would read as the limit itself. */
function comparableSeconds(actualMs: number, limitMs: number): [string, string] {
  const limit = `${+(limitMs / 1000).toFixed(3)} s`;
  for (const digits of [1, 2, 3]) {
    const actual = (actualMs / 1000).toFixed(digits);
    if (+actual > limitMs / 1000) return [`${actual} s`, limit];
  }
  return [`${actualMs} ms`, `${limitMs} ms`];
}
