import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MediaValidationError } from '../../../lib/errors/media-validation.error';
import { detectFormat, inspectMediaContent } from '../../../lib/media-rules/inspect-media';
import { bufferContent } from '../../../lib/media-rules/media-content';
import { MEDIA_RULES, MEDIA_TYPES } from '../../../lib/media-rules/media-limits';
import {
  amrFile,
  exifSegment,
  ftypBox,
  id3v2Tag,
  isoBox,
  isoBoxToEnd,
  isoLargeBox,
  moovBox,
  mp3Frames,
  randomBytes,
  seededRandom,
  solidPng,
  withJpegSegments,
  xingFrame,
} from '../../support/media-builders';
import { MEDIA_FIXTURES_DIR, REPO_ROOT } from '../../support/paths';

/**
 * Feeds random and mutated files to `inspectMediaContent`: it must answer a result or a
 * `MediaValidationError`, never another exception, and within a bounded time per file.
 * Reproducible: set FUZZ_SEED to replay a run; FUZZ_CASES to run more.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2024);
const CASES = Number(process.env.FUZZ_CASES ?? 10_000);
/**
 * A bound on pathological work (a reader gone quadratic), not a speed goal: counted in this process's
 * CPU time, so other processes on a busy machine do not make it fail. Speed lives in bench/.
 */
const MAX_MS_PER_CASE = 50;

function cpuMsSince(started: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(started);
  return (user + system) / 1000;
}

type Random = () => number;

function corpus(): Buffer[] {
  const fromDir = (dir: string) =>
    readdirSync(dir)
      .filter((name) => !/\.(json|md|ts)$/.test(name))
      .map((name) => readFileSync(join(dir, name)));
  const random = seededRandom(SEED ^ 0xabc);
  const mpeg2 = { version: 2, sampleRate: 22050 } as const;
  const built = [
    Buffer.concat([id3v2Tag({ version: 4, footer: true }), xingFrame(mpeg2, 50, 0), mp3Frames(50, mpeg2)]),
    mp3Frames(80, (i) => ({ version: 2.5, sampleRate: 8000, bitrateKbps: [8, 16, 32][i % 3] })),
    amrFile(
      Array.from({ length: 100 }, (_, i) => [0, 7, 8, 15][i % 4]),
      random,
    ),
    Buffer.concat([
      ftypBox('isom', ['isom', 'mp41']),
      isoLargeBox('mdat', Buffer.alloc(200)),
      moovBox(1000),
      isoBoxToEnd('free', Buffer.alloc(20)),
    ]),
    Buffer.concat([ftypBox('mp42'), isoBox('free', Buffer.alloc(0)), moovBox(10)]),
    withJpegSegments(readFileSync(join(MEDIA_FIXTURES_DIR, 'thumb.jpg')), [exifSegment(3000)]),
    solidPng(8, 8),
  ];
  const fixtures = [...fromDir(MEDIA_FIXTURES_DIR), ...fromDir(join(REPO_ROOT, 'test/fixtures/media-edge'))];
  return [...fixtures, ...built].filter((file) => file.length > 0);
}

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
const int = (random: Random, below: number) => Math.floor(random() * below);

/** Starts that send a file down each format's reader. */
const MAGICS = [
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from([0xff, 0xd8, 0xff]),
  Buffer.from('GIF89a', 'latin1'),
  Buffer.from('#!AMR\n', 'latin1'),
  Buffer.from('ID3\x04\x00\x00', 'latin1'),
  Buffer.from([0xff, 0xfb, 0x90, 0x44]),
  Buffer.from([0xff, 0xf3, 0x58, 0xc4]),
  Buffer.from('\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isommp41', 'latin1'),
  Buffer.from('RIFF\x00\x00\x00\x00WAVE', 'latin1'),
];

const MUTATIONS: Array<(file: Buffer, random: Random, files: Buffer[]) => Buffer> = [
  function flipBits(file, random) {
    const copy = Buffer.from(file);
    for (let flips = 1 + int(random, 16); flips > 0; flips--) {
      copy[int(random, copy.length)] ^= 1 << int(random, 8);
    }
    return copy;
  },
  function flipHeaderBits(file, random) {
    const copy = Buffer.from(file);
    const span = Math.min(copy.length, 64);
    for (let flips = 1 + int(random, 4); flips > 0; flips--) copy[int(random, span)] ^= 1 << int(random, 8);
    return copy;
  },
  function setBytes(file, random) {
    const copy = Buffer.from(file);
    for (let sets = 1 + int(random, 8); sets > 0; sets--) {
      copy[int(random, copy.length)] = pick(random, [0x00, 0xff, 0x7f, 0x80, int(random, 256)]);
    }
    return copy;
  },
  function truncate(file, random) {
    return file.subarray(0, int(random, file.length + 1));
  },
  function prefixGarbage(file, random) {
    return Buffer.concat([randomBytes(1 + int(random, 600), random), file]);
  },
  function appendGarbage(file, random) {
    return Buffer.concat([file, randomBytes(1 + int(random, 3000), random)]);
  },
  function cutOutRange(file, random) {
    const start = int(random, file.length);
    return Buffer.concat([file.subarray(0, start), file.subarray(start + 1 + int(random, 2000))]);
  },
  function splice(file, random, files) {
    const other = pick(random, files);
    const at = int(random, file.length);
    const from = int(random, other.length);
    const piece = other.subarray(from, from + 1 + int(random, 4000));
    return Buffer.concat([file.subarray(0, at), piece, file.subarray(at)]);
  },
  function repeatRange(file, random) {
    const start = int(random, file.length);
    const chunk = file.subarray(start, start + 1 + int(random, 500));
    const repeats = Array.from({ length: 2 + int(random, 40) }, () => chunk);
    return Buffer.concat([file.subarray(0, start), ...repeats, file.subarray(start)]);
  },
  function magicThenRandom(_file, random) {
    return Buffer.concat([pick(random, MAGICS), randomBytes(int(random, 5000), random)]);
  },
  function magicThenFile(file, random) {
    return Buffer.concat([pick(random, MAGICS), file.subarray(int(random, Math.min(file.length, 64)))]);
  },
  function pureRandom(_file, random) {
    return randomBytes(int(random, 9000), random);
  },
  function hugeSizeFields(file, random) {
    // 0xFF runs where sizes live: ID3 sizes, box sizes, segment lengths.
    const copy = Buffer.from(file);
    const at = int(random, Math.min(copy.length, 48));
    copy.fill(pick(random, [0xff, 0x7f, 0x00]), at, Math.min(at + 4, copy.length));
    return copy;
  },
];

describe(`media rules fuzz (seed ${SEED}, ${CASES} cases)`, () => {
  it('answers a result or a MediaValidationError for every file, quickly', async () => {
    const files = corpus();
    const random = seededRandom(SEED);
    const outcomes = new Map<string, number>();
    let slowest = { ms: 0, description: '' };
    // Warm up the readers so the time bound measures work, not compilation.
    for (const file of files) {
      for (const type of MEDIA_TYPES) {
        await inspectMediaContent(type, bufferContent(file)).catch(() => undefined);
      }
    }

    for (let index = 0; index < CASES; index++) {
      const base = pick(random, files);
      const mutation = pick(random, MUTATIONS);
      let file = mutation(base, random, files);
      if (random() < 0.2) file = pick(random, MUTATIONS)(file, random, files);
      // Mostly a type the original's format suits, so mutations reach the readers, not just the sniffer.
      const format = detectFormat(base).format;
      const suited = MEDIA_TYPES.filter((kind) => format && MEDIA_RULES[kind].formats.includes(format));
      const types = random() < 0.7 && suited.length > 0 ? suited : MEDIA_TYPES;
      const type = random() < 0.02 ? pick(random, ['audio', '', undefined, 7]) : pick(random, types);
      const head = file.subarray(0, 12).toString('hex');
      const description = `case ${index} (${mutation.name}, ${String(type)}, ${file.length} B: ${head}…)`;

      const started = process.cpuUsage();
      let outcome: string;
      try {
        const result = await inspectMediaContent(type, bufferContent(file));
        outcome = `ok:${result.format}`;
        assert.equal(result.bytes, file.length);
        if (result.type === 'voice') {
          assert.ok(result.durationMs !== undefined && result.durationMs <= 60000, description);
        }
      } catch (error) {
        if (!(error instanceof MediaValidationError)) {
          assert.fail(`${description} threw ${error instanceof Error ? error.stack : String(error)}`);
        }
        const readable = error.message.length > 0 && !/undefined|NaN/.test(error.message);
        assert.ok(readable, `${description}: "${error.message}"`);
        outcome = error.reason;
      }
      const ms = cpuMsSince(started);
      if (ms > slowest.ms) slowest = { ms, description };
      assert.ok(ms < MAX_MS_PER_CASE, `${description} took ${ms.toFixed(1)} ms of CPU`);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }

    // The mutations must reach every reader, not stop at the sniffer.
    const reached = ['ok:png', 'ok:jpeg', 'ok:gif', 'ok:amr', 'ok:mp3', 'ok:mp4', 'unreadable', 'too-long'];
    for (const expected of reached) {
      assert.ok(outcomes.has(expected), `no case ended ${expected}: ${JSON.stringify([...outcomes])}`);
    }
    const summary = JSON.stringify(Object.fromEntries(outcomes));
    console.log(`fuzz: ${summary}; slowest ${slowest.ms.toFixed(2)} ms, ${slowest.description}`);
  });

  it('stays fast on worst-case 2 MB voice files', async () => {
    const random = seededRandom(SEED + 1);
    const twoMb = 2 * 1024 * 1024;
    const emptyId3 = Buffer.from('ID3\x03\x00\x00\x00\x00\x00\x00', 'latin1');
    const worst = [
      Buffer.alloc(twoMb, 0xff), // a frame sync candidate at every byte
      Buffer.concat([emptyId3, Buffer.alloc(twoMb - 10, 0xff)]),
      Buffer.alloc(twoMb, Buffer.from([0xff, 0xfb, 0x90, 0x44])), // a header every 4 bytes, never confirmed
      // 2 million NO_DATA frames
      Buffer.concat([Buffer.from('#!AMR\n', 'latin1'), Buffer.alloc(twoMb - 6, 0x7c)]),
      Buffer.concat([emptyId3, randomBytes(twoMb - 10, random)]),
    ];
    for (const file of worst) {
      const started = process.cpuUsage();
      await inspectMediaContent('voice', bufferContent(file)).catch((error: unknown) => {
        assert.ok(error instanceof MediaValidationError, String(error));
      });
      const ms = cpuMsSince(started);
      assert.ok(ms < 200, `${file.subarray(0, 8).toString('hex')}…: ${ms.toFixed(1)} ms of CPU`);
    }
  });
});
