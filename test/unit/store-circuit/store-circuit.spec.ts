import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { STORE_DOWN_FOR_MS, STORE_TIMEOUT_MS, StoreCircuit } from '../../../lib/store-circuit/store-circuit';
import { settle, watch } from '../../support/promise-state';

/** A circuit in front of a stand-in store whose next answer the test sets; it records what it says. */
function circuitWithStore() {
  const said = { warnings: [] as string[], logs: [] as string[] };
  const circuit = new StoreCircuit({
    name: 'token store',
    meanwhile: 'this process keeps its own tokens',
    warn: (message) => said.warnings.push(message),
    log: (message) => said.logs.push(message),
  });
  const store = {
    calls: 0,
    /** What the next calls do: answer a value, fail, or never answer. */
    next: (): Promise<string> => Promise.resolve('from the store'),
  };
  const run = () =>
    circuit.run(
      'get',
      () => {
        store.calls++;
        return store.next();
      },
      () => 'fallback',
    );
  const fail =
    (message = 'connect ECONNREFUSED 127.0.0.1:6379') =>
    () =>
      Promise.reject(new Error(message));
  const answer = () => () => Promise.resolve('from the store');
  return { circuit, store, run, said, fail, answer };
}

describe('StoreCircuit', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it('answers from a store that works, saying nothing', async () => {
    const { circuit, run, said } = circuitWithStore();
    assert.equal(await run(), 'from the store');
    assert.equal(circuit.isDown, false);
    assert.deepEqual(said, { warnings: [], logs: [] });
  });

  it('sets a failing store aside for 5 s with one warning, then tries it again', async () => {
    const { circuit, store, run, said, fail, answer } = circuitWithStore();
    store.next = fail();
    assert.equal(await run(), 'fallback');
    assert.equal(circuit.isDown, true);
    assert.deepEqual(said.warnings, [
      'The token store failed (connect ECONNREFUSED 127.0.0.1:6379); for the next 5 s ' +
        'this process keeps its own tokens, then it is tried again',
    ]);

    store.next = answer();
    mock.timers.tick(STORE_DOWN_FOR_MS - 1);
    assert.equal(await run(), 'fallback', 'still set aside');
    assert.equal(await run(), 'fallback');
    assert.equal(store.calls, 1, 'the store is not called while set aside');
    assert.equal(said.warnings.length, 1, 'one warning, not one per call');

    mock.timers.tick(1);
    assert.equal(await run(), 'from the store');
    assert.equal(circuit.isDown, false);
    assert.deepEqual(said.logs, ['The token store answers again; using it again']);
    assert.equal(await run(), 'from the store');
    assert.equal(store.calls, 3);
  });

  it('counts a store that does not answer within 500 ms as failed, and hands its late answer to onLate', async () => {
    const { circuit, said } = circuitWithStore();
    let answerLate!: (value: string) => void;
    const late: string[] = [];
    const outcome = watch(
      circuit.run(
        'lock',
        () => new Promise<string>((resolve) => (answerLate = resolve)),
        () => 'fallback',
        (value) => late.push(value),
      ),
    );
    await settle();
    mock.timers.tick(STORE_TIMEOUT_MS - 1);
    await settle();
    assert.equal(outcome.state, 'pending', 'waits its bound');
    mock.timers.tick(1);
    await settle();
    assert.deepEqual(outcome, { state: 'resolved', value: 'fallback' });
    assert.equal(circuit.isDown, true);
    assert.match(said.warnings[0], /^The token store failed \(lock: no answer within 500 ms\)/);
    answerLate('lock taken');
    await settle();
    assert.deepEqual(late, ['lock taken'], 'a lock taken late can be undone');
  });

  it('lets one call try the store again while the others keep their fallback', async () => {
    const { store, run, fail } = circuitWithStore();
    store.next = fail();
    await run();
    mock.timers.tick(STORE_DOWN_FOR_MS);
    let answerProbe!: (value: string) => void;
    store.next = () => new Promise((resolve) => (answerProbe = resolve));
    const probe = watch(run());
    await settle();
    const meanwhile = watch(run());
    await settle();
    assert.deepEqual(
      meanwhile,
      { state: 'resolved', value: 'fallback' },
      'a second call while the probe is out',
    );
    assert.equal(store.calls, 2);
    answerProbe('from the store');
    await settle();
    assert.deepEqual(probe, { state: 'resolved', value: 'from the store' });
  });

  it('sets aside again, without another warning, a store whose retry fails', async () => {
    const { circuit, store, run, said, fail } = circuitWithStore();
    store.next = fail();
    await run();
    mock.timers.tick(STORE_DOWN_FOR_MS);
    assert.equal(await run(), 'fallback');
    assert.equal(store.calls, 2, 'tried again after 5 s');
    assert.equal(circuit.isDown, true);
    mock.timers.tick(STORE_DOWN_FOR_MS - 1);
    await run();
    assert.equal(store.calls, 2, 'set aside for another 5 s');
    assert.equal(said.warnings.length, 1);
    assert.deepEqual(said.logs, []);
  });

  it('warns at most once a minute about a store that keeps failing and recovering', async () => {
    const { store, run, said, fail, answer } = circuitWithStore();
    const flap = async () => {
      store.next = fail('READONLY You cannot write against a read only replica.');
      await run();
      mock.timers.tick(STORE_DOWN_FOR_MS);
      store.next = answer();
      await run();
    };
    await flap();
    assert.equal(said.warnings.length, 1);
    assert.equal(said.logs.length, 1);
    mock.timers.tick(60_000 - STORE_DOWN_FOR_MS - 1);
    await flap();
    assert.equal(said.warnings.length, 1, 'a second outage within the minute is not warned about');
    assert.equal(said.logs.length, 1, 'nor its end');
    mock.timers.tick(60_000);
    await flap();
    assert.equal(said.warnings.length, 2, 'a minute later it is');
    assert.equal(said.logs.length, 2);
  });

  it('keeps tokens and secrets out of its warning', async () => {
    const { store, run, said, fail } = circuitWithStore();
    store.next = fail('ERR wrong password for GET access_token=ACCESS-TOKEN-1234567 secret=APP-SECRET-99');
    await run();
    assert.doesNotMatch(said.warnings[0], /ACCESS-TOKEN-1234567|APP-SECRET-99/);
    assert.match(said.warnings[0], /access_token=\[redacted\]/);
  });
});
