import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeWeixinServer } from '../lib/testing';
import { jpegOfSize, median } from './bench-media';
import { installPeers } from './bench-peers';
import { runBenchmark } from './bench-results';
import { type PeerKind, type PeerTarget, type RunCommand, type RunReport } from './peer-client';

const KINDS: readonly PeerKind[] = ['raw', 'package', 'wechat-api'];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FIRST_UPLOAD_RUNS = 5;
const COLD_UPLOADS = 1_000;
const GOAL_THROUGHPUT_RATIO = 1.2;

interface Scenario {
  name: string;
  label: string;
  type: 'thumb' | 'image';
  bytes: number;
  concurrency: number;
  uploadsPerRound: number;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'thumb64KiB',
    label: '64 KB thumbs, concurrency 32',
    type: 'thumb',
    bytes: 64 * 1024 - 4, // jpegOfSize adds a 4-byte segment header: 65,536 bytes, the limit
    concurrency: 32,
    uploadsPerRound: 600,
  },
  {
    name: 'image1MiB',
    label: '1 MiB images, concurrency 8',
    type: 'image',
    bytes: 1024 * 1024,
    concurrency: 8,
    uploadsPerRound: 150,
  },
];

/**
 * This package (mediaCache: false), raw axios + form-data (keep-alive) and wechat-api 1.35.1 side by side
 * against one FakeWeixinServer on 127.0.0.1, each client in its own process (its CPU is its own), rounds
 * interleaved with the order rotated, figures quoted as medians of per-round ratios (the machine is shared
 * and noisy; a ratio within one round sees the same noise). Also process start → first upload and token
 * requests for 1,000 concurrent cold uploads.
 */
export async function runPeerComparisonBench(): Promise<Record<string, unknown>> {
  installPeers();
  const fake = await FakeWeixinServer.start({ maxStoredBytes: 64 * 1024 * 1024 });
  const dir = mkdtempSync(join(tmpdir(), 'weixin-peer-bench-'));
  const target: PeerTarget = { baseUrl: fake.baseUrl, appId: fake.appId, appSecret: fake.appSecret };
  const files = Object.fromEntries(
    SCENARIOS.map((scenario) => {
      const path = join(dir, `${scenario.name}.jpg`);
      writeFileSync(path, jpegOfSize(scenario.bytes));
      return [scenario.name, path];
    }),
  );
  try {
    const throughput = await throughputRounds(target, files);
    const firstUpload = await firstUploads(target, files.thumb64KiB);
    const coldTokens = await coldTokenRequests(fake, target, files.thumb64KiB);
    const results = {
      rounds: ROUNDS,
      ...throughput,
      firstUploadMs: firstUpload,
      coldTokenRequests: coldTokens,
    };
    printTable(results);
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await fake.close();
  }
}

type ScenarioFigures = {
  uploadsPerSecond: Record<PeerKind, number>;
  cpuMsPerUpload: Record<PeerKind, number>;
  ratioToRaw: Record<PeerKind, number>;
  packageToWechatApi: { uploadsPerSecond: number; cpuMsPerUpload: number };
  goalMet: boolean;
};

type PeerResults = Record<string, unknown> & {
  firstUploadMs: Record<PeerKind, number>;
  coldTokenRequests: Partial<Record<PeerKind, number>>;
};

async function throughputRounds(
  target: PeerTarget,
  files: Record<string, string>,
): Promise<Record<string, ScenarioFigures>> {
  const clients = Object.fromEntries(
    await Promise.all(KINDS.map(async (kind) => [kind, await PeerProcess.start(kind, target)] as const)),
  ) as Record<PeerKind, PeerProcess>;
  try {
    const samples = new Map<string, Array<Record<PeerKind, RunReport>>>();
    for (const scenario of SCENARIOS) {
      const command = commandFor(scenario, files);
      for (const kind of KINDS) {
        await clients[kind].run({ ...command, count: Math.ceil(command.count / 4) }); // warm up
      }
      samples.set(scenario.name, []);
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const scenario of SCENARIOS) {
        const command = commandFor(scenario, files);
        const reports = {} as Record<PeerKind, RunReport>;
        for (const kind of rotate(KINDS, round)) {
          reports[kind] = await clients[kind].run(command);
        }
        samples.get(scenario.name)!.push(reports);
        console.log(
          `  round ${round + 1}/${ROUNDS} ${scenario.label}: ` +
            KINDS.map((kind) => `${kind} ${perSecond(scenario, reports[kind]).toFixed(0)}/s`).join(', '),
        );
      }
    }
    return Object.fromEntries(
      SCENARIOS.map((scenario) => [scenario.name, summarize(scenario, samples.get(scenario.name)!)]),
    );
  } finally {
    await Promise.all(KINDS.map((kind) => clients[kind].exit()));
  }
}

function summarize(scenario: Scenario, rounds: Array<Record<PeerKind, RunReport>>): ScenarioFigures {
  const per = (kind: PeerKind, figure: (report: RunReport) => number) =>
    median(rounds.map((reports) => figure(reports[kind])));
  const ratio = (a: PeerKind, b: PeerKind, figure: (report: RunReport) => number) =>
    median(rounds.map((reports) => figure(reports[a]) / figure(reports[b])));
  const rate = (report: RunReport) => perSecond(scenario, report);
  const cpu = (report: RunReport) => report.cpuMs / scenario.uploadsPerRound;
  const packageToWechatApi = {
    uploadsPerSecond: round2(ratio('package', 'wechat-api', rate)),
    cpuMsPerUpload: round2(ratio('package', 'wechat-api', cpu)),
  };
  return {
    uploadsPerSecond: byKind((kind) => Math.round(per(kind, rate))),
    cpuMsPerUpload: byKind((kind) => round2(per(kind, cpu))),
    ratioToRaw: byKind((kind) => round2(ratio(kind, 'raw', rate))),
    packageToWechatApi,
    goalMet:
      packageToWechatApi.uploadsPerSecond >= GOAL_THROUGHPUT_RATIO && packageToWechatApi.cpuMsPerUpload <= 1,
  };
}

/** Process start → first upload done, measured inside each fresh process (performance.now()). */
async function firstUploads(target: PeerTarget, path: string): Promise<Record<PeerKind, number>> {
  const times = new Map<PeerKind, number[]>(KINDS.map((kind) => [kind, []]));
  for (let run = 0; run < FIRST_UPLOAD_RUNS; run++) {
    for (const kind of rotate(KINDS, run)) {
      const child = fork(
        join(__dirname, 'peer-client.js'),
        [kind, JSON.stringify(target), '--first', path, 'thumb'],
        {
          execArgv: [],
        },
      );
      const message = await nextMessage<{ firstUploadMs: number }>(child);
      times.get(kind)!.push(message.firstUploadMs);
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  return byKind((kind) => Math.round(median(times.get(kind)!)));
}

/** Token requests the fake received while each client made 1,000 concurrent uploads from a cold start. */
async function coldTokenRequests(
  fake: FakeWeixinServer,
  target: PeerTarget,
  path: string,
): Promise<Partial<Record<PeerKind, number>>> {
  const counts: Partial<Record<PeerKind, number>> = {};
  for (const kind of ['package', 'wechat-api'] as const) {
    const client = await PeerProcess.start(kind, target);
    const before = fake.tokenRequestCount;
    await client.run({ cmd: 'run', path, type: 'thumb', count: COLD_UPLOADS, concurrency: COLD_UPLOADS });
    counts[kind] = fake.tokenRequestCount - before;
    await client.exit();
  }
  return counts;
}

class PeerProcess {
  private constructor(private readonly child: ChildProcess) {}

  static async start(kind: PeerKind, target: PeerTarget): Promise<PeerProcess> {
    const child = fork(join(__dirname, 'peer-client.js'), [kind, JSON.stringify(target)], { execArgv: [] });
    await nextMessage(child);
    return new PeerProcess(child);
  }

  async run(command: RunCommand): Promise<RunReport> {
    const reply = nextMessage<RunReport & { error?: string }>(this.child);
    this.child.send(command);
    const report = await reply;
    if (report.error) throw new Error(report.error);
    return report;
  }

  async exit(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ cmd: 'exit' });
    await exited;
  }
}

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`benchmark client exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (message) => {
      child.off('exit', onExit);
      resolve(message as T);
    });
  });
}

function commandFor(scenario: Scenario, files: Record<string, string>): RunCommand {
  return {
    cmd: 'run',
    path: files[scenario.name],
    type: scenario.type,
    count: scenario.uploadsPerRound,
    concurrency: scenario.concurrency,
  };
}

function printTable(results: PeerResults): void {
  const row = (label: string, cells: Partial<Record<PeerKind, string | number>>) =>
    console.log(`| ${label} | ${KINDS.map((kind) => cells[kind] ?? '–').join(' | ')} |`);
  console.log(`\npeer comparison, ${ROUNDS} interleaved rounds, medians of per-round ratios`);
  console.log(`| measurement | ${KINDS.join(' | ')} |`);
  console.log(`|---|${KINDS.map(() => '---').join('|')}|`);
  for (const scenario of SCENARIOS) {
    const figures = results[scenario.name] as ScenarioFigures;
    row(
      `${scenario.label}: uploads/s (ratio to raw)`,
      byKind((kind) => figures.ratioToRaw[kind].toFixed(2)),
    );
    row('  uploads/s', figures.uploadsPerSecond);
    row(
      '  CPU ms per upload',
      byKind((kind) => figures.cpuMsPerUpload[kind].toFixed(2)),
    );
  }
  row('process start → first upload (ms)', results.firstUploadMs);
  row(`token requests, ${COLD_UPLOADS} concurrent cold uploads`, results.coldTokenRequests);
  for (const scenario of SCENARIOS) {
    const { packageToWechatApi, goalMet } = results[scenario.name] as ScenarioFigures;
    console.log(
      `package / wechat-api, ${scenario.label}: uploads/s ×${packageToWechatApi.uploadsPerSecond} ` +
        `(goal ≥ ${GOAL_THROUGHPUT_RATIO}), CPU per upload ×${packageToWechatApi.cpuMsPerUpload} (goal ≤ 1): ` +
        (goalMet ? 'met' : 'NOT met'),
    );
  }
}

function perSecond(scenario: Scenario, report: RunReport): number {
  return (scenario.uploadsPerRound / report.wallMs) * 1000;
}

function byKind<T>(value: (kind: PeerKind) => T): Record<PeerKind, T> {
  return Object.fromEntries(KINDS.map((kind) => [kind, value(kind)])) as Record<PeerKind, T>;
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

if (require.main === module) {
  runBenchmark('peerComparison', runPeerComparisonBench);
}
