import { FileValidator } from '@nestjs/common';
import { toHttpException } from './media-validation-http';
import { MediaSourceError } from '../errors/media-source.error';
import { MediaValidationError } from '../errors/media-validation.error';
import type {
  MediaBufferReference,
  MediaFileReference,
  MediaInspection,
  MediaType,
} from '../interfaces/media.interface';
import { isMediaType, MEDIA_TYPES } from '../media-rules/media-limits';
import { inspectMediaSource } from '../media-source/inspect-media-source';

/** A Multer file from memory storage (`buffer`) or disk storage (`path`). */
type UploadedMediaFile = MediaBufferReference | MediaFileReference;

export interface WeixinMediaFileValidatorOptions {
  /** The Weixin media type whose rules the file must meet. */
  type: MediaType;
  /**
   * Throw the Weixin-shaped `{ errcode, errmsg }` exception (413 for too large, 400 otherwise) from
   * `isValid`, so a `ParseFilePipe` answers what Weixin would. `false` answers `false` instead and leaves
   * the exception to the pipe's `errorHttpStatusCode`/`exceptionFactory`, with `buildErrorMessage` as text.
   * @default true
   */
  throwHttpException?: boolean;
}

/**
 * Weixin's rules for temporary media as a `FileValidator`, for Nest's `ParseFilePipe`:
 * `new ParseFilePipe({ validators: [new WeixinMediaFileValidator('voice')] })`.
 * The format is read from the file's content (memory storage's `buffer` or disk storage's `path`),
 * never from its name or mimetype.
 */
export class WeixinMediaFileValidator extends FileValidator<WeixinMediaFileValidatorOptions> {
  /** Why each file failed, for `buildErrorMessage`, which Nest calls with the same file right after. */
  protected readonly failures = new WeakMap<object, MediaValidationError>();

  constructor(typeOrOptions: MediaType | WeixinMediaFileValidatorOptions) {
    const options = typeof typeOrOptions === 'string' ? { type: typeOrOptions } : typeOrOptions;
    if (!isMediaType(options?.type)) {
      const [types, got] = [MEDIA_TYPES.join(', '), JSON.stringify(options?.type)];
      throw new TypeError(`WeixinMediaFileValidator needs a media type (${types}); got ${got}`);
    }
    super({ throwHttpException: true, ...options });
  }

  /** Answers true when every given file meets the rules; the missing file is `ParseFilePipe`'s to judge. */
  async isValid(file?: unknown): Promise<boolean> {
    for (const one of filesIn(file)) {
      try {
        await this.inspect(one);
      } catch (error) {
        // A file that cannot be read is not a broken rule: its own answer (404/400), never a 500.
        if (error instanceof MediaSourceError) throw toHttpException(error);
        if (!(error instanceof MediaValidationError)) throw error;
        if (this.validationOptions.throwHttpException !== false) throw toHttpException(error);
        this.failures.set(one, error);
        return false;
      }
    }
    return true;
  }

  buildErrorMessage(file: unknown): string {
    for (const one of filesIn(file)) {
      const failure = this.failures.get(one);
      if (failure) return failure.message;
    }
    return `the file does not meet Weixin's rules for ${this.validationOptions.type}`;
  }

  /** Runs the rules on one uploaded file; override to add rules of your own. */
  protected inspect(file: UploadedMediaFile): Promise<MediaInspection> {
    return inspectMediaSource(this.validationOptions.type, file);
  }
}

const FILE_KEYS = ['buffer', 'path', 'originalname', 'fieldname', 'mimetype'];

/** One file, an array (`FilesInterceptor`) or arrays by field name (`FileFieldsInterceptor`). */
function filesIn(value: unknown): UploadedMediaFile[] {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.filter((file) => file !== null && typeof file === 'object');
  if (FILE_KEYS.some((key) => key in value)) return [value as UploadedMediaFile];
  return Object.values(value).flatMap((files: unknown) => filesIn(Array.isArray(files) ? files : [files]));
}
