/**
 * The worker side of `Fleet` (test/support/fleet.ts): forked from its compiled `.js`, it builds
 * `WeixinMediaModule` on the shared Redis and fake Weixin, runs the uploads the parent sends, and reports
 * one outcome per upload. With `audit`, it also reports what it logged, how its failures render, and
 * the descriptors it held before the module was built and after it was closed.
 */
import type { LoggerService } from '@nestjs/common';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import type { AxiosInstance } from 'axios';
import {
  distinctJpeg,
  type FleetJob,
  type FleetWorkerConfig,
  type ParentMessage,
  sha256,
  type UploadOutcome,
  type WorkerAudit,
  type WorkerMessage,
} from './fleet';
import { iccSegments, withJpegSegments } from './media-builders';
import { leakedDescriptors, openDescriptors } from './open-descriptors';
import { mediaFixture } from './paths';

/** Every way an error gets rendered: message, stack, String(), JSON (toJSON), util.inspect. */
function renderings(error: unknown): string {
  const failure = error as Error;
  return [
    failure?.message,
    failure?.stack,
    String(failure),
    JSON.stringify(failure),
    inspect(failure, { depth: 10, showHidden: true }),
  ].join('\n');
}

/** The descriptors once the count holds still (sockets closed a moment ago are reaped). */
async function settledDescriptors(): Promise<string[]> {
  let last = openDescriptors();
  for (let i = 0; i < 40; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    const now = openDescriptors();
    if (now.length === last.length) return now;
    last = now;
  }
  return last;
}

async function runWorker(): Promise<void> {
  // Loaded here only: the parent side must not pay for Nest and ioredis twice.
  const { NestFactory } = await import('@nestjs/core');
  const { default: Redis, Cluster } = await import('ioredis');
  const lib = await import('../../lib');
  const { RedisMediaCache, RedisTokenStore, TemporaryMediaService, WeixinMediaModule } = lib;
  const { WEIXIN_AXIOS } = await import('../../lib/weixin-media.constants');

  const send = (message: WorkerMessage) => {
    if (process.connected) process.send!(message);
  };
  let config: FleetWorkerConfig | undefined;
  let closeAll: () => Promise<void> = async () => undefined;
  let service: InstanceType<typeof TemporaryMediaService> | undefined;
  let descriptorsBefore: string[] = [];
  const logLines: string[] = [];
  const capture = (message: unknown, ...rest: unknown[]) =>
    void logLines.push(
      [message, ...rest].map((part) => (typeof part === 'string' ? part : renderings(part))).join(' '),
    );
  const logger: LoggerService = {
    log: capture,
    error: capture,
    warn: capture,
    debug: capture,
    verbose: capture,
  };

  const exit = async (code: number) => {
    await closeAll().catch(() => undefined);
    process.exit(code);
  };
  process.on('disconnect', () => void exit(0));

  /** The store, reporting each lock it takes when asked to (how a test finds the holder to kill). */
  class ReportingRedisTokenStore extends RedisTokenStore {
    override async tryLock(key: string, leaseMs: number) {
      const lock = await super.tryLock(key, leaseMs);
      if (lock && config?.reportLocks) {
        send({ kind: 'locked', pid: process.pid, workerIndex: config.workerIndex, at: Date.now() });
      }
      return lock;
    }
  }

  const init = async (received: FleetWorkerConfig) => {
    config = received;
    setTimeout(() => void exit(3), config.maxLifetimeMs ?? 120_000).unref();
    if (config.audit) {
      // What the process holds before the module exists (after a first file read opened what Node opens lazily).
      await readFile(mediaFixture('image.jpg'));
      descriptorsBefore = await settledDescriptors();
    }
    const seed = new URL(config.redisUrl);
    const redis = config.redisCluster
      ? new Cluster([{ host: seed.hostname, port: Number(seed.port) }], {
          redisOptions: { maxRetriesPerRequest: 2 },
        })
      : new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
    redis.on('error', () => undefined);
    const app = await NestFactory.createApplicationContext(
      WeixinMediaModule.forRoot({
        appId: config.appId,
        appSecret: config.appSecret,
        apiBaseUrl: config.baseUrl,
        tokenMode: config.tokenMode,
        accounts: config.accounts,
        timeoutMs: config.timeoutMs ?? 10_000,
        retry: config.retry ?? { attempts: 3, baseDelayMs: 5 },
        tokenStore: new ReportingRedisTokenStore(redis, { prefix: config.prefix }),
        mediaCache:
          config.mediaCache === false ? false : new RedisMediaCache(redis, { prefix: config.prefix }),
      }),
      { logger: config.audit ? logger : false },
    );
    const http = app.get<AxiosInstance>(WEIXIN_AXIOS);
    closeAll = async () => {
      closeAll = async () => undefined;
      await app.close();
      redis.disconnect();
      // Idle keep-alive sockets are the pool's, not a leak: close them before counting.
      (http.defaults.httpAgent as { destroy?: () => void } | undefined)?.destroy?.();
    };
    service = app.get(TemporaryMediaService);
    send({ kind: 'ready', pid: process.pid });
  };

  const go = async (job: FleetJob) => {
    const { workerIndex } = config!;
    const base = readFileSync(mediaFixture('image.jpg'));
    const startedAt = Date.now();
    const results: UploadOutcome[] = new Array(job.uploads);
    const settles = new Array<number>(job.uploads).fill(0);
    const errorTexts: string[] = [];
    const largePadding = job.largeEvery ? Buffer.concat(iccSegments(8 * 1024 * 1024)) : Buffer.alloc(0);
    const sourceDir = job.mixedSources ? mkdtempSync(join(tmpdir(), 'fleet-sources-')) : undefined;
    const one = async (index: number) => {
      let content = distinctJpeg(job.sameContent ? job.label : `${job.label}-${workerIndex}-${index}`, base);
      const target = job.appIds ? service!.forAccount(job.appIds[index % job.appIds.length]) : service!;
      const large = job.largeEvery !== undefined && index % job.largeEvery === job.largeEvery - 1;
      if (large) content = withJpegSegments(content, [largePadding]);
      // Mixed sources: a Buffer, a file path, a stream (spooled to a temp file), in turn; large ones never
      // from a Buffer (a Buffer opens no file).
      let source: Buffer | string | Readable = content;
      if (sourceDir && (index % 3 === 1 || (large && index % 2 === 0))) {
        source = join(sourceDir, `${index}.jpg`);
        writeFileSync(source, content);
      } else if (sourceDir && (index % 3 === 2 || large)) {
        source = Readable.from([content]);
      }
      const aborted = job.abortEvery !== undefined && index % job.abortEvery === job.abortEvery - 1;
      const abort = new AbortController();
      if (aborted) setTimeout(() => abort.abort(), (index % 7) * 5);
      const call = target.uploadImage(source, { reuse: job.reuse, signal: abort.signal });
      // Count settlements of the call itself: exactly once, or the test sees it.
      call.then(
        () => settles[index]++,
        () => settles[index]++,
      );
      let hangTimer: NodeJS.Timeout | undefined;
      const hung = new Promise<'hung'>((resolve) => {
        hangTimer = setTimeout(() => resolve('hung'), job.hangAfterMs ?? 30_000);
      });
      try {
        const media = await Promise.race([call, hung]);
        if (media === 'hung') {
          results[index] = {
            index,
            ok: false,
            hung: true,
            errorName: 'Hung',
            message: `no answer after ${job.hangAfterMs ?? 30_000} ms`,
            settledAt: Date.now(),
            settles: 0,
          };
        } else {
          results[index] = {
            index,
            ok: true,
            mediaId: media.mediaId,
            sha256: sha256(content),
            reused: media.reused,
            settledAt: Date.now(),
            settles: 0,
          };
        }
      } catch (error) {
        const failure = error as {
          name?: string;
          errcode?: number;
          code?: string;
          message?: string;
          constructor?: { name?: string };
        };
        results[index] = {
          index,
          ok: false,
          // An abort is a DOMException or Node's AbortError, depending on where it struck: one name for both.
          errorName:
            failure?.name === 'AbortError'
              ? 'AbortError'
              : (failure?.constructor?.name ?? failure?.name ?? 'unknown'),
          errcode: failure?.errcode,
          code: failure?.code,
          message: String(failure?.message ?? error),
          settledAt: Date.now(),
          settles: 0,
        };
        if (config!.audit) errorTexts.push(renderings(error));
      } finally {
        clearTimeout(hangTimer);
        if (aborted) results[index].aborted = true;
      }
    };
    const concurrency = Math.min(job.concurrency ?? job.uploads, job.uploads);
    let nextIndex = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (nextIndex < job.uploads) await one(nextIndex++);
      }),
    );
    // Let late settlements (a second resolve would be a bug) show up before counting.
    await new Promise((resolve) => setImmediate(resolve));
    for (const result of results) result.settles = settles[result.index];
    if (sourceDir) rmSync(sourceDir, { recursive: true, force: true });
    let audit: WorkerAudit | undefined;
    if (config!.audit) {
      // The audit ends this worker's module: close it, then count what is still open.
      await closeAll();
      const leaked = await leakedDescriptors(descriptorsBefore);
      audit = {
        descriptorsBefore: descriptorsBefore.length,
        descriptorsAfter: (await settledDescriptors()).length,
        leaked,
        logLines,
        errorTexts,
      };
    }
    send({
      kind: 'done',
      report: { workerIndex, pid: process.pid, startedAt, finishedAt: Date.now(), results, audit },
    });
  };

  process.on('message', (message: ParentMessage) => {
    const handle = (task: Promise<void>) =>
      task.catch((error: unknown) => {
        send({
          kind: 'failed',
          message: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
      });
    if (message.kind === 'init') void handle(init(message.config));
    else if (message.kind === 'go') void handle(go(message.job));
    else if (message.kind === 'exit') void exit(0);
  });
}

if (require.main === module) {
  if (!process.send) {
    console.error('fleet-worker.js is started by Fleet.start() (child_process.fork), not by hand');
    process.exit(2);
  }
  runWorker().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
