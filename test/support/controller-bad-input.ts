import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, afterEach, before, beforeEach, describe } from 'node:test';
import request from 'supertest';
import { FakeWeixinServer } from '../../lib/testing';
import {
  type ControllerApp,
  type ControllerAppOptions,
  eventually,
  HTTP_ADAPTERS,
  type HttpAdapterName,
  type RawResponse,
  startControllerApp,
} from './media-controller-app';
import { mediaFixture } from './paths';

export const UPLOAD = '/cgi-bin/media/upload';
export const MB = 1024 * 1024;
export const JPEG = readFileSync(mediaFixture('image.jpg'));
/** The suites' stall limit: short, so slow-body tests end quickly. */
export const IDLE_TIMEOUT_MS = 400;
/** The suites' floor of the whole-body time. */
export const MIN_BODY_TIME_MS = 1500;

export interface Answer {
  status: number;
  body: unknown;
}

/** status, the Weixin-shaped body, and no stack anywhere. */
export function assertWeixinError(answer: Answer, status: number, errcode: number, errmsg?: RegExp): void {
  const text = JSON.stringify(answer.body);
  assert.equal(answer.status, status, `status ${answer.status}: ${text}`);
  assert.ok(answer.body && typeof answer.body === 'object', `a JSON body: ${text}`);
  assert.deepEqual(Object.keys(answer.body).sort(), ['errcode', 'errmsg'], text);
  const { errcode: actual, errmsg: message } = answer.body as { errcode: number; errmsg: string };
  assert.equal(actual, errcode, text);
  assert.equal(typeof message, 'string');
  assert.doesNotMatch(message, /\bat .+:\d+:\d+/, 'no stack trace');
  if (errmsg) assert.match(message, errmsg);
}

export function raw(res: RawResponse): Answer {
  return { status: res.status, body: res.json ?? res.body };
}

/** A body of `bytes` bytes that starts like a JPEG; its content never matters, the size check comes first. */
export function oversized(bytes: number): Buffer {
  const data = Buffer.alloc(bytes, 0x20);
  JPEG.copy(data, 0, 0, 2);
  return data;
}

/** What a bad-input suite sees: the app on one adapter, the fake Weixin, and a way to assert a refusal. */
export interface BadInputSuite {
  adapter: HttpAdapterName;
  fake: FakeWeixinServer;
  ctx: ControllerApp;
  /** Every status the app answered in the suite: none may be a 500. */
  statuses: number[];
  /** Runs a request, records its status, asserts the Weixin-shaped refusal and that Weixin was never called. */
  refused(send: () => Promise<Answer>, status: number, errcode: number, errmsg?: RegExp): Promise<void>;
  post(query?: string): request.Test;
}

/**
 * `describe(title)` once per adapter (Express, Fastify), each with a controller app (public, no reuse cache,
 * short body limits) on the fake Weixin server; after each test the temp directory must be empty.
 */
export function describeBadInput(
  title: string,
  body: (suite: BadInputSuite) => void,
  options: Omit<ControllerAppOptions, 'adapter'> = {},
): void {
  for (const adapter of HTTP_ADAPTERS) {
    describe(`${title} (${adapter})`, () => {
      const suite = {
        adapter,
        statuses: [] as number[],
        post: (query = '') => request(suite.ctx.url).post(`/weixin/media${query}`),
        refused: async (send: () => Promise<Answer>, status: number, errcode: number, errmsg?: RegExp) => {
          const answer = await send();
          suite.statuses.push(answer.status);
          assertWeixinError(answer, status, errcode, errmsg);
          assert.equal(suite.fake.countRequests(UPLOAD), 0, 'no upload reached Weixin');
        },
      } as BadInputSuite;

      before(async () => {
        suite.fake = await FakeWeixinServer.start();
        suite.ctx = await startControllerApp(suite.fake, {
          controller: {
            public: true,
            limits: { idleTimeoutMs: IDLE_TIMEOUT_MS, minBodyTimeMs: MIN_BODY_TIME_MS },
          },
          // Every accepted upload then reaches Weixin, so the filename tests see what was sent.
          module: { mediaCache: false },
          ...options,
          adapter,
        });
      });
      after(async () => {
        await suite.ctx?.close();
        await suite.fake?.close();
        assert.ok(!suite.statuses.some((status) => status >= 500), `no 5xx: ${suite.statuses.join(',')}`);
      });
      beforeEach(() => suite.fake.reset());
      afterEach(async () => {
        assert.ok(
          await eventually(() => suite.ctx.tempFiles().length === 0),
          `temp files left: ${suite.ctx.tempFiles().join(', ')}`,
        );
      });

      body(suite);
    });
  }
}

export interface StreamedAnswer extends Answer {
  /** The answer's header block. */
  head: string;
  /** Body bytes the server's socket read in all (the request line and headers included). */
  serverBytesRead: number;
  /** Body bytes the client's socket accepted (written to the kernel) before the connection ended. */
  accepted: number;
  /** Body bytes written when the first byte of the answer arrived. */
  sentAtAnswer: number;
  /** Milliseconds from the request's start to the first byte of the answer. */
  answeredAfterMs: number;
}

/**
 * Sends one request over a raw socket: the request head, `prefix`, then `total` bytes of `filler` (as fast as the
 * server takes them, or `chunkDelayMs` apart), then `suffix`; answers what came back and how much the server read.
 */
export async function streamRequest(
  ctx: ControllerApp,
  options: {
    path: string;
    headers: Record<string, string | number>;
    prefix?: Buffer;
    filler?: Buffer;
    total?: number;
    suffix?: Buffer;
    chunkDelayMs?: number;
  },
): Promise<StreamedAnswer> {
  const { prefix = Buffer.alloc(0), filler = Buffer.alloc(64 * 1024, 0x61), total = 0 } = options;
  const suffix = options.suffix ?? Buffer.alloc(0);
  let serverSocket: Socket | undefined;
  ctx.app.getHttpServer().once('connection', (socket: Socket) => (serverSocket = socket));
  const started = Date.now();
  const result = await new Promise<Omit<StreamedAnswer, 'status' | 'body' | 'head' | 'serverBytesRead'>>(
    (resolve) => {
      let accepted = 0;
      let written = 0;
      let sentAtAnswer = -1;
      let answeredAfterMs = -1;
      let response = '';
      const socket = connect(ctx.port, '127.0.0.1');
      socket.on('data', (data: Buffer) => {
        if (sentAtAnswer < 0) [sentAtAnswer, answeredAfterMs] = [written, Date.now() - started];
        response += data.toString('latin1');
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ accepted, sentAtAnswer, answeredAfterMs, response } as never));
      const head = Object.entries(options.headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
      socket.write(`POST ${options.path} HTTP/1.1\r\nHost: x\r\n${head}\r\n`);
      const send = (chunk: Buffer): boolean =>
        socket.write(chunk, (error) => {
          if (!error) accepted += chunk.length;
        });
      send(prefix);
      const pump = (): void => {
        while (written < total && !socket.destroyed) {
          const chunk = filler.subarray(0, Math.min(filler.length, total - written));
          written += chunk.length;
          const more = send(chunk);
          if (options.chunkDelayMs) return void setTimeout(pump, options.chunkDelayMs);
          if (!more) return void socket.once('drain', pump);
        }
        if (written >= total && !socket.destroyed) send(suffix);
      };
      pump();
    },
  );
  const response = (result as unknown as { response: string }).response;
  const [head, body = ''] = response.split('\r\n\r\n');
  let json: unknown = body;
  try {
    json = JSON.parse(body);
  } catch {
    // Not JSON: the assertion on the body will say so.
  }
  assert.ok(
    await eventually(() => serverSocket?.destroyed === true, 5000),
    'the server closed the connection',
  );
  return {
    ...result,
    status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]),
    body: json,
    head,
    serverBytesRead: serverSocket!.bytesRead,
  };
}
