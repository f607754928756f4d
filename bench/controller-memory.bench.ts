import {
  Controller,
  type INestApplication,
  Post,
  Query,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { ExpressAdapter, FileInterceptor } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { TemporaryMediaService, WeixinMediaModule } from '../lib';
import { MEDIA_UPLOAD_FILE_PREFIX } from '../lib/controller/upload-session';
import { FakeWeixinServer } from '../lib/testing';
import { ftypBox, moovBox } from '../test/support/media-builders';
import { runBenchmark } from './bench-results';

const MB = 1024 * 1024;
const CONCURRENCY = 32;
/** Just under the 10 MB video limit. */
const VIDEO_BYTES = 10 * MB - 1024;
const SAMPLE_EVERY_MS = 20;
const BOUNDARY = 'benchBoundaryWeixinMedia';

/**
 * RSS growth and throughput of 32 concurrent 10 MB video uploads through the upload controller (disk
 * spooled, goal: growth <= 128 MB) on Express and on Fastify, and through a plain Express route with
 * `FileInterceptor('media')` and multer's memory storage for comparison. The fake Weixin server and the 32 clients
 * run in a child process, so the figures are the Nest application's alone.
 */
export async function runControllerMemoryBench(): Promise<Record<string, unknown>> {
  const load = await LoadGenerator.start();
  try {
    const runs: Array<[string, AppKind]> = [
      ['controller on Express (disk temp files)', 'express'],
      ['controller on Fastify (disk temp files)', 'fastify'],
      ['FileInterceptor + memoryStorage (Express)', 'memory'],
    ];
    const figures: Record<string, RunFigures & { tempFilesLeft?: number }> = {};
    for (const [label, kind] of runs) {
      const run = await measure(label, load, async () => {
        const app = await startApp(load, kind);
        return { app, path: kind === 'memory' ? '/memory-upload?type=video' : '/weixin/media?type=video' };
      });
      const leftovers = readdirSync(tmpdir()).filter((name) => name.startsWith(MEDIA_UPLOAD_FILE_PREFIX));
      figures[kind] = kind === 'memory' ? run : { ...run, tempFilesLeft: leftovers.length };
    }
    const worst = Math.max(figures.express.peakGrowthMb, figures.fastify.peakGrowthMb);
    const results = {
      concurrentUploads: CONCURRENCY,
      uploadBytes: VIDEO_BYTES,
      gcExposed: typeof global.gc === 'function',
      controller: figures.express,
      controllerFastify: figures.fastify,
      memoryStorage: figures.memory,
      goal: 'controller peak RSS growth <= 128 MB on each adapter',
      goalMet: worst <= 128,
    };
    console.log(
      `controller RSS growth for ${CONCURRENCY} concurrent ${(VIDEO_BYTES / MB).toFixed(1)} MB uploads`,
    );
    for (const [label, kind] of runs) {
      const run = figures[kind];
      console.log(
        `  ${label}: baseline ${run.baselineRssMb} MB, peak growth ${run.peakGrowthMb} MB, ` +
          `${run.wallMs} ms, ${run.throughputMBps} MB/s` +
          (run.tempFilesLeft === undefined ? '' : `, temp files left: ${run.tempFilesLeft}`),
      );
    }
    console.log(`  goal growth <= 128 MB on each adapter: ${results.goalMet ? 'met' : 'NOT met'}`);
    return results;
  } finally {
    await load.stop();
  }
}

type AppKind = 'express' | 'fastify' | 'memory';

interface RunFigures {
  baselineRssMb: number;
  peakRssMb: number;
  peakGrowthMb: number;
  wallMs: number;
  throughputMBps: number;
  uploadsOk: number;
}

async function measure(
  label: string,
  load: LoadGenerator,
  start: () => Promise<{ app: INestApplication; path: string }>,
): Promise<RunFigures> {
  const { app, path } = await start();
  try {
    const url = `${await app.getUrl()}${path}`.replace('[::1]', '127.0.0.1');
    // Warm up (token, JIT, sockets) with two uploads, then settle the heap before the baseline.
    await load.run(url, 2, 'warmup');
    await settle();
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, SAMPLE_EVERY_MS);
    const run = await load.run(url, CONCURRENCY, label);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    if (run.ok !== CONCURRENCY)
      throw new Error(
        `${label}: only ${run.ok}/${CONCURRENCY} uploads answered 201: ${run.failures.join('; ')}`,
      );
    return {
      baselineRssMb: mb(baseline),
      peakRssMb: mb(peak),
      peakGrowthMb: mb(peak - baseline),
      wallMs: Math.round(run.wallMs),
      throughputMBps: Math.round(((CONCURRENCY * VIDEO_BYTES) / MB / (run.wallMs / 1000)) * 10) / 10,
      uploadsOk: run.ok,
    };
  } finally {
    await app.close();
    await settle();
  }
}

@Controller('memory-upload')
class MemoryStorageUploadController {
  constructor(private readonly media: TemporaryMediaService) {}

  @Post()
  @UseInterceptors(
    // multer's memory storage, FileInterceptor's default.
    FileInterceptor('media', { limits: { fileSize: 10 * MB } }),
  )
  async upload(
    @Query('type') type: 'video',
    @UploadedFile() file: { buffer: Buffer; originalname: string; mimetype: string },
  ): Promise<Record<string, unknown>> {
    const media = await this.media.upload(type, file);
    return {
      type: media.type,
      media_id: media.mediaId,
      created_at: Math.floor(media.createdAt.getTime() / 1000),
    };
  }
}

async function startApp(load: LoadGenerator, kind: AppKind): Promise<INestApplication> {
  const withController = kind !== 'memory';
  const settings = { appId: load.appId, appSecret: load.appSecret, apiBaseUrl: load.baseUrl };
  const moduleRef = await Test.createTestingModule({
    imports: [
      WeixinMediaModule.forRoot(withController ? { ...settings, controller: { public: true } } : settings),
    ],
    controllers: withController ? [] : [MemoryStorageUploadController],
  }).compile();
  const adapter = kind === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = moduleRef.createNestApplication(adapter, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  if (withController) {
    // The upload must pass the rules as a video: check the generated file once, locally.
    const inspection = await app.get(TemporaryMediaService).inspect('video', mp4Video(0));
    if (inspection.format !== 'mp4')
      throw new Error(`the generated video is not an MP4: ${JSON.stringify(inspection)}`);
  }
  return app;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    global.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function mb(bytes: number): number {
  return Math.round((bytes / MB) * 10) / 10;
}

// ------------------------------------------------------------------------------- the generated video

const FTYP = ftypBox('isom', ['isom', 'mp41']);
const MOOV = moovBox(1000);

/** A 10 MB MP4 (`ftyp` isom + big `mdat` + small `moov`) in 64 KB chunks; `seed` makes its content unique. */
function* mp4Parts(seed: number): Generator<Buffer> {
  const mdatBytes = VIDEO_BYTES - FTYP.length - MOOV.length;
  const mdatHeader = Buffer.alloc(16);
  mdatHeader.writeUInt32BE(mdatBytes, 0);
  mdatHeader.write('mdat', 4, 'latin1');
  mdatHeader.writeDoubleBE(seed, 8);
  const filler = Buffer.alloc(64 * 1024, seed % 251);
  yield FTYP;
  yield mdatHeader;
  let left = mdatBytes - mdatHeader.length;
  while (left > 0) {
    const size = Math.min(left, filler.length);
    yield size === filler.length ? filler : filler.subarray(0, size);
    left -= size;
  }
  yield MOOV;
}

function mp4Video(seed: number): Buffer {
  return Buffer.concat([...mp4Parts(seed)]);
}

// ------------------------------------------------------------------------ the child: Weixin + clients

interface LoadResult {
  ok: number;
  wallMs: number;
  failures: string[];
}

type ChildMessage =
  | { kind: 'ready'; baseUrl: string; appId: string; appSecret: string }
  | ({ kind: 'done'; id: number } & LoadResult);

/** The fake Weixin server and the uploading clients, in a child process so their memory is not measured. */
class LoadGenerator {
  private nextId = 0;
  private readonly pending = new Map<number, (result: LoadResult) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
    readonly appId: string,
    readonly appSecret: string,
  ) {
    child.on('message', (message: ChildMessage) => {
      if (message.kind === 'done') {
        this.pending.get(message.id)?.(message);
        this.pending.delete(message.id);
      }
    });
  }

  static start(): Promise<LoadGenerator> {
    const child = fork(__filename, ['--load-generator'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the load generator exited with ${code}`)));
      child.once('message', (message: ChildMessage) => {
        if (message.kind === 'ready')
          resolve(new LoadGenerator(child, message.baseUrl, message.appId, message.appSecret));
      });
    });
  }

  run(url: string, uploads: number, label: string): Promise<LoadResult> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.send({ kind: 'run', id, url, uploads, label });
    });
  }

  async stop(): Promise<void> {
    this.child.removeAllListeners('exit');
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill();
    await exited;
  }
}

let seedCounter = 1;

async function childMain(): Promise<void> {
  const fake = await FakeWeixinServer.start({ maxStoredBytes: 64 * MB });
  process.on('message', (message: { kind: 'run'; id: number; url: string; uploads: number }) => {
    void (async () => {
      const started = performance.now();
      const outcomes = await Promise.all(
        Array.from({ length: message.uploads }, () => uploadOnce(message.url, seedCounter++)),
      );
      const failures = outcomes.filter((outcome) => outcome !== 'ok');
      process.send!({
        kind: 'done',
        id: message.id,
        ok: outcomes.length - failures.length,
        wallMs: performance.now() - started,
        failures: failures.slice(0, 3),
      });
    })();
  });
  process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
  process.send!({ kind: 'ready', baseUrl: fake.baseUrl, appId: fake.appId, appSecret: fake.appSecret });
}

/** One curl-shaped upload (`-F media=@clip.mp4`), the file streamed: answers 'ok' or what went wrong. */
function uploadOnce(url: string, seed: number): Promise<string> {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="media"; filename="clip-${seed}.mp4"\r\n` +
      'Content-Type: video/mp4\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  return new Promise((resolve) => {
    const req = httpRequest(url, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
        'content-length': head.length + VIDEO_BYTES + tail.length,
      },
    });
    req.on('error', (error) => resolve(`error ${error.message}`));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve(res.statusCode === 201 ? 'ok' : `${res.statusCode} ${Buffer.concat(chunks).toString()}`),
      );
    });
    req.write(head);
    const body = Readable.from(mp4Parts(seed));
    body.pipe(req, { end: false });
    body.on('end', () => req.end(tail));
  });
}

if (require.main === module) {
  if (process.argv.includes('--load-generator')) {
    childMain().catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  } else {
    runBenchmark('controllerMemory', runControllerMemoryBench);
  }
}
