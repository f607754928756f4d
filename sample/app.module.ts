import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { WeixinMediaModule, type WeixinMediaModuleOptions } from '../lib';
import { type FakeWeixinTarget, type SampleConfig, SampleConfigModule, type SampleEnv } from './config';
import { MessagesModule } from './messages';
import { MEDIA_CONTROLLER_PATH, UploadModule, UploadTokenGuard } from './upload';

/**
 * The sample Official Account backend: the message callback (`MessagesModule`), the upload page's
 * server side (`UploadModule`) and the library with its media controller behind the upload token.
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
          inject: [ConfigService],
          useFactory: (config: ConfigService<{ sample: SampleConfig }, true>): WeixinMediaModuleOptions => {
            const { appId, appSecret, apiBaseUrl } = config.get('sample.weixin', { infer: true });
            // Only what is set: the library names every missing setting in one bootstrap error.
            return Object.fromEntries(
              Object.entries({ appId, appSecret, apiBaseUrl }).filter(([, value]) => value !== undefined),
            );
          },
        }),
        MessagesModule,
        UploadModule,
      ],
    };
  }
}
