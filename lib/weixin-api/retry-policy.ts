import { WeixinApiError } from '../errors/weixin-api.error';
import { isRetryableErrcode } from '../errors/weixin-error-codes';
import { WeixinNetworkError } from '../errors/weixin-network.error';

/** Network failures worth another try: the request may not have reached Weixin, or Weixin dropped it. */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/**
 * Weixin's system-busy (-1), HTTP 5xx, resets and timeouts are passing faults, except for a request that
 * may have been delivered and may not be repeated (`maybeDelivered`).
 * Quota, permission and request errors are not: retrying them only burns quota (the table in
 * errors/weixin-error-codes.ts says which codes are retryable).
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof WeixinApiError) {
    return isRetryableErrcode(error.errcode);
  }
  if (error instanceof WeixinNetworkError) {
    if (error.maybeDelivered) return false;
    if (error.status !== undefined) return error.status >= 500;
    return error.systemCode !== undefined && RETRYABLE_NETWORK_CODES.has(error.systemCode);
  }
  return false;
}

/** Exponential backoff: a delay drawn evenly within ±50 % of the doubling one (attempt 1 is the first retry). */
export function backoffDelay(attempt: number, baseDelayMs: number): number {
  const ceiling = baseDelayMs * 2 ** (attempt - 1);
  return Math.round(ceiling / 2 + Math.random() * ceiling);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The error an aborted operation rejects with: the signal's reason, or a standard AbortError. */
export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException('The operation was aborted', 'AbortError');
}

/** Lets one caller stop waiting for a shared promise without cancelling it for the others. */
export function raceAbort<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
