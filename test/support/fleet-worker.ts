/**
 * A fleet of Node processes, each running `WeixinMediaModule` with `RedisTokenStore` and `RedisMediaCache`
 * against one Redis and one FakeWeixinServer: the parent side (`Fleet`) and, when this file is forked
 * (from the compiled `.js`), the worker side.
 *
 * Protocol (IPC): parent → `init` → worker builds the module → `ready`; parent → `go` (all at once, so
 * every process starts cold together) → worker runs its uploads → `done` with one result per upload.
 * `locked` is sent when the worker's store takes the token refresh lock (with `reportLocks`).
 * Workers always exit: on `exit`, on losing the parent (IPC disconnect), or after `maxLifetimeMs`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenMode } from '../../lib';
import { mediaFixture } from './paths';

export interface FleetWorkerConfig {
  workerIndex: number;
  redisUrl: string;
  prefix?: string;
  baseUrl: string;
  appId: string;
  appSecret: string;
  tokenMode: TokenMode;
  /** More Official Accounts the module serves (a job's `appIds` picks them). */
  accounts?: Array<{ appId: string; appSecret: string }>;
  timeoutMs?: number;
  retry?: { attempts: number; baseDelayMs: number };
  /** Send `locked` whenever this worker's token store takes the refresh lock. */
  reportLocks?: boolean;
  /** `false`: no reuse cache (every upload goes to Weixin). */
  mediaCache?: 'redis' | false;
  /** The worker exits by itself after this long, whatever happens. */
  maxLifetimeMs?: number;
}

export interface FleetJob {
  /** Uploads this worker makes, all started at once unless `concurrency` is set. */
  uploads: number;
  concurrency?: number;
  /** Distinct content per upload: a JPEG with a comment `${label}-${workerIndex}-${i}`. */
  label: string;
  /** Upload i goes to `appIds[i % appIds.length]` through `forAccount` (the default account when unset). */
  appIds?: string[];
  /** The same content for every upload of every worker (a reuse scenario). */
  sameContent?: boolean;
  reuse?: boolean;
  /** A call that has not settled after this long is reported as hung. */
  hangAfterMs?: number;
}

export type UploadOutcome =
  | {
      index: number;
      ok: true;
      mediaId: string;
      sha256: string;
      reused: boolean;
      settledAt: number;
      settles: number;
    }
  | {
      index: number;
      ok: false;
      hung?: true;
      errorName: string;
      errcode?: number;
      code?: string;
      message: string;
      settledAt: number;
      settles: number;
    };

export interface WorkerReport {
  workerIndex: number;
  pid: number;
  startedAt: number;
  finishedAt: number;
  results: UploadOutcome[];
}

type ParentMessage =
  { kind: 'init'; config: FleetWorkerConfig } | { kind: 'go'; job: FleetJob } | { kind: 'exit' };

type WorkerMessage =
  | { kind: 'ready'; pid: number }
  | { kind: 'locked'; pid: number; workerIndex: number; at: number }
  | { kind: 'done'; report: WorkerReport }
  | { kind: 'failed'; message: string };

/** A valid JPEG made unique by a comment (COM) segment right after SOI. */
export function distinctJpeg(label: string, base = readFileSync(mediaFixture('image.jpg'))): Buffer {
  const text = Buffer.from(label, 'utf8');
  const segment = Buffer.alloc(4 + text.length);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(text.length + 2, 2);
  text.copy(segment, 4);
  return Buffer.concat([base.subarray(0, 2), segment, base.subarray(2)]);
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

// ---------------------------------------------------------------------------------------------------
// Parent side

export interface FleetWorkerHandle {
  readonly workerIndex: number;
  readonly child: ChildProcess;
  readonly pid: number;
  killed: boolean;
}

export interface FleetOptions extends Omit<FleetWorkerConfig, 'workerIndex'> {
  processes: number;
  /** Called when a worker reports it took the refresh lock (needs `reportLocks`). */
  onLocked?: (worker: FleetWorkerHandle, at: number) => void;
}

/** The fleet's shared parts: one Redis and one fake Weixin, as the fleet's options spell them. */
export function fleetTargets(
  redis: { url: string },
  fake: { baseUrl: string; appId: string; appSecret: string },
): Pick<FleetOptions, 'redisUrl' | 'baseUrl' | 'appId' | 'appSecret'> {
  return { redisUrl: redis.url, baseUrl: fake.baseUrl, appId: fake.appId, appSecret: fake.appSecret };
}

const READY_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 5_000;

export class Fleet {
  private readonly listeners = new Map<number, (message: WorkerMessage) => void>();

  private constructor(readonly workers: FleetWorkerHandle[]) {}

  /** Forks the workers (from the compiled file beside this one) and waits until every one is ready. */
  static async start(options: FleetOptions): Promise<Fleet> {
    const { processes, onLocked, ...shared } = options;
    const script = join(__dirname, 'fleet-worker.js');
    const workers: FleetWorkerHandle[] = [];
    const fleet = new Fleet(workers);
    try {
      const ready = Array.from({ length: processes }, (_, workerIndex) => {
        // No inherited --test flags: the worker is a plain script.
        const child = fork(script, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        const handle: FleetWorkerHandle = { workerIndex, child, pid: child.pid ?? -1, killed: false };
        workers.push(handle);
        child.on('message', (message: WorkerMessage) => {
          if (message.kind === 'locked') onLocked?.(handle, message.at);
          fleet.listeners.get(workerIndex)?.(message);
        });
        child.send({ kind: 'init', config: { ...shared, workerIndex } } satisfies ParentMessage);
        return fleet.next(handle, 'ready', READY_TIMEOUT_MS);
      });
      await Promise.all(ready);
      return fleet;
    } catch (error) {
      await fleet.stop();
      throw error;
    }
  }

  /**
   * Sends `go` to every worker at once and collects their reports. A worker killed meanwhile
   * answers `undefined`.
   */
  async run(job: FleetJob, timeoutMs = 60_000): Promise<Array<WorkerReport | undefined>> {
    const done = this.workers.map((worker) => this.next(worker, 'done', timeoutMs));
    for (const worker of this.workers) worker.child.send({ kind: 'go', job } satisfies ParentMessage);
    const messages = await Promise.all(done);
    return messages.map((message) => (message?.kind === 'done' ? message.report : undefined));
  }

  /** Kills one worker outright (SIGKILL): a crash, with no chance to release anything. */
  kill(worker: FleetWorkerHandle): void {
    worker.killed = true;
    worker.child.kill('SIGKILL');
  }

  /** Asks every worker to exit; kills any that does not within a few seconds. Never leaves one behind. */
  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(async (worker) => {
        const { child } = worker;
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        if (child.connected) child.send({ kind: 'exit' } satisfies ParentMessage, () => undefined);
        const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  /** The worker's next message of `kind`; undefined when it exits first (killed), an error on timeout. */
  private next(
    worker: FleetWorkerHandle,
    kind: 'ready' | 'done',
    timeoutMs: number,
  ): Promise<WorkerMessage | undefined> {
    return new Promise((resolve, reject) => {
      const { child } = worker;
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(worker.workerIndex);
        child.off('exit', onExit);
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        if (worker.killed) resolve(undefined);
        else {
          const how = `code ${code}, signal ${signal}`;
          reject(new Error(`fleet worker ${worker.workerIndex} exited (${how}) before "${kind}"`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fleet worker ${worker.workerIndex} sent no "${kind}" within ${timeoutMs} ms`));
      }, timeoutMs);
      if (child.exitCode !== null || child.signalCode !== null)
        return onExit(child.exitCode, child.signalCode);
      child.once('exit', onExit);
      this.listeners.set(worker.workerIndex, (message) => {
        if (message.kind === 'failed') {
          cleanup();
          reject(new Error(`fleet worker ${worker.workerIndex} failed: ${message.message}`));
        } else if (message.kind === kind) {
          cleanup();
          resolve(message);
        }
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// Worker side

async function runWorker(): Promise<void> {
  // Loaded here only: the parent side must not pay for Nest and ioredis twice.
  const { NestFactory } = await import('@nestjs/core');
  const { default: Redis } = await import('ioredis');
  const lib = await import('../../lib');
  const { RedisMediaCache, RedisTokenStore, TemporaryMediaService, WeixinMediaModule } = lib;

  const send = (message: WorkerMessage) => {
    if (process.connected) process.send!(message);
  };
  let config: FleetWorkerConfig | undefined;
  let closeAll: () => Promise<void> = async () => undefined;
  let service: InstanceType<typeof TemporaryMediaService> | undefined;

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
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
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
      { logger: false },
    );
    closeAll = async () => {
      await app.close();
      redis.disconnect();
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
    const one = async (index: number) => {
      const content = distinctJpeg(
        job.sameContent ? job.label : `${job.label}-${workerIndex}-${index}`,
        base,
      );
      const target = job.appIds ? service!.forAccount(job.appIds[index % job.appIds.length]) : service!;
      const call = target.uploadImage(content, { reuse: job.reuse });
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
          errorName: failure?.constructor?.name ?? failure?.name ?? 'unknown',
          errcode: failure?.errcode,
          code: failure?.code,
          message: String(failure?.message ?? error),
          settledAt: Date.now(),
          settles: 0,
        };
      } finally {
        clearTimeout(hangTimer);
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
    send({
      kind: 'done',
      report: { workerIndex, pid: process.pid, startedAt, finishedAt: Date.now(), results },
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
