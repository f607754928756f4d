import { redactSecrets } from './secret-redaction';
import { WeixinMediaError } from './weixin-media.error';

/**
 * A token store or media cache failed (Redis refused a write: `READONLY` after a failover, `OOM` under
 * `maxmemory`; the connection is gone). It carries the operation and the store's own message, never
 * the command's arguments (keys and access tokens): the client library's error is not kept as `cause`.
 */
export class WeixinStoreError extends WeixinMediaError {
  override readonly name = 'WeixinStoreError';
  override readonly code = 'WEIXIN_MEDIA_ERR_STORE';
  /** The store's error code when it has one (`READONLY`, `OOM`, `ECONNREFUSED`, ...). */
  readonly storeCode?: string;

  constructor(
    /** What was asked of the store, e.g. `token store set` or `media cache get`. */
    readonly operation: string,
    storeMessage: string,
    storeCode?: string,
  ) {
    super(`The ${operation} failed: ${storeMessage}`);
    this.storeCode = storeCode;
  }

  /**
   * Takes only the message of `error` (first line, 300 characters at most), with `secrets` and anything
   * shaped like a token or secret field removed from it.
   */
  static from(
    operation: string,
    error: unknown,
    secrets: Iterable<string | undefined> = [],
  ): WeixinStoreError {
    if (error instanceof WeixinStoreError) return error;
    const failure = error as { message?: unknown; code?: unknown } | undefined;
    const message = typeof failure?.message === 'string' ? failure.message : String(error);
    const firstLine = redactSecrets(message.split('\n')[0], secrets).slice(0, 300);
    const code = typeof failure?.code === 'string' ? failure.code : /^([A-Z]{2,})\b/.exec(firstLine)?.[1]; // Redis replies start with their code: READONLY, OOM, ERR
    return new WeixinStoreError(operation, firstLine, code);
  }

  toJSON(): Record<string, unknown> {
    const { name, code, operation, storeCode, message } = this;
    return { name, code, operation, storeCode, message };
  }
}
