import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths';

export const TSC = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
/** The required peers only, at the versions this repository develops against (so npm finds them in its cache). */
export const REQUIRED_PEERS = ['@nestjs/common', '@nestjs/core', 'reflect-metadata', 'rxjs', '@types/node'];

export function installedVersion(name: string): string {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
}

export function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
}

/**
 * Builds the package and packs it in `work`, from a copy so the repository's dist/ and tree stay as they are.
 * Answers the tarball's path.
 */
export function packPackage(work: string): string {
  const pkg = join(work, 'package');
  run(
    process.execPath,
    [TSC, '-p', join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')],
    REPO_ROOT,
  );
  for (const file of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']) {
    cpSync(join(REPO_ROOT, file), join(pkg, file));
  }
  return join(work, run('npm', ['pack', '--silent', '--pack-destination', work], pkg).trim());
}

/**
 * The tsconfig of a newcomer's app: plain CommonJS, strict, skipLibCheck false, sources in src/; `output` says
 * whether it only type-checks or builds (and where to).
 */
export function appTsconfig(output: { noEmit: true } | { outDir: string; rootDir: string }): object {
  return {
    compilerOptions: {
      module: 'commonjs',
      moduleResolution: 'node',
      target: 'ES2022',
      strict: true,
      skipLibCheck: false,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      esModuleInterop: true,
      types: ['node'],
      ...output,
    },
    include: ['src'],
  };
}

/**
 * A new app in `app` with this tsconfig, the tarball and `packages` (names, installed at this repository's
 * versions) installed offline where the cache has them.
 */
export function installApp(app: string, tarball: string, tsconfig: object, packages: string[]): void {
  mkdirSync(join(app, 'src'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'newcomer-app', private: true }));
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  const versioned = packages.map((name) => `${name}@${installedVersion(name)}`);
  run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball, ...versioned],
    app,
  );
}
