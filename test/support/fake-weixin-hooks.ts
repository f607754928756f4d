/**
 * The fake Weixin server's lifecycle for a `describe` block, registered as node:test hooks: the fake starts
 * before the block and closes after it, and the testing modules made on it with `module()` are closed after
 * the test (per test) or the block (per suite). Call one of these in the body of a `describe`; read `fake`,
 * `baseUrl`, `context` in hooks and tests only (they exist once the block's `before` has run). Hooks run in
 * the order they are registered: one that must run before the fake is reset (closing an app, restoring
 * mocks) goes above the call.
 */
import { after, afterEach, before } from 'node:test';
import type { TemporaryMediaService, WeixinMediaModuleOptions } from '../../lib';
import { FakeWeixinServer, type FakeWeixinServerOptions } from '../../lib/testing';
import { createMediaTestingModule, type MediaTestContext } from './testing-module';

export class FakeWeixin {
  private current?: FakeWeixinServer;
  private readonly open = new Set<MediaTestContext>();

  /** `perTest`: after each test, close the modules it made and reset the fake. */
  constructor(server: FakeWeixinServerOptions, perTest: boolean) {
    before(async () => {
      this.current = await FakeWeixinServer.start(server);
    });
    if (perTest) {
      afterEach(async () => {
        await this.closeModules();
        this.current?.reset();
      });
    }
    after(async () => {
      await this.closeModules();
      await this.current?.close();
    });
  }

  get fake(): FakeWeixinServer {
    if (!this.current)
      throw new Error('the fake Weixin server starts in before(): read it in hooks and tests');
    return this.current;
  }

  get baseUrl(): string {
    return this.fake.baseUrl;
  }

  /**
   * A real testing module on the fake (see `createMediaTestingModule`), closed after the test (per test)
   * or after the block (per suite); closing it earlier is fine, it closes once.
   */
  async module(options: WeixinMediaModuleOptions = {}): Promise<MediaTestContext> {
    const made = await createMediaTestingModule(this.fake, options);
    let closing: Promise<void> | undefined;
    const context: MediaTestContext = {
      ...made,
      close: () => {
        this.open.delete(context);
        return (closing ??= made.close());
      },
    };
    this.open.add(context);
    return context;
  }

  /** Closes the fake and starts another with `server` options: the block's fake from now on. */
  async restart(server: FakeWeixinServerOptions = {}): Promise<FakeWeixinServer> {
    await this.fake.close();
    this.current = await FakeWeixinServer.start(server);
    return this.current;
  }

  private async closeModules(): Promise<void> {
    for (const context of [...this.open]) await context.close();
  }
}

/** The block's module options, or a function giving them when the module is made (after earlier `before` hooks). */
export type SuiteModuleOptions = WeixinMediaModuleOptions | (() => WeixinMediaModuleOptions);

export class FakeWeixinSuite extends FakeWeixin {
  private made?: MediaTestContext;

  constructor(module: SuiteModuleOptions, server: FakeWeixinServerOptions) {
    super(server, false);
    before(async () => {
      this.made = await this.module(typeof module === 'function' ? module() : module);
    });
  }

  /** The block's module, made once the fake is up. */
  get context(): MediaTestContext {
    if (!this.made) throw new Error('the testing module is made in before(): read it in hooks and tests');
    return this.made;
  }

  get service(): TemporaryMediaService {
    return this.context.service;
  }
}

/**
 * One fake for the block; every test starts from a clean one: after each test the modules it made with
 * `module()` are closed and the fake is reset (tokens, media, faults, requests, clock).
 */
export function fakeWeixinPerTest(server: FakeWeixinServerOptions = {}): FakeWeixin {
  return new FakeWeixin(server, true);
}

/**
 * One fake and one module (`module` options) for the whole block, made before it and closed after it;
 * nothing is reset between tests. Modules made with `module()` are closed after the block too.
 */
export function fakeWeixinPerSuite(
  module: SuiteModuleOptions = {},
  server: FakeWeixinServerOptions = {},
): FakeWeixinSuite {
  return new FakeWeixinSuite(module, server);
}
