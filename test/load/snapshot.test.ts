// The private copies the load models read (src/load/snapshot.ts): reused while the caller's array
// holds the same bytes and is among the last 8 arrays loaded; never the caller's array itself.
import { describe, expect, it } from 'vitest';
import { parseOf, snapshotOf } from '../../src/load/snapshot.ts';
import { makeProfile } from '../../src/load/profile.ts';

describe('snapshotOf', () => {
  it('the same array with the same bytes: the same snapshot, a copy the caller cannot change', () => {
    const a = Uint8Array.from([1, 2, 3, 4]);
    const s = snapshotOf(a);
    expect(snapshotOf(a)).toBe(s);
    expect(s.bytes).not.toBe(a);
    a[0] = 9;
    expect([...s.bytes]).toEqual([1, 2, 3, 4]);
    const t = snapshotOf(a); // changed bytes: a new copy, no parse carried over
    expect(t).not.toBe(s);
    expect([...t.bytes]).toEqual([9, 2, 3, 4]);
    expect(t.parses.size).toBe(0);
  });

  it('keeps the last 8 arrays: the 9th new one drops the least recently loaded', () => {
    const arrays = Array.from({ length: 9 }, (_, i) => Uint8Array.from([i, i, i]));
    const snaps = arrays.slice(0, 8).map((a) => snapshotOf(a));
    expect(snapshotOf(arrays[0]!)).toBe(snaps[0]); // now the most recent; arrays[1] the least
    snapshotOf(arrays[8]!);
    expect(snapshotOf(arrays[0]!)).toBe(snaps[0]);
    for (let i = 2; i < 8; i++) expect(snapshotOf(arrays[i]!)).toBe(snaps[i]);
    const again = snapshotOf(arrays[1]!);
    expect(again).not.toBe(snaps[1]);
    expect([...again.bytes]).toEqual([1, 1, 1]);
  });

  it('copies of different lengths and offsets in a slab stay apart', () => {
    const arrays = [5, 1, 17, 8, 3].map((n, i) => new Uint8Array(n).fill(0x10 + i));
    const snaps = arrays.map((a) => snapshotOf(a));
    snaps.forEach((s, i) => expect([...s.bytes]).toEqual([...arrays[i]!]));
  });
});

describe('parseOf', () => {
  it('one parse per profile of a snapshot; a parse that throws is not kept', () => {
    const s = snapshotOf(Uint8Array.from([7, 7]));
    const p = makeProfile('kernel-6.1', 'x86_64');
    let made = 0;
    const first = parseOf(s, p, (b) => ({ n: b.length, made: ++made }));
    expect(parseOf(s, p, () => ({ n: -1, made: ++made }))).toBe(first);
    expect(made).toBe(1);
    const q = makeProfile('kernel-6.12', 'x86_64');
    expect(() => parseOf(s, q, () => { throw new Error('bad'); })).toThrow('bad');
    expect(parseOf(s, q, () => ({ n: 0, made: ++made })).made).toBe(2);
  });
});
