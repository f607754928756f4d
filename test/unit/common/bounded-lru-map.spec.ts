import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedLruMap } from '../../../lib/common/bounded-lru-map';

describe('BoundedLruMap', () => {
  it('keeps at most maxEntries, dropping the least recently used first', () => {
    const map = new BoundedLruMap<string, number>(2);
    map.set('a', 1).set('b', 2);
    assert.equal(map.get('a'), 1, 'a read marks a as used: b is now the least recent');
    map.set('c', 3);
    assert.equal(map.size, 2);
    assert.deepEqual(
      [...map],
      [
        ['a', 1],
        ['c', 3],
      ],
      'b went; iteration goes least to most recent',
    );
    assert.equal(map.get('b'), undefined);
  });

  it('counts a write of a known key as use, and replaces its value without growing', () => {
    const map = new BoundedLruMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('a', 10).set('c', 3);
    assert.deepEqual(
      [...map],
      [
        ['a', 10],
        ['c', 3],
      ],
    );
  });

  it('peeks without marking an entry as used', () => {
    const map = new BoundedLruMap<string, number>(2);
    map.set('a', 1).set('b', 2);
    assert.equal(map.peek('a'), 1);
    map.set('c', 3);
    assert.equal(map.peek('a'), undefined, 'a stayed the least recent and went first');
    assert.deepEqual(
      [...map],
      [
        ['b', 2],
        ['c', 3],
      ],
    );
  });

  it('keeps undefined as a value, and deletes while iterating', () => {
    const map = new BoundedLruMap<string, number | undefined>(3);
    map.set('none', undefined).set('one', 1).set('two', 2);
    assert.equal(map.get('none'), undefined);
    assert.deepEqual(
      [...map].map(([key]) => key),
      ['one', 'two', 'none'],
      'reading it marked it used',
    );
    for (const [key, value] of map) if (value !== undefined) map.delete(key);
    assert.deepEqual([...map], [['none', undefined]]);
    assert.equal(map.delete('gone'), false);
  });

  it('stays at its bound over many writes, keeping the most recent in order', () => {
    const map = new BoundedLruMap<number, string>(3);
    for (let key = 0; key < 1_000; key++) map.set(key, `v${key}`);
    assert.equal(map.size, 3);
    assert.deepEqual(
      [...map],
      [
        [997, 'v997'],
        [998, 'v998'],
        [999, 'v999'],
      ],
    );
  });

  it('with a bound of 1 keeps only the last entry written', () => {
    const map = new BoundedLruMap<string, number>(1);
    map.set('a', 1).set('b', 2);
    assert.deepEqual([...map], [['b', 2]]);
    assert.equal(map.get('a'), undefined);
  });

  it('neither adds nor reorders on a read of an absent key', () => {
    const map = new BoundedLruMap<string, number>(2);
    map.set('a', 1).set('b', 2);
    assert.equal(map.get('missing'), undefined);
    assert.equal(map.peek('missing'), undefined);
    assert.equal(map.size, 2);
    map.set('c', 3);
    assert.deepEqual(
      [...map].map(([key]) => key),
      ['b', 'c'],
      'a, the least recent, went',
    );
  });

  it('makes room on delete: the next write evicts nothing', () => {
    const map = new BoundedLruMap<string, number>(2);
    map.set('a', 1).set('b', 2);
    assert.equal(map.delete('a'), true);
    map.set('c', 3);
    assert.deepEqual(
      [...map].map(([key]) => key),
      ['b', 'c'],
    );
  });

  it('evicts exactly as a list in order of use would, over many mixed reads, writes and deletes', () => {
    const map = new BoundedLruMap<number, number>(50);
    let model: Array<[number, number]> = [];
    let seed = 7;
    const random = (below: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % below;
    };
    for (let step = 0; step < 50_000; step++) {
      const key = random(120);
      const at = model.findIndex(([known]) => known === key);
      const operation = random(10);
      if (operation < 5) {
        map.set(key, step);
        if (at >= 0) model.splice(at, 1);
        model.push([key, step]);
        if (model.length > 50) model.shift();
      } else if (operation < 8) {
        assert.equal(map.get(key), at >= 0 ? model[at][1] : undefined);
        if (at >= 0) model.push(...model.splice(at, 1));
      } else {
        assert.equal(map.delete(key), at >= 0);
        model = model.filter(([known]) => known !== key);
      }
    }
    assert.deepEqual([...map], model);
  });

  it('refuses a bound that is not a whole number of at least 1, naming its owner', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity]) {
      assert.throws(
        () => new BoundedLruMap(bad, 'SomeCache'),
        (error: Error) =>
          error instanceof RangeError &&
          error.message === `SomeCache maxEntries must be a whole number of at least 1, got ${bad}`,
      );
    }
    assert.throws(() => new BoundedLruMap(0), /^RangeError: BoundedLruMap maxEntries must be/);
  });
});
