import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import Redis, { type RedisOptions } from 'ioredis';

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * A throwaway `redis-server` for tests: its own free port on 127.0.0.1, no persistence. It runs under a
 * small `sh` guard that kills it when our end of its stdin closes, so it dies with the test process
 * even when that process is killed outright (never an orphan holding a port).
 *
 * With `REDIS_URL` set, the tests use that Redis instead of starting one (the tests FLUSHALL it: give them
 * a spare database, e.g. `redis://127.0.0.1:6379/15`).
 */
export class RedisServer {
  private readonly clients = new Set<Redis>();
  private exited: Promise<void>;
  private stopping?: Promise<void>;

  private constructor(
    /** The Redis URL the tests connect to. */
    readonly url: string,
    private readonly child: ChildProcess | undefined,
    private readonly output: () => string,
  ) {
    this.exited = new Promise((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    // Belt and braces for a normal exit that skipped stop().
    process.once('exit', this.killOnExit);
  }

  /**
   * Starts a throwaway server on a free port, or on `port` (to restart one a test stopped, on the same
   * address). `own: true` (or a port) starts one even with REDIS_URL set: for tests that stop the
   * server or change its configuration.
   */
  static async start(options: { port?: number; own?: boolean; args?: string[] } = {}): Promise<RedisServer> {
    const external = process.env.REDIS_URL;
    if (external && !options.own && options.port === undefined) {
      const server = new RedisServer(external, undefined, () => '');
      const probe = server.createClient({
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        connectTimeout: 3_000,
      });
      try {
        await probe.ping();
      } catch (error) {
        await server.stop();
        throw new Error(
          `REDIS_URL does not answer PING (${(error as Error).message}); unset it to let the tests start redis-server`,
          { cause: error },
        );
      }
      return server;
    }
    assertRedisServerInstalled();
    let lastError: unknown;
    // A free port can be taken between our probe and redis' bind: try a few.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = options.port ?? (await freePort());
      const lines: string[] = [];
      const child = spawn(
        'sh',
        [
          '-c',
          // The guard: redis in the background; when stdin closes (stop() or our death), kill it.
          'redis-server "$@" & pid=$!; cat >/dev/null; kill $pid 2>/dev/null; wait $pid',
          'redis-guard',
          '--port',
          String(port),
          '--bind',
          HOST,
          '--save',
          '',
          '--appendonly',
          'no',
          '--protected-mode',
          'no',
          ...(options.args ?? []),
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      const collect = (chunk: Buffer) => {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        if (lines.length > 40) lines.splice(0, lines.length - 40);
      };
      child.stdout!.on('data', collect);
      child.stderr!.on('data', collect);
      const server = new RedisServer(`redis://${HOST}:${port}`, child, () => lines.join('\n'));
      try {
        await server.waitForPing();
        return server;
      } catch (error) {
        lastError = error;
        await server.stop();
      }
    }
    throw lastError;
  }

  /** The port the server listens on. */
  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** An ioredis client for this server; closed by `stop()`. */
  createClient(options: RedisOptions = {}): Redis {
    const client = new Redis(this.url, { maxRetriesPerRequest: 2, ...options });
    // A test that stops the server first must not die of a reconnect error event.
    client.on('error', () => undefined);
    this.clients.add(client);
    return client;
  }

  async stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const client of this.clients) client.disconnect();
      this.clients.clear();
      this.child?.stdin?.end();
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
      process.off('exit', this.killOnExit);
    })();
    return this.stopping;
  }

  private readonly killOnExit = (): void => {
    this.child?.stdin?.destroy();
  };

  private async waitForPing(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.child?.exitCode !== null) break;
      if (await ping(Number(new URL(this.url).port))) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not answer PING at ${this.url}:\n${this.output()}`);
  }
}

function assertRedisServerInstalled(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'These tests need a real Redis: `redis-server` was not found on PATH. ' +
        'Install it (Debian/Ubuntu: `apt-get install -y redis-server`; `npm test` does this as root) or set REDIS_URL.',
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** A raw RESP PING, so readiness does not depend on the client library's reconnect behaviour. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}
