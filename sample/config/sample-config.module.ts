import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, registerAs } from '@nestjs/config';
import {
  type FakeWeixinTarget,
  readSampleConfig,
  SAMPLE_CONFIG_NAMESPACE,
  type SampleEnv,
} from './sample.config';

/**
 * `ConfigModule` with the sample's typed settings under the `sample` namespace, read from the given
 * environment (not from a `.env` file: `main.ts` loads one into `process.env` when present).
 */
@Module({})
export class SampleConfigModule {
  static forRoot(env: SampleEnv, fake?: FakeWeixinTarget): DynamicModule {
    return {
      module: SampleConfigModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [registerAs(SAMPLE_CONFIG_NAMESPACE, () => readSampleConfig(env, fake))],
        }),
      ],
      exports: [ConfigModule],
    };
  }
}
