import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PEERS_DIR } from './peer-client';

/**
 * The packages the benchmarks compare against live in bench/peers with their own lock, installed on first
 * use (none runs an install script), never a dependency of the package. Installs them when one is missing.
 */
export function installPeers(): void {
  const { dependencies } = JSON.parse(readFileSync(join(PEERS_DIR, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const missing = Object.keys(dependencies).filter(
    (name) => !existsSync(join(PEERS_DIR, 'node_modules', name, 'package.json')),
  );
  if (missing.length === 0) return;
  console.log(`installing the benchmark peers (npm ci --prefix bench/peers): ${missing.join(', ')} missing`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const { status } = spawnSync(
    npm,
    ['ci', '--prefix', PEERS_DIR, '--ignore-scripts', '--no-audit', '--no-fund'],
    { stdio: 'inherit' },
  );
  if (status !== 0) throw new Error(`npm ci --prefix bench/peers failed (exit ${status})`);
}

/** A package installed in bench/peers. */
export function requirePeer<T = unknown>(name: string): T {
  return require(join(PEERS_DIR, 'node_modules', name)) as T;
}
