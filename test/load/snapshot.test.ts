// The private copies the load models read (src/load/snapshot.ts): reused while the caller's array
// holds the same bytes (kept once it is loaded twice in a row); never the caller's array itself.
import { describe, expect, it } from 'vitest';
import { parseOf, snapshotOf } from '../../src/load/snapshot.ts';
import { makeProfile } from '../../src/load/profile.ts';

describe('snapshotOf', () => {
  it('an array loaded twice in a row: the same snapshot, a copy the caller cannot change', () => {
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

  it('an array loaded once is forgotten at the next array; one loaded twice in a row is kept across others', () => {
    const once = Uint8Array.from([5, 5]);
    const kept = Uint8Array.from([6, 6]);
    const s1 = snapshotOf(once);
    const k1 = snapshotOf(kept);
    expect(snapshotOf(kept)).toBe(k1);
    expect(snapshotOf(once)).not.toBe(s1);
    for (let i = 0; i < 20; i++) snapshotOf(Uint8Array.from([i]));
    expect(snapshotOf(kept)).toBe(k1);
  });

  it('copies of different lengths stay apart', () => {
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
