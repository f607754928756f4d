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
  /**
   * False for a call Weixin must not act on twice (a message send): once a try may have reached Weixin,
   * its timeout, reset or 5xx is not tried again but rejects with `maybeDelivered: true`.
   */
  repeatable: boolean;
}

/** What a try tells its caller about itself: whether its request may have reached Weixin. */
export interface AttemptState {
  written: boolean;
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the budget of passing faults runs out. Each try gets
 * its own signal that aborts the socket on the caller's abort or after `timeoutMs`, and its own state, in
 * which it says when its request was written.
 */
export async function withRetries<T>(
  attempt: (signal: AbortSignal, state: AttemptState) => Promise<T>,
  options: AttemptOptions,
): Promise<T> {
  const budget = options.budget ?? new RetryBudget(options.retry.attempts);
  for (;;) {
    const state: AttemptState = { written: false };
    try {
      countAttempt();
      return await withTimeout((signal) => attempt(signal, state), options);
    } catch (caught) {
      const error = !options.repeatable && state.written ? maybeDelivered(caught) : caught;
      if (options.signal?.aborted || !isRetryable(error) || !budget.spend()) {
        throw error;
      }
      await sleep(backoffDelay(budget.spent, options.retry.baseDelayMs), options.signal);
    }
  }
}

/** A passing network fault of a request that may have reached Weixin: marked so, and never retried. */
function maybeDelivered(error: unknown): unknown {
  if (!(error instanceof WeixinNetworkError) || !isRetryable(error)) return error;
  const { message, path, status, systemCode } = error;
  return new WeixinNetworkError(
    `${message}; the request may have reached Weixin, so it was not sent again`,
    path,
    status,
    systemCode,
    true,
  );
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
    // The socket was torn down by our own abort: answer why, not the generic "canceled".
    throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
