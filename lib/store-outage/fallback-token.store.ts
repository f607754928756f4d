import type { StoredAccessToken, TokenLock, TokenStore } from '../interfaces/token-store.interface';
import { InMemoryTokenStore } from '../tokens/in-memory-token.store';
import type { StoreCircuit } from './store-circuit';

/**
 * The token store the module uses in front of a shared one (Redis): while the shared store fails or
 * does not answer within the circuit's bound, tokens are kept and locked in this process instead, so
 * the token manager's single flight makes one token request per process and no call waits on the
 * store. When the shared store answers again it is used again.
 */
export class FallbackTokenStore implements TokenStore {
  protected local = new InMemoryTokenStore();

  constructor(
    protected readonly shared: TokenStore,
    protected readonly circuit: StoreCircuit,
  ) {}

  get(key: string): Promise<StoredAccessToken | undefined> {
    return this.circuit.run(
      'get',
      () => this.shared.get(key),
      () => this.local.get(key),
    );
  }

  set(key: string, value: StoredAccessToken): Promise<void> {
    return this.circuit.run(
      'set',
      () => this.shared.set(key, value),
      () => this.local.set(key, value),
    );
  }

  delete(key: string, token: string): Promise<void> {
    return this.circuit.run(
      'delete',
      () => this.shared.delete(key, token),
      () => this.local.delete(key, token),
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

  /** Forgets what was kept in this process during an outage (the shared store is current again). */
  forgetLocal(): void {
    this.local = new InMemoryTokenStore();
  }
}
