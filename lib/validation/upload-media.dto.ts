import type * as ClassValidator from 'class-validator';
import type { MediaType } from '../interfaces/media.interface';
import { MEDIA_TYPES } from '../media-rules/media-limits';

/** class-validator is an optional peer: without it this stays a plain class and importing it never fails. */
function loadClassValidator(): typeof ClassValidator | undefined {
  try {
    return require('class-validator') as typeof ClassValidator;
  } catch {
    return undefined;
  }
}

const classValidator = loadClassValidator();

function IsMediaType(): PropertyDecorator {
  if (!classValidator) return () => undefined;
  return classValidator.IsIn(MEDIA_TYPES, {
    message: ({ value }: ClassValidator.ValidationArguments) =>
      `type must be one of ${MEDIA_TYPES.join(', ')} (Weixin's temporary media types); ` +
      (value === undefined || value === '' ? 'it is missing' : `got ${shown(value)}`),
  });
}

/** The value as sent, cut short: a query string can be long. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/**
 * The fields of an upload request besides the file: `POST ...?type=voice` or a `type` form field.
 * Validate it with Nest's `ValidationPipe`, e.g. with `weixinValidationExceptionFactory` for Weixin's shape.
 */
export class UploadMediaDto {
  /** The Weixin media type: image, voice, video or thumb. */
  @IsMediaType()
  type!: MediaType;
}
