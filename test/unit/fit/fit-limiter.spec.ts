import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { FitLimiter } from '../../../lib/fit/fit-limiter';
import { settle, watch } from '../../support/promise-state';

/** Conversions run through a limiter that the test finishes one by one; it records which started. */
function conversions(concurrency: number) {
  const limiter = new FitLimiter(concurrency);
  const started: string[] = [];
  const finish = new Map<string, { resolve: (value: string) => void; reject: (error: Error) => void }>();
  const run = (name: string, signal?: AbortSignal) =>
    limiter.run(() => {
      started.push(name);
      return new Promise<string>((resolve, reject) => finish.set(name, { resolve, reject }));
    }, signal);
  return { limiter, started, finish: (name: string) => finish.get(name)!, run };
}

describe('FitLimiter', () => {
  it('runs at most `concurrency` at once and starts the others in arrival order', async () => {
    const { limiter, started, finish, run } = conversions(2);
    const results = ['a', 'b', 'c', 'd', 'e'].map((name) => run(name));
    await settle();
    assert.deepEqual(started, ['a', 'b']);
    assert.deepEqual(limiter.load, { running: 2, waiting: 3 });

    finish('b').resolve('b done');
    assert.equal(await results[1], 'b done');
    await settle();
    assert.deepEqual(started, ['a', 'b', 'c'], 'the first waiter takes the freed place');
    assert.deepEqual(limiter.load, { running: 2, waiting: 2 });

    finish('a').resolve('a done');
    finish('c').resolve('c done');
    await settle();
    assert.deepEqual(started, ['a', 'b', 'c', 'd', 'e']);
    finish('d').resolve('d done');
    finish('e').resolve('e done');
    assert.deepEqual(await Promise.all(results), ['a done', 'b done', 'c done', 'd done', 'e done']);
    assert.deepEqual(limiter.load, { running: 0, waiting: 0 });
  });

  it('frees the place of a conversion that fails', async () => {
    const { limiter, started, finish, run } = conversions(1);
    const failing = run('broken');
    const next = run('next');
    await settle();
    finish('broken').reject(new Error('ffmpeg exited with code 1'));
    await assert.rejects(failing, /ffmpeg exited with code 1/);
    await settle();
    assert.deepEqual(started, ['broken', 'next']);
    finish('next').resolve('converted');
    assert.equal(await next, 'converted');
    assert.deepEqual(limiter.load, { running: 0, waiting: 0 });
  });

  it('frees the place of a conversion that throws before it returns a promise', async () => {
    const limiter = new FitLimiter(1);
    await assert.rejects(
      limiter.run(() => {
        throw new Error('no such file');
      }),
      /no such file/,
    );
    assert.deepEqual(limiter.load, { running: 0, waiting: 0 });
    assert.equal(await limiter.run(async () => 'after'), 'after');
  });

  it('takes an aborted waiter out of the queue: it rejects with the reason and never starts', async () => {
    const { limiter, started, finish, run } = conversions(1);
    const controller = new AbortController();
    const reason = new Error('the upload was cancelled');
    const first = run('first');
    const leaving = run('leaving', controller.signal);
    const staying = run('staying');
    await settle();
    assert.deepEqual(limiter.load, { running: 1, waiting: 2 });

    controller.abort(reason);
    await assert.rejects(leaving, (error) => error === reason);
    assert.deepEqual(limiter.load, { running: 1, waiting: 1 });

    finish('first').resolve('first done');
    await first;
    await settle();
    assert.deepEqual(started, ['first', 'staying'], 'the aborted one never ran');
    finish('staying').resolve('staying done');
    assert.equal(await staying, 'staying done');
    assert.deepEqual(limiter.load, { running: 0, waiting: 0 });
  });

  it('refuses at once a conversion whose signal aborted before, taking no place', async () => {
    const { limiter, started, run } = conversions(1);
    const controller = new AbortController();
    controller.abort(new Error('gone already'));
    const late = watch(run('late', controller.signal));
    await settle();
    assert.equal(late.state, 'rejected');
    assert.match(String(late.error), /gone already/);
    assert.deepEqual(started, []);
    assert.deepEqual(limiter.load, { running: 0, waiting: 0 });
  });

  it('lets a conversion that got its turn finish though its signal aborts afterwards', async () => {
    const { limiter, finish, run } = conversions(1);
    const controller = new AbortController();
    const first = run('first');
    const second = run('second', controller.signal);
    await settle();
    finish('first').resolve('first done');
    await first;
    await settle();
    assert.equal(
      getEventListeners(controller.signal, 'abort').length,
      0,
      'it stopped listening once started',
    );
    controller.abort(new Error('too late to matter here'));
    finish('second').resolve('second done');
    assert.equal(await second, 'second done', 'stopping a running conversion is its own business');
    assert.deepEqual(limiter.load, { running: 0, waiting: 0 });
  });
});
