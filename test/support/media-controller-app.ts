import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { type AbstractHttpAdapter, HttpAdapterHost } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MediaUploadInterceptor,
  WeixinMediaExceptionFilter,
  WeixinMediaModule,
  type WeixinMediaControllerOptions,
  type WeixinMediaModuleOptions,
} from '../../lib';
import { optionsFor, type WeixinEndpoint } from './testing-module';

export interface ControllerAppOptions {
  controller?: WeixinMediaControllerOptions | false;
  module?: WeixinMediaModuleOptions;
  /** Build the module with `forRootAsync` (options from a factory) instead of `forRoot`. */
  async?: boolean;
  /** The HTTP adapter: Express (default) or Fastify. */
  adapter?: HttpAdapterName;
  /** Applied to the app before it listens. */
  configure?: (app: INestApplication) => void | Promise<void>;
}

export type HttpAdapterName = 'express' | 'fastify';

/** Both adapters, for `describe` over each (as the official modules' e2e tests do). */
export const HTTP_ADAPTERS: readonly HttpAdapterName[] = ['express', 'fastify'];

export function createHttpAdapter(name: HttpAdapterName = 'express'): AbstractHttpAdapter {
  return name === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
}

/**
 * The descriptors this process holds open now that are not sockets, pipes or event handles (Linux): files,
 * the temp files of uploads among them. Keep-alive sockets come and go on their own; files must not.
 */
export function openFileDescriptors(): string[] {
  const files: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (!/^(socket|pipe|anon_inode):/.test(target)) files.push(target);
    } catch {
      // Closed between the listing and the look (the listing's own descriptor).
    }
  }
  return files.sort();
}

export interface ControllerApp {
  app: INestApplication;
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** The upload interceptor's temp directory: fresh per app, so leftovers are easy to see. */
  uploadDir: string;
  /** The names of the temp files in `uploadDir` right now. */
  tempFiles(): string[];
  close(): Promise<void>;
}

/**
 * A real Nest application listening on 127.0.0.1 with `WeixinMediaModule` (controller mounted) pointed at
 * the fake Weixin server (or a stand-in); the upload interceptor writes into a fresh temp directory.
 */
export async function startControllerApp(
  fake: WeixinEndpoint,
  options: ControllerAppOptions = {},
): Promise<ControllerApp> {
  const uploadDir = mkdtempSync(join(tmpdir(), 'weixin-media-ctrl-'));
  const settings = {
    ...optionsFor(fake),
    retry: { attempts: 2, baseDelayMs: 5 },
    ...options.module,
  };
  const controller = options.controller ?? { public: true };
  const weixinModule: DynamicModule = options.async
    ? WeixinMediaModule.forRootAsync({ useFactory: () => settings, controller })
    : WeixinMediaModule.forRoot({ ...settings, controller });

  class TestUploadInterceptor extends MediaUploadInterceptor {
    protected override uploadDirectory(): string {
      return uploadDir;
    }
  }

  const moduleRef = await Test.createTestingModule({ imports: [weixinModule] })
    .overrideInterceptor(MediaUploadInterceptor)
    .useClass(TestUploadInterceptor)
    .compile();
  const app = moduleRef.createNestApplication(createHttpAdapter(options.adapter), {
    logger: process.env.WEIXIN_CTRL_TEST_LOGS ? ['error', 'warn', 'debug'] : false,
  });
  await options.configure?.(app);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    uploadDir,
    tempFiles: () => readdirSync(uploadDir),
    close: async () => {
      await app.close();
      rmSync(uploadDir, { recursive: true, force: true });
    },
  };
}

/**
 * An app of the user's own: `controllers` (routes using the library's pieces) beside `WeixinMediaModule`
 * (no controller mounted) pointed at `fake`, with `WeixinMediaExceptionFilter` global, listening on 127.0.0.1.
 */
export async function startOwnRoutesApp(
  fake: WeixinEndpoint,
  options: { adapter: HttpAdapterName; controllers: Type[]; module?: WeixinMediaModuleOptions },
): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule({
    imports: [WeixinMediaModule.forRoot({ ...optionsFor(fake), ...options.module })],
    controllers: options.controllers,
  }).compile();
  const app = moduleRef.createNestApplication(createHttpAdapter(options.adapter), { logger: false });
  app.useGlobalFilters(new WeixinMediaExceptionFilter(app.get(HttpAdapterHost)));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}

/** Waits until `check()` is true (polling), up to `timeoutMs`; answers the last value. */
export async function eventually(check: () => boolean, timeoutMs = 2000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

export interface MultipartPart {
  name: string;
  /** Set for a file part. */
  filename?: string | Buffer;
  contentType?: string;
  data: Buffer | string;
}

/** A multipart/form-data body built byte by byte, so tests can send what no client library would. */
export function multipartBody(parts: MultipartPart[], boundary = 'weixinTestBoundary7MA4YWxk'): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const filename =
      part.filename === undefined
        ? Buffer.alloc(0)
        : Buffer.concat([Buffer.from('; filename="'), Buffer.from(part.filename), Buffer.from('"')]);
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`),
      filename,
      Buffer.from(`\r\n${part.contentType ? `Content-Type: ${part.contentType}\r\n` : ''}\r\n`),
      Buffer.isBuffer(part.data) ? part.data : Buffer.from(part.data),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

export function multipartContentType(boundary = 'weixinTestBoundary7MA4YWxk'): string {
  return `multipart/form-data; boundary=${boundary}`;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Parsed JSON body, when it was JSON. */
  json?: Record<string, unknown>;
  /** Body bytes the client had written when the response (or the connection's end) came. */
  bytesSent: number;
}

export interface RawRequestOptions {
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  /** Written in order; `delayMs` entries pause between writes. */
  body?: Array<Buffer | { delayMs: number }> | Buffer;
  /** End the request after the body (default true); false leaves it open (a stalled upload). */
  end?: boolean;
}

/**
 * One HTTP request on its own connection that tolerates the server answering (and closing) before the body
 * is sent: resolves with the response, or rejects when the connection ended without one.
 */
export function rawRequest(port: number, options: RawRequestOptions): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let bytesSent = 0;
    let answered = false;
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: options.method ?? 'POST',
      path: options.path,
      headers: options.headers,
      agent: false,
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.on('response', (res) => {
      answered = true;
      const sentAtAnswer = bytesSent;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', () => undefined);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(body) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json, bytesSent: sentAtAnswer });
      });
    });
    // Headers go out now, even when no body byte follows (a client waiting, a stalled upload).
    req.flushHeaders();
    const steps = Buffer.isBuffer(options.body) ? [options.body] : (options.body ?? []);
    void (async () => {
      for (const step of steps) {
        if (answered || req.destroyed) return;
        if (Buffer.isBuffer(step)) {
          bytesSent += step.length;
          if (!req.write(step)) {
            await new Promise<void>((resolveDrain) => {
              const done = (): void => {
                req.off('drain', done);
                req.off('close', done);
                resolveDrain();
              };
              req.once('drain', done);
              req.once('close', done);
            });
          }
        } else {
          await new Promise((resolveDelay) => setTimeout(resolveDelay, step.delayMs));
        }
      }
      if (options.end !== false && !req.destroyed) req.end();
    })();
  });
}
