import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { median } from './bench-media';
import { runBenchmark } from './bench-results';

const RUNS = 11;
const GOAL_MS = 60;
const ENTRY = join(__dirname, '../lib/index.js');

/** Run in a fresh process: Nest first (the user's app has it), then the entry; both timed. */
const PROBE = `
const t0 = performance.now();
require('reflect-metadata');
require('@nestjs/common');
require('@nestjs/core');
const t1 = performance.now();
require(${JSON.stringify(ENTRY)});
const t2 = performance.now();
process.stdout.write(JSON.stringify({ nestMs: t1 - t0, entryMs: t2 - t1 }));
`;

/**
 * What `require('nestjs-weixin-media')` costs beyond `@nestjs/common` and `@nestjs/core` (goal ≤ 60 ms),
 * median of fresh processes; the optional peers installed for development (class-validator, ioredis,
 * @nestjs/config) are present, so anything loaded eagerly shows.
 */
export async function runImportCostBench(): Promise<Record<string, unknown>> {
  const entry: number[] = [];
  const nest: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const figures = JSON.parse(
      execFileSync(process.execPath, ['-e', PROBE], { cwd: join(__dirname, '../..'), encoding: 'utf8' }),
    );
    entry.push(figures.entryMs);
    nest.push(figures.nestMs);
  }
  const results = {
    runs: RUNS,
    nestMedianMs: round1(median(nest)),
    entryMedianMs: round1(median(entry)),
    goalMs: GOAL_MS,
    goalMet: median(entry) <= GOAL_MS,
  };
  console.log(`require('nestjs-weixin-media') in fresh processes (median of ${RUNS})`);
  console.log(`  @nestjs/common + @nestjs/core: ${results.nestMedianMs} ms`);
  console.log(`  the entry beyond them: ${results.entryMedianMs} ms (goal ≤ ${GOAL_MS})`);
  return results;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

if (require.main === module) {
  runBenchmark('importCost', runImportCostBench);
}
