/**
 * The worker side of `Fleet` (test/support/fleet.ts): forked from its compiled `.js`, it builds
 * `WeixinMediaModule` on the shared Redis and fake Weixin, runs the uploads (or image sends) the parent
 * sends, and reports one outcome per upload. With `controllerAdapters` it serves the module's controller on 127.0.0.1 and sends
 * a job's `controllerEvery`-th uploads through it over HTTP (`fleet-controller.ts`). With `audit`, it also reports
 * what it logged, how its failures render, and the descriptors it held before the module was built and after
 * it was closed.
 */
import type { INestApplicationContext, LoggerService } from '@nestjs/common';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import {
  type ClientAbort,
  distinctJpeg,
  fleetOpenId,
  type FleetJob,
  HELD_UPLOAD_PREFIX,
  type FleetWorkerConfig,
  type ParentMessage,
  sha256,
  type UploadOutcome,
  type WorkerAudit,
  type WorkerMessage,
} from './fleet';
import type { ControllerAnswer, ControllerClient, ControllerProbe } from './fleet-controller';
import { iccSegments, withJpegSegments } from './media-builders';
import { leakedDescriptors, settledDescriptors } from './open-descriptors';
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

/** The outcome of a call that rejected: a service upload, or an HTTP request that failed outright. */
function failureOutcome(index: number, error: unknown): UploadOutcome {
  const failure = error as {
    name?: string;
    errcode?: number;
    code?: string;
    message?: string;
    constructor?: { name?: string };
  };
  return {
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
}

/** The outcome of an upload to the controller: its answer (201 with a media_id, or Weixin's error shape). */
function controllerOutcome(index: number, reply: ControllerAnswer, content: Buffer): UploadOutcome {
  const settledAt = Date.now();
  if (reply.kind === 'abandoned') {
    return { index, ok: false, errorName: 'ClientAbort', message: 'the client left', settledAt, settles: 0 };
  }
  const { status, json } = reply;
  if (status === 201 && typeof json?.media_id === 'string') {
    return { index, ok: true, mediaId: json.media_id, sha256: sha256(content), settledAt, settles: 0 };
  }
  return {
    index,
    ok: false,
    errorName: `HTTP ${status}`,
    errcode: typeof json?.errcode === 'number' ? json.errcode : undefined,
    message: typeof json?.errmsg === 'string' ? json.errmsg : reply.body.slice(0, 200),
    settledAt,
    settles: 0,
  };
}

async function runWorker(): Promise<void> {
  // Loaded here only: the parent side must not pay for Nest and ioredis twice.
  const { NestFactory } = await import('@nestjs/core');
  const { default: Redis, Cluster } = await import('ioredis');
  const lib = await import('../../lib');
  const { RedisMediaCache, RedisTokenStore, TemporaryMediaService, WeixinMediaModule } = lib;
  const { WeixinMessageService } = lib;

  const send = (message: WorkerMessage) => {
    if (process.connected) process.send!(message);
  };
  let config: FleetWorkerConfig | undefined;
  let closeAll: () => Promise<void> = async () => undefined;
  let service: InstanceType<typeof TemporaryMediaService> | undefined;
  let messages: InstanceType<typeof WeixinMessageService> | undefined;
  let probe: ControllerProbe | undefined;
  let client: ControllerClient | undefined;
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
    const adapters = config.controllerAdapters ?? [];
    const adapter = adapters.length > 0 ? adapters[config.workerIndex % adapters.length] : undefined;
    const module = WeixinMediaModule.forRoot({
      appId: config.appId,
      appSecret: config.appSecret,
      apiBaseUrl: config.baseUrl,
      tokenMode: config.tokenMode,
      accounts: config.accounts,
      timeoutMs: config.timeoutMs ?? 10_000,
      retry: config.retry ?? { attempts: 3, baseDelayMs: 5 },
      tokenStore: new ReportingRedisTokenStore(redis, { prefix: config.prefix }),
      mediaCache: config.mediaCache === false ? false : new RedisMediaCache(redis, { prefix: config.prefix }),
      ...(adapter ? { controller: { public: true } } : {}),
    });
    const options = { logger: config.audit ? logger : (false as const) };
    let app: INestApplicationContext;
    if (adapter) {
      const { ControllerClient, ControllerProbe } = await import('./fleet-controller');
      const httpAdapter =
        adapter === 'fastify'
          ? new (await import('@nestjs/platform-fastify')).FastifyAdapter()
          : new (await import('@nestjs/platform-express')).ExpressAdapter();
      const server = await NestFactory.create(module, httpAdapter, options);
      probe = new ControllerProbe(adapter);
      server.useGlobalInterceptors(probe);
      await server.listen(0, '127.0.0.1');
      client = new ControllerClient((server.getHttpServer().address() as { port: number }).port, probe);
      app = server;
    } else {
      app = await NestFactory.createApplicationContext(module, options);
    }
    closeAll = async () => {
      closeAll = async () => undefined;
      client?.close();
      probe?.close();
      // Closing the app closes the Weixin transport's keep-alive sockets (the pool's, not a leak).
      await app.close();
      redis.disconnect();
    };
    service = app.get(TemporaryMediaService);
    messages = app.get(WeixinMessageService);
    send({ kind: 'ready', pid: process.pid });
  };

  const go = async (job: FleetJob) => {
    const { workerIndex } = config!;
    const base = readFileSync(mediaFixture('image.jpg'));
    const fileContent = job.sourcePath ? readFileSync(job.sourcePath) : undefined;
    const startedAt = Date.now();
    // Resident memory before the job and at its highest (sampled), for benchmarks.
    const rss = { beforeBytes: process.memoryUsage().rss, peakBytes: 0 };
    const sampler = setInterval(
      () => (rss.peakBytes = Math.max(rss.peakBytes, process.memoryUsage().rss)),
      5,
    );
    const results: UploadOutcome[] = new Array(job.uploads);
    const settles = new Array<number>(job.uploads).fill(0);
    const errorTexts: string[] = [];
    const largePadding = job.largeEvery ? Buffer.concat(iccSegments(8 * 1024 * 1024)) : Buffer.alloc(0);
    const sourceDir = job.mixedSources ? mkdtempSync(join(tmpdir(), 'fleet-sources-')) : undefined;
    const hangAfterMs = job.hangAfterMs ?? 30_000;
    const failed = (index: number, error: unknown): UploadOutcome => {
      if (config!.audit) errorTexts.push(renderings(error));
      return failureOutcome(index, error);
    };
    const one = async (index: number) => {
      const name = `${job.label}-${workerIndex}-${index}`;
      let content = fileContent ?? distinctJpeg(job.sameContent ? job.label : name, base);
      const large = job.largeEvery !== undefined && index % job.largeEvery === job.largeEvery - 1;
      if (large) content = withJpegSegments(content, [largePadding]);
      const n = job.controllerEvery;
      const viaController = n !== undefined && index % n === n - 1;
      // The upload's place among those of its route (service or controller), which picks its aborts.
      const slot =
        n === undefined ? index : viaController ? Math.floor(index / n) : index - Math.floor((index + 1) / n);
      const every = viaController ? job.clientAbortEvery : job.abortEvery;
      const aborted = every !== undefined && slot % every === every - 1;
      let call: Promise<unknown>;
      let outcome: Promise<UploadOutcome>;
      if (viaController) {
        const clientAbort: ClientAbort | undefined = !aborted
          ? undefined
          : Math.floor(slot / every!) % 2 === 0
            ? 'mid-body'
            : 'awaiting-weixin';
        const filename = `${clientAbort === 'awaiting-weixin' ? HELD_UPLOAD_PREFIX : ''}${name}.jpg`;
        const answer = client!.upload(index, content, filename, clientAbort);
        call = answer;
        outcome = answer.then(
          (reply) => {
            // What the client was told is checked for secrets too.
            if (config!.audit && reply.kind === 'answered') errorTexts.push(reply.body);
            return { ...controllerOutcome(index, reply, content), clientAbort };
          },
          (error: unknown) => failed(index, error),
        );
      } else {
        const appId = job.appIds?.[index % job.appIds.length];
        // Mixed sources: a Buffer, a file path, a stream (spooled to a temp file), in turn; large ones never
        // from a Buffer (a Buffer opens no file).
        let source: Buffer | string | Readable = job.sourcePath ?? content;
        if (sourceDir && (index % 3 === 1 || (large && index % 2 === 0))) {
          source = join(sourceDir, `${index}.jpg`);
          writeFileSync(source, content);
        } else if (sourceDir && (index % 3 === 2 || large)) {
          source = Readable.from([content]);
        }
        const abort = new AbortController();
        if (aborted) setTimeout(() => abort.abort(), (index % 7) * 5);
        const options = { reuse: job.reuse, signal: abort.signal };
        const media = job.sendImageTo
          ? (appId ? messages!.forAccount(appId) : messages!)
              .sendImage(fleetOpenId(job.sendImageTo, workerIndex, index), source, options)
              .then((sent) => sent.media!)
          : (appId ? service!.forAccount(appId) : service!).uploadImage(source, options);
        call = media;
        outcome = media.then(
          (uploaded): UploadOutcome => ({
            index,
            ok: true,
            mediaId: uploaded.mediaId,
            sha256: sha256(content),
            reused: uploaded.reused,
            settledAt: Date.now(),
            settles: 0,
          }),
          (error: unknown) => failed(index, error),
        );
      }
      // Count settlements of the call itself: exactly once, or the test sees it.
      call.then(
        () => settles[index]++,
        () => settles[index]++,
      );
      let hangTimer: NodeJS.Timeout | undefined;
      const hung = new Promise<UploadOutcome>((resolve) => {
        hangTimer = setTimeout(
          () =>
            resolve({
              index,
              ok: false,
              hung: true,
              errorName: 'Hung',
              message: `no answer after ${hangAfterMs} ms`,
              settledAt: Date.now(),
              settles: 0,
            }),
          hangAfterMs,
        );
      });
      results[index] = await Promise.race([outcome, hung]);
      clearTimeout(hangTimer);
      results[index].via = viaController ? 'controller' : 'service';
      if (aborted) results[index].aborted = true;
    };
    const concurrency = Math.min(job.concurrency ?? job.uploads, job.uploads);
    let nextIndex = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (nextIndex < job.uploads) await one(nextIndex++);
      }),
    );
    // Let late settlements (a second resolve would be a bug) show up before counting; the server's side of
    // abandoned requests ends on its own time.
    await new Promise((resolve) => setImmediate(resolve));
    await probe?.quiet(hangAfterMs);
    for (const result of results) {
      result.settles = settles[result.index];
      if (result.via === 'controller') result.server = probe!.records.get(result.index);
    }
    if (config!.audit && probe) errorTexts.push(...probe.failures.map(renderings));
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
    clearInterval(sampler);
    rss.peakBytes = Math.max(rss.peakBytes, process.memoryUsage().rss);
    send({
      kind: 'done',
      report: { workerIndex, pid: process.pid, startedAt, finishedAt: Date.now(), results, audit, rss },
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
