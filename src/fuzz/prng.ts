// A small seeded PRNG of our own: xoshiro128** seeded through splitmix32. Every fuzz case has its
// own generator derived from (campaign seed, case index, stream), so case k is the same whatever
// the shard, the worker or the order it runs in. No global random source is used.

/** splitmix32: a good 32-bit mixer, used to expand seeds. */
export function splitmix32(state: number): () => number {
  let a = state | 0;
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
}

/** Mix a list of 32-bit words (and numbers up to 2^53, split) into one 32-bit seed. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const lo = p >>> 0;
    const hi = Math.floor(p / 0x1_0000_0000) >>> 0;
    for (const w of [lo, hi]) {
      h = Math.imul(h ^ w, 0x01000193) >>> 0;
      h = splitmix32(h)();
    }
  }
  return h >>> 0;
}

/** A short stable hash of a string (stream names: the oracle target, the mode...). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    const sm = splitmix32(seed);
    this.s0 = sm();
    this.s1 = sm();
    this.s2 = sm();
    this.s3 = sm();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The generator of case `index` of a campaign with `seed`, on one named stream. */
  static forCase(seed: number, index: number, stream = ''): Rng {
    return new Rng(mixSeed(seed, index, hashString(stream)));
  }

  /** xoshiro128**: a uniform u32. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform integer in [0, n) for n up to 2^32 (multiply-shift; bias < 2^-32 * n). */
  int(n: number): number {
    if (n <= 1) return 0;
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() < p * 0x1_0000_0000;
  }

  pick<T>(xs: readonly T[]): T {
    if (!xs.length) throw new Error('internal: Rng.pick on an empty list');
    return xs[this.int(xs.length)]!;
  }

  /** Pick by weight: [[weight, value], ...]. */
  weighted<T>(xs: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (let i = 0; i < xs.length; i++) total += xs[i]![0];
    return xs[this.pickWeight(total, (i) => xs[i]![0], xs.length)]![1];
  }

  /**
   * The index picked by weight from a constant table of weights: the same draw as weighted() over
   * pairs with these weights, without building the pairs (or closures) on every call.
   */
  weightedIndex(ws: WeightTable): number {
    return this.pickWeight(ws.total, (i) => ws.weights[i]!, ws.weights.length);
  }

  private pickWeight(total: number, w: (i: number) => number, n: number): number {
    // the sum is taken left to right (as a reduce would), so the same u32 gives the same pick
    let r = this.u32() / 0x1_0000_0000 * total;
    for (let i = 0; i < n; i++) {
      const x = w(i);
      if (r < x) return i;
      r -= x;
    }
    return n - 1;
  }

  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const w = this.u32();
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (w >>> (8 * j)) & 0xff;
    }
    return out;
  }
}

/** Weights summed once (left to right), for Rng.weightedIndex. */
export interface WeightTable {
  weights: readonly number[];
  total: number;
}

export function weightTable(...weights: number[]): WeightTable {
  let total = 0;
  for (const w of weights) total += w;
  return { weights, total };
}
