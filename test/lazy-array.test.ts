import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { lazyArray, lazyMeta } from '../src/lazy-array.ts';

describe('lazyArray', () => {
  const counted = () => {
    let calls = 0;
    const xs = lazyArray(() => {
      calls++;
      return [{ a: 1n }, { a: 2n }, { a: 3n }];
    }, 'meta');
    return { xs, calls: () => calls };
  };

  it('computes nothing until touched, then once', () => {
    const { xs, calls } = counted();
    expect(calls()).toBe(0);
    expect(lazyMeta(xs)).toBe('meta'); // read without filling
    expect(calls()).toBe(0);
    expect(xs.length).toBe(3);
    expect(xs[1]).toEqual({ a: 2n });
    expect(xs.map((x) => x.a)).toEqual([1n, 2n, 3n]);
    expect(calls()).toBe(1);
  });

  it('is an array to every reader: isArray, iteration, spread, keys, JSON, inspect, equality', () => {
    expect(Array.isArray(counted().xs)).toBe(true);
    expect([...counted().xs].map((x) => x.a)).toEqual([1n, 2n, 3n]);
    expect(Object.keys(counted().xs)).toEqual(['0', '1', '2']);
    expect(JSON.stringify(counted().xs, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))).toBe('[{"a":1},{"a":2},{"a":3}]');
    expect(inspect(counted().xs)).toBe(inspect([{ a: 1n }, { a: 2n }, { a: 3n }])); // inspect reads a proxy's target, not its traps
    const flat = (x: unknown) => inspect(x, { depth: 4 }).replace(/\s+/g, ' '); // (line breaks may differ)
    expect(flat({ image: { relocations: counted().xs } })).toBe(flat({ image: { relocations: [{ a: 1n }, { a: 2n }, { a: 3n }] } }));
    expect(Reflect.ownKeys(counted().xs)).toEqual(['0', '1', '2', 'length']);
    expect(counted().xs).toEqual([{ a: 1n }, { a: 2n }, { a: 3n }]);
    expect({ rel: counted().xs }).toEqual({ rel: [{ a: 1n }, { a: 2n }, { a: 3n }] });
    expect(counted().xs).not.toEqual([{ a: 1n }, { a: 2n }]);
    const o = { xs: counted().xs };
    expect({ ...o }.xs.length).toBe(3);
  });

  it('a write before any read lands on the computed elements', () => {
    const { xs, calls } = counted();
    xs.push({ a: 4n });
    expect(calls()).toBe(1);
    expect(xs.map((x) => x.a)).toEqual([1n, 2n, 3n, 4n]);
    const ys = lazyArray(() => [1, 2]);
    ys[0] = 9;
    expect([...ys]).toEqual([9, 2]);
  });

  it('make() may fill the array it is given and return it: the same elements, in order, and nothing copied twice', () => {
    let given: unknown;
    const xs = lazyArray<number>((into) => {
      given = into;
      expect(into.length).toBe(0);
      into.push(5, 6, 7);
      return into;
    });
    expect([...xs]).toEqual([5, 6, 7]);
    expect(xs.length).toBe(3);
    expect(Array.isArray(given)).toBe(true);
  });

  it('iterates the filled array itself: for-of, spread, values(), a write through the proxy seen; its iterator on another array iterates that one', () => {
    const { xs, calls } = counted();
    const seen: bigint[] = [];
    for (const x of xs) {
      seen.push(x.a);
      if (x.a === 1n) xs.push({ a: 4n }); // a write during the iteration lands on the array being iterated
    }
    expect(seen).toEqual([1n, 2n, 3n, 4n]);
    expect(calls()).toBe(1);
    expect([...xs.values()].map((x) => x.a)).toEqual([1n, 2n, 3n, 4n]);
    expect([...xs[Symbol.iterator].call([{ a: 7n }])]).toEqual([{ a: 7n }]);
    expect(Array.from(lazyArray(() => [5, 6]))).toEqual([5, 6]);
  });

  it('lazyMeta of a plain array, or of a lazy array made without one, is undefined', () => {
    expect(lazyMeta([1, 2])).toBeUndefined();
    expect(lazyMeta(lazyArray(() => [1]))).toBeUndefined();
  });
});
