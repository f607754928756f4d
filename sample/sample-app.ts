import { type INestApplication, Logger, type LoggerService, type LogLevel } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { type AbstractHttpAdapter, NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { DEFAULT_API_BASE_URL } from '../lib';
import { FakeWeixinServer } from '../lib/testing';
import { AppModule } from './app.module';
import { DEFAULT_CALLBACK_TOKEN, type SampleConfig, type SampleEnv } from './config';
import { WEIXIN_CALLBACK_PATH } from './messages';
import { SAMPLE_PUBLIC_DIR } from './sample-paths';
import { MEDIA_CONTROLLER_PATH, UPLOAD_TOKEN_HEADER } from './upload';

export interface SampleAppOptions {
  /** Nest's logger setting; `false` for quiet tests. */
  logger?: LoggerService | LogLevel[] | false;
}

/** `SAMPLE_ADAPTER`: the HTTP adapter the sample runs on. */
export type SampleAdapter = 'express' | 'fastify';

export interface SampleApp {
  app: NestExpressApplication | NestFastifyApplication;
  /** The HTTP adapter the sample runs on (`SAMPLE_ADAPTER=fastify`; Express by default). */
  adapter: SampleAdapter;
  /** Where the app listens, e.g. `http://127.0.0.1:3000`. */
  url: string;
  config: SampleConfig;
  /** What the upload page must send to the media controller. */
  uploadToken: string;
  /** The embedded fake Weixin server, when no `WEIXIN_APP_ID` was set. */
  fake?: FakeWeixinServer;
  /** Stops the app, then the fake. */
  close(): Promise<void>;
}

/**
 * Starts the sample and answers once it listens. Without `WEIXIN_APP_ID` in `env` it first starts the
 * embedded fake Weixin server and runs on it (no credentials needed); with `WEIXIN_APP_ID` and
 * `WEIXIN_APP_SECRET` it is a real Official Account backend.
 */
export async function createSampleApp(
  env: SampleEnv = process.env,
  options: SampleAppOptions = {},
): Promise<SampleApp> {
  const adapterName = sampleAdapter(env);
  const fake = env.WEIXIN_APP_ID?.trim() ? undefined : await FakeWeixinServer.start();
  let app: NestExpressApplication | NestFastifyApplication | undefined;
  try {
    app = (await NestFactory.create(AppModule.forRoot(env, fake), createAdapter(adapterName), {
      logger: options.logger,
      // Fail with the error (tests, main.ts) rather than exit the process.
      abortOnError: false,
    })) as NestExpressApplication | NestFastifyApplication;
    serveStatic(app, adapterName);
    const config = app
      .get<ConfigService<{ sample: SampleConfig }, true>>(ConfigService)
      .get('sample', { infer: true });
    await app.listen(config.port, config.host);
    const { port } = app.getHttpServer().address() as AddressInfo;
    const started = app;
    const sample: SampleApp = {
      app,
      adapter: adapterName,
      url: `http://${displayHost(config.host)}:${port}`,
      config,
      uploadToken: config.uploadToken,
      fake,
      close: async () => {
        await started.close();
        await fake?.close();
      },
    };
    logStartup(sample);
    return sample;
  } catch (error) {
    await app?.close();
    await fake?.close();
    throw error;
  }
}

function sampleAdapter(env: SampleEnv): SampleAdapter {
  const name = env.SAMPLE_ADAPTER?.trim().toLowerCase() || 'express';
  if (name !== 'express' && name !== 'fastify') {
    throw new Error(`SAMPLE_ADAPTER must be express or fastify, got "${env.SAMPLE_ADAPTER}"`);
  }
  return name;
}

/** `@nestjs/platform-fastify` is loaded only when asked for, as an app that does not use it would. */
function createAdapter(name: SampleAdapter): AbstractHttpAdapter {
  if (name === 'express') return new ExpressAdapter();
  const { FastifyAdapter } = require('@nestjs/platform-fastify') as typeof import('@nestjs/platform-fastify');
  return new FastifyAdapter();
}

/** The upload page's files (the library reads the callback's XML itself, on either adapter). */
function serveStatic(app: INestApplication, adapter: SampleAdapter): void {
  if (adapter === 'express') {
    (app as NestExpressApplication).useStaticAssets(SAMPLE_PUBLIC_DIR);
    return;
  }
  const fastifyApp = app as NestFastifyApplication;
  fastifyApp.useStaticAssets({ root: SAMPLE_PUBLIC_DIR });
  const fastify = fastifyApp.getHttpAdapter().getInstance();
  // The upload page's fitted uploads (`FitUploadController`) read the raw body themselves.
  fastify.addContentTypeParser('application/octet-stream', (_request, _payload, done) => done(null));
}

/** What the sample runs against and where to reach it. */
function logStartup({ url, config, uploadToken, fake, adapter }: SampleApp): void {
  const logger = new Logger('Sample');
  logger.log(`HTTP adapter: ${adapter} (SAMPLE_ADAPTER=express|fastify)`);
  const { weixin } = config;
  if (fake) {
    logger.log(`Weixin API: the embedded fake server at ${fake.baseUrl}; no credentials needed`);
    logger.log('Set WEIXIN_APP_ID, WEIXIN_APP_SECRET and WEIXIN_TOKEN to serve a real Official Account');
  } else {
    logger.log(
      `Weixin API: ${weixin.apiBaseUrl ?? DEFAULT_API_BASE_URL} as Official Account ${weixin.appId}`,
    );
  }
  logger.log(`Upload page:  ${url}/?token=${uploadToken}`);
  logger.log(`Media API:    ${url}/${MEDIA_CONTROLLER_PATH} (header ${UPLOAD_TOKEN_HEADER}: ${uploadToken})`);
  const mode = weixin.encodingAESKey ? 'safe mode (WEIXIN_ENCODING_AES_KEY)' : 'plain mode';
  // The Token is a secret of a real account: only the local default is shown.
  const token =
    weixin.callbackToken === DEFAULT_CALLBACK_TOKEN
      ? `Token "${DEFAULT_CALLBACK_TOKEN}"`
      : 'Token from WEIXIN_TOKEN';
  logger.log(`Callback URL: ${url}/${WEIXIN_CALLBACK_PATH} (${token}, ${mode})`);
  const upload = `${url}/${MEDIA_CONTROLLER_PATH}?type=image`;
  logger.log(
    `Try: curl -H '${UPLOAD_TOKEN_HEADER}: ${uploadToken}' -F media=@sample/assets/welcome.jpg '${upload}'`,
  );
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
