import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { afterEach, describe, it, mock } from 'node:test';
import { WeixinApiError, WeixinNetworkError } from '../../../lib';
import {
  abortReason,
  backoffDelay,
  isRetryable,
  raceAbort,
  sleep,
} from '../../../lib/weixin-api/retry-policy';
import { settle, watch } from '../../support/promise-state';

const PATH = '/cgi-bin/media/upload';

const network = (status?: number, systemCode?: string, maybeDelivered = false) =>
  new WeixinNetworkError('failed', PATH, status, systemCode, maybeDelivered);

describe('retry policy: isRetryable', () => {
  const cases: Array<[string, unknown, boolean]> = [
    ['errcode -1 (system busy)', new WeixinApiError(-1, 'system error', PATH), true],
    [
      'errcode 45009 (daily quota): retrying burns quota',
      new WeixinApiError(45009, 'reach max api daily quota limit', PATH),
      false,
    ],
    [
      'errcode 40001 (token): the client refreshes it, the retry loop does not',
      new WeixinApiError(40001, 'invalid credential', PATH),
      false,
    ],
    ['errcode 40004 (bad media type)', new WeixinApiError(40004, 'invalid media type', PATH), false],
    ['HTTP 500', network(500), true],
    ['HTTP 502', network(502), true],
    ['HTTP 503', network(503), true],
    ['HTTP 404', network(404), false],
    ['HTTP 400', network(400), false],
    ['HTTP 429', network(429), false],
    ['ECONNRESET', network(undefined, 'ECONNRESET'), true],
    ['ETIMEDOUT (our own timeout)', network(undefined, 'ETIMEDOUT'), true],
    ['ECONNREFUSED', network(undefined, 'ECONNREFUSED'), true],
    ['EAI_AGAIN', network(undefined, 'EAI_AGAIN'), true],
    ['ENOTFOUND (a wrong host stays wrong)', network(undefined, 'ENOTFOUND'), false],
    ['ERR_CONTENT_ENCODING', network(undefined, 'ERR_CONTENT_ENCODING'), false],
    ['a network error with neither status nor code', network(), false],
    ['a reset of a call that may have been delivered', network(undefined, 'ECONNRESET', true), false],
    ['a timeout of a call that may have been delivered', network(undefined, 'ETIMEDOUT', true), false],
    ['a 502 of a call that may have been delivered', network(502, undefined, true), false],
    [
      'a plain Error carrying code ECONNRESET',
      Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
      false,
    ],
    ['an AbortError', new DOMException('The operation was aborted', 'AbortError'), false],
    ['undefined', undefined, false],
  ];
  for (const [what, error, expected] of cases) {
    it(`${what}: ${expected ? 'another try' : 'no other try'}`, () => {
      assert.equal(isRetryable(error), expected);
    });
  }
});

describe('retry policy: backoffDelay', () => {
  afterEach(() => mock.restoreAll());

  it('stays within ±50 % of base·2^(n−1), at both ends of Math.random', () => {
    for (const attempt of [1, 2, 3, 4, 5]) {
      const doubling = 200 * 2 ** (attempt - 1);
      mock.method(Math, 'random', () => 0);
      assert.equal(backoffDelay(attempt, 200), doubling / 2, `attempt ${attempt}, lowest draw`);
      mock.method(Math, 'random', () => 0.5);
      assert.equal(backoffDelay(attempt, 200), doubling, `attempt ${attempt}, middle draw`);
      mock.method(Math, 'random', () => 0.999_999);
      assert.equal(backoffDelay(attempt, 200), (doubling * 3) / 2, `attempt ${attempt}, highest draw`);
    }
  });

  it('draws evenly in between: a seeded sequence lands in its bounds and rounds to whole ms', () => {
    let seed = 42;
    // A small linear congruential generator: the same draws on every run.
    mock.method(Math, 'random', () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let draw = 0; draw < 200; draw++) {
      const attempt = (draw % 6) + 1;
      const doubling = 150 * 2 ** (attempt - 1);
      const delay = backoffDelay(attempt, 150);
      assert.ok(Number.isInteger(delay), `${delay} is whole`);
      assert.ok(delay >= doubling / 2 && delay <= (doubling * 3) / 2, `${delay} within ${doubling} ±50 %`);
    }
  });
});

describe('retry policy: sleep', () => {
  afterEach(() => mock.timers.reset());

  it('resolves once its time has passed, not before', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const slept = watch(sleep(1_000));
    mock.timers.tick(999);
    await settle();
    assert.equal(slept.state, 'pending');
    mock.timers.tick(1);
    await settle();
    assert.equal(slept.state, 'resolved');
  });

  it('rejects with the reason as soon as the signal aborts, and stops listening', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const controller = new AbortController();
    const reason = new Error('caller left');
    const slept = watch(sleep(1_000, controller.signal));
    mock.timers.tick(400);
    controller.abort(reason);
    await settle();
    assert.equal(slept.state, 'rejected');
    assert.equal(slept.error, reason);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  it('rejects at once for a signal already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('gone already'));
    const slept = watch(sleep(60_000, controller.signal));
    await settle();
    assert.equal(slept.state, 'rejected');
    assert.match(String(slept.error), /gone already/);
  });

  it('leaves no listener on the signal once it has slept', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const controller = new AbortController();
    const slept = watch(sleep(10, controller.signal));
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    mock.timers.tick(10);
    await settle();
    assert.equal(slept.state, 'resolved');
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });
});

describe('retry policy: abortReason', () => {
  it('is the Error the signal was aborted with', () => {
    const controller = new AbortController();
    const reason = new WeixinNetworkError('no answer', PATH, undefined, 'ETIMEDOUT');
    controller.abort(reason);
    assert.equal(abortReason(controller.signal), reason);
  });

  it('is a standard AbortError when the reason is not an Error', () => {
    const controller = new AbortController();
    controller.abort('just a string');
    const error = abortReason(controller.signal);
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'AbortError');
    assert.equal(error.message, 'The operation was aborted');
  });

  it("is the signal's own AbortError for abort() without a reason", () => {
    const controller = new AbortController();
    controller.abort();
    assert.equal(abortReason(controller.signal).name, 'AbortError');
  });
});

describe('retry policy: raceAbort', () => {
  const deferred = <T>() => {
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<T>((yes, no) => ((resolve = yes), (reject = no)));
    return { promise, resolve, reject };
  };

  it('is the promise itself without a signal', () => {
    const shared = Promise.resolve(1);
    assert.equal(raceAbort(shared), shared);
  });

  it('lets one caller stop waiting while the shared promise goes on for the others', async () => {
    const shared = deferred<string>();
    const leaving = new AbortController();
    const reason = new Error('this caller left');
    const left = watch(raceAbort(shared.promise, leaving.signal));
    const staying = raceAbort(shared.promise, new AbortController().signal);
    leaving.abort(reason);
    await settle();
    assert.equal(left.state, 'rejected');
    assert.equal(left.error, reason);
    shared.resolve('token');
    assert.equal(await staying, 'token');
  });

  it("answers the promise's value or error, and stops listening to the signal", async () => {
    const controller = new AbortController();
    assert.equal(await raceAbort(Promise.resolve('value'), controller.signal), 'value');
    await assert.rejects(raceAbort(Promise.reject(new Error('failed')), controller.signal), /failed/);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  it('rejects at once for a signal already aborted, without waiting for the promise', async () => {
    const controller = new AbortController();
    controller.abort(new Error('aborted before'));
    const raced = watch(raceAbort(deferred<void>().promise, controller.signal));
    await settle();
    assert.equal(raced.state, 'rejected');
    assert.match(String(raced.error), /aborted before/);
  });
});
