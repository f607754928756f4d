import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WeixinEndpoint } from './testing-module';

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
 * A hostile (or merely unusual) Weixin on 127.0.0.1 port 0: hands out a token, and answers `media/get` with the
 * exact status, headers and bytes a test set for each media_id, which no well-behaved server would send.
 */
export async function startStandInWeixin(): Promise<StandInWeixin> {
  const answers = new Map<string, StandInAnswer>();
  let cutAnswers = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
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
