import { NestFactory } from '@nestjs/core';
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { WeixinMediaModule, WeixinMessageService } from '../lib';
import { FakeWeixinServer } from '../lib/testing';
import { fleetOpenId, fleetRound, rssGrowthMb } from '../test/support/fleet';
import { mediaFixture } from '../test/support/paths';
import { RedisServer } from '../test/support/redis-server';
import { runBenchmark } from './bench-results';

const FOLLOWERS = 1_000;
const PROCESSES = 4;
const IMAGE = mediaFixture('image.jpg');
const UPLOAD = '/cgi-bin/media/upload';
const SEND = '/cgi-bin/message/custom/send';
const PREFIX = 'oBenchFanout';

/** What the sending process is told: where Weixin is and how many followers to send to. */
interface SenderTask {
  baseUrl: string;
  appId: string;
  appSecret: string;
  sends: number;
}

/** What it answers: its wall time and resident memory around the sends. */
interface SenderReport {
  wallMs: number;
  rss: { beforeBytes: number; peakBytes: number };
}

/**
 * One image to 1,000 followers (`sendFanout` in bench/results.json): 1,000 concurrent `sendImage` of one
 * file, from one process with the module's defaults (in-memory token and reuse), then from 4 processes
 * of 250 each on one Redis (`RedisTokenStore`, `RedisMediaCache`). Goals: 1 upload and 1 token request in
 * all, 1,000 messages. The fake Weixin runs in this process, the senders in their own, so their resident
 * memory growth is theirs alone.
 */
export async function runSendFanoutBench(): Promise<Record<string, unknown>> {
  const fake = await FakeWeixinServer.start();
  const redis = await RedisServer.start();
  try {
    const oneProcess = await oneProcessRound(fake);
    const fleet = await sendFleetRound(fake, redis);
    const goals = { uploadsToWeixin: 1, tokenRequests: 1, messages: FOLLOWERS };
    const met = (round: typeof oneProcess) =>
      round.uploadsToWeixin === 1 && round.tokenRequests === 1 && round.messages === FOLLOWERS;
    console.log(`fan-out: ${FOLLOWERS} concurrent sendImage of one file to ${FOLLOWERS} followers`);
    for (const [name, round] of [
      ['1 process', oneProcess],
      [`${PROCESSES} processes, one Redis`, fleet],
    ] as const) {
      console.log(
        `  ${name}: ${round.uploadsToWeixin} upload(s), ${round.tokenRequests} token request(s), ` +
          `${round.messages} messages, ${round.wallMs} ms, ` +
          `RSS growth per process ${round.rssGrowthMbPerProcess.join(', ')} MB`,
      );
    }
    return {
      followers: FOLLOWERS,
      imageBytes: readFileSync(IMAGE).length,
      oneProcess,
      fleet: { processes: PROCESSES, sendsPerProcess: FOLLOWERS / PROCESSES, ...fleet },
      goals,
      goalsMet: { oneProcess: met(oneProcess), fleet: met(fleet) },
    };
  } finally {
    await fake.close();
    await redis.stop();
  }
}

/** The module's defaults in one child process: its 1,000 sends all started at once. */
async function oneProcessRound(fake: FakeWeixinServer) {
  fake.reset();
  addFollowers(fake, 1, FOLLOWERS);
  const child = fork(__filename, ['sender'], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const report = await new Promise<SenderReport>((resolve, reject) => {
      child.once('message', (message: SenderReport) => resolve(message));
      child.once('exit', (code) => reject(new Error(`the sending process exited (code ${code})`)));
      const { baseUrl, appId, appSecret } = fake;
      child.send({ baseUrl, appId, appSecret, sends: FOLLOWERS } satisfies SenderTask);
    });
    return { ...atWeixin(fake), wallMs: report.wallMs, rssGrowthMbPerProcess: [rssGrowthMb(report.rss)] };
  } finally {
    child.kill();
  }
}

async function sendFleetRound(fake: FakeWeixinServer, redis: RedisServer) {
  fake.reset();
  const sendsPerProcess = FOLLOWERS / PROCESSES;
  addFollowers(fake, PROCESSES, sendsPerProcess);
  const { wallMs, rssGrowthMbPerProcess } = await fleetRound(redis, fake, PROCESSES, {
    uploads: sendsPerProcess,
    label: 'send-fanout',
    sourcePath: IMAGE,
    sendImageTo: PREFIX,
  });
  return { ...atWeixin(fake), wallMs, rssGrowthMbPerProcess };
}

/** The followers the senders write to: `fleetOpenId(PREFIX, worker, i)`, who all just wrote. */
function addFollowers(fake: FakeWeixinServer, processes: number, perProcess: number): void {
  const lastMessageAt = new Date(fake.now());
  for (let worker = 0; worker < processes; worker++) {
    for (let index = 0; index < perProcess; index++) {
      fake.addFollower(fleetOpenId(PREFIX, worker, index), { lastMessageAt });
    }
  }
}

/** What reached the fake: uploads, token requests, accepted messages (and the check that each was sent once). */
function atWeixin(fake: FakeWeixinServer) {
  const messages = fake.sentMessages().length;
  if (fake.countRequests(SEND) !== messages) throw new Error('a send was refused or repeated');
  return { uploadsToWeixin: fake.countRequests(UPLOAD), tokenRequests: fake.countTokenRequests(), messages };
}

/** The child's side of the one-process round: build the module, send, report, leave. */
function sendFromThisProcess(): void {
  process.once('message', async (task: SenderTask) => {
    const module = WeixinMediaModule.forRoot({
      appId: task.appId,
      appSecret: task.appSecret,
      apiBaseUrl: task.baseUrl,
    });
    const app = await NestFactory.createApplicationContext(module, { logger: false });
    const messages = app.get(WeixinMessageService);
    const rss = { beforeBytes: process.memoryUsage().rss, peakBytes: 0 };
    const sample = () => (rss.peakBytes = Math.max(rss.peakBytes, process.memoryUsage().rss));
    const sampler = setInterval(sample, 5);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: task.sends }, (_, index) =>
        messages.sendImage(fleetOpenId(PREFIX, 0, index), IMAGE),
      ),
    );
    const wallMs = Math.round(performance.now() - started);
    clearInterval(sampler);
    sample();
    await app.close();
    process.send!({ wallMs, rss } satisfies SenderReport, () => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module) {
  if (process.argv[2] === 'sender') sendFromThisProcess();
  else runBenchmark('sendFanout', runSendFanoutBench);
}
