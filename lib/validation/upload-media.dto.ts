import type * as ClassValidator from 'class-validator';
import { loadOptionalPeer } from '../common/optional-peer';
import type { MediaType } from '../interfaces/media.interface';
import { MEDIA_TYPES } from '../media-rules/media-limits';

let registered = false;

/**
 * The class-validator rules of `UploadMediaDto`, registered once, as its decorators would have been.
 * class-validator is an optional peer, loaded when the first `UploadMediaDto` is made (as `ValidationPipe`
 * does before it validates), never when the package is imported: loading it would spend the import budget
 * (`importCost.goalMs` in bench/results.json). Without it the DTO stays a plain class.
 */
function registerRules(dto: typeof UploadMediaDto): void {
  if (registered) return;
  registered = true;
  const classValidator = loadOptionalPeer<typeof ClassValidator>('class-validator', 'UploadMediaDto');
  if (!classValidator) return;
  classValidator.IsIn(MEDIA_TYPES, {
    message: ({ value }: ClassValidator.ValidationArguments) =>
      `type must be one of ${MEDIA_TYPES.join(', ')} (Weixin's temporary media types); ` +
      (value === undefined || value === '' ? 'it is missing' : `got ${shown(value)}`),
  })(dto.prototype, 'type');
}

/** The value as sent, cut short: a query string can be long. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/**
 * The fields of an upload request besides the file: `POST ...?type=voice` or a `type` form field.
 * Validate it with Nest's `ValidationPipe`, e.g. with `weixinValidationExceptionFactory` for Weixin's shape.
 * Its rule: `type` is one of image, voice, video, thumb (class-validator's `IsIn`).
 */
export class UploadMediaDto {
  /** The Weixin media type: image, voice, video or thumb. */
  type!: MediaType;

  constructor() {
    registerRules(UploadMediaDto);
  }
}
