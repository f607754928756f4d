import { Logger } from '@nestjs/common';
import type { StoredAccessToken, TokenLock, TokenStore } from '../interfaces/token-store.interface';
import { InMemoryTokenStore } from '../tokens/in-memory-token.store';
import { StoreCircuit } from './store-circuit';

/** The user's token store behind a circuit: an outage costs sharing, never a stalled call. */
export function withTokenStoreFallback(store: TokenStore): TokenStore {
  const logger = new Logger('WeixinMediaTokenStore');
  return new FallbackTokenStore(
    store,
    new StoreCircuit({
      name: 'token store',
      meanwhile: 'access tokens are fetched and kept in this process (one request at a time)',
      warn: (message) => logger.warn(message),
      log: (message) => logger.log(message),
    }),
  );
}

/**
 * The token store the module uses in front of a shared one (Redis): while the shared store fails or
 * does not answer within the circuit's bound, tokens are kept and locked in this process instead, so
 * the token manager's single flight makes one token request per process and no call waits on the
 * store. When the shared store answers again it is used again.
 */
export class FallbackTokenStore implements TokenStore {
  protected readonly local = new InMemoryTokenStore();

  constructor(
    protected readonly shared: TokenStore,
    protected readonly circuit: StoreCircuit,
  ) {}

  /**
   * The shared token; while there is none, one this process fetched during an outage (a Redis that
   * serves reads but refuses writes would otherwise cost a token request every few seconds).
   */
  get(key: string): Promise<StoredAccessToken | undefined> {
    return this.circuit.run(
      'get',
      async () => {
        const shared = await this.shared.get(key);
        if (shared) return shared;
        const local = await this.localToken(key);
        // Back from an outage with a token the shared store lacks (a restarted Redis): share it again.
        if (local) await this.shared.set(key, local);
        return local;
      },
      () => this.localToken(key),
    );
  }

  set(key: string, value: StoredAccessToken): Promise<void> {
    return this.circuit.run(
      'set',
      () => this.shared.set(key, value),
      () => this.local.set(key, value),
    );
  }

  async delete(key: string, token: string): Promise<void> {
    // A rejected token goes from both places: it may be one this process kept during an outage.
    await this.local.delete(key, token);
    await this.circuit.run(
      'delete',
      () => this.shared.delete(key, token),
      () => undefined,
    );
  }

  async tryLock(key: string, leaseMs: number): Promise<TokenLock | undefined> {
    let shared = false;
    const lock = await this.circuit.run<TokenLock | undefined>(
      'lock',
      async () => {
        const held = await this.shared.tryLock(key, leaseMs);
        shared = true;
        return held;
      },
      () => this.local.tryLock(key, leaseMs),
      // A lock the shared store granted after we stopped waiting would block the fleet for its lease.
      (late) => void late?.release().catch(() => undefined),
    );
    if (!lock || !shared) return lock;
    return {
      release: () =>
        this.circuit.run(
          'unlock',
          () => lock.release(),
          () => undefined, // the lease ends it
        ),
    };
  }

  protected async localToken(key: string): Promise<StoredAccessToken | undefined> {
    const token = await this.local.get(key);
    return token && token.expiresAt > Date.now() ? token : undefined;
  }
}
