import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { WeixinMediaModule, type WeixinMediaModuleOptions } from '../lib';
import { type FakeWeixinTarget, type SampleConfig, SampleConfigModule, type SampleEnv } from './config';
import { MessagesModule, WEIXIN_CALLBACK_PATH } from './messages';
import { MEDIA_CONTROLLER_PATH, UploadModule, UploadTokenGuard } from './upload';

/**
 * The sample Official Account backend: the library with its message callback (answered by `MessagesModule`'s
 * bot) and its media controller behind the upload token, and the upload page's server side (`UploadModule`).
 */
@Module({})
export class AppModule {
  static forRoot(env: SampleEnv, fake?: FakeWeixinTarget): DynamicModule {
    return {
      module: AppModule,
      imports: [
        SampleConfigModule.forRoot(env, fake),
        WeixinMediaModule.forRootAsync({
          // Shape flags are arguments here, never factory values: they decide the module's routes.
          isGlobal: true,
          controller: { path: MEDIA_CONTROLLER_PATH, guards: [UploadTokenGuard] },
          // Plain mode, or safe mode once WEIXIN_ENCODING_AES_KEY is set (the factory answers the secrets).
          callback: { path: WEIXIN_CALLBACK_PATH },
          inject: [ConfigService],
          useFactory: (config: ConfigService<{ sample: SampleConfig }, true>): WeixinMediaModuleOptions => {
            const weixin = config.get('sample.weixin', { infer: true });
            const { appId, appSecret, apiBaseUrl, callbackToken, encodingAESKey } = weixin;
            const options = { appId, appSecret, apiBaseUrl, callbackToken, encodingAESKey };
            // Only what is set: the library names every missing setting in one bootstrap error.
            return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
          },
        }),
        MessagesModule,
        UploadModule,
      ],
    };
  }
}
