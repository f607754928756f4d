import { Inject, Injectable, type OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { WeixinMediaOptionsError } from '../errors/weixin-media-options.error';
import { deferBodyToInterceptor } from './http-platform';

/** Provided when the controller is mounted: then an adapter the library cannot serve fails bootstrap. */
export const WEIXIN_MEDIA_CONTROLLER_MOUNTED = Symbol('WEIXIN_MEDIA_CONTROLLER_MOUNTED');

/** The adapters whose requests the upload interceptor reads (`getType()` of Nest's HTTP adapter). */
export const SUPPORTED_HTTP_ADAPTERS = ['express', 'fastify'] as const;

const MULTIPART = 'multipart/form-data';

/** The part of a Fastify instance used here (the package stays an optional peer). */
interface FastifyInstanceLike {
  hasContentTypeParser(type: string): boolean;
  addContentTypeParser(
    type: string,
    parser: (request: unknown, payload: unknown, done: (error: Error | null, body?: unknown) => void) => void,
  ): void;
  addHook(
    name: 'preParsing',
    hook: (
      request: FastifyRequestLike,
      reply: unknown,
      payload: unknown,
      done: (error: Error | null, payload?: unknown) => void,
    ) => void,
  ): void;
}

interface FastifyRequestLike {
  raw: IncomingMessage;
  routeOptions?: { config?: Record<string, unknown> };
}

const PREPARED = Symbol.for('nestjs-weixin-media.fastify-prepared');

/**
 * Prepares the application's HTTP server for uploads when it boots. On Fastify, which reads and parses a body
 * before the route's guards run and answers 415 for a content type it has no parser for, it registers a
 * `multipart/form-data` parser that leaves the body unread: guards run first, then `MediaUploadInterceptor`
 * reads the stream under its budget. An app that registered `@fastify/multipart` keeps its own (which also
 * leaves the stream alone). With the controller mounted, an adapter other than Express or Fastify fails
 * bootstrap, naming it.
 */
@Injectable()
export class WeixinMediaHttpSetup implements OnModuleInit {
  constructor(
    @Optional() @Inject(HttpAdapterHost) protected readonly adapterHost?: HttpAdapterHost,
    @Optional() @Inject(WEIXIN_MEDIA_CONTROLLER_MOUNTED) protected readonly controllerMounted?: boolean,
  ) {}

  onModuleInit(): void {
    // A standalone application context has no HTTP server: nothing to prepare.
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter) return;
    const type = typeof adapter.getType === 'function' ? adapter.getType() : undefined;
    if (type === 'fastify') {
      registerFastifyMultipart(adapter.getInstance<FastifyInstanceLike>());
    } else if (type !== 'express' && this.controllerMounted) {
      const name = `${adapter.constructor?.name ?? 'unknown'}${type ? ` (getType() "${type}")` : ''}`;
      throw new WeixinMediaOptionsError([
        `controller cannot be served by the HTTP adapter ${name}: ` +
          `the upload controller runs on ${SUPPORTED_HTTP_ADAPTERS.map((t) => `"${t}"`).join(' and ')} ` +
          '(ExpressAdapter or FastifyAdapter)',
      ]);
    }
  }
}

/**
 * A parser that leaves the multipart body as it came, and a hook that hands any other body of an upload route to
 * the interceptor unread; once per Fastify instance.
 */
export function registerFastifyMultipart(instance: FastifyInstanceLike): void {
  const marked = instance as unknown as Record<symbol, boolean>;
  if (marked[PREPARED]) return;
  marked[PREPARED] = true;
  if (!instance.hasContentTypeParser(MULTIPART)) {
    instance.addContentTypeParser(MULTIPART, (_request, _payload, done) => done(null));
  }
  instance.addHook('preParsing', (request, _reply, payload, done) => {
    if (request.routeOptions?.config?.weixinMediaUpload === true) deferBodyToInterceptor(request.raw);
    done(null, payload);
  });
}
