#!/usr/bin/env node
/**
 * Runs a FakeWeixinServer on its own, for the sample app or manual tries. Installed as the package's
 * `weixin-fake-server` command (`npx weixin-fake-server`, `PORT=8090 npx weixin-fake-server`); in this
 * repository `npm run fake`.
 */
import { FakeWeixinServer } from './fake-weixin-server';

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<FakeWeixinServer> {
  const port = Number(env.PORT ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a TCP port number (0-65535, 0 = any free port), got "${env.PORT}"`);
  }
  const fake = await FakeWeixinServer.start({ port });
  const lines = [
    `FakeWeixinServer listening on ${fake.baseUrl} (port ${new URL(fake.baseUrl).port})`,
    `  appId:     ${fake.appId}`,
    `  appSecret: ${fake.appSecret}`,
    '',
    'For the library or the sample app, paste into your shell:',
    `export WEIXIN_API_BASE_URL=${fake.baseUrl}`,
    `export WEIXIN_APP_ID=${fake.appId}`,
    `export WEIXIN_APP_SECRET=${fake.appSecret}`,
    '',
    'Ctrl+C stops it.',
  ];
  process.stdout.write(lines.join('\n') + '\n');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    // A second signal means "now": do not wait for close().
    if (stopping) process.exit(1);
    stopping = true;
    process.stdout.write(`${signal}: stopping FakeWeixinServer\n`);
    void fake.close().then(() => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return fake;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
