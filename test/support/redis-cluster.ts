import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, type ClusterOptions } from 'ioredis';
import { RedisServer } from './redis-server';

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 20_000;

/**
 * A throwaway Redis Cluster of `masters` masters and no replicas: `redis-server --cluster-enabled yes` on free
 * ports, each in its own temp dir, joined by `redis-cli --cluster create`. Stopped (and its dirs removed) by
 * `stop()`; each server dies with the test process as `RedisServer`'s do.
 */
export class RedisCluster {
  private readonly clients = new Set<Cluster>();

  private constructor(
    readonly masters: RedisServer[],
    private readonly dirs: string[],
  ) {}

  static async start(masters = 3): Promise<RedisCluster> {
    assertRedisCliInstalled();
    const dirs: string[] = [];
    const servers: RedisServer[] = [];
    const cluster = new RedisCluster(servers, dirs);
    try {
      for (let i = 0; i < masters; i++) {
        const dir = mkdtempSync(join(tmpdir(), 'weixin-media-cluster-'));
        dirs.push(dir);
        const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--dir', dir];
        servers.push(await RedisServer.start({ own: true, args }));
      }
      const create = spawnSync(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...servers.map((server) => `${HOST}:${server.port}`),
          '--cluster-replicas',
          '0',
          '--cluster-yes',
        ],
        { encoding: 'utf8', timeout: READY_TIMEOUT_MS },
      );
      if (create.status !== 0) {
        throw new Error(`redis-cli --cluster create failed:\n${create.stdout}\n${create.stderr}`);
      }
      await cluster.waitUntilReady();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** An ioredis `Cluster` client; closed by `stop()`. */
  createClient(options: ClusterOptions = {}): Cluster {
    const client = new Cluster(
      this.masters.map((server) => ({ host: HOST, port: server.port })),
      { redisOptions: { maxRetriesPerRequest: 2 }, ...options },
    );
    client.on('error', () => undefined);
    this.clients.add(client);
    return client;
  }

  /** Every key on every master (SCAN), as `{ port, key }`. */
  async keysByMaster(): Promise<Array<{ port: number; key: string }>> {
    const found: Array<{ port: number; key: string }> = [];
    for (const server of this.masters) {
      const node = server.createClient();
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) found.push({ port: server.port, key });
      } while (cursor !== '0');
    }
    return found;
  }

  async flushAll(): Promise<void> {
    for (const server of this.masters) await server.createClient().flushall();
  }

  async stop(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    this.clients.clear();
    await Promise.all(this.masters.map((server) => server.stop()));
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const nodes = this.masters.map((server) => server.createClient());
    while (Date.now() < deadline) {
      const infos = await Promise.all(nodes.map((node) => node.cluster('INFO') as Promise<string>));
      if (infos.every((info) => info.includes('cluster_state:ok'))) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(
      `the Redis Cluster on ${this.masters.map((s) => s.port).join(', ')} did not become ready`,
    );
  }
}

function assertRedisCliInstalled(): void {
  const probe = spawnSync('redis-cli', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'The Redis Cluster tests need `redis-cli` (Debian/Ubuntu: `apt-get install -y redis-tools`; ' +
        '`npm test` installs it as root, from test/system-packages).',
    );
  }
}
