import {
  type CallHandler,
  type ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  Logger,
  type NestInterceptor,
  Optional,
} from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { defer, lastValueFrom, type Observable } from 'rxjs';
import { MediaFitError } from '../errors/media-fit.error';
import { MediaValidationError } from '../errors/media-validation.error';
import type { MediaType, WeixinMediaUploadLimits } from '../interfaces';
import { assertMediaType } from '../media-rules/inspect-media';
import { MAX_MEDIA_BYTES, MEDIA_RULES } from '../media-rules/media-limits';
import { weixinErrorResponse } from '../errors/weixin-error-response';
import {
  missingMediaHttpException,
  toHttpException,
  weixinHttpException,
} from '../validation/media-validation-http';
import { checkedAppId, invalidAppIdHttpException, queryAppId } from './account-appid';
import { markWeixinMediaRequest, nodeRequest, sentContentType } from './http-platform';
import { readMultipartUpload } from './multipart-upload.reader';
import type { MediaUploadFile, MediaUploadFormLimits, ReceivedUpload } from './multipart-upload.interface';
import { curlHint } from './quoted-input';
import {
  UploadAbortedError,
  UploadBodyTooLargeError,
  UploadFormError,
  UploadTimeoutError,
} from '../errors/upload-errors';
import { quote } from './quoted-input';
import {
  type ResolvedUploadLimits,
  resolveUploadLimits,
  WEIXIN_MEDIA_CONTROLLER_FIT_LIMIT,
  WEIXIN_MEDIA_UPLOAD_LIMITS,
} from './upload-limits';
import { UploadSession } from './upload-session';

/** The request as the interceptor leaves it, on Express and Fastify alike: the file and the form's fields. */
export interface MediaUploadRequest {
  query?: Record<string, unknown>;
  body?: Record<string, unknown>;
  file?: MediaUploadFile;
}

/**
 * Receives a Weixin-style upload (`multipart/form-data`, the file in the field `media`, `?type=` or a `type`
 * field) before the route runs, on Express and on Fastify: streams the file to a temp file (never held in
 * memory) under one budget for the whole body (the type's file limit plus a small allowance for the form),
 * and removes that file whatever happens (success, broken rule, Weixin error, timeout, client abort).
 * Every failure is an `HttpException` with Weixin's body `{ errcode, errmsg }`.
 *
 * Checks that need no body (the `type` query, the content type, a declared `Content-Length` over the budget)
 * answer before a byte of the body is read; a file over the limit, a form of the wrong shape or a stalled or
 * too slow body answer as soon as they are seen, and the connection is closed instead of reading the rest.
 * The file is then `request.file` (`@UploadedFile()`), the fields `request.body` (`@Body()`).
 *
 * The mounted controller uses it; it also serves routes of your own (with `WeixinMediaExceptionFilter` for
 * the error shape). Subclass it to change the limits or the temp directory.
 */
@Injectable()
export class MediaUploadInterceptor implements NestInterceptor {
  protected readonly logger = new Logger(MediaUploadInterceptor.name);
  /** The form field of the file, as in Weixin's own API (`curl -F media=@photo.jpg`). */
  protected readonly fieldName: string = 'media';
  /** The text fields a form may carry besides the file. */
  protected readonly allowedFields: readonly string[] = ['type', 'appid'];
  protected readonly formLimits: MediaUploadFormLimits = {
    fields: 4,
    fieldSize: 256,
    fieldNameSize: 64,
    parts: 6,
    headerPairs: 16,
  };
  /** The body's budget and time limits (`controller.limits` for the mounted controller). */
  protected readonly limits: ResolvedUploadLimits;

  /** Set when the controller fits what it receives: the file limit is then `fit.maxInputBytes`. */
  protected readonly fitLimit?: number;

  constructor(
    @Optional() @Inject(WEIXIN_MEDIA_UPLOAD_LIMITS) limits?: WeixinMediaUploadLimits,
    @Optional() @Inject(WEIXIN_MEDIA_CONTROLLER_FIT_LIMIT) fitLimit?: number | null,
  ) {
    this.limits = resolveUploadLimits(limits);
    this.fitLimit = fitLimit ?? undefined;
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const request = context.switchToHttp().getRequest<MediaUploadRequest>();
    const raw = nodeRequest(request);
    markWeixinMediaRequest(raw);
    const queryType = this.queryType(request);
    // A malformed appid is refused before a byte of the body is read.
    const appId = queryAppId(request.query);
    this.assertMultipart(raw);

    const upload = new UploadSession(this.uploadDirectory());
    try {
      const received = await readMultipartUpload(raw, {
        fieldName: this.fieldName,
        allowedFields: this.allowedFields,
        type: queryType,
        fileSizeLimit: (type) => this.fileSizeLimit(type),
        limits: this.limits,
        formLimits: this.formLimits,
        session: upload,
      });
      this.checkForm(received, queryType);
      this.checkFormAppId(received.fields.appid, appId);
      // Where `@UploadedFile()` and `@Body()` look, on the framework's request (and the Node one under it).
      for (const target of new Set<object>([request, raw])) {
        Object.assign(target, { file: received.file, body: received.fields });
      }
    } catch (error) {
      await upload.cleanup();
      throw this.toHttpException(error, raw);
    }
    // The temp file lives exactly as long as the route: removed before the answer goes out.
    return defer(async () => {
      try {
        return await lastValueFrom(next.handle(), { defaultValue: undefined });
      } finally {
        await upload.cleanup();
      }
    });
  }

  /** Where temp files go. */
  protected uploadDirectory(): string {
    return tmpdir();
  }

  /**
   * The largest file accepted: the type's limit, else the largest of all (the rules judge once the type is
   * known), or `fit.maxInputBytes` when the controller fits. The body's budget is this plus
   * `limits.formOverheadBytes`.
   */
  protected fileSizeLimit(type: MediaType | undefined): number {
    if (this.fitLimit !== undefined) return this.fitLimit;
    return type ? MEDIA_RULES[type].maxBytes : MAX_MEDIA_BYTES;
  }

  /** The `type` of the query, checked before the body is read; undefined when it may come as a form field. */
  protected queryType(request: MediaUploadRequest): MediaType | undefined {
    const type = request.query?.type;
    if (type === undefined) return undefined;
    if (Array.isArray(type)) {
      const message = `type is given ${type.length} times in the URL; send one type`;
      throw toHttpException(new MediaValidationError('invalid-type', message));
    }
    try {
      assertMediaType(type);
    } catch (error) {
      throw this.toHttpException(error);
    }
    return type;
  }

  protected assertMultipart(request: IncomingMessage): void {
    const contentType = sentContentType(request);
    if (!/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) {
      const sent = contentType ? quote(contentType, 60) : 'a body without a content type';
      throw missingMediaHttpException(
        `send the file as multipart/form-data in the form field "${this.fieldName}" ` +
          `${curlHint(this.fieldName)}, not as ${sent}`,
      );
    }
  }

  /** After the form was read: one file in the right field, and a valid type from the query or the form. */
  protected checkForm({ fields, file }: ReceivedUpload, queryType: MediaType | undefined): void {
    const fieldType = fields.type;
    if (queryType === undefined && fieldType === undefined) assertMediaType(undefined);
    if (queryType !== undefined && fieldType !== undefined && fieldType !== queryType) {
      throw new MediaValidationError(
        'invalid-type',
        `type is "${queryType}" in the URL but ${quote(fieldType)} in the form; send one type`,
      );
    }
    if (!file?.path) {
      throw new UploadFormError(`no file in the form field "${this.fieldName}" ${curlHint(this.fieldName)}`);
    }
  }

  /**
   * An `appid` form field must be well formed and, when the URL has one too, the same: guards run before the
   * body is read and can only have checked the URL's, so a different one in the form would slip past them.
   */
  protected checkFormAppId(fieldAppId: string | undefined, urlAppId: string | undefined): void {
    if (fieldAppId === undefined) return;
    checkedAppId(fieldAppId, 'in the form');
    if (urlAppId !== undefined && fieldAppId !== urlAppId) {
      throw invalidAppIdHttpException(
        `appid is "${urlAppId}" in the URL but ${quote(fieldAppId)} in the form; send one appid`,
      );
    }
  }

  /** Any failure of the upload as an `HttpException` with Weixin's body. */
  protected toHttpException(error: unknown, request?: IncomingMessage): unknown {
    if (error instanceof HttpException) return error;
    if (
      error instanceof MediaValidationError ||
      error instanceof MediaFitError ||
      error instanceof UploadFormError ||
      error instanceof UploadBodyTooLargeError ||
      error instanceof UploadTimeoutError
    ) {
      return weixinHttpException(weixinErrorResponse(error)!, error);
    }
    if (error instanceof UploadAbortedError || (request?.destroyed && !request.complete)) {
      this.logger.debug('The client closed the connection during an upload');
      return weixinHttpException(weixinErrorResponse(new UploadAbortedError())!);
    }
    // System errors (ENOSPC writing the temp file) are server errors.
    return error;
  }
}
