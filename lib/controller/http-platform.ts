import { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The few places where Express and Fastify differ for the media routes. Express hands Nest the Node request and
 * response themselves; Fastify wraps them (`request.raw`, `reply.raw`). Bodies are read, and connections closed,
 * on the Node objects, the same on both.
 */

/** The Node request under an Express request (itself) or a Fastify request (`raw`). */
export function nodeRequest(request: unknown): IncomingMessage {
  if (request instanceof IncomingMessage) return request;
  const raw = (request as { raw?: unknown } | null)?.raw;
  if (raw instanceof IncomingMessage) return raw;
  throw new TypeError('not an HTTP request of Express or Fastify');
}

/** The Node response under an Express response (itself) or a Fastify reply (`raw`). */
export function nodeResponse(response: unknown): ServerResponse {
  if (response instanceof ServerResponse) return response;
  const raw = (response as { raw?: unknown } | null)?.raw;
  if (raw instanceof ServerResponse) return raw;
  throw new TypeError('not an HTTP response of Express or Fastify');
}

/** The part of Fastify's reply used here (the package stays an optional peer). */
export interface FastifyReplyLike {
  raw: ServerResponse;
  sent: boolean;
  code(status: number): FastifyReplyLike;
  header(name: string, value: string | number): FastifyReplyLike;
  getHeaders(): Record<string, string | number | string[] | undefined>;
  send(payload?: unknown): FastifyReplyLike;
  hijack(): FastifyReplyLike;
}

export function isFastifyReply(response: unknown): response is FastifyReplyLike {
  const reply = response as Partial<FastifyReplyLike> | null;
  return (
    !(response instanceof ServerResponse) &&
    reply?.raw instanceof ServerResponse &&
    typeof reply.code === 'function' &&
    typeof reply.send === 'function'
  );
}

/**
 * Answers `status` with a short text `body`: on Fastify through the reply (its hooks run), on Express through
 * the Node response in one write of headers and body (Express's `send` would hash the body for an ETag and
 * write it apart from the headers: 50 µs a request, bench/callback.bench.ts). Headers set before stay.
 */
export function sendText(
  response: unknown,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (isFastifyReply(response)) {
    response.code(status).header('Content-Type', contentType);
    for (const [name, value] of Object.entries(headers)) response.header(name, value);
    response.send(body);
    return;
  }
  const raw = nodeResponse(response);
  if (raw.headersSent) return;
  for (const [name, value] of Object.entries(headers)) raw.setHeader(name, value);
  raw.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  raw.end(body);
}

/** Sets a response header through the framework, so it goes out with whatever the framework sends. */
export function setResponseHeader(response: unknown, name: string, value: string | number): void {
  if (isFastifyReply(response)) response.header(name, value);
  else nodeResponse(response).setHeader(name, value);
}

const WEIXIN_MEDIA_REQUEST = Symbol.for('nestjs-weixin-media.request');

/**
 * Marks a request as one of the library's (the mounted controller's, or a route using `MediaUploadInterceptor`),
 * so a global `WeixinMediaExceptionFilter` answers all of its failures in Weixin's shape.
 */
export function markWeixinMediaRequest(request: unknown): void {
  (nodeRequest(request) as unknown as Record<symbol, boolean>)[WEIXIN_MEDIA_REQUEST] = true;
}

export function isWeixinMediaRequest(request: unknown): boolean {
  try {
    return (nodeRequest(request) as unknown as Record<symbol, boolean>)[WEIXIN_MEDIA_REQUEST] === true;
  } catch {
    return false;
  }
}

const SENT_CONTENT_TYPE = Symbol.for('nestjs-weixin-media.content-type');

/** The content type the client sent (see `deferBodyToInterceptor`). */
export function sentContentType(request: IncomingMessage): string {
  const saved = (request as unknown as Record<symbol, string | undefined>)[SENT_CONTENT_TYPE];
  return saved ?? request.headers['content-type'] ?? '';
}

/**
 * Leaves a body that is not multipart unread by Fastify on an upload route (it would answer 415 for a type it
 * has no parser for, before the guards): the request is presented as multipart to Fastify, whose multipart
 * parser reads nothing, and `sentContentType` keeps what the client sent, for the interceptor to refuse.
 */
export function deferBodyToInterceptor(request: IncomingMessage): void {
  const contentType = request.headers['content-type'] ?? '';
  if (/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return;
  (request as unknown as Record<symbol, string>)[SENT_CONTENT_TYPE] = contentType;
  request.headers['content-type'] = 'multipart/form-data';
}

/**
 * The Fastify route config (`@RouteConfig`) of an upload route: `@SetMetadata(FASTIFY_ROUTE_CONFIG,
 * WEIXIN_MEDIA_UPLOAD_ROUTE)` marks it without importing `@nestjs/platform-fastify`.
 */
export const FASTIFY_ROUTE_CONFIG = '__fastify_route_config__';
export const WEIXIN_MEDIA_UPLOAD_ROUTE = { weixinMediaUpload: true } as const;
