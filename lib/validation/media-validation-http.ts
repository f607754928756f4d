import {
  BadRequestException,
  HttpException,
  NotFoundException,
  PayloadTooLargeException,
} from '@nestjs/common';
import type { MediaFitError } from '../errors/media-fit.error';
import type { MediaSourceError } from '../errors/media-source.error';
import type { MediaValidationError } from '../errors/media-validation.error';
import {
  missingMediaResponse,
  weixinErrorResponse,
  type WeixinErrorResponse,
} from '../errors/weixin-error-response';

/**
 * A Weixin-shaped answer as Nest's exception for its status (`BadRequestException` for 400, ...), so an app's
 * own filters and interceptors that test for those classes keep working.
 */
export function weixinHttpException({ status, body }: WeixinErrorResponse, cause?: unknown): HttpException {
  const options = cause === undefined ? undefined : { cause };
  switch (status) {
    case 400:
      return new BadRequestException(body, options);
    case 404:
      return new NotFoundException(body, options);
    case 413:
      return new PayloadTooLargeException(body, options);
    default:
      return new HttpException(body, status, options);
  }
}

/**
 * A broken media rule as an HTTP answer: 413 for a file too large, 400 for every other rule, with the errcode
 * Weixin would have answered. A source that cannot be read (`MediaSourceError`) is not Weixin's to answer:
 * 404 when the file does not exist, 400 otherwise, errcode equal to the status, and no server path. A source
 * `fit` could not convert: 413 over its input limits, 501 when this server lacks the engine, 400 otherwise.
 */
export function toHttpException(
  error: MediaValidationError | MediaSourceError | MediaFitError,
): HttpException {
  // Every one of these classes has an answer in the mapping.
  return weixinHttpException(weixinErrorResponse(error)!, error);
}

/** No file in the request: Weixin's own answer is 41005 "media data missing". */
export function missingMediaHttpException(detail = 'no file was uploaded'): HttpException {
  return weixinHttpException(missingMediaResponse(detail));
}
