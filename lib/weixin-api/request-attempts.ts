import { WeixinNetworkError } from '../errors/weixin-network.error';
import type { RetryOptions } from '../interfaces';
import { countAttempt } from '../telemetry/weixin-telemetry';
import { abortReason, backoffDelay, isRetryable, sleep } from './retry-policy';

/**
 * The passing faults (-1, 5xx, resets, timeouts) one call may meet, shared by everything the call does:
 * its own tries and the token requests made for it. The call fails at its `attempts`-th passing fault,
 * so one call makes at most `attempts` failed requests in all, never attempts × attempts.
 */
export class RetryBudget {
  protected faults = 0;

  constructor(readonly attempts: number) {}

  /** Counts one passing fault; true while another try is allowed. */
  spend(): boolean {
    this.faults++;
    return this.faults < this.attempts;
  }

  /** The passing faults met so far (the backoff doubles with each). */
  get spent(): number {
    return this.faults;
  }
}

export interface AttemptOptions {
  retry: RetryOptions;
  /** The call's budget when it spans several requests (a token fetch and the call); a new one otherwise. */
  budget?: RetryBudget;
  timeoutMs: number;
  /** The API path, for error messages. */
  path: string;
  signal?: AbortSignal;
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the budget of passing faults runs out. Each try gets its own
 * signal that aborts the socket on the caller's abort or after `timeoutMs`. `prepare` runs before each
 * try's clock starts (waiting for an access token is not the request's time).
 */
export async function withRetries<T, P = undefined>(
  attempt: (signal: AbortSignal, prepared: P) => Promise<T>,
  options: AttemptOptions & { prepare?: () => Promise<P> },
): Promise<T> {
  const budget = options.budget ?? new RetryBudget(options.retry.attempts);
  for (;;) {
    try {
      const prepared = (await options.prepare?.()) as P;
      countAttempt();
      return await withTimeout((signal) => attempt(signal, prepared), options);
    } catch (error) {
      if (options.signal?.aborted || !isRetryable(error) || !budget.spend()) {
        throw error;
      }
      await sleep(backoffDelay(budget.spent, options.retry.baseDelayMs), options.signal);
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
