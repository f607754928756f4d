import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Inject,
  Logger,
  Optional,
} from '@nestjs/common';
import { type AbstractHttpAdapter, BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type FastifyReplyLike,
  isFastifyReply,
  isWeixinMediaRequest,
  nodeRequest,
  nodeResponse,
} from './http-platform';
import { WeixinApiError } from '../errors/weixin-api.error';
import { WeixinErrorCode } from '../errors/weixin-error-codes';
import {
  errcodeForStatus as weixinErrcodeForStatus,
  weixinErrorResponse,
  type WeixinErrorBody,
  type WeixinErrorResponse,
} from '../errors/weixin-error-response';
import { WeixinNetworkError } from '../errors/weixin-network.error';

const INTERNAL_ERROR: WeixinErrorBody = { errcode: WeixinErrorCode.SYSTEM_BUSY, errmsg: 'internal error' };

/**
 * Answers the failures of the media routes with Weixin's own error shape `{ errcode, errmsg }` and the
 * matching status: 400 for a broken rule or a bad request, 413 for too large, 401/403 from guards, 404 for
 * an unknown media_id or an unknown account (40013), 503 when the accounts resolver does not answer in time,
 * 502 when Weixin fails (its errcode kept), 504 when it times out. Anything unexpected
 * is logged and answered 500 `{ errcode: -1, errmsg: 'internal error' }`, never with a stack.
 *
 * Works on Express and Fastify: it replies through the application's HTTP adapter. It answers what it owns:
 * the library's errors (`MediaValidationError`, `WeixinApiError`, `WeixinNetworkError`), exceptions that already
 * carry Weixin's body (the pipes', the validator's), and every failure of a request to the media controller or
 * a route using `MediaUploadInterceptor`. Anything else gets Nest's default answer, so
 * `app.useGlobalFilters(new WeixinMediaExceptionFilter(app.get(HttpAdapterHost)))` leaves the app's other
 * error responses as they were (the adapter host may be left out: the filter then replies through the
 * framework's response object).
 */
@Catch()
export class WeixinMediaExceptionFilter implements ExceptionFilter {
  protected readonly logger = new Logger(WeixinMediaExceptionFilter.name);
  /** After an early answer, the longest the connection stays open for the client to read it, in milliseconds. */
  protected readonly graceMs: number = 2000;
  /** After an early answer, the most bytes of the rest of the body read (and discarded). */
  protected readonly graceBytes: number = 1024 * 1024;

  constructor(@Optional() @Inject(HttpAdapterHost) protected readonly adapterHost?: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<unknown>();
    const response = http.getResponse<unknown>();
    const adapter = this.httpAdapter(response);
    if (!this.owns(exception, request)) {
      new BaseExceptionFilter(adapter as AbstractHttpAdapter).catch(exception, host);
      return;
    }
    const rawResponse = nodeResponse(response);
    if (rawResponse.destroyed || rawResponse.writableEnded) {
      // The client left (an abort mid-upload or while Weixin was called): nobody to answer, nothing to log.
      this.logger.debug(`The client left before the answer (${describe(exception)})`);
      return;
    }
    const { status, body } = this.toWeixinError(exception);
    if (status >= 500 && !(exception instanceof WeixinApiError || exception instanceof WeixinNetworkError)) {
      const detail =
        exception instanceof Error ? (exception.stack ?? exception.message) : describe(exception);
      this.logger.error(detail);
    }
    if (rawResponse.headersSent) {
      // Mid-stream: the status is gone; cutting the connection is the only honest signal left.
      rawResponse.destroy();
      return;
    }
    const rawRequest = nodeRequest(request);
    if (!rawRequest.complete) {
      this.answerAndClose(rawRequest, response, status, body);
      return;
    }
    adapter.setHeader(response, 'Cache-Control', 'no-store');
    adapter.reply(response, body, status);
  }

  /**
   * Whether the exception is this filter's to answer: the library's errors, Weixin-shaped exceptions, and
   * everything on the library's own requests. Override to widen or narrow it.
   */
  protected owns(exception: unknown, request: unknown): boolean {
    if (weixinErrorResponse(exception)) return true;
    if (exception instanceof HttpException && isWeixinErrorBody(exception.getResponse())) return true;
    return isWeixinMediaRequest(request);
  }

  /** The application's HTTP adapter, or one made for this response when the filter was created by hand. */
  protected httpAdapter(response: unknown): ReplyAdapter {
    return this.adapterHost?.httpAdapter ?? responseAdapter(response);
  }

  /**
   * The status and Weixin-shaped body for any exception: the library's errors as the pipes and validators
   * answer them (errors/weixin-error-response.ts), an `HttpException` with its status.
   */
  protected toWeixinError(exception: unknown): WeixinErrorResponse {
    const known = weixinErrorResponse(exception);
    if (known) return known;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return { status, body: this.httpExceptionBody(exception.getResponse(), status, exception.message) };
    }
    // http-errors style (body-parser's 400/413/415 when the filter is global): a client error, its status.
    const status =
      (exception as { status?: unknown; statusCode?: unknown } | null)?.status ??
      (exception as { statusCode?: unknown } | null)?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const message = exception instanceof Error ? exception.message : 'bad request';
      return { status, body: { errcode: this.errcodeForStatus(status), errmsg: message } };
    }
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, body: { ...INTERNAL_ERROR } };
  }

  /**
   * Answers before the body was read to its end (too large, too slow, refused early): the answer goes out
   * whole now, on the Node response below either framework, with `Connection: close`; the rest of the body is
   * not read beyond a small grace, then the connection closes.
   */
  protected answerAndClose(
    request: IncomingMessage,
    response: unknown,
    status: number,
    body: WeixinErrorBody,
  ): void {
    const raw = nodeResponse(response);
    if (isFastifyReply(response)) {
      // Headers the app set through Fastify (CORS, ...) still go out; Fastify itself sends nothing more.
      for (const [name, value] of Object.entries(response.getHeaders())) {
        if (value !== undefined) raw.setHeader(name, value);
      }
      response.hijack();
    }
    const payload = JSON.stringify(body);
    raw.statusCode = status;
    raw.setHeader('Content-Type', 'application/json; charset=utf-8');
    raw.setHeader('Content-Length', Buffer.byteLength(payload));
    raw.setHeader('Cache-Control', 'no-store');
    raw.setHeader('Connection', 'close');
    raw.write(payload);
    this.endAfterGrace(request, raw);
  }

  /**
   * Ends an early answer once the client had a fair chance to read it (lingering close, as nginx and Apache do):
   * the rest of the body is read and discarded up to `graceBytes`, then no more is read, and the connection
   * stays until the body ends, the client leaves (seen only while reading) or `graceMs` passed. Closing while a
   * client still sends resets the connection, and its next write can fail before it read the answer; left
   * unread, its writes only wait.
   */
  protected endAfterGrace(request: IncomingMessage, response: ServerResponse): void {
    let bytes = 0;
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearTimeout(deadline);
      request.off('data', count);
      request.off('end', end);
      request.off('close', end);
      response.end();
    };
    const count = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (bytes <= this.graceBytes) return;
      request.off('data', count);
      request.pause();
    };
    const deadline = setTimeout(end, this.graceMs);
    deadline.unref();
    request.on('data', count);
    request.once('end', end);
    request.once('close', end);
    // Read and discard what comes meanwhile.
    request.resume();
    if (request.readableEnded || request.destroyed) end();
  }

  /** The errcode for a status when the exception brought none (a guard's 401/403 keeps its status). */
  protected errcodeForStatus(status: number): number {
    return weixinErrcodeForStatus(status);
  }

  private httpExceptionBody(response: unknown, status: number, fallback: string): WeixinErrorBody {
    const object =
      typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : {};
    const errcode = typeof object.errcode === 'number' ? object.errcode : this.errcodeForStatus(status);
    const message = object.errmsg ?? object.message ?? (typeof response === 'string' ? response : fallback);
    const errmsg = Array.isArray(message) ? message.map(String).join('; ') : String(message);
    return { errcode, errmsg };
  }
}

/** What the filter needs of an HTTP adapter. */
type ReplyAdapter = Pick<AbstractHttpAdapter, 'reply' | 'setHeader' | 'isHeadersSent' | 'end'>;

/** Replies through the response object itself (Fastify's reply, Express's response): no adapter host given. */
function responseAdapter(response: unknown): ReplyAdapter {
  if (isFastifyReply(response)) {
    return {
      reply: (reply: FastifyReplyLike, body: unknown, status?: number) =>
        (status === undefined ? reply : reply.code(status)).send(body),
      setHeader: (reply: FastifyReplyLike, name: string, value: string) => reply.header(name, value),
      isHeadersSent: (reply: FastifyReplyLike) => reply.sent,
      end: (reply: FastifyReplyLike, message?: string) => reply.raw.end(message),
    };
  }
  return {
    reply: (res: ServerResponse, body: unknown, status?: number) => {
      if (status !== undefined) res.statusCode = status;
      const json = typeof body === 'object' && body !== null;
      res.setHeader('Content-Type', json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8');
      res.end(json ? JSON.stringify(body) : String(body ?? ''));
    },
    setHeader: (res: ServerResponse, name: string, value: string) => res.setHeader(name, value),
    isHeadersSent: (res: ServerResponse) => res.headersSent,
    end: (res: ServerResponse, message?: string) => res.end(message),
  };
}

function isWeixinErrorBody(body: unknown): body is WeixinErrorBody {
  const object = body as Partial<WeixinErrorBody> | null;
  return (
    typeof object === 'object' && typeof object?.errcode === 'number' && typeof object.errmsg === 'string'
  );
}

function describe(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}
