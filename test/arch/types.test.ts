// U64 (the arch interface's u64: two uint32 halves) against C's unsigned long long arithmetic,
// with expected values worked out by hand (mod 2^64 sums, borrows, shifts and the range checks'
// boundaries); and the shared bit writers' byte order.
import { describe, expect, it } from 'vitest';
import { ByteView } from '../../src/bytes.ts';
import { U64, write16, write32, write64 } from '../../src/arch/types.ts';

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
