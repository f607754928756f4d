/**
 * The parent side of a fleet test, registered as node:test hooks for a `describe` block: one Redis and one
 * fake Weixin for the block; every test starts with an empty Redis and a clean fake, and the fleet it starts
 * is stopped after it. Call `fleetPerTest()` in the body of a `describe`; read `redis`, `fake` in hooks and
 * tests only.
 */
import { after, afterEach, before, beforeEach } from 'node:test';
import type { Redis } from 'ioredis';
import type { FakeWeixinServer, FakeWeixinServerOptions } from '../../lib/testing';
import { type FakeWeixin, fakeWeixinPerTest } from './fake-weixin-hooks';
import { Fleet, fleetTargets, type FleetOptions } from './fleet';
import { RedisServer } from './redis-server';

/** A fleet's options but the shared parts, which are the block's Redis and fake. */
export type FleetStartOptions = Omit<FleetOptions, keyof ReturnType<typeof fleetTargets>>;

export class FleetHooks {
  /** The fake's hooks: `module()` makes a testing module on it, closed after the test. */
  readonly weixin: FakeWeixin;
  private server?: RedisServer;
  private admin?: Redis;
  private running?: Fleet;

  constructor(fakeOptions: FakeWeixinServerOptions) {
    before(async () => {
      this.server = await RedisServer.start();
      this.admin = this.server.createClient();
    });
    // Registered before the fake's hooks, so the fleet stops before the fake is reset or closed.
    afterEach(() => this.stopFleet());
    after(() => this.stopFleet());
    this.weixin = fakeWeixinPerTest(fakeOptions);
    beforeEach(async () => {
      await this.admin?.flushall();
    });
    after(async () => {
      await this.server?.stop();
    });
  }

  get redis(): RedisServer {
    if (!this.server) throw new Error('Redis starts in before(): read it in hooks and tests');
    return this.server;
  }

  get fake(): FakeWeixinServer {
    return this.weixin.fake;
  }

  /** Forks a fleet on the block's Redis and fake (see `Fleet.start`); it is stopped after the test. */
  async start(options: FleetStartOptions): Promise<Fleet> {
    this.running = await Fleet.start({ ...fleetTargets(this.redis, this.fake), ...options });
    return this.running;
  }

  private async stopFleet(): Promise<void> {
    const fleet = this.running;
    this.running = undefined;
    await fleet?.stop();
  }
}

export function fleetPerTest(fakeOptions: FakeWeixinServerOptions = {}): FleetHooks {
  return new FleetHooks(fakeOptions);
}
