import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { createSampleApp } from './sample-app';

/**
 * `npm run sample`: the sample Official Account backend. Settings come from the environment, or from a
 * `.env` file in the working directory; see docs/sample.md.
 */
async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const sample = await createSampleApp(process.env);
  const stop = (): void => {
    sample.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`The sample could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
