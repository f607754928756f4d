import { BadRequestException } from '@nestjs/common';
import { WeixinErrorCode } from '../errors/weixin-error-codes';
import type { WeixinErrorBody } from '../errors/weixin-error-response';

/** The parts of class-validator's `ValidationError` used here (class-validator stays an optional peer). */
export interface ValidationErrorLike {
  property: string;
  constraints?: Record<string, string>;
  children?: ValidationErrorLike[];
}

/**
 * An `exceptionFactory` for Nest's `ValidationPipe` that answers as Weixin does: 400 `{ errcode, errmsg }`,
 * errcode 40004 ("invalid media type") when `type` is wrong, 40005 otherwise, every message in `errmsg`.
 * `new ValidationPipe({ exceptionFactory: weixinValidationExceptionFactory })`.
 */
export function weixinValidationExceptionFactory(errors: ValidationErrorLike[]): BadRequestException {
  const messages = errors.flatMap(messagesOf);
  const body: WeixinErrorBody = {
    errcode: errors.some((error) => error.property === 'type')
      ? WeixinErrorCode.INVALID_MEDIA_TYPE
      : WeixinErrorCode.INVALID_FILE_TYPE,
    errmsg: messages.join('; ') || 'the request is not valid',
  };
  return new BadRequestException(body);
}

function messagesOf(error: ValidationErrorLike): string[] {
  return [...Object.values(error.constraints ?? {}), ...(error.children ?? []).flatMap(messagesOf)];
}
