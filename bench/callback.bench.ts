import { fork, type ChildProcess } from 'node:child_process';
import { median, runConcurrently } from './bench-media';
import { installPeers } from './bench-peers';
import { RawHttpClient } from './callback-client';
import { runBenchmark } from './bench-results';
import {
  echo,
  OUR_PATH,
  replyContent,
  type SignedMessage,
  signedMessages,
  WECHAT_PATH,
} from './callback-messages';
import { CallbackWork } from './callback-work';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
const MESSAGES_PER_ROUND = 3_000;
const CONCURRENCY = 16;
const WORK_MESSAGES = 10_000;
const GOAL_THROUGHPUT = 1.5;
const GOAL_WORK = 1 / 3;
const KINDS = ['ours', 'wechat'] as const;
type Kind = (typeof KINDS)[number];
const PATHS: Record<Kind, string> = { ours: OUR_PATH, wechat: WECHAT_PATH };

interface RoundFigures {
  perSecond: number;
  cpuMicros: number;
}

/**
 * Safe-mode text messages through the library's callback route and through `wechat` (node-webot) mounted on
 * the same Express app (Nest's adapter) with the same settings and bot, in a server process of its own (its
 * CPU is read there); a lean keep-alive client here (./callback-client) sends pre-signed, pre-encrypted
 * messages (each its own MsgId) at concurrency 16, rounds interleaved with the order alternating, medians of
 * per-round ratios (the machine is shared and noisy). Then each one's work per message without HTTP, in
 * this process.
 * Goals: ×1.5 `wechat`'s messages per second; at most a third of its CPU per message without HTTP.
 * `BENCH_PROFILE=dir` runs the server under `--cpu-prof` into `dir`.
 */
export async function runCallbackBench(): Promise<Record<string, unknown>> {
  installPeers();
  const http = await httpRounds();
  const work = await workRounds();
  const results = {
    rounds: ROUNDS,
    messagesPerRound: MESSAGES_PER_ROUND,
    concurrency: CONCURRENCY,
    overHttp: http,
    withoutHttp: work,
    goalMet: http.throughputRatio >= GOAL_THROUGHPUT && work.cpuRatio <= GOAL_WORK,
  };
  console.log(
    `over HTTP: ${http.messagesPerSecond.ours}/s vs wechat ${http.messagesPerSecond.wechat}/s ` +
      `(×${http.throughputRatio}, goal ≥ ×${GOAL_THROUGHPUT}); server CPU ${http.cpuMicrosPerMessage.ours} µs vs ` +
      `${http.cpuMicrosPerMessage.wechat} µs per message (×${http.cpuRatio})\n` +
      `without HTTP: ${work.cpuMicrosPerMessage.ours} µs vs wechat ${work.cpuMicrosPerMessage.wechat} µs of CPU ` +
      `per message (×${work.cpuRatio}, goal ≤ ×${GOAL_WORK.toFixed(2)})`,
  );
  return results;
}

async function httpRounds() {
  const server = await CallbackServer.start();
  try {
    for (const kind of KINDS) await server.check(kind);
    for (const kind of KINDS) await server.round(kind, signedMessages(MESSAGES_PER_ROUND / 3));
    const rounds: Array<Record<Kind, RoundFigures>> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const figures = {} as Record<Kind, RoundFigures>;
      for (const kind of round % 2 ? [...KINDS].reverse() : KINDS) {
        figures[kind] = await server.round(kind, signedMessages(MESSAGES_PER_ROUND));
      }
      rounds.push(figures);
      console.log(
        `  round ${round + 1}/${ROUNDS} over HTTP: ` +
          KINDS.map(
            (kind) =>
              `${kind} ${figures[kind].perSecond.toFixed(0)}/s, ${figures[kind].cpuMicros.toFixed(0)} µs`,
          ).join('; '),
      );
    }
    const of = (pick: (figures: RoundFigures) => number) =>
      Object.fromEntries(
        KINDS.map((kind) => [kind, Math.round(median(rounds.map((r) => pick(r[kind]))))]),
      ) as Record<Kind, number>;
    return {
      messagesPerSecond: of((figures) => figures.perSecond),
      cpuMicrosPerMessage: of((figures) => figures.cpuMicros),
      throughputRatio: ratio(rounds.map((r) => r.ours.perSecond / r.wechat.perSecond)),
      cpuRatio: ratio(rounds.map((r) => r.ours.cpuMicros / r.wechat.cpuMicros)),
    };
  } finally {
    await server.stop();
  }
}

async function workRounds() {
  const work = await CallbackWork.start();
  try {
    for (const kind of KINDS) await work.cpuMicrosPerMessage(kind, WORK_MESSAGES / 3); // warm up
    const rounds: Array<Record<Kind, number>> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const figures = {} as Record<Kind, number>;
      for (const kind of round % 2 ? [...KINDS].reverse() : KINDS) {
        figures[kind] = await work.cpuMicrosPerMessage(kind, WORK_MESSAGES);
      }
      rounds.push(figures);
      console.log(
        `  round ${round + 1}/${ROUNDS} without HTTP: ours ${figures.ours.toFixed(1)} µs, wechat ${figures.wechat.toFixed(1)} µs`,
      );
    }
    return {
      cpuMicrosPerMessage: {
        ours: Math.round(median(rounds.map((r) => r.ours))),
        wechat: Math.round(median(rounds.map((r) => r.wechat))),
      },
      cpuRatio: ratio(rounds.map((r) => r.ours / r.wechat)),
    };
  } finally {
    await work.close();
  }
}

function ratio(values: number[]): number {
  return Math.round(median(values) * 100) / 100;
}

/** The app in its own process (./callback-server), its CPU read over IPC around each round. */
class CallbackServer {
  private readonly client: RawHttpClient;

  private constructor(
    private readonly child: ChildProcess,
    port: number,
  ) {
    this.client = new RawHttpClient(port);
  }

  static async start(): Promise<CallbackServer> {
    const profile = process.env.BENCH_PROFILE;
    const child = fork(require.resolve('./callback-server'), [], {
      execArgv: profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (message: number) => resolve(message));
      child.once('exit', (code) => reject(new Error(`the callback server exited (${code})`)));
    });
    return new CallbackServer(child, port);
  }

  /** One message to each callback must come back as its echo, or the figures mean nothing. */
  async check(kind: Kind): Promise<void> {
    const [message] = signedMessages(1);
    const content = replyContent(await this.post(kind, request(kind, message)));
    if (content !== echo(message.content)) throw new Error(`${kind} answered ${content}`);
  }

  async round(kind: Kind, messages: SignedMessage[]): Promise<RoundFigures> {
    const requests = messages.map((message) => request(kind, message));
    const before = await this.cpu();
    let next = 0;
    const ms = await runConcurrently(requests.length, CONCURRENCY, () => this.post(kind, requests[next++]));
    const used = await this.cpu();
    const cpuMicros = (used.user - before.user + used.system - before.system) / messages.length;
    return { perSecond: (messages.length * 1000) / ms, cpuMicros };
  }

  stop(): Promise<void> {
    this.client.close();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.disconnect();
    });
  }

  private cpu(): Promise<NodeJS.CpuUsage> {
    return new Promise((resolve) => {
      this.child.once('message', (usage: NodeJS.CpuUsage) => resolve(usage));
      this.child.send('cpu');
    });
  }

  /** Sends a POST; resolves to the 200 answer's body (an encrypted reply, checked by its opening). */
  private async post(kind: Kind, request: Buffer): Promise<string> {
    const { status, body } = await this.client.send(request);
    if (status === 200 && body.startsWith('<xml><Encrypt>')) return body;
    throw new Error(`${kind} answered ${status}: ${body.slice(0, 200)}`);
  }
}

function request(kind: Kind, message: SignedMessage): Buffer {
  return RawHttpClient.post(`${PATHS[kind]}${message.search}`, message.body);
}

if (require.main === module) runBenchmark('callback', runCallbackBench);
