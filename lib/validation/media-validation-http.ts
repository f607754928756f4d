import { BadRequestException, HttpException, PayloadTooLargeException } from '@nestjs/common';
import type { MediaValidationError } from '../errors/media-validation.error';
import { WeixinErrorCode } from '../errors/weixin-error-codes';

/** The body Weixin answers errors with; the controller, pipes and validators answer the same shape. */
export interface WeixinErrorBody {
  errcode: number;
  errmsg: string;
}

/** A broken media rule as an HTTP answer: 413 for a file too large, 400 for every other rule. */
export function toHttpException(error: MediaValidationError): HttpException {
  const body: WeixinErrorBody = { errcode: error.errcode, errmsg: error.message };
  return error.reason === 'too-large'
    ? new PayloadTooLargeException(body, { cause: error })
    : new BadRequestException(body, { cause: error });
}

/** No file in the request: Weixin's own answer is 41005 "media data missing". */
export function missingMediaHttpException(detail = 'no file was uploaded'): HttpException {
  const body: WeixinErrorBody = {
    errcode: WeixinErrorCode.MEDIA_DATA_MISSING,
    errmsg: `media data missing: ${detail}`,
  };
  return new BadRequestException(body);
}
