import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runControllerMemoryBench } from './controller-memory.bench';
import { runFleetBench } from './fleet.bench';
import { runMediaRulesBench } from './media-rules.bench';
import { runUploadThroughputBench } from './upload-throughput.bench';

/** Every benchmark, in turn; their figures are printed and written to bench/results.json. */
const BENCHMARKS: Record<string, () => Promise<Record<string, unknown>>> = {
  uploadThroughput: runUploadThroughputBench,
  mediaRules: runMediaRulesBench,
  controllerMemory: runControllerMemoryBench,
  fleet: runFleetBench,
};

async function main(): Promise<void> {
  const only = process.argv[2];
  const results: Record<string, unknown> = { machine: `${process.platform} ${process.arch}, node ${process.version}`, date: new Date().toISOString() };
  for (const [name, run] of Object.entries(BENCHMARKS)) {
    if (only && only !== name) continue;
    console.log(`\n== ${name}`);
    results[name] = await run();
  }
  const file = join(__dirname, '../../bench/results.json');
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwritten to bench/results.json`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
