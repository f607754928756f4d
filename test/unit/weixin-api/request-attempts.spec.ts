import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { WeixinApiError, WeixinNetworkError } from '../../../lib';
import {
  RetryBudget,
  withRetries,
  type Attempt,
  type AttemptOptions,
} from '../../../lib/weixin-api/request-attempts';
import { settle, watch, type PromiseState } from '../../support/promise-state';

const PATH = '/cgi-bin/message/custom/send';
const BASE_DELAY_MS = 100;

const reset = () => new WeixinNetworkError('socket hang up', PATH, undefined, 'ECONNRESET');

function options(overrides: Partial<AttemptOptions> = {}): AttemptOptions {
  return {
    retry: { attempts: 3, baseDelayMs: BASE_DELAY_MS },
    timeoutMs: 10_000,
    path: PATH,
    repeatable: true,
    ...overrides,
  };
}

/** A call whose tries answer in turn from `outcomes` (an Error rejects), and that counts its tries. */
function scripted(outcomes: Array<unknown>, write = false) {
  const tries: Attempt[] = [];
  const attempt = async (current: Attempt) => {
    tries.push(current);
    if (write) current.written = true;
    const outcome = outcomes[Math.min(tries.length, outcomes.length) - 1];
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  return { attempt, tries };
}

/** Runs `promise` to its end, moving the mocked clock on by each backoff as it comes. */
async function outcomeOf<T>(promise: Promise<T>): Promise<PromiseState<T>> {
  const outcome = watch(promise);
  for (let step = 0; step < 20 && outcome.state === 'pending'; step++) {
    await settle();
    mock.timers.tick(BASE_DELAY_MS * 2 ** step);
  }
  assert.notEqual(outcome.state, 'pending', 'the call never ended');
  return outcome;
}

describe('RetryBudget', () => {
  it('allows another try until its attempts-th passing fault, and counts them', () => {
    const budget = new RetryBudget(3);
    assert.equal(budget.spent, 0);
    assert.equal(budget.spend(), true);
    assert.equal(budget.spend(), true);
    assert.equal(budget.spend(), false, 'the third fault ends the call');
    assert.equal(budget.spent, 3);
  });

  it('of one attempt allows no retry', () => {
    assert.equal(new RetryBudget(1).spend(), false);
  });
});

describe('withRetries', () => {
  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout'] });
    // The middle of the jitter: each backoff is exactly base·2^(n−1).
    mock.method(Math, 'random', () => 0.5);
  });
  afterEach(() => {
    mock.timers.reset();
    mock.restoreAll();
  });

  it('makes 3 tries for a budget of 3 passing faults, then rejects with the last one', async () => {
    const faults = [reset(), reset(), reset()];
    const call = scripted([...faults, 'never reached']);
    const budget = new RetryBudget(3);
    const { error } = await outcomeOf(withRetries(call.attempt, options({ budget })));
    assert.equal(call.tries.length, 3);
    assert.equal(error, faults[2]);
    assert.equal(budget.spent, 3);
  });

  it('answers the value of the first try that succeeds', async () => {
    const call = scripted([reset(), new WeixinApiError(-1, 'system error', PATH), 'sent']);
    const { value } = await outcomeOf(withRetries(call.attempt, options()));
    assert.equal(value, 'sent');
    assert.equal(call.tries.length, 3);
  });

  it('waits base·2^(n−1) before the n-th retry', async () => {
    const call = scripted([reset(), reset(), 'sent']);
    const done = watch(withRetries(call.attempt, options()));
    await settle();
    assert.equal(call.tries.length, 1);
    mock.timers.tick(BASE_DELAY_MS - 1);
    await settle();
    assert.equal(call.tries.length, 1, 'not before the first backoff');
    mock.timers.tick(1);
    await settle();
    assert.equal(call.tries.length, 2);
    mock.timers.tick(2 * BASE_DELAY_MS - 1);
    await settle();
    assert.equal(call.tries.length, 2, 'the second backoff is twice the first');
    mock.timers.tick(1);
    await settle();
    assert.deepEqual(done, { state: 'resolved', value: 'sent' });
  });

  it('makes 1 try for an error that is not retryable', async () => {
    const quota = new WeixinApiError(45009, 'reach max api daily quota limit', PATH);
    const call = scripted([quota, 'never reached']);
    const budget = new RetryBudget(3);
    const { error } = await outcomeOf(withRetries(call.attempt, options({ budget })));
    assert.equal(error, quota);
    assert.equal(call.tries.length, 1);
    assert.equal(budget.spent, 0, 'a failure for good spends nothing');
  });

  it('shares a budget already spent in part (by the token fetch of the same call)', async () => {
    const budget = new RetryBudget(3);
    budget.spend();
    const call = scripted([reset()]);
    await outcomeOf(withRetries(call.attempt, options({ budget })));
    assert.equal(call.tries.length, 2, '3 faults in all for the call, one of them before');
  });

  it('rejects with the reason when the caller aborts during a backoff, and tries no more', async () => {
    const controller = new AbortController();
    const reason = new Error('the caller left');
    const call = scripted([reset(), 'never reached']);
    const done = watch(withRetries(call.attempt, options({ signal: controller.signal })));
    await settle();
    mock.timers.tick(BASE_DELAY_MS / 2);
    controller.abort(reason);
    await settle();
    assert.deepEqual(done, { state: 'rejected', error: reason }, 'at once, not after the backoff');
    mock.timers.tick(60_000);
    await settle();
    assert.equal(call.tries.length, 1);
  });

  it('makes no try for a caller that aborted before', async () => {
    const controller = new AbortController();
    controller.abort(new Error('aborted before'));
    const call = scripted(['never reached']);
    const done = watch(withRetries(call.attempt, options({ signal: controller.signal })));
    await settle();
    assert.equal(done.state, 'rejected');
    assert.match(String(done.error), /aborted before/);
    assert.equal(call.tries.length, 0);
  });

  it('gives each try timeoutMs of its own: it is stopped with a retryable ETIMEDOUT', async () => {
    const tries: Attempt[] = [];
    // A Weixin that never answers: the try ends only when it is stopped, as a socket torn down would.
    const silent = (current: Attempt) => {
      tries.push(current);
      return new Promise<never>((_, reject) => current.attach({ destroy: reject }));
    };
    const done = watch(
      withRetries(silent, options({ timeoutMs: 1_000, retry: { attempts: 2, baseDelayMs: BASE_DELAY_MS } })),
    );
    await settle();
    mock.timers.tick(999);
    await settle();
    assert.equal(tries[0].stoppedBy, undefined, 'not before timeoutMs');
    mock.timers.tick(1);
    await settle();
    assert.ok(tries[0].stoppedBy);
    mock.timers.tick(BASE_DELAY_MS);
    await settle();
    assert.equal(tries.length, 2, 'the timeout was retried');
    assert.equal(tries[1].stoppedBy, undefined, 'a fresh try with a fresh timeout');
    mock.timers.tick(1_000);
    await settle();
    assert.equal(tries.length, 2, 'a budget of 2');
    assert.equal(done.state, 'rejected');
    const error = done.error;
    assert.ok(error instanceof WeixinNetworkError);
    assert.equal(error.timedOut, true);
    assert.equal(error.message, 'Weixin did not answer within 1000 ms');
    assert.equal(error.path, PATH);
  });

  it('passes the caller abort to the running try, which rejects with its reason', async () => {
    const controller = new AbortController();
    const reason = new Error('the caller left');
    let running: Attempt | undefined;
    const done = watch(
      withRetries(
        (current) =>
          new Promise<never>((_, reject) => {
            running = current;
            current.attach({ destroy: reject });
          }),
        options({ signal: controller.signal }),
      ),
    );
    await settle();
    controller.abort(reason);
    await settle();
    assert.deepEqual(done, { state: 'rejected', error: reason });
    assert.equal(running?.stoppedBy, reason);
  });

  describe('a call that may not be repeated', () => {
    it('after its request was written: 1 try, rejecting with maybeDelivered', async () => {
      const call = scripted([reset(), 'never reached'], true);
      const { error } = await outcomeOf(withRetries(call.attempt, options({ repeatable: false })));
      assert.equal(call.tries.length, 1);
      assert.ok(error instanceof WeixinNetworkError);
      assert.equal(error.maybeDelivered, true);
      assert.equal(error.systemCode, 'ECONNRESET');
      assert.match(error.message, /may have reached Weixin, so it was not sent again/);
    });

    it('before its request was written: retried like any other', async () => {
      const call = scripted([reset(), 'sent'], false);
      const { value } = await outcomeOf(withRetries(call.attempt, options({ repeatable: false })));
      assert.equal(value, 'sent');
      assert.equal(call.tries.length, 2);
    });

    it('after its request was written, with an errcode -1: Weixin did not act on it, so it is retried', async () => {
      const call = scripted([new WeixinApiError(-1, 'system error', PATH), 'sent'], true);
      const { value } = await outcomeOf(withRetries(call.attempt, options({ repeatable: false })));
      assert.equal(value, 'sent');
      assert.equal(call.tries.length, 2);
    });

    it('a repeatable call written before its reset is retried', async () => {
      const call = scripted([reset(), 'sent'], true);
      const { value } = await outcomeOf(withRetries(call.attempt, options({ repeatable: true })));
      assert.equal(value, 'sent');
    });
  });
});
