import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Every benchmark, each in a fresh Node process so that one's memory does not skew another's figures;
 * each prints its figures and merges them into bench/results.json. `npm run bench -- fleet` runs one.
 */
const BENCHMARKS: Record<string, string> = {
  uploadThroughput: 'upload-throughput.bench.js',
  peerComparison: 'peer-comparison.bench.js',
  largeUpload: 'large-upload.bench.js',
  importCost: 'import-cost.bench.js',
  mediaRules: 'media-rules.bench.js',
  controllerMemory: 'controller-memory.bench.js',
  fleet: 'fleet.bench.js',
  inFlightFleet: 'in-flight-fleet.bench.js',
  fit: 'fit.bench.js',
  downloadAudio: 'download-audio.bench.js',
  accounts: 'accounts-memory.bench.js',
  messageSend: 'message-send.bench.js',
  sendFanout: 'send-fanout.bench.js',
  callback: 'callback.bench.js',
};

const only = process.argv[2];
for (const [name, file] of Object.entries(BENCHMARKS)) {
  if (only && only !== name) continue;
  console.log(`\n== ${name}`);
  const { status } = spawnSync(process.execPath, [join(__dirname, file)], { stdio: 'inherit' });
  if (status !== 0) {
    console.error(`${name} failed (exit ${status})`);
    process.exitCode = 1;
  }
}
