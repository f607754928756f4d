import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where every benchmark's figures are kept, from the compiled `bench/` folder. */
export const RESULTS_FILE = join(__dirname, '../../bench/results.json');

/** Merges one benchmark's figures into bench/results.json under `name`, beside the others'. */
export function recordResults(name: string, figures: Record<string, unknown>): void {
  const all: Record<string, unknown> = existsSync(RESULTS_FILE)
    ? JSON.parse(readFileSync(RESULTS_FILE, 'utf8'))
    : {};
  all[name] = { ...figures, measuredAt: new Date().toISOString() };
  all.machine = `${process.platform} ${process.arch}, ${require('node:os').cpus().length} cores, node ${process.version}`;
  writeFileSync(RESULTS_FILE, `${JSON.stringify(all, null, 2)}\n`);
  console.log(`written to bench/results.json (${name})`);
}

/** The `require.main === module` body of a benchmark file: run it, print, record. */
export function runBenchmark(name: string, run: () => Promise<Record<string, unknown>>): void {
  run().then(
    (figures) => recordResults(name, figures),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
