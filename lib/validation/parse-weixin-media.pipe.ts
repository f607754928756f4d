import { HttpException, Injectable, Optional, type PipeTransform } from '@nestjs/common';
import { missingMediaHttpException, toHttpException } from './media-validation-http';
import { MediaSourceError } from '../errors/media-source.error';
import { MediaValidationError } from '../errors/media-validation.error';
import type { MediaInspection, MediaSource, MediaType } from '../interfaces/media.interface';
import { isMediaType, MEDIA_TYPES } from '../media-rules/media-limits';
import { inspectMediaSource } from '../media-source/inspect-media-source';

export interface ParseWeixinMediaPipeOptions {
  /** The Weixin media type whose rules the file must meet. */
  type: MediaType;
  /**
   * Answer 400 `{ errcode: 41005 }` when no file came; `false` passes `undefined` on instead.
   * @default true
   */
  fileIsRequired?: boolean;
}

/**
 * Turns an uploaded file (Multer, memory or disk storage) into the `MediaInspection` of Weixin's rules for
 * one type: `@UploadedFile(new ParseWeixinMediaPipe('voice')) media: MediaInspection`.
 * A broken rule answers `{ errcode, errmsg }` as Weixin would: 413 for too large, 400 otherwise.
 */
@Injectable()
export class ParseWeixinMediaPipe implements PipeTransform<unknown, Promise<MediaInspection | undefined>> {
  protected readonly type: MediaType;
  protected readonly fileIsRequired: boolean;

  constructor(@Optional() typeOrOptions?: MediaType | ParseWeixinMediaPipeOptions) {
    const options = typeof typeOrOptions === 'string' ? { type: typeOrOptions } : typeOrOptions;
    if (!isMediaType(options?.type)) {
      throw new TypeError(
        `ParseWeixinMediaPipe needs a media type (${MEDIA_TYPES.join(', ')}): ` +
          `new ParseWeixinMediaPipe('image') or new ParseWeixinMediaPipe({ type: 'image' }); ` +
          `got ${JSON.stringify(options?.type)}`,
      );
    }
    this.type = options.type;
    this.fileIsRequired = options.fileIsRequired ?? true;
  }

  async transform(value: unknown): Promise<MediaInspection | undefined> {
    if (value === undefined || value === null) {
      if (this.fileIsRequired) throw this.missingFileException();
      return undefined;
    }
    try {
      return await inspectMediaSource(this.type, value as MediaSource);
    } catch (error) {
      if (error instanceof MediaSourceError) throw toHttpException(error);
      throw error instanceof MediaValidationError ? this.toException(error) : error;
    }
  }

  /** The answer for a broken rule; override for another shape. */
  protected toException(error: MediaValidationError): HttpException {
    return toHttpException(error);
  }

  /** The answer when the request had no file. */
  protected missingFileException(): HttpException {
    return missingMediaHttpException();
  }
}
