/**
 * How fast the media rules judge a file, against ffprobe when it is installed.
 * Targets (issue #3): a 2 MB MP3 in < 5 ms, a 10 MB MP4 in < 2 ms, no child processes.
 * Run alone: `npm run compile && node .build/bench/media-rules.bench.js`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openFileContent } from '../lib/media-rules/file-content';
import { inspectMediaContent } from '../lib/media-rules/inspect-media';
import { bufferContent, type MediaContent } from '../lib/media-rules/media-content';
import type { MediaType } from '../lib/interfaces/media.interface';
import {
  ftypBox,
  id3v2Tag,
  isoBox,
  moovBox,
  mp3Frames,
  type Mp3FrameSpec,
} from '../test/support/media-builders';
import { runBenchmark } from './bench-results';

const RUNS = 200;
const FFPROBE_RUNS = 10;

interface Sample {
  name: string;
  type: MediaType;
  file: Buffer;
  targetMs: number;
}

function samples(): Sample[] {
  const cbr: Mp3FrameSpec = { version: 1, sampleRate: 44100, bitrateKbps: 320 };
  // 2,000 frames of 320 kbps (52 s) behind an ID3 tag: just under the 2 MB voice limit.
  const mp3 = Buffer.concat([
    id3v2Tag({ version: 3, padding: 4000 }),
    mp3Frames(2000, (i) => ({ ...cbr, padding: i % 49 !== 0 })),
  ]);
  // VBR without a Xing header: the case that must be walked frame by frame.
  const vbr = mp3Frames(2030, (i) => ({ ...cbr, bitrateKbps: [256, 320, 320][i % 3] }));
  // A recording not made "faststart": 10 MB of mdat, then moov.
  const ftyp = ftypBox('isom', ['isom', 'iso2', 'avc1', 'mp41']);
  const head = Buffer.concat([ftyp, isoBox('free', Buffer.alloc(0))]);
  const moov = moovBox(60_000);
  const mdat = isoBox('mdat', Buffer.alloc(10 * 1024 * 1024 - head.length - moov.length - 8));
  const mp4 = Buffer.concat([head, mdat, moov]);
  return [
    { name: 'MP3 2 MB CBR', type: 'voice', file: mp3, targetMs: 5 },
    { name: 'MP3 2 MB VBR, no header', type: 'voice', file: vbr, targetMs: 5 },
    { name: 'MP4 10 MB, moov at end', type: 'video', file: mp4, targetMs: 2 },
  ];
}

async function medianMs(runs: number, task: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await task();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await task();
    times.push(performance.now() - started);
  }
  return median(times);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function hasFfprobe(): boolean {
  return spawnSync('ffprobe', ['-version'], { stdio: 'ignore' }).status === 0;
}

function ffprobeMs(path: string): number {
  const times: number[] = [];
  for (let i = 0; i < FFPROBE_RUNS; i++) {
    const started = performance.now();
    spawnSync('ffprobe', ['-v', 'error', '-show_format', '-show_streams', path], { stdio: 'ignore' });
    times.push(performance.now() - started);
  }
  return median(times);
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export async function runMediaRulesBench(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'media-rules-bench-'));
  const withFfprobe = hasFfprobe();
  const results: Record<string, unknown> = {};
  const rows: string[][] = [];
  try {
    for (const sample of samples()) {
      const path = join(dir, sample.name.replace(/\W+/g, '-'));
      writeFileSync(path, sample.file);
      const inspect = (content: MediaContent) => inspectMediaContent(sample.type, content);
      // The samples meet the rules, so every run does the whole work and none stops at an error.
      const inspection = await inspect(bufferContent(sample.file));

      const fromBuffer = await medianMs(RUNS, () => inspect(bufferContent(sample.file)));
      const file = await openFileContent(path);
      const fromFile = await medianMs(RUNS, () => inspect(file)).finally(() => file.close());
      const probe = withFfprobe ? ffprobeMs(path) : undefined;

      results[sample.name] = {
        bytes: sample.file.length,
        durationMs: inspection.durationMs,
        targetMs: sample.targetMs,
        bufferMedianMs: round(fromBuffer),
        fileMedianMs: round(fromFile),
        ffprobeMedianMs: probe === undefined ? null : round(probe),
        ffprobeRatio: probe === undefined ? null : Math.round(probe / fromFile),
        withinTarget: Math.max(fromBuffer, fromFile) < sample.targetMs,
      };
      rows.push([
        sample.name,
        `${(sample.file.length / 1024 / 1024).toFixed(2)} MB`,
        `${fromBuffer.toFixed(3)} ms`,
        `${fromFile.toFixed(3)} ms`,
        `< ${sample.targetMs} ms`,
        probe === undefined ? 'not installed' : `${probe.toFixed(1)} ms (${Math.round(probe / fromFile)}×)`,
      ]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(['media rules', 'size', 'buffer (median)', 'file (median)', 'target', 'ffprobe (×)'], rows);
  return results;
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ');
  console.log([line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n'));
}

if (require.main === module) {
  runBenchmark('mediaRules', runMediaRulesBench);
}
