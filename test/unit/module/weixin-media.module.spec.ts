import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  InjectWeixinMediaOptions,
  TemporaryMediaService,
  WeixinMediaModule,
  WeixinMediaOptionsError,
  type WeixinMediaModuleOptions,
} from '../../../lib';
import { WeixinTransport } from '../../../lib/weixin-api/weixin-transport';

const CREDENTIALS = { appId: 'wx0123456789abcdef', appSecret: 'unit-test-secret-value' };
const ENV_KEYS = ['WEIXIN_APP_ID', 'WEIXIN_APP_SECRET', 'WEIXIN_API_BASE_URL', 'WEIXIN_TOKEN_MODE'];

@Injectable()
class OptionsReader {
  constructor(@InjectWeixinMediaOptions() readonly options: WeixinMediaModuleOptions) {}
}

async function compileWith(imports: any[]) {
  const moduleRef = await Test.createTestingModule({ imports, providers: [OptionsReader] }).compile();
  return { moduleRef, options: moduleRef.get(OptionsReader).options };
}

async function rejectionOf(imports: any[]): Promise<Error> {
  try {
    await Test.createTestingModule({ imports }).compile();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the module to fail to compile');
}

describe('WeixinMediaModule', () => {
  const savedEnv = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  afterEach(() => {
    for (const key of ENV_KEYS) {
      if (savedEnv[key] === undefined) delete process.env[key];
      else process.env[key] = savedEnv[key];
    }
  });

  it('forRoot(options) provides the service and applies defaults', async () => {
    const { moduleRef, options } = await compileWith([WeixinMediaModule.forRoot(CREDENTIALS)]);
    assert.ok(moduleRef.get(TemporaryMediaService) instanceof TemporaryMediaService);
    assert.equal(options.appId, CREDENTIALS.appId);
    assert.equal(options.apiBaseUrl, 'https://api.weixin.qq.com');
    assert.equal(options.tokenMode, 'stable');
    assert.equal(options.timeoutMs, 30_000);
    assert.deepEqual(options.retry, { attempts: 3, baseDelayMs: 200 });
  });

  it('forRoot() reads every setting from ConfigService', async () => {
    const { options } = await compileWith([
      ConfigModule.forRoot({
        isGlobal: true,
        ignoreEnvFile: true,
        load: [
          () => ({
            WEIXIN_APP_ID: 'wxconfig000000000',
            WEIXIN_APP_SECRET: 'config-secret',
            WEIXIN_API_BASE_URL: 'http://127.0.0.1:9/',
            WEIXIN_TOKEN_MODE: 'classic',
          }),
        ],
      }),
      WeixinMediaModule.forRoot(),
    ]);
    assert.equal(options.appId, 'wxconfig000000000');
    assert.equal(options.appSecret, 'config-secret');
    assert.equal(options.apiBaseUrl, 'http://127.0.0.1:9');
    assert.equal(options.tokenMode, 'classic');
  });

  it('forRoot() without a ConfigModule reads the environment', async () => {
    process.env.WEIXIN_APP_ID = 'wxenv00000000000';
    process.env.WEIXIN_APP_SECRET = 'env-secret';
    const { options } = await compileWith([WeixinMediaModule.forRoot()]);
    assert.equal(options.appId, 'wxenv00000000000');
    assert.equal(options.appSecret, 'env-secret');
  });

  it('explicit options win over configuration', async () => {
    process.env.WEIXIN_APP_ID = 'wxenv00000000000';
    process.env.WEIXIN_TOKEN_MODE = 'classic';
    process.env.WEIXIN_APP_SECRET = 'env-secret';
    const { options } = await compileWith([
      WeixinMediaModule.forRoot({ appId: 'wxexplicit000000', tokenMode: 'stable' }),
    ]);
    assert.equal(options.appId, 'wxexplicit000000');
    assert.equal(options.tokenMode, 'stable');
    assert.equal(options.appSecret, 'env-secret');
  });

  it('forRootAsync with useFactory and inject', async () => {
    const { options } = await compileWith([
      ConfigModule.forRoot({
        ignoreEnvFile: true,
        load: [() => ({ ID: 'wxfactory0000000', SECRET: 's3cret' })],
      }),
      WeixinMediaModule.forRootAsync({
        imports: [ConfigModule],
        inject: [ConfigService],
        useFactory: (config: ConfigService): WeixinMediaModuleOptions => ({
          appId: config.get<string>('ID'),
          appSecret: config.get<string>('SECRET'),
          timeoutMs: 1234,
        }),
      }),
    ]);
    assert.equal(options.appId, 'wxfactory0000000');
    assert.equal(options.timeoutMs, 1234);
  });

  it('forRootAsync with useClass', async () => {
    class OptionsFactory {
      createWeixinMediaOptions(): WeixinMediaModuleOptions {
        return { ...CREDENTIALS, tokenMode: 'classic' };
      }
    }
    const { options } = await compileWith([WeixinMediaModule.forRootAsync({ useClass: OptionsFactory })]);
    assert.equal(options.tokenMode, 'classic');
  });

  it('forRootAsync with useExisting', async () => {
    @Injectable()
    class SharedOptions {
      createWeixinMediaOptions(): WeixinMediaModuleOptions {
        return { ...CREDENTIALS, retry: { attempts: 5, baseDelayMs: 10 } };
      }
    }
    @Module({ providers: [SharedOptions], exports: [SharedOptions] })
    class SharedOptionsModule {}
    const { options } = await compileWith([
      WeixinMediaModule.forRootAsync({ imports: [SharedOptionsModule], useExisting: SharedOptions }),
    ]);
    assert.deepEqual(options.retry, { attempts: 5, baseDelayMs: 10 });
  });

  it('retry is deep-partial: a field left out keeps its default', async () => {
    const { options } = await compileWith([
      WeixinMediaModule.forRoot({ ...CREDENTIALS, retry: { attempts: 5 } }),
    ]);
    assert.deepEqual(options.retry, { attempts: 5, baseDelayMs: 200 });
  });

  it('isGlobal makes the service injectable from modules that do not import it', async () => {
    @Injectable()
    class Handler {
      constructor(readonly media: TemporaryMediaService) {}
    }
    @Module({ providers: [Handler] })
    class FeatureModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [WeixinMediaModule.forRoot({ ...CREDENTIALS, isGlobal: true }), FeatureModule],
    }).compile();
    assert.ok(moduleRef.get(Handler).media instanceof TemporaryMediaService);
  });

  it('fails bootstrap with one error naming every missing setting', async () => {
    for (const key of ENV_KEYS) delete process.env[key];
    const error = await rejectionOf([WeixinMediaModule.forRoot()]);
    assert.ok(error instanceof WeixinMediaOptionsError, String(error));
    assert.equal(error.problems.length, 2);
    assert.match(error.message, /appId is missing.*WEIXIN_APP_ID/);
    assert.match(error.message, /appSecret is missing.*WEIXIN_APP_SECRET/);
  });

  it("lists the module's and the controller's problems in one bootstrap error", async () => {
    const bad = { appId: 'not an appid', appSecret: 'unit-test-secret-value', timeoutMs: -5 };
    const controller = { path: '', public: 'yes' as never };
    const errors = [
      await rejectionOf([WeixinMediaModule.forRoot({ ...bad, controller })]),
      await rejectionOf([WeixinMediaModule.forRootAsync({ useFactory: () => bad, controller })]),
    ];
    for (const error of errors) {
      assert.ok(error instanceof WeixinMediaOptionsError, String(error));
      assert.equal(error.code, 'WEIXIN_MEDIA_ERR_OPTIONS');
      assert.equal(error.problems.length, 5, error.message);
      for (const problem of [
        /appId is malformed/,
        /timeoutMs must be a positive whole number of milliseconds, got -5/,
        /controller\.path must be a non-empty string/,
        /controller\.public must be true or false, got "yes"/,
        /controller is enabled without guards/,
      ]) {
        assert.match(error.message, problem);
      }
    }
  });

  it('bounds the sockets to Weixin: 64 per origin by default, maxSockets to change it, nonsense refused', async () => {
    const agent = async (options: Partial<WeixinMediaModuleOptions>) => {
      const { moduleRef } = await compileWith([WeixinMediaModule.forRoot({ ...CREDENTIALS, ...options })]);
      const { maxSockets, keepAlive, protocol } = moduleRef.get(WeixinTransport).agent as any;
      return [maxSockets, keepAlive, protocol];
    };
    const http = { apiBaseUrl: 'http://127.0.0.1:9' };
    assert.deepEqual(await agent({}), [64, true, 'https:']);
    assert.deepEqual(await agent(http), [64, true, 'http:']);
    assert.deepEqual(await agent({ maxSockets: 8 }), [8, true, 'https:']);
    assert.deepEqual(await agent({ ...http, maxSockets: 8 }), [8, true, 'http:']);
    const error = await rejectionOf([WeixinMediaModule.forRoot({ ...CREDENTIALS, maxSockets: 0 })]);
    assert.match(error.message, /maxSockets must be a whole number of 1 or more, got 0/);
  });

  it('lists every malformed option and never echoes the secret', async () => {
    const secret = 'leaky secret value';
    const error = await rejectionOf([
      WeixinMediaModule.forRoot({
        appId: 'wx0123456789abcdef',
        appSecret: secret,
        apiBaseUrl: 'ftp://example.com',
        tokenMode: 'fancy' as never,
        timeoutMs: -5,
        retry: { attempts: 0, baseDelayMs: -1 },
        tokenStore: {} as never,
      }),
    ]);
    assert.ok(error instanceof WeixinMediaOptionsError);
    assert.equal(error.problems.length, 7, error.message);
    for (const word of [
      'appSecret is malformed',
      'apiBaseUrl',
      'tokenMode',
      'timeoutMs',
      'retry.attempts',
      'retry.baseDelayMs',
      'tokenStore',
    ]) {
      assert.ok(error.message.includes(word), `${word} in ${error.message}`);
    }
    assert.ok(!error.message.includes(secret));
    assert.ok(!String(error.stack).includes(secret));
  });

  it('accepts an accessTokenProvider instead of appSecret', async () => {
    const { options } = await compileWith([
      WeixinMediaModule.forRoot({ appId: 'wx0123456789abcdef', accessTokenProvider: async () => 'token' }),
    ]);
    assert.equal(options.appSecret, undefined);
    assert.equal(typeof options.accessTokenProvider, 'function');
  });
});
