/**
 * The controller side of a fleet worker (`fleet-worker.ts`): the worker serves `WeixinMediaModule`'s mounted
 * controller on 127.0.0.1 (Express or Fastify) and sends some of its uploads through it with a real multipart
 * client (form-data over node:http); some of those the client abandons (`ClientAbort`). A probe inside the
 * app records how the server ended each request, so a soak can tell a route that settled from one that hangs.
 */
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import FormData from 'form-data';
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { EventEmitter, once } from 'node:events';
import { Agent, type ClientRequest, type IncomingMessage, request, ServerResponse } from 'node:http';
import { Observable } from 'rxjs';
import type { ClientAbort, ControllerRecord } from './fleet';

/** The header that carries the job's upload index from the client to the probe. */
const UPLOAD_INDEX_HEADER = 'x-fleet-upload';
const WEIXIN_UPLOAD_PATH = '/cgi-bin/media/upload';
/** Node publishes every outgoing node:http request here, in the async context of the code that made it. */
const CLIENT_REQUEST_START = 'http.client.request.start';

/**
 * A global interceptor (outside the controller's own upload interceptor) that records, per upload index, when
 * the request reached the app, every upload request its route sends to Weixin, how the route settled and when
 * the connection closed. The route runs inside an AsyncLocalStorage scope, so an outgoing request can be tied
 * to the HTTP request that caused it.
 */
export class ControllerProbe implements NestInterceptor {
  readonly records = new Map<number, ControllerRecord>();
  /** Every failure a route ended with, rendered by the worker's audit (the secret check reads them). */
  readonly failures: unknown[] = [];
  private readonly events = new EventEmitter().setMaxListeners(0);
  private readonly scope = new AsyncLocalStorage<number>();
  private readonly onClientRequest = (message: unknown): void => {
    const index = this.scope.getStore();
    const { request: outgoing } = message as { request: ClientRequest };
    if (index === undefined || !outgoing.path.startsWith(WEIXIN_UPLOAD_PATH)) return;
    const record = this.records.get(index);
    if (record) record.weixinCalls++;
    this.events.emit(`weixin:${index}`);
  };

  constructor(private readonly adapter: ControllerRecord['adapter']) {
    subscribe(CLIENT_REQUEST_START, this.onClientRequest);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const index = Number(rawRequest(http.getRequest()).headers[UPLOAD_INDEX_HEADER]);
    if (!Number.isInteger(index)) return next.handle();
    const response = rawResponse(http.getResponse());
    const record: ControllerRecord = {
      adapter: this.adapter,
      settles: 0,
      ended: 'pending',
      closed: false,
      weixinCalls: 0,
    };
    this.records.set(index, record);
    response.once('close', () => {
      record.closed = true;
      if (response.writableFinished) record.status = response.statusCode;
    });
    this.events.emit(`entered:${index}`);
    return new Observable((subscriber) =>
      // Subscribed inside the scope: the route (and the service call under it) runs in it.
      this.scope.run(index, () =>
        next.handle().subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => {
            record.settles++;
            record.ended = errorName(error);
            this.failures.push(error);
            subscriber.error(error);
          },
          complete: () => {
            record.settles++;
            if (record.ended === 'pending') record.ended = 'answered';
            subscriber.complete();
          },
        }),
      ),
    );
  }

  /** Resolves once the request `index` reached the app (at once if it did already). */
  entered(index: number): Promise<void> {
    return this.records.has(index)
      ? Promise.resolve()
      : once(this.events, `entered:${index}`).then(() => undefined);
  }

  /** Resolves once the route of `index` sent an upload request to Weixin (at once if it did already). */
  calledWeixin(index: number): Promise<void> {
    return (this.records.get(index)?.weixinCalls ?? 0) > 0
      ? Promise.resolve()
      : once(this.events, `weixin:${index}`).then(() => undefined);
  }

  /** Waits until every recorded route settled and its connection closed, up to `timeoutMs`. */
  async quiet(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const busy = () => [...this.records.values()].some((record) => record.settles === 0 || !record.closed);
    while (busy() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  close(): void {
    unsubscribe(CLIENT_REQUEST_START, this.onClientRequest);
  }
}

export type ControllerAnswer =
  { kind: 'answered'; status: number; body: string; json?: Record<string, unknown> } | { kind: 'abandoned' };

/**
 * The worker's HTTP client of its own controller: one multipart POST per upload over a keep-alive agent,
 * as an application's client would send it.
 */
export class ControllerClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(
    private readonly port: number,
    private readonly probe: ControllerProbe,
  ) {}

  /**
   * Uploads `content` as the form field `media`; with `clientAbort`, leaves as that says and answers
   * `abandoned` (or the answer, if one came first).
   */
  upload(
    index: number,
    content: Buffer,
    filename: string,
    clientAbort?: ClientAbort,
  ): Promise<ControllerAnswer> {
    const form = new FormData();
    form.append('media', content, { filename, contentType: 'image/jpeg' });
    const body = form.getBuffer();
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (answer: ControllerAnswer) => {
        if (settled) return;
        settled = true;
        resolve(answer);
      };
      const outgoing = request({
        host: '127.0.0.1',
        port: this.port,
        method: 'POST',
        path: '/weixin/media?type=image',
        headers: { ...form.getHeaders(), 'content-length': body.length, [UPLOAD_INDEX_HEADER]: index },
        agent: this.agent,
      });
      outgoing.on('error', (error) => {
        if (!settled) reject(error);
      });
      outgoing.on('response', (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          finish({ kind: 'answered', status: response.statusCode ?? 0, body: text, json });
        });
      });
      const leave = () => {
        if (settled) return;
        finish({ kind: 'abandoned' });
        outgoing.destroy();
      };
      if (clientAbort === 'mid-body') {
        // Half the body, and gone once the controller is reading it (its temp file open).
        const half = body.subarray(0, Math.floor(body.length / 2));
        outgoing.write(half, () => {
          void this.probe.entered(index).then(() => setTimeout(leave, 5 + (index % 4) * 5));
        });
      } else {
        if (clientAbort === 'awaiting-weixin') void this.probe.calledWeixin(index).then(leave);
        outgoing.end(body);
      }
    });
  }

  /** Closes the idle keep-alive sockets (the audit counts descriptors after this). */
  close(): void {
    this.agent.destroy();
  }
}

function rawRequest(request: unknown): IncomingMessage {
  return ((request as { raw?: IncomingMessage }).raw ?? request) as IncomingMessage;
}

/** The Node response under Express's response (itself) or Fastify's reply (`raw`). */
function rawResponse(response: unknown): ServerResponse {
  return response instanceof ServerResponse ? response : (response as { raw: ServerResponse }).raw;
}

/** `BadRequestException 400`, `AbortError` (a DOMException or Node's), or the error's class. */
function errorName(error: unknown): string {
  const failure = error as { name?: string; getStatus?: () => number; constructor?: { name?: string } };
  if (failure?.name === 'AbortError') return 'AbortError';
  const name = failure?.constructor?.name ?? failure?.name ?? typeof error;
  return typeof failure?.getStatus === 'function' ? `${name} ${failure.getStatus()}` : name;
}
