import {
  type CallHandler,
  type ExecutionContext,
  HttpException,
  HttpStatus,
  Injectable,
  Logger,
  type NestInterceptor,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { defer, lastValueFrom, type Observable } from 'rxjs';
import {
  missingMediaHttpException,
  toHttpException,
  type WeixinErrorBody,
} from '../validation/media-validation-http';
import { MediaValidationError } from '../errors/media-validation.error';
import type { MediaType } from '../interfaces/media.interface';
import {
  formatBytes,
  isMediaType,
  MAX_MEDIA_BYTES,
  MEDIA_RULES,
  MEDIA_TYPES,
} from '../media-rules/media-limits';
import { WeixinErrorCode } from '../errors/weixin-error-codes';

/** Every temp file of an upload is named `${MEDIA_UPLOAD_FILE_PREFIX}<uuid>`, for sweeping after a crash. */
export const MEDIA_UPLOAD_FILE_PREFIX = 'nestjs-weixin-media-upload-';

/** Limits on the multipart form besides the file size, so a hostile form cannot exhaust the server. */
export interface MediaUploadFormLimits {
  /** Text fields (only `type` is accepted). */
  fields: number;
  /** Bytes of a text field's value. */
  fieldSize: number;
  /** Bytes of a field's name. */
  fieldNameSize: number;
  /** Parts of the form, files and fields together. */
  parts: number;
  /** Header lines of one part. */
  headerPairs: number;
}

/** A file as multer's disk storage describes it. */
export interface MediaUploadFile {
  fieldname: string;
  originalname: string;
  encoding: string;
  mimetype: string;
  size: number;
  path: string;
  destination: string;
  filename: string;
}

/** The request as the interceptor sees it on Express: query parsed; after the upload, `body` and `file`. */
export interface MediaUploadRequest extends IncomingMessage {
  query?: Record<string, unknown>;
  body?: Record<string, unknown>;
  file?: MediaUploadFile;
}

/**
 * Receives a Weixin-style upload (`multipart/form-data`, the file in the field `media`, `?type=` or a `type`
 * field) before the route runs: streams the file to a temp file (never held in memory), under the size limit
 * of the requested type, and removes that file whatever happens (success, broken rule, Weixin error,
 * timeout, client abort). Every failure is an `HttpException` with Weixin's body `{ errcode, errmsg }`.
 *
 * Checks that need no body (the `type` query, the content type) answer before a byte of the body is read;
 * a file over the limit, a form of the wrong shape or a stalled body answer as soon as they are seen,
 * and the connection is closed instead of reading the rest.
 *
 * The mounted controller uses it; it also serves routes of your own (with `WeixinMediaExceptionFilter` for
 * the error shape). Subclass it to change the limits, the timeouts or the temp directory.
 */
@Injectable()
export class MediaUploadInterceptor implements NestInterceptor {
  protected readonly logger = new Logger(MediaUploadInterceptor.name);
  /** The form field of the file, as in Weixin's own API (`curl -F media=@photo.jpg`). */
  protected readonly fieldName: string = 'media';
  /** The text fields a form may carry besides the file. */
  protected readonly allowedFields: readonly string[] = ['type'];
  /**
   * The body must make progress at least this often, in milliseconds; a stalled upload answers 408.
   * @default 30000
   */
  protected readonly idleTimeoutMs: number = 30_000;
  /**
   * The whole body must arrive within this time, in milliseconds (a slow drip ends too); then 408.
   * Below Node's own `server.requestTimeout` (300 s), which would answer a bare 408 first.
   * @default 240000
   */
  protected readonly bodyTimeoutMs: number = 240_000;
  protected readonly formLimits: MediaUploadFormLimits = {
    fields: 4,
    fieldSize: 256,
    fieldNameSize: 64,
    parts: 6,
    headerPairs: 16,
  };

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const request = http.getRequest<MediaUploadRequest>();
    const response = http.getResponse<ServerResponse>();
    const queryType = this.queryType(request);
    this.assertMultipart(request);

    const upload = new UploadSession(this.uploadDirectory());
    try {
      await this.receive(request, response, upload, queryType);
      this.checkForm(request, queryType);
    } catch (error) {
      await upload.cleanup();
      throw this.toHttpException(error, request, queryType);
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

  /** The largest file accepted: the query type's limit, else the largest of all (the rules judge then). */
  protected fileSizeLimit(type: MediaType | undefined): number {
    return type ? MEDIA_RULES[type].maxBytes : MAX_MEDIA_BYTES;
  }

  /** The `type` of the query, checked before the body is read; undefined when it may come as a form field. */
  protected queryType(request: MediaUploadRequest): MediaType | undefined {
    const type = request.query?.type;
    if (type === undefined) return undefined;
    if (!isMediaType(type)) throw this.invalidType(type);
    return type;
  }

  protected assertMultipart(request: MediaUploadRequest): void {
    const contentType = request.headers['content-type'] ?? '';
    if (!/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) {
      const sent = contentType ? quote(contentType, 60) : 'a body without a content type';
      throw missingMediaHttpException(
        `send the file as multipart/form-data in the form field "${this.fieldName}" ` +
          `${this.curlHint()}, not as ${sent}`,
      );
    }
  }

  /** After the form was read: one file in the right field, and a valid type from the query or the form. */
  protected checkForm(request: MediaUploadRequest, queryType: MediaType | undefined): void {
    const fieldType = request.body?.type;
    if (queryType === undefined && fieldType === undefined) {
      throw toHttpException(
        new MediaValidationError(
          'invalid-type',
          `type is missing: add ?type=${MEDIA_TYPES.join('|')} to the URL or send a "type" form field`,
        ),
      );
    }
    if (fieldType !== undefined && !isMediaType(fieldType)) throw this.invalidType(fieldType);
    if (queryType !== undefined && fieldType !== undefined && fieldType !== queryType) {
      throw toHttpException(
        new MediaValidationError(
          'invalid-type',
          `type is "${queryType}" in the URL but "${String(fieldType)}" in the form; send one type`,
        ),
      );
    }
    if (!request.file?.path) {
      throw missingMediaHttpException(`no file in the form field "${this.fieldName}" ${this.curlHint()}`);
    }
  }

  /** Runs multer with disk storage and this request's limits; settles at the first failure it sees. */
  protected receive(
    request: MediaUploadRequest,
    response: ServerResponse,
    upload: UploadSession,
    type: MediaType | undefined,
  ): Promise<void> {
    const fileSize = this.fileSizeLimit(type);
    const onClose = (): void => {
      if (!request.complete) upload.fail(new UploadAbortedError());
    };
    const onError = (): void => upload.fail(new UploadAbortedError());
    request.once('close', onClose);
    request.once('error', onError);
    // At the first failure nothing more of the body is read (parsed, written or drained) until the answer
    // is out: the error filter then allows a short grace and closes the connection.
    upload.onFail(() => {
      request.unpipe();
      request.pause();
    });
    const watchdog = this.watchProgress(request, upload);
    try {
      const middleware = loadMulter()({
        storage: upload.storage(),
        limits: { ...this.formLimits, fileSize, files: 1 },
        // Browsers and curl send UTF-8 filenames as raw bytes; latin1 would garble every Chinese name.
        defParamCharset: 'utf8',
        streamHandler: (req: IncomingMessage, busboy: EventEmitter & NodeJS.WritableStream) => {
          this.watchForm(busboy, upload, fileSize, type);
          req.pipe(busboy);
        },
      }).single(this.fieldName);
      middleware(request, response, (error?: unknown) => (error ? upload.fail(error) : upload.succeed()));
    } catch (error) {
      upload.fail(error);
    }
    return upload.done.finally(() => {
      clearInterval(watchdog);
      request.off('close', onClose);
      request.off('error', onError);
    });
  }

  /**
   * Sees the form's parts as busboy parses them, to answer a wrong shape at once instead of after the
   * rest of the body (multer reports its errors only once the request has been read to its end).
   */
  protected watchForm(
    busboy: EventEmitter,
    upload: UploadSession,
    fileSize: number,
    type: MediaType | undefined,
  ): void {
    busboy.on('file', (name: unknown, stream: Readable) => {
      if (name !== this.fieldName) return upload.fail(this.wrongField(name));
      stream.once('limit', () => upload.fail(this.tooLarge(type, fileSize)));
    });
    busboy.on('field', (name: unknown, _value: unknown, info?: FieldInfo) => {
      if (info?.nameTruncated || info?.valueTruncated) {
        upload.fail(missingMediaHttpException('a form field name or value is too long'));
      } else if (name === this.fieldName) {
        const message = `"${this.fieldName}" must be a file ${this.curlHint()}, not text`;
        upload.fail(missingMediaHttpException(message));
      } else if (typeof name !== 'string' || !this.allowedFields.includes(name)) {
        const allowed = [this.fieldName, ...this.allowedFields].map((field) => `"${field}"`).join(', ');
        upload.fail(missingMediaHttpException(`unexpected form field ${quote(name)}: send only ${allowed}`));
      }
    });
    busboy.on('filesLimit', () => upload.fail(this.oneFileOnly()));
    busboy.on('partsLimit', () => upload.fail(missingMediaHttpException('the form has too many parts')));
    busboy.on('fieldsLimit', () => upload.fail(missingMediaHttpException('the form has too many fields')));
    busboy.on('error', (error: unknown) => upload.fail(error));
  }

  /** Fails the upload when the body stalls for `idleTimeoutMs`, or takes over `bodyTimeoutMs` in all. */
  protected watchProgress(request: MediaUploadRequest, upload: UploadSession): NodeJS.Timeout {
    const started = Date.now();
    let lastBytes = request.socket?.bytesRead ?? 0;
    let lastProgress = started;
    const tick = Math.max(10, Math.min(1000, Math.floor(this.idleTimeoutMs / 4)));
    const timer = setInterval(() => {
      const now = Date.now();
      const bytes = request.socket?.bytesRead ?? lastBytes;
      if (bytes !== lastBytes) {
        lastBytes = bytes;
        lastProgress = now;
      }
      if (now - lastProgress >= this.idleTimeoutMs) {
        upload.fail(new UploadTimeoutError(`the upload sent no data for ${seconds(this.idleTimeoutMs)}`));
      } else if (now - started >= this.bodyTimeoutMs) {
        const limit = seconds(this.bodyTimeoutMs);
        upload.fail(new UploadTimeoutError(`the upload did not finish within ${limit}`));
      }
    }, tick);
    timer.unref();
    return timer;
  }

  /** Any failure of the upload as an `HttpException` with Weixin's body. */
  protected toHttpException(
    error: unknown,
    request: MediaUploadRequest,
    type: MediaType | undefined,
  ): unknown {
    if (error instanceof HttpException) return error;
    if (error instanceof MediaValidationError) return toHttpException(error);
    if (error instanceof UploadTimeoutError) {
      return weixinHttpException(
        HttpStatus.REQUEST_TIMEOUT,
        WeixinErrorCode.MEDIA_DATA_MISSING,
        `media data missing: ${error.message}`,
      );
    }
    if (error instanceof UploadAbortedError || (request.destroyed && !request.complete)) {
      this.logger.debug('The client closed the connection during an upload');
      const errmsg = 'media data missing: the client closed the connection';
      return weixinHttpException(HttpStatus.BAD_REQUEST, WeixinErrorCode.MEDIA_DATA_MISSING, errmsg);
    }
    const code = (error as { code?: unknown } | null)?.code;
    if ((error as Error | null)?.name === 'MulterError' && typeof code === 'string') {
      return this.multerException(code, (error as { field?: unknown }).field, type);
    }
    // busboy's parse errors ("Malformed part header", "Unexpected end of form", "Boundary not found", ...)
    // are plain errors; system errors (ENOSPC writing the temp file) carry a `syscall`: server errors.
    if (error instanceof Error && !('syscall' in error)) {
      const reason = error.message.slice(0, 100);
      return missingMediaHttpException(`the multipart/form-data body is malformed (${reason})`);
    }
    return error;
  }

  /** multer's error codes, should multer see a problem before `watchForm` does. */
  protected multerException(code: string, field: unknown, type: MediaType | undefined): HttpException {
    switch (code) {
      case 'LIMIT_FILE_SIZE':
        return this.tooLarge(type, this.fileSizeLimit(type));
      case 'LIMIT_UNEXPECTED_FILE':
        return field === this.fieldName ? this.oneFileOnly() : this.wrongField(field);
      case 'LIMIT_FILE_COUNT':
        return this.oneFileOnly();
      default:
        return missingMediaHttpException(`the form is not acceptable (${code})`);
    }
  }

  protected tooLarge(type: MediaType | undefined, limit: number): HttpException {
    const what = type ?? 'media';
    return toHttpException(
      new MediaValidationError(
        'too-large',
        `${what} is larger than ${formatBytes(limit)} (stopped reading there); ` +
          `Weixin accepts at most ${formatBytes(limit)} for ${type ?? 'any type'}`,
        { type, limit, actual: limit + 1 },
      ),
    );
  }

  protected wrongField(name: unknown): HttpException {
    const message = `the file must be in the form field "${this.fieldName}", not in ${quote(name)}`;
    return missingMediaHttpException(message);
  }

  protected oneFileOnly(): HttpException {
    return missingMediaHttpException(`send exactly one file, in the form field "${this.fieldName}"`);
  }

  private invalidType(type: unknown): HttpException {
    const shown = typeof type === 'string' ? quote(type) : 'given more than once';
    const message = `type ${shown} is not a media type; Weixin accepts ${MEDIA_TYPES.join(', ')}`;
    return toHttpException(new MediaValidationError('invalid-type', message));
  }

  private curlHint(): string {
    return `(curl -F ${this.fieldName}=@photo.jpg)`;
  }
}

function weixinHttpException(status: number, errcode: number, errmsg: string): HttpException {
  const body: WeixinErrorBody = { errcode, errmsg };
  return new HttpException(body, status);
}

/** A value from the request, shortened and quoted as JSON (no control characters reach the message raw). */
function quote(value: unknown, max = 40): string {
  return JSON.stringify(String(value).slice(0, max));
}

function seconds(ms: number): string {
  return `${+(ms / 1000).toFixed(1)} s`;
}

class UploadTimeoutError extends Error {
  override readonly name = 'UploadTimeoutError';
}

class UploadAbortedError extends Error {
  override readonly name = 'UploadAbortedError';
  constructor() {
    super('the client closed the connection during the upload');
  }
}

interface MulterFileInProgress {
  stream: Readable;
  path?: string;
}

type StorageCallback = (error: Error | null, info?: Partial<MediaUploadFile>) => void;

interface MulterStorageEngine {
  _handleFile(request: unknown, file: MulterFileInProgress, callback: StorageCallback): void;
  _removeFile(request: unknown, file: MulterFileInProgress, callback: (error: Error | null) => void): void;
}

type MulterMiddleware = (
  request: IncomingMessage,
  response: ServerResponse,
  next: (error?: unknown) => void,
) => void;

interface FieldInfo {
  nameTruncated?: boolean;
  valueTruncated?: boolean;
}

type MulterFactory = (options: {
  storage: MulterStorageEngine;
  limits: Record<string, number>;
  defParamCharset: string;
  streamHandler: (request: IncomingMessage, busboy: EventEmitter & NodeJS.WritableStream) => void;
}) => { single(field: string): MulterMiddleware };

let multerFactory: MulterFactory | undefined;

/** multer is an optional peer, needed only by the controller: loaded on the first upload. */
function loadMulter(): MulterFactory {
  if (!multerFactory) {
    try {
      multerFactory = require('multer') as MulterFactory;
    } catch {
      throw new Error('The Weixin media upload controller needs the "multer" package: npm install multer');
    }
  }
  return multerFactory;
}

/**
 * One request's upload: its temp files (tracked from the moment they are created), and its outcome:
 * the first failure wins, and a settled upload takes no new files.
 */
class UploadSession {
  private readonly files = new Map<string, WriteStream>();
  private readonly removals = new Map<string, Promise<void>>();
  private closed = false;
  private settled = false;
  private failListener?: () => void;
  private resolve!: () => void;
  private reject!: (error: unknown) => void;
  readonly done = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });

  constructor(private readonly directory: string) {}

  succeed(): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve();
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.closed = true;
    this.failListener?.();
    this.reject(error);
  }

  onFail(listener: () => void): void {
    this.failListener = listener;
  }

  /** A multer storage engine that writes into this session's temp files. */
  storage(): MulterStorageEngine {
    return {
      _handleFile: (_request, file, callback) => {
        if (this.closed) {
          file.stream.resume();
          callback(new Error('the upload has already ended'));
          return;
        }
        const path = join(this.directory, `${MEDIA_UPLOAD_FILE_PREFIX}${randomUUID()}`);
        // Readable by this process's user only: uploads may be private.
        const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
        this.files.set(path, out);
        file.path = path;
        pipeline(file.stream, out, (error) => {
          if (error) return callback(error);
          const size = out.bytesWritten;
          callback(null, { destination: this.directory, filename: basename(path), path, size });
        });
      },
      _removeFile: (_request, file, callback) => {
        if (!file.path) return callback(null);
        this.remove(file.path).then(() => callback(null), callback);
      },
    };
  }

  /** Removes every temp file (waiting for open ones to close first); takes no new files after. */
  async cleanup(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.files.keys()].map((path) => this.remove(path)));
  }

  /** Idempotent: multer's own clean-up and ours may both ask for the same file. */
  private remove(path: string): Promise<void> {
    let removal = this.removals.get(path);
    if (!removal) {
      removal = removeFile(path, this.files.get(path));
      this.removals.set(path, removal);
    }
    return removal;
  }
}

async function removeFile(path: string, out: WriteStream | undefined): Promise<void> {
  if (out && !out.closed) {
    await new Promise<void>((resolve) => {
      out.once('close', resolve);
      out.destroy();
    });
  }
  // Never throws: a clean-up failure must not replace the answer the request is owed.
  await unlink(path).catch(() => undefined);
}
