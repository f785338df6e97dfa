// U64 (the arch interface's u64: two uint32 halves) against C's unsigned long long arithmetic,
// with expected values worked out by hand (mod 2^64 sums, borrows, shifts and the range checks'
// boundaries); and the shared bit writers' byte order.
import { describe, expect, it } from 'vitest';
import { ByteView } from '../../src/bytes.ts';
import { U64, addToField, write16, write32, write64 } from '../../src/arch/types.ts';

const u = (v: bigint) => U64.of(v);

describe('U64: u64 arithmetic in two uint32 halves', () => {
  it('of/big round-trip, negative inputs taken mod 2^64', () => {
    expect(u(0x1234_5678_9abc_def0n).big()).toBe(0x1234_5678_9abc_def0n);
    expect([u(0x1234_5678_9abc_def0n).hi, u(0x1234_5678_9abc_def0n).lo]).toEqual([0x12345678, 0x9abcdef0]);
    expect(u(-1n).big()).toBe(0xffff_ffff_ffff_ffffn);
    expect(u(-4n).signed()).toBe(-4n);
  });
  it('add carries from the low word, and wraps at 2^64', () => {
    expect(u(0xffff_ffffn).add(u(1n)).big()).toBe(0x1_0000_0000n);
    expect(u(0xffff_ffff_ffff_ffffn).add(u(2n)).big()).toBe(1n);
    expect(u(0x100000n).add(u(-4n)).big()).toBe(0xffffcn); // S + A with A = -4
  });
  it('sub borrows from the high word, and wraps below 0', () => {
    expect(u(0x1_0000_0000n).sub(u(1n)).big()).toBe(0xffff_ffffn);
    expect(u(0x1000n).sub(u(0x2000n)).big()).toBe(0xffff_ffff_ffff_f000n);
    expect(u(0x1000n).sub(u(0x2000n)).signed()).toBe(-0x1000n);
  });
  it('addN adds a small signed constant with carry or borrow', () => {
    expect(u(0xffff_8000n).addN(0x8000).big()).toBe(0x1_0000_0000n);
    expect(u(0x1_0000_0002n).addN(-4).big()).toBe(0xffff_fffen);
    expect(u(0n).addN(-4).big()).toBe(0xffff_ffff_ffff_fffcn);
  });
  it('shr moves high bits into the low word', () => {
    expect(u(0x1234_5678_9abc_def0n).shr(16).big()).toBe(0x1234_5678_9abcn);
    expect(u(0xffff_ffff_ffff_ffffn).shr(16).big()).toBe(0xffff_ffff_ffffn);
  });
  it('fitsInt(32): [-2^31, 2^31) as s64, at both edges', () => {
    expect(u(0x7fff_ffffn).fitsInt(32)).toBe(true);
    expect(u(0x8000_0000n).fitsInt(32)).toBe(false);
    expect(u(-0x8000_0000n).fitsInt(32)).toBe(true);
    expect(u(-0x8000_0001n).fitsInt(32)).toBe(false);
    expect(u(0x1_0000_0000n).fitsInt(32)).toBe(false);
  });
  it('fitsInt for other widths: 16, 26, 34, 64', () => {
    expect([u(0x7fffn).fitsInt(16), u(0x8000n).fitsInt(16), u(-0x8000n).fitsInt(16), u(-0x8001n).fitsInt(16)]).toEqual([true, false, true, false]);
    expect([u(0x1ff_ffffn).fitsInt(26), u(0x200_0000n).fitsInt(26), u(-0x200_0000n).fitsInt(26)]).toEqual([true, false, true]);
    expect([u(0x1_ffff_ffffn).fitsInt(34), u(0x2_0000_0000n).fitsInt(34), u(-0x2_0000_0000n).fitsInt(34), u(-0x2_0000_0001n).fitsInt(34)])
      .toEqual([true, false, true, false]);
    expect(u(0x8000_0000_0000_0000n).fitsInt(64)).toBe(true);
  });
  it('fitsUint: below 2^bits as u64', () => {
    expect([u(0xffff_ffffn).fitsUint(32), u(0x1_0000_0000n).fitsUint(32), u(-1n).fitsUint(32)]).toEqual([true, false, false]);
    expect([u(0x3ff_ffffn).fitsUint(26), u(0x400_0000n).fitsUint(26)]).toEqual([true, false]);
    expect([u(0xffff_ffff_ffffn).fitsUint(48), u(0x1_0000_0000_0000n).fitsUint(48)]).toEqual([true, false]);
  });
});

describe('bit writers: the low bits of the value, in the view\'s byte order', () => {
  const bytes = (endian: 'little' | 'big', w: typeof write16, v: bigint, n: number) => {
    const b = new Uint8Array(n);
    w(new ByteView(b, endian), 0, u(v));
    return [...b];
  };
  it('16/32/64 bits, little and big endian', () => {
    expect(bytes('little', write16, 0x1234_5678n, 2)).toEqual([0x78, 0x56]);
    expect(bytes('big', write16, 0x1234_5678n, 2)).toEqual([0x56, 0x78]);
    expect(bytes('little', write32, 0x1_2345_6789n, 4)).toEqual([0x89, 0x67, 0x45, 0x23]);
    expect(bytes('big', write32, 0x1_2345_6789n, 4)).toEqual([0x23, 0x45, 0x67, 0x89]);
    expect(bytes('little', write64, 0x0102_0304_0506_0708n, 8)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect(bytes('big', write64, 0x0102_0304_0506_0708n, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('addToField: a plain writer\'s field moved by a u64, mod 2^(8 × width), in the view\'s byte order', () => {
  const field = (endian: 'little' | 'big', bytes: number[]) => new ByteView(Uint8Array.from(bytes), endian);
  it('8 bytes: the low word carries into the high one; the sum wraps at 2^64', () => {
    // 0x00000001_ffffff00 + 0x00000002_00000200 = 0x00000004_00000100
    const le = field('little', [0x00, 0xff, 0xff, 0xff, 0x01, 0, 0, 0]);
    addToField(le, 0, 8, 2, 0x200);
    expect([...le.bytes]).toEqual([0x00, 0x01, 0, 0, 0x04, 0, 0, 0]);
    const be = field('big', [0, 0, 0, 0x01, 0xff, 0xff, 0xff, 0x00]);
    addToField(be, 0, 8, 2, 0x200);
    expect([...be.bytes]).toEqual([0, 0, 0, 0x04, 0, 0, 0x01, 0x00]);
    // 0xffffffff_fffffff0 + 0x20 = 0x10 mod 2^64
    const wrap = field('big', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0]);
    addToField(wrap, 0, 8, 0, 0x20);
    expect([...wrap.bytes]).toEqual([0, 0, 0, 0, 0, 0, 0, 0x10]);
  });
  it('4, 2 and 1 bytes keep only their low bits of the sum (the high word of the shift does not reach them)', () => {
    const w4 = field('little', [0xf0, 0xff, 0xff, 0xff, 0xaa]);
    addToField(w4, 0, 4, 0x1234, 0x20); // 0xfffffff0 + 0x20 = 0x10 mod 2^32; the byte after it untouched
    expect([...w4.bytes]).toEqual([0x10, 0, 0, 0, 0xaa]);
    const w2 = field('big', [0xaa, 0xff, 0xf0]);
    addToField(w2, 1, 2, 1, 0x10020); // 0xfff0 + 0x0020 = 0x0010 mod 2^16
    expect([...w2.bytes]).toEqual([0xaa, 0x00, 0x10]);
    const w1 = field('little', [0xfe]);
    addToField(w1, 0, 1, 0, 0x103); // 0xfe + 0x03 = 0x01 mod 2^8
    expect([...w1.bytes]).toEqual([0x01]);
  });
});
