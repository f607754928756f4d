/**
 * Stand-ins for a hostile (or merely unusual) Weixin on 127.0.0.1 port 0, started and closed by the test: a
 * generic HTTP one that answers as the test says, a raw TCP one that sees whole requests and may then reset
 * the connection, and a media/get one that answers each media_id with the exact status, headers and bytes set.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { WeixinEndpoint } from './testing-module';

export interface StandIn {
  baseUrl: string;
  port: number;
  /** The requests seen, in order: method, URL (query included) and headers. */
  readonly requests: Array<{ method: string; url: string; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

async function listen(server: Server, requests: StandIn['requests'], port = 0): Promise<StandIn> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: listening } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${listening}`,
    port: listening,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An HTTP stand-in: `answer` answers every request once its body was read. */
export function standInHttp(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<StandIn> {
  const requests: StandIn['requests'] = [];
  const server = createHttpServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, headers: req.headers });
    req.resume();
    req.once('end', () => answer(req, res));
  });
  return listen(server, requests);
}

/**
 * A TCP stand-in: `onRequest` runs once a whole request (its head and `Content-Length` bytes of body) has
 * arrived on a connection, with the connection and the request's index (0 for the first ever seen). On
 * `port` when given (one a test saw refused), else a free one.
 */
export function standInTcp(onRequest: (socket: Socket, index: number) => void, port = 0): Promise<StandIn> {
  const requests: StandIn['requests'] = [];
  const server = createTcpServer((socket) => {
    let pending = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      for (;;) {
        const headEnd = pending.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = pending.subarray(0, headEnd).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (pending.length < headEnd + 4 + length) return;
        pending = pending.subarray(headEnd + 4 + length);
        const [method, url] = head.split(' ');
        requests.push({ method, url, headers: {} });
        onRequest(socket, requests.length - 1);
      }
    });
  });
  return listen(server, requests, port);
}

/** An HTTP/1.1 answer with a JSON body, as raw bytes for a TCP stand-in. */
export function rawJsonAnswer(body: object): string {
  const text = JSON.stringify(body);
  return `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
}

/** What the stand-in answers for one media_id: sent as written, framing headers included. */
export interface StandInAnswer {
  status?: number;
  headers: Record<string, string | number>;
  /** Written whole; or `write` takes the response and answers as it likes (slowly, endlessly). */
  body?: Buffer;
  write?: (response: ServerResponse) => void;
}

export interface StandInWeixin extends WeixinEndpoint {
  /** The answers by media_id; an unknown one answers 40007 as Weixin does. */
  answers: Map<string, StandInAnswer>;
  /** How many `media/get` answers were torn down (the client closed the socket) before they were written out. */
  readonly cutAnswers: number;
  close(): Promise<void>;
}

/**
 * A media/get stand-in: hands out a token, and answers `media/get` with the exact status, headers and bytes a
 * test set for each media_id, which no well-behaved server would send.
 */
export async function startStandInWeixin(): Promise<StandInWeixin> {
  const answers = new Map<string, StandInAnswer>();
  let cutAnswers = 0;
  const server = createHttpServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    if (url.pathname === '/cgi-bin/stable_token' || url.pathname === '/cgi-bin/token') {
      request.resume();
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ access_token: 'stand-in-token', expires_in: 7200 }));
      return;
    }
    const answer = answers.get(url.searchParams.get('media_id') ?? '');
    if (url.pathname !== '/cgi-bin/media/get' || !answer) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ errcode: 40007, errmsg: 'invalid media_id' }));
      return;
    }
    response.once('close', () => {
      if (!response.writableFinished) cutAnswers++;
    });
    response.writeHead(answer.status ?? 200, answer.headers);
    if (answer.write) answer.write(response);
    else response.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    appId: 'wx-stand-in',
    appSecret: 'stand-in-secret',
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answers,
    get cutAnswers() {
      return cutAnswers;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Writes `total` bytes of `fill` in 64 KB pieces, as fast as the client reads them; true if all went out. */
export function writeMany(res: ServerResponse, total: number, fill: string): Promise<boolean> {
  const piece = Buffer.alloc(64 * 1024, fill);
  return new Promise((resolve) => {
    let written = 0;
    res.once('close', () => resolve(res.writableFinished));
    const more = () => {
      while (written < total) {
        written += piece.length;
        if (written >= total) return void res.end(piece);
        if (!res.write(piece)) return void res.once('drain', more);
      }
    };
    more();
  });
}
