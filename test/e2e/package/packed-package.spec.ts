import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { appTsconfig, installApp, packPackage, REQUIRED_PEERS, run, TSC } from '../../support/packed-app';
import { mediaFixture, REPO_ROOT } from '../../support/paths';

const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));

/** A newcomer's app: strict TypeScript, skipLibCheck false, the package from its tarball, no optional peer. */
const APP_TSCONFIG = appTsconfig({ outDir: 'dist', rootDir: 'src' });

const APP_MAIN = `import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  MediaSourceError,
  RedisMediaCache,
  RedisTokenStore,
  TemporaryMediaService,
  WeixinMediaModule,
  type TemporaryMedia,
  type WeixinRedisClient,
} from 'nestjs-weixin-media';
import { FakeWeixinServer } from 'nestjs-weixin-media/testing';
import { readFileSync } from 'node:fs';

@Injectable()
class WelcomeHandler {
  constructor(readonly media: TemporaryMediaService) {}
}

@Module({ imports: [WeixinMediaModule.forRoot()], providers: [WelcomeHandler] })
class AppModule {}

// The Redis stores take any client with the commands they use: this app has no ioredis.
export function shared(client: WeixinRedisClient): [RedisTokenStore, RedisMediaCache] {
  return [new RedisTokenStore(client), new RedisMediaCache(client)];
}
export type Fake = FakeWeixinServer;

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  const { media } = app.get(WelcomeHandler);
  const uploaded: TemporaryMedia = await media.uploadImage(readFileSync(process.argv[2]));
  const missing = await media.uploadImage('no-such-file.jpg').catch((error: unknown) => error);
  await app.close();
  console.log(JSON.stringify({ mediaId: uploaded.mediaId, missing: missing instanceof MediaSourceError && missing.systemCode }));
}
void main();
`;

/**
 * The "done when": the packed tarball, installed into a new strict TypeScript app with only the required
 * peers, compiles with skipLibCheck false, starts the fake Weixin server through its bin, and uploads.
 */
describe('the packed package in a new app', () => {
  let work: string;
  let app: string;
  let fake: ChildProcess | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'packed-package-'));
    app = join(work, 'app');
    installApp(app, packPackage(work), APP_TSCONFIG, REQUIRED_PEERS);
    writeFileSync(join(app, 'src/main.ts'), APP_MAIN);
  });
  after(() => {
    if (fake?.exitCode === null) fake.kill();
    rmSync(work, { recursive: true, force: true });
  });

  it('ships LICENSE, README, CHANGELOG and both entry points, and installs no optional peer', () => {
    const installed = join(app, 'node_modules/nestjs-weixin-media');
    for (const file of [
      'LICENSE',
      'README.md',
      'CHANGELOG.md',
      'dist/index.d.ts',
      'dist/testing/index.d.ts',
    ]) {
      assert.ok(readFileSync(join(installed, file)).length > 0, file);
    }
    for (const optional of Object.keys(manifest.peerDependenciesMeta)) {
      assert.throws(
        () => readFileSync(join(app, 'node_modules', optional, 'package.json')),
        /ENOENT/,
        optional,
      );
    }
  });

  it('compiles in a strict app with skipLibCheck false', () => {
    run(process.execPath, [TSC, '-p', 'tsconfig.json'], app);
  });

  it('starts the fake Weixin server through its bin and uploads to it', async () => {
    fake = spawn(join(app, 'node_modules/.bin/weixin-fake-server'), [], {
      cwd: app,
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let printed = '';
    fake.stdout!.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
    const deadline = Date.now() + 20_000;
    while (!printed.includes('Ctrl+C') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const env = Object.fromEntries([...printed.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
    assert.deepEqual(
      Object.keys(env).sort(),
      ['WEIXIN_API_BASE_URL', 'WEIXIN_APP_ID', 'WEIXIN_APP_SECRET'],
      printed,
    );

    const output = execFileSync(process.execPath, ['dist/main.js', mediaFixture('image.jpg')], {
      cwd: app,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    const answer = JSON.parse(output.trim().split('\n').pop()!);
    assert.match(answer.mediaId, /^[\w-]{20,}$/);
    assert.equal(answer.missing, 'ENOENT');
    fake.kill('SIGINT');
    await new Promise((resolve) => fake!.once('exit', resolve));
  });
});
