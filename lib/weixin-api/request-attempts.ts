import { WeixinNetworkError } from '../errors/weixin-network.error';
import type { RetryOptions } from '../interfaces';
import { abortReason, backoffDelay, isRetryable, sleep } from './retry-policy';

export interface AttemptOptions {
  retry: RetryOptions;
  timeoutMs: number;
  /** The API path, for error messages. */
  path: string;
  signal?: AbortSignal;
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the tries run out. Each try gets its own
 * signal that aborts the socket on the caller's abort or after `timeoutMs`. `prepare` runs before each
 * try's clock starts (waiting for an access token is not the request's time).
 */
export async function withRetries<T, P = undefined>(
  attempt: (signal: AbortSignal, prepared: P) => Promise<T>,
  options: AttemptOptions & { prepare?: () => Promise<P> },
): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      const prepared = (await options.prepare?.()) as P;
      return await withTimeout((signal) => attempt(signal, prepared), options);
    } catch (error) {
      if (tried >= options.retry.attempts || options.signal?.aborted || !isRetryable(error)) {
        throw error;
      }
      await sleep(backoffDelay(tried, options.retry.baseDelayMs), options.signal);
    }
  }
}

async function withTimeout<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  { timeoutMs, path, signal }: AttemptOptions,
): Promise<T> {
  if (signal?.aborted) throw abortReason(signal);
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new WeixinNetworkError(`Weixin did not answer within ${timeoutMs} ms`, path, undefined, 'ETIMEDOUT'),
      ),
    timeoutMs,
  );
  const onAbort = () => controller.abort(abortReason(signal!));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await attempt(controller.signal);
  } catch (error) {
    // The socket was torn down by our own abort: answer why, not axios' generic "canceled".
    throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
