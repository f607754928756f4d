import { NestFactory } from '@nestjs/core';
import { fork } from 'node:child_process';
import { createServer, request, type Agent } from 'node:http';
import { WeixinMediaModule, WeixinMessageService } from '../lib';
import { WeixinTransport } from '../lib/weixin-api/weixin-transport';
import { median, runConcurrently } from './bench-media';
import { runBenchmark } from './bench-results';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const SENDS_PER_ROUND = 3_000;
const CONCURRENCY = 16;
const GOAL_RATIO = 1.3;
const OPEN_ID = 'oBench00000000000000000000001';
const CONTENT = '你好! Your order 12345 has shipped and will arrive tomorrow.';
const APP = { appId: 'wxbench000000000001', appSecret: 'bench-secret-0123456789' };

/**
 * CPU of `sendText` against a bare `node:http` POST of the same JSON on the same keep-alive agent (the
 * module's transport's), both at concurrency 16, against a stand-in Weixin in its own process (its CPU is
 * not counted) that answers every send `{"errcode":0}`. Rounds interleaved, the order alternating; the
 * ratio is the median of per-round ratios (the machine is shared and noisy). Goal: within ×1.3.
 */
export async function runMessageSendBench(): Promise<Record<string, unknown>> {
  const server = fork(__filename, ['weixin'], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve) =>
    server.once('message', (message: number) => resolve(message)),
  );
  const app = await NestFactory.createApplicationContext(
    WeixinMediaModule.forRoot({ ...APP, apiBaseUrl: `http://127.0.0.1:${port}`, mediaCache: false }),
    { logger: false },
  );
  try {
    const messages = app.get(WeixinMessageService);
    const agent = app.get(WeixinTransport).agent as Agent;
    const service = () => messages.sendText(OPEN_ID, CONTENT);
    const bare = () =>
      barePost(agent, port, { touser: OPEN_ID, msgtype: 'text', text: { content: CONTENT } });
    await runConcurrently(SENDS_PER_ROUND / 3, CONCURRENCY, service); // warm up both paths
    await runConcurrently(SENDS_PER_ROUND / 3, CONCURRENCY, bare);
    const rounds: Array<{ service: number; bare: number }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const figures = { service: 0, bare: 0 };
      const order = round % 2 ? (['bare', 'service'] as const) : (['service', 'bare'] as const);
      for (const kind of order) figures[kind] = await cpuMicrosPerSend(kind === 'service' ? service : bare);
      rounds.push(figures);
      console.log(
        `  round ${round + 1}/${ROUNDS}: sendText ${figures.service.toFixed(1)} µs, bare POST ` +
          `${figures.bare.toFixed(1)} µs of CPU per message`,
      );
    }
    const ratio = Math.round(median(rounds.map((r) => r.service / r.bare)) * 100) / 100;
    const results = {
      rounds: ROUNDS,
      sendsPerRound: SENDS_PER_ROUND,
      concurrency: CONCURRENCY,
      cpuMicrosPerSend: {
        sendText: Math.round(median(rounds.map((r) => r.service))),
        barePost: Math.round(median(rounds.map((r) => r.bare))),
      },
      ratioToBarePost: ratio,
      goalMet: ratio <= GOAL_RATIO,
    };
    console.log(
      `sendText: ${results.cpuMicrosPerSend.sendText} µs of CPU per message, a bare POST ` +
        `${results.cpuMicrosPerSend.barePost} µs: ×${ratio} (goal ≤ ×${GOAL_RATIO})`,
    );
    return results;
  } finally {
    await app.close();
    server.kill();
  }
}

/** This process's CPU (user + system) per send over one round, in microseconds. */
async function cpuMicrosPerSend(send: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await runConcurrently(SENDS_PER_ROUND, CONCURRENCY, send);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / SENDS_PER_ROUND;
}

/** The send as a user would write it by hand: serialize, POST, read and parse the answer, check errcode. */
function barePost(agent: Agent, port: number, body: object): Promise<void> {
  return new Promise((resolve, reject) => {
    const json = Buffer.from(JSON.stringify(body));
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/cgi-bin/message/custom/send?access_token=BENCH_TOKEN',
        headers: { 'content-type': 'application/json', 'content-length': json.length },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { errcode?: number };
          if (answer.errcode) reject(new Error(`errcode ${answer.errcode}`));
          else resolve();
        });
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(json);
  });
}

/** The stand-in Weixin: a token for the token paths, `ok` for every other POST, the body read whole. */
function serveWeixin(): void {
  const token = JSON.stringify({ access_token: 'BENCH_TOKEN', expires_in: 7200 });
  const ok = JSON.stringify({ errcode: 0, errmsg: 'ok' });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = req.url?.includes('token?') || req.url?.startsWith('/cgi-bin/stable_token') ? token : ok;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send!(typeof address === 'object' && address ? address.port : 0);
  });
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module) {
  if (process.argv[2] === 'weixin') serveWeixin();
  else runBenchmark('messageSend', runMessageSendBench);
}
