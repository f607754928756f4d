import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemoryCallbackStore } from '../../../lib/callback/in-memory-callback.store';

const TTL_MS = 60_000;

describe('InMemoryCallbackStore', () => {
  it('lets one try claim a message, and keeps its answer for the others', async () => {
    const store = new InMemoryCallbackStore();
    assert.equal(await store.claim('wx1:msg:1', TTL_MS), true);
    assert.equal(await store.claim('wx1:msg:1', TTL_MS), false);
    assert.equal(await store.answer('wx1:msg:1'), undefined, 'no answer while the handler runs');
    await store.setAnswer('wx1:msg:1', '<xml>reply</xml>', TTL_MS);
    assert.equal(await store.answer('wx1:msg:1'), '<xml>reply</xml>');
    assert.equal(await store.claim('wx1:msg:1', TTL_MS), false, 'an answered message is not taken again');
    assert.equal(await store.claim('wx1:msg:2', TTL_MS), true);
  });

  it('lets a message be claimed again once its claim and answer lapsed', async () => {
    const store = new InMemoryCallbackStore();
    assert.equal(await store.claim('k', 1), true);
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(await store.claim('k', 1), true);
  });

  it('holds at most maxEntries, always keeping the newest half', async () => {
    const store = new InMemoryCallbackStore(100);
    for (let id = 0; id < 1_000; id++) {
      assert.equal(await store.claim(`m${id}`, TTL_MS), true);
      await store.setAnswer(`m${id}`, `a${id}`, TTL_MS);
    }
    const kept = [];
    for (let id = 0; id < 1_000; id++) if ((await store.answer(`m${id}`)) !== undefined) kept.push(id);
    assert.ok(kept.length <= 100 && kept.length >= 50, `${kept.length} kept`);
    assert.deepEqual(
      kept.slice(-50),
      Array.from({ length: 50 }, (_, index) => 950 + index),
    );
    assert.equal(await store.claim('m999', TTL_MS), false);
  });

  it('keeps an answer whose claim already went', async () => {
    const store = new InMemoryCallbackStore(2);
    await store.claim('a', TTL_MS);
    await store.claim('b', TTL_MS);
    await store.claim('c', TTL_MS);
    await store.setAnswer('a', 'late', TTL_MS);
    assert.equal(await store.answer('a'), 'late');
  });

  it('refuses a bound under 2', () => {
    assert.throws(
      () => new InMemoryCallbackStore(1),
      /maxEntries must be a whole number of at least 2, got 1/,
    );
  });
});
