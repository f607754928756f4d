/**
 * A fleet of Node processes, each running `WeixinMediaModule` with `RedisTokenStore` and `RedisMediaCache`
 * against one Redis and one FakeWeixinServer: the parent side (`Fleet`, the protocol, the job's content).
 * The worker side is `fleet-worker.ts`, forked from its compiled `.js`.
 *
 * Protocol (IPC): parent → `init` → worker builds the module → `ready`; parent → `go` (all at once, so
 * every process starts cold together) → worker runs its uploads (or image sends) → `done` with one result
 * per upload.
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
  /** `redisUrl` is a seed node of a Redis Cluster: connect an ioredis `Cluster`. */
  redisCluster?: boolean;
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
  /**
   * Capture the module's log lines and every failure's renderings, and count descriptors before the module
   * is built and after it is closed; the job then closes the module (one job per worker).
   */
  audit?: boolean;
  /**
   * Mount the module's controller and serve it on 127.0.0.1 in each worker, with the HTTP adapter
   * `controllerAdapters[workerIndex % length]` (a job's `controllerEvery` uploads go through it).
   */
  controllerAdapters?: Array<'express' | 'fastify'>;
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
  /** Upload sources in turn: a Buffer, a file path, a stream (spooled by the library). */
  mixedSources?: boolean;
  /**
   * Every `largeEvery`-th upload is an 8 MB JPEG from a file path or a stream: more than the socket
   * buffers hold, so a try that ends early leaves its file half read.
   */
  largeEvery?: number;
  /**
   * Every `controllerEvery`-th upload is sent to the worker's mounted controller by an HTTP client
   * (form-data over node:http), the others call the service (needs `controllerAdapters`).
   */
  controllerEvery?: number;
  /**
   * Every `abortEvery`-th upload made through the service is aborted through its `signal`, 0 to 30 ms after
   * it starts.
   */
  abortEvery?: number;
  /**
   * Every `clientAbortEvery`-th upload made through the controller is abandoned by its client (the socket
   * destroyed): mid-body and once the controller has called Weixin, in turn (see `ClientAbort`).
   */
  clientAbortEvery?: number;
  /** A call that has not settled after this long is reported as hung. */
  hangAfterMs?: number;
  /** Every service upload reads this file (a path source) instead of content made from `label`. */
  sourcePath?: string;
  /**
   * Every service upload is instead a `sendImage` of its source to `fleetOpenId(sendImageTo, workerIndex, i)`
   * (the parent makes those followers on the fake); its outcome's media is the message's.
   */
  sendImageTo?: string;
}

/** The follower a `sendImageTo` job's send `index` of worker `workerIndex` goes to. */
export function fleetOpenId(prefix: string, workerIndex: number, index: number): string {
  return `${prefix}-${workerIndex}-${index}`;
}

/**
 * The name of the uploads a client abandons `awaiting-weixin` starts with this: a soak's fake holds back its
 * answer to them, so the client surely leaves while the controller waits on Weixin.
 */
export const HELD_UPLOAD_PREFIX = 'held-';

/**
 * How a client abandons an upload to the controller: `mid-body` destroys its socket after half of the body
 * (once the request reached the controller); `awaiting-weixin` sends the whole body and destroys its socket
 * as soon as the controller's call sends its upload request to Weixin (whose answer the soak's fake holds back
 * for uploads named `hold-…`).
 */
export type ClientAbort = 'mid-body' | 'awaiting-weixin';

/** How the worker's controller ended one HTTP upload, seen from inside the app (a global interceptor). */
export interface ControllerRecord {
  adapter: 'express' | 'fastify';
  /** How often the route (the upload interceptor, the controller, the service call) settled: once. */
  settles: number;
  /** `answered`, or the error it failed with: `HttpException 400`, `AbortError`, `WeixinApiError`, … */
  ended: string;
  /** The status of the answer, once one was written to its end. */
  status?: number;
  /** The connection closed: the request is over either way. */
  closed: boolean;
  /** Upload requests the route's service call sent to Weixin. */
  weixinCalls: number;
}

interface OutcomeBase {
  index: number;
  settledAt: number;
  /** How often the call (the service's promise, the HTTP client's request) settled. */
  settles: number;
  /** The job aborted this call: through its signal, or its client left (it may have finished first). */
  aborted?: boolean;
  /** `controller`: sent over HTTP to the worker's mounted controller. */
  via?: 'service' | 'controller';
  /** The client abandoned this upload to the controller, so. */
  clientAbort?: ClientAbort;
  /** For uploads through the controller: how the server ended it. */
  server?: ControllerRecord;
}

export type UploadOutcome =
  | (OutcomeBase & {
      ok: true;
      mediaId: string;
      sha256: string;
      /** Reported by the service; the controller's answer does not say. */
      reused?: boolean;
    })
  | (OutcomeBase & {
      ok: false;
      hung?: true;
      /** The error's class, `HTTP <status>` for the controller's answers, `ClientAbort` once the client left. */
      errorName: string;
      errcode?: number;
      code?: string;
      message: string;
    });

export interface WorkerAudit {
  descriptorsBefore: number;
  descriptorsAfter: number;
  /** Descriptors open after the module closed that were not open before it was built. */
  leaked: string[];
  logLines: string[];
  /** Each failure rendered: message, stack, String(), JSON, util.inspect. */
  errorTexts: string[];
}

export interface WorkerReport {
  workerIndex: number;
  pid: number;
  startedAt: number;
  finishedAt: number;
  results: UploadOutcome[];
  audit?: WorkerAudit;
  /** The worker's resident memory before the job and at its highest during it. */
  rss?: { beforeBytes: number; peakBytes: number };
}

export type ParentMessage =
  { kind: 'init'; config: FleetWorkerConfig } | { kind: 'go'; job: FleetJob } | { kind: 'exit' };

export type WorkerMessage =
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

/**
 * One round of `job` on a fleet of `processes` workers with stable tokens on `redis` and `fake`: each worker's
 * report, the round's wall time and each worker's RSS growth (MB, one decimal). A round in which any call
 * failed is refused: its figures would mean nothing.
 */
export async function fleetRound(
  redis: { url: string },
  fake: { baseUrl: string; appId: string; appSecret: string },
  processes: number,
  job: FleetJob,
): Promise<{ reports: WorkerReport[]; wallMs: number; rssGrowthMbPerProcess: number[] }> {
  const fleet = await Fleet.start({ processes, tokenMode: 'stable', ...fleetTargets(redis, fake) });
  try {
    const started = Date.now();
    const reports = (await fleet.run(job)) as WorkerReport[];
    const wallMs = Date.now() - started;
    const failures = reports.flatMap((report) => report.results).filter((result) => !result.ok);
    if (failures.length > 0) {
      throw new Error(`${failures.length} calls failed: ${JSON.stringify(failures[0])}`);
    }
    return { reports, wallMs, rssGrowthMbPerProcess: reports.map((report) => rssGrowthMb(report.rss!)) };
  } finally {
    await fleet.stop();
  }
}

/** How much a worker's RSS grew, in MB with one decimal. */
export function rssGrowthMb(rss: { beforeBytes: number; peakBytes: number }): number {
  return Math.round(((rss.peakBytes - rss.beforeBytes) / 1024 / 1024) * 10) / 10;
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
