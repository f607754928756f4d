import {
  BadRequestException,
  HttpException,
  HttpStatus,
  NotFoundException,
  PayloadTooLargeException,
} from '@nestjs/common';
import { MediaFitError } from '../errors/media-fit.error';
import { MediaSourceError } from '../errors/media-source.error';
import type { MediaValidationError } from '../errors/media-validation.error';
import { WeixinErrorCode } from '../errors/weixin-error-codes';

/** The body Weixin answers errors with; the controller, pipes and validators answer the same shape. */
export interface WeixinErrorBody {
  errcode: number;
  errmsg: string;
}

/**
 * A broken media rule as an HTTP answer: 413 for a file too large, 400 for every other rule, with the errcode
 * Weixin would have answered. A source that cannot be read (`MediaSourceError`) is not Weixin's to answer:
 * 404 when the file does not exist, 400 otherwise, errcode equal to the status, and no server path.
 */
export function toHttpException(
  error: MediaValidationError | MediaSourceError | MediaFitError,
): HttpException {
  if (error instanceof MediaFitError) return fitHttpException(error);
  if (error instanceof MediaSourceError) {
    const missing = error.code === 'ENOENT' || error.code === 'ENOTDIR';
    const status = missing ? HttpStatus.NOT_FOUND : HttpStatus.BAD_REQUEST;
    const body: WeixinErrorBody = {
      errcode: status,
      errmsg: `the media source cannot be read (${error.code})`,
    };
    return missing
      ? new NotFoundException(body, { cause: error })
      : new BadRequestException(body, { cause: error });
  }
  const body: WeixinErrorBody = { errcode: error.errcode, errmsg: error.message };
  return error.reason === 'too-large'
    ? new PayloadTooLargeException(body, { cause: error })
    : new BadRequestException(body, { cause: error });
}

/**
 * A source `fit` could not convert: 413 (40006) over `fit.maxInputBytes` or `maxInputPixels`; 501 (errcode 501)
 * when this server lacks the engine (its operator must install it; the message says what); 400 (40005, what
 * Weixin answers for media it cannot use) for input no engine decodes, that fails or takes too long.
 */
function fitHttpException(error: MediaFitError): HttpException {
  if (error.reason === 'input-too-large') {
    const body: WeixinErrorBody = { errcode: WeixinErrorCode.INVALID_MEDIA_SIZE, errmsg: error.message };
    return new PayloadTooLargeException(body, { cause: error });
  }
  if (error.reason === 'engine-missing') {
    const body: WeixinErrorBody = { errcode: HttpStatus.NOT_IMPLEMENTED, errmsg: error.message };
    return new HttpException(body, HttpStatus.NOT_IMPLEMENTED, { cause: error });
  }
  const body: WeixinErrorBody = { errcode: WeixinErrorCode.INVALID_FILE_TYPE, errmsg: error.message };
  return new BadRequestException(body, { cause: error });
}

/** No file in the request: Weixin's own answer is 41005 "media data missing". */
export function missingMediaHttpException(detail = 'no file was uploaded'): HttpException {
  const body: WeixinErrorBody = {
    errcode: WeixinErrorCode.MEDIA_DATA_MISSING,
    errmsg: `media data missing: ${detail}`,
  };
  return new BadRequestException(body);
}
