import { createHash } from 'node:crypto';
import type { SampleEnv } from '../../sample/config';
import { createSampleApp, type SampleApp } from '../../sample/sample-app';

/** The sample's default callback Token (`WEIXIN_TOKEN`). */
export const SAMPLE_CALLBACK_TOKEN = 'sampletoken';

/**
 * The sample app on a free port, quiet, on its embedded fake Weixin server: the environment is only
 * what the test passes, never the machine's (a WEIXIN_APP_ID there must not make tests call Weixin).
 */
export function startSampleApp(env: SampleEnv = {}): Promise<SampleApp> {
  return createSampleApp({ PORT: '0', ...env }, { logger: false });
}

/**
 * The query of a callback request as Weixin signs it: SHA-1 of token, timestamp and nonce sorted and
 * joined (written out here rather than taken from the sample, so the test checks the sample's version).
 */
export function signedCallbackQuery(
  extra: Record<string, string> = {},
  token = SAMPLE_CALLBACK_TOKEN,
): URLSearchParams {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = String(Math.floor(Math.random() * 1e9));
  const signature = createHash('sha1').update([token, timestamp, nonce].sort().join('')).digest('hex');
  return new URLSearchParams({ signature, timestamp, nonce, ...extra });
}
