/**
 * Looking at promises under `mock.timers` without awaiting them: a spec that awaited a promise its mocked
 * clock never settles would hang, and node:test would cancel every spec after it; looking says which broke.
 */

/** Lets every promise callback queued so far run (`setImmediate` is real unless a spec mocks it). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface PromiseState<T> {
  state: 'pending' | 'resolved' | 'rejected';
  value?: T;
  error?: unknown;
}

/** How `promise` has settled so far, kept up to date as it does. */
export function watch<T>(promise: Promise<T>): PromiseState<T> {
  const seen: PromiseState<T> = { state: 'pending' };
  promise.then(
    (value) => Object.assign(seen, { state: 'resolved', value }),
    (error: unknown) => Object.assign(seen, { state: 'rejected', error }),
  );
  return seen;
}
