import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FakeWeixinRequest } from './fake-weixin-request.interface';
import { ridOf, weixinError } from './fake-weixin-errors';

const JSON_CONTENT_TYPE = 'application/json; charset=UTF-8';

export type BodyOutcome = { kind: 'read'; body: Buffer } | { kind: 'too-large' } | { kind: 'aborted' };

/** The most of a JSON body the fake reads: Weixin's JSON requests are small. */
const JSON_BODY_LIMIT = 64 * 1024;

/**
 * One request and its answer. Every answer goes through here so the request log always records what the
 * client was told, and a client that already left never makes the fake throw.
 */
export class FakeExchange {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  /** The JSON body as received, once `readJsonObject` read one (Weixin's rid record keeps it). */
  jsonBodyText?: string;
  /** The caller's address as Weixin reports it (40164's errmsg, rid records); a fault may set another. */
  callerIp: string;
  /** Called with every error answer whose errmsg carries a rid (the fake's rid log). */
  onFailure?: (rid: string, body: { errcode: number; errmsg: string }) => void;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly entry: FakeWeixinRequest,
  ) {
    this.method = entry.method;
    this.path = entry.path;
    this.query = entry.query;
    this.callerIp = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
  }

  /** Splits `/path?query` by hand: `new URL()` would read `//host/...` paths as a host. */
  static parseTarget(target: string): { path: string; query: Record<string, string> } {
    const mark = target.indexOf('?');
    const path = mark < 0 ? target : target.slice(0, mark);
    const entries = new Map<string, string>();
    if (mark >= 0) {
      for (const [key, value] of new URLSearchParams(target.slice(mark + 1))) {
        if (!entries.has(key)) entries.set(key, value);
      }
    }
    // fromEntries defines own properties, so a `__proto__` key stays a plain key.
    return { path, query: Object.fromEntries(entries) };
  }

  /** The client is gone: nothing written now would arrive. */
  get gone(): boolean {
    return this.res.destroyed || this.req.socket.destroyed;
  }

  json(status: number, body: object): void {
    if ('errcode' in body && typeof body.errcode === 'number') this.entry.errcode = body.errcode;
    this.send(status, { 'Content-Type': JSON_CONTENT_TYPE }, Buffer.from(JSON.stringify(body)));
  }

  /** A Weixin error: HTTP 200 with `{errcode, errmsg}` (errmsg with a rid), as the platform answers them. */
  error(errcode: number, errmsg?: string, status = 200): void {
    const body = weixinError(errcode, errmsg, this.callerIp);
    const rid = ridOf(body.errmsg);
    if (rid) this.onFailure?.(rid, body);
    this.json(status, body);
  }

  /** A bare HTTP failure, like the gateway in front of Weixin answers it. */
  httpStatus(status: number): void {
    const reason = STATUS_CODES[status] ?? 'Error';
    const html =
      `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n` +
      `<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
    this.send(status, { 'Content-Type': 'text/html' }, Buffer.from(html));
  }

  send(status: number, headers: Record<string, string>, body: Buffer): void {
    this.entry.status = status;
    if (this.res.headersSent || this.gone) return;
    this.res.writeHead(status, { ...headers, 'Content-Length': String(body.length) });
    this.res.end(body);
  }

  /** Destroys the connection without a word, as a reset does. */
  destroy(): void {
    this.entry.status = 0;
    this.req.socket.destroy();
  }

  /** Reads a small JSON object body: undefined when it is not one, 'aborted' when the client left. */
  async readJsonObject(): Promise<Record<string, unknown> | undefined | 'aborted'> {
    const read = await this.readBody(JSON_BODY_LIMIT);
    if (read.kind === 'aborted') return 'aborted';
    if (read.kind !== 'read') return undefined;
    this.jsonBodyText = read.body.toString('utf8');
    try {
      const value: unknown = JSON.parse(this.jsonBodyText);
      return typeof value === 'object' && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
    } catch {
      return undefined;
    }
  }

  /** Reads a small body whole; past `limit` the rest is discarded so the answer can still be sent. */
  readBody(limit: number): Promise<BodyOutcome> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        chunks.push(chunk);
        if (size <= limit) return;
        cleanup();
        // Keep draining (without holding it) so the connection can carry the answer.
        this.req.resume();
        resolve({ kind: 'too-large' });
      };
      const onEnd = (): void => {
        cleanup();
        resolve({ kind: 'read', body: Buffer.concat(chunks) });
      };
      const onClose = (): void => {
        if (this.req.complete) return;
        cleanup();
        resolve({ kind: 'aborted' });
      };
      const cleanup = (): void => {
        this.req.off('data', onData).off('end', onEnd).off('close', onClose);
      };
      if (this.req.readableEnded) return resolve({ kind: 'read', body: Buffer.alloc(0) });
      if (this.req.destroyed) return resolve({ kind: 'aborted' });
      this.req.on('data', onData).on('end', onEnd).on('close', onClose);
    });
  }
}

/** Unparseable HTTP (garbage headers, a query past the header limit): answer and hang up, never crash. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const body = JSON.stringify({ errcode: -1, errmsg: `bad request: ${error.code ?? 'unparseable'}` });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${JSON_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
