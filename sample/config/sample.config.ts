import { Inject } from '@nestjs/common';
import { getConfigToken } from '@nestjs/config';
import { randomBytes } from 'node:crypto';

/** The environment the sample reads: `process.env` when run, a plain object in tests. */
export type SampleEnv = Readonly<Record<string, string | undefined>>;

/** Where the embedded fake Weixin server listens and what it accepts, when the sample runs on it. */
export interface FakeWeixinTarget {
  appId: string;
  appSecret: string;
  baseUrl: string;
}

export const SAMPLE_CONFIG_NAMESPACE = 'sample';

/** Defaults for a local demo; a real Official Account sets its own token in its server settings. */
export const DEFAULT_CALLBACK_TOKEN = 'sampletoken';
export const DEFAULT_PORT = 3000;
export const DEFAULT_HOST = '127.0.0.1';

export interface SampleConfig {
  /** `PORT`: 0 picks a free port. */
  port: number;
  /** `HOST`: the interface to listen on; `0.0.0.0` to be reachable from other machines. */
  host: string;
  weixin: {
    /** True when the sample runs on the embedded fake Weixin server (no `WEIXIN_APP_ID` set). */
    fake: boolean;
    /** `WEIXIN_APP_ID`, or the fake's. */
    appId?: string;
    /** `WEIXIN_APP_SECRET`, or the fake's. */
    appSecret?: string;
    /** `WEIXIN_API_BASE_URL`, or the fake's URL; unset means the library's default, the real Weixin API. */
    apiBaseUrl?: string;
    /** `WEIXIN_TOKEN`: the Token of the account's server settings, which signs every callback request. */
    callbackToken: string;
    /** `WEIXIN_ENCODING_AES_KEY`: the EncodingAESKey of safe mode; unset means plain mode. */
    encodingAESKey?: string;
  };
  /** `SAMPLE_UPLOAD_TOKEN`: what the upload page sends to the media controller; random when unset. */
  uploadToken: string;
}

/**
 * Reads and checks the sample's settings; one error names every bad one. With `fake`, the Weixin
 * credentials and API URL are the fake server's, whatever the environment says.
 */
export function readSampleConfig(env: SampleEnv, fake?: FakeWeixinTarget): SampleConfig {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };

  const portText = text('PORT');
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    problems.push(`PORT must be a whole number from 0 to 65535 (0 picks a free port), got "${portText}"`);
  }

  const config: SampleConfig = {
    port,
    host: text('HOST') ?? DEFAULT_HOST,
    weixin: {
      fake: fake !== undefined,
      appId: fake ? fake.appId : text('WEIXIN_APP_ID'),
      appSecret: fake ? fake.appSecret : text('WEIXIN_APP_SECRET'),
      apiBaseUrl: fake ? fake.baseUrl : text('WEIXIN_API_BASE_URL'),
      callbackToken: text('WEIXIN_TOKEN') ?? DEFAULT_CALLBACK_TOKEN,
      encodingAESKey: text('WEIXIN_ENCODING_AES_KEY'),
    },
    uploadToken: text('SAMPLE_UPLOAD_TOKEN') ?? randomBytes(18).toString('base64url'),
  };
  if (problems.length > 0) {
    throw new Error(`The sample's settings are wrong:\n- ${problems.join('\n- ')}`);
  }
  return config;
}

/** Injects the sample's typed settings (`SampleConfig`). */
export const InjectSampleConfig = (): PropertyDecorator & ParameterDecorator =>
  Inject(getConfigToken(SAMPLE_CONFIG_NAMESPACE));
