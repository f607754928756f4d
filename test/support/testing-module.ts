import { Test, type TestingModule } from '@nestjs/testing';
import { TemporaryMediaService, WeixinMediaModule, type WeixinMediaModuleOptions } from '../../lib';
import type { FakeWeixinServer } from '../../lib/testing';

export interface MediaTestContext {
  moduleRef: TestingModule;
  service: TemporaryMediaService;
  close(): Promise<void>;
}

/** Where a module finds Weixin: the fake, or a test's own stand-in server with the same three fields. */
export type WeixinEndpoint = Pick<FakeWeixinServer, 'appId' | 'appSecret' | 'baseUrl'>;

/** The options that point `WeixinMediaModule` at the fake: its default account and its address. */
export function optionsFor(
  fake: WeixinEndpoint,
): Required<Pick<WeixinMediaModuleOptions, 'appId' | 'appSecret' | 'apiBaseUrl'>> {
  return { appId: fake.appId, appSecret: fake.appSecret, apiBaseUrl: fake.baseUrl };
}

/** A real Nest testing module with `WeixinMediaModule` pointed at the fake Weixin server; fast retries. */
export async function createMediaTestingModule(
  fake: WeixinEndpoint,
  options: WeixinMediaModuleOptions = {},
): Promise<MediaTestContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      WeixinMediaModule.forRoot({ ...optionsFor(fake), retry: { attempts: 3, baseDelayMs: 5 }, ...options }),
    ],
  }).compile();
  await moduleRef.init();
  return { moduleRef, service: moduleRef.get(TemporaryMediaService), close: () => moduleRef.close() };
}
