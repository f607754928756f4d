import { NestFactory } from '@nestjs/core';
import { fork } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { TemporaryMediaService, WeixinMediaModule, type WeixinAccount } from '../lib';
import { FakeWeixinServer } from '../lib/testing';
import { solidPng } from '../test/support/media-builders';
import { runBenchmark } from './bench-results';

const ACCOUNTS = 10_000;
const CONCURRENCY = 50;
const RSS_GOAL_MB = 64;
const MB = 1024 * 1024;

const appIdOf = (index: number): string => `wxbench${String(index).padStart(10, '0')}`;
const secretOf = (appId: string): string => `secret-${appId}`;

type FakeMessage = { kind: 'ready'; baseUrl: string } | { kind: 'counts'; tokens: number; uploads: number };

/**
 * Many Official Accounts through a resolver: RSS growth after one upload for each of 10,000 distinct
 * accounts with the default `maxAccounts` (goal ≤ 64 MB), and the token requests made (goal: one per
 * account). The fake Weixin runs in its own process so its memory is not counted.
 */
export async function runAccountsMemoryBench(): Promise<Record<string, unknown>> {
  const gc = exposeGc();
  const fake = fork(__filename, ['fake'], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (kind: FakeMessage['kind']) =>
    new Promise<FakeMessage>((resolve) => {
      const onMessage = (message: FakeMessage) => {
        if (message.kind !== kind) return;
        fake.off('message', onMessage);
        resolve(message);
      };
      fake.on('message', onMessage);
    });
  try {
    const { baseUrl } = (await next('ready')) as Extract<FakeMessage, { kind: 'ready' }>;
    let resolverCalls = 0;
    const resolver = async (appId: string): Promise<WeixinAccount> => {
      resolverCalls++;
      return { appId, appSecret: secretOf(appId) };
    };
    const app = await NestFactory.createApplicationContext(
      WeixinMediaModule.forRoot({
        accounts: resolver,
        apiBaseUrl: baseUrl,
        retry: { attempts: 3, baseDelayMs: 5 },
      }),
      { logger: false },
    );
    const service = app.get(TemporaryMediaService);
    const uploadFor = (index: number) =>
      service.forAccount(appIdOf(index)).uploadImage(solidPng(2, 2, [index % 256, (index >> 8) % 256, 7]));

    // Warm up (code paths, agents, caches) before the baseline.
    for (let index = 0; index < 200; index++) await uploadFor(ACCOUNTS + index);
    gc();
    const baseline = process.memoryUsage.rss();
    const started = Date.now();
    let peak = baseline;
    let nextIndex = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (nextIndex < ACCOUNTS) {
          await uploadFor(nextIndex++);
          if (nextIndex % 500 === 0) peak = Math.max(peak, process.memoryUsage.rss());
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    gc();
    const after = process.memoryUsage.rss();
    fake.send('counts');
    const counts = (await next('counts')) as Extract<FakeMessage, { kind: 'counts' }>;
    await app.close();

    const growthMb = (after - baseline) / MB;
    const results = {
      accounts: ACCOUNTS,
      maxAccounts: 1000,
      rssGrowthMb: round1(growthMb),
      rssPeakGrowthMb: round1((peak - baseline) / MB),
      rssGoalMb: RSS_GOAL_MB,
      withinGoal: growthMb <= RSS_GOAL_MB,
      tokenRequests: counts.tokens - 200,
      tokenRequestsPerAccount: round1((counts.tokens - 200) / ACCOUNTS),
      resolverCalls: resolverCalls - 200,
      uploadsPerSecond: Math.round(ACCOUNTS / seconds),
      gcExposed: true,
    };
    console.log(
      `accounts: ${ACCOUNTS} accounts through a resolver, one upload each: RSS +${results.rssGrowthMb} MB ` +
        `(peak +${results.rssPeakGrowthMb} MB; goal ≤ ${RSS_GOAL_MB} MB), ${results.tokenRequests} token ` +
        `requests (${results.tokenRequestsPerAccount} per account), ${results.uploadsPerSecond} uploads/s`,
    );
    return results;
  } finally {
    fake.kill();
  }
}

/** The fake Weixin for the benchmark, in its own process, serving every account the run uses. */
async function serveFake(): Promise<void> {
  const fake = await FakeWeixinServer.start({ maxStoredBytes: 64 * MB });
  for (let index = 0; index < ACCOUNTS + 200; index++)
    fake.addAccount(appIdOf(index), secretOf(appIdOf(index)));
  process.on('message', () => {
    process.send!({
      kind: 'counts',
      tokens: fake.tokenRequestCount,
      uploads: fake.countRequests('/cgi-bin/media/upload'),
    } satisfies FakeMessage);
  });
  process.on('disconnect', () => void fake.close().then(() => process.exit(0)));
  process.send!({ kind: 'ready', baseUrl: fake.baseUrl } satisfies FakeMessage);
}

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

if (require.main === module) {
  if (process.argv[2] === 'fake') void serveFake();
  else runBenchmark('accounts', runAccountsMemoryBench);
}
