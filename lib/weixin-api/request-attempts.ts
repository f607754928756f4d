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

/** What a try's request is to its `Attempt`: something to tear down (a `ClientRequest`). */
export interface Stoppable {
  destroy(error: Error): void;
}

/**
 * One try of a call: whether its request may have reached Weixin, and the one timer and (with a caller's
 * signal) the one listener that stop it. A plain object rather than an AbortController, an AbortSignal and
 * their listeners per try: those cost a JSON call a tenth of its CPU (bench/message-send.bench.ts,
 * `messageSend`).
 */
export class Attempt {
  /** Set once the request may have reached Weixin (its socket is connected). */
  written = false;
  /** Why the try was stopped (its timeout or the caller's abort); the try rejects with this. */
  stoppedBy?: Error;
  protected request?: Stoppable;
  protected readonly timer: NodeJS.Timeout;
  protected readonly onAbort?: () => void;

  constructor(protected readonly options: AttemptOptions) {
    const { timeoutMs, path, signal } = options;
    this.timer = setTimeout(
      () =>
        this.stop(
          new WeixinNetworkError(
            `Weixin did not answer within ${timeoutMs} ms`,
            path,
            undefined,
            'ETIMEDOUT',
          ),
        ),
      timeoutMs,
    );
    if (signal) {
      this.onAbort = () => this.stop(abortReason(signal));
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /** The try's request, torn down at once if the try was already stopped. */
  attach(request: Stoppable): void {
    this.request = request;
    if (this.stoppedBy) request.destroy(new Error('canceled'));
  }

  /** Stops the try (the first reason wins); the request only tears its socket down. */
  protected stop(reason: Error): void {
    if (this.stoppedBy) return;
    this.stoppedBy = reason;
    this.request?.destroy(new Error('canceled'));
  }

  /** The try is over: its timer and listener go. */
  end(): void {
    clearTimeout(this.timer);
    if (this.onAbort) this.options.signal?.removeEventListener('abort', this.onAbort);
    this.request = undefined;
  }
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the budget of passing faults runs out. Each try gets
 * its own `Attempt`, stopped by the caller's abort or after `timeoutMs`, in which it says when its request
 * was written.
 */
export async function withRetries<T>(
  attempt: (attempt: Attempt) => Promise<T>,
  options: AttemptOptions,
): Promise<T> {
  const budget = options.budget ?? new RetryBudget(options.retry.attempts);
  const { signal } = options;
  for (;;) {
    countAttempt();
    if (signal?.aborted) throw abortReason(signal);
    const current = new Attempt(options);
    let failure: unknown;
    try {
      return await attempt(current);
    } catch (caught) {
      // A request torn down by its own stop: answer why, not the generic "canceled".
      failure = current.stoppedBy ?? caught;
    } finally {
      current.end();
    }
    const error = !options.repeatable && current.written ? maybeDelivered(failure) : failure;
    if (signal?.aborted || !isRetryable(error) || !budget.spend()) {
      throw error;
    }
    await sleep(backoffDelay(budget.spent, options.retry.baseDelayMs), signal);
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
