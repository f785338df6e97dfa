import { describe, expect, it } from 'vitest';
import { ByteView, cAlign, hex, s16, s32, s64, u16, u32, u64 } from '../src/bytes.ts';

const seq = () => Uint8Array.from([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa]);

describe('ByteView decode, per width and byte order', () => {
  const cases: [string, number, bigint, bigint][] = [
    // [what, width, little-endian value at offset 1, big-endian value at offset 1]
    ['u8', 1, 0x22n, 0x22n],
    ['u16', 2, 0x3322n, 0x2233n],
    ['u32', 4, 0x55443322n, 0x22334455n],
    ['u64', 8, 0x9988776655443322n, 0x2233445566778899n],
  ];
  it.each(cases)('%s at an odd offset', (_name, width, little, big) => {
    expect(new ByteView(seq(), 'little').load(1, width)).toBe(little);
    expect(new ByteView(seq(), 'big').load(1, width)).toBe(big);
  });

  it('typed getters agree with load()', () => {
    const l = new ByteView(seq(), 'little');
    const b = new ByteView(seq(), 'big');
    expect(l.u8(0)).toBe(0x11);
    expect(l.u16(0)).toBe(0x2211);
    expect(b.u16(0)).toBe(0x1122);
    expect(l.u32(0)).toBe(0x44332211);
    expect(b.u32(0)).toBe(0x11223344);
    expect(l.u64(0)).toBe(0x8877665544332211n);
    expect(b.u64(0)).toBe(0x1122334455667788n);
  });

  it('i32 sign-extends; word() reads 4 or 8 bytes by class', () => {
    const v = new ByteView(Uint8Array.from([0xfe, 0xff, 0xff, 0xff, 0, 0, 0, 0x80]), 'little');
    expect(v.i32(0)).toBe(-2);
    expect(v.u32(0)).toBe(0xfffffffe);
    expect(v.word(0, false)).toBe(0xfffffffen);
    expect(v.word(0, true)).toBe(0x80000000fffffffen);
  });
});

describe('ByteView encode, per width and byte order', () => {
  const cases: [number, bigint, number[], number[]][] = [
    [1, 0xabn, [0xab], [0xab]],
    [2, 0xabcdn, [0xcd, 0xab], [0xab, 0xcd]],
    [4, 0x01020304n, [4, 3, 2, 1], [1, 2, 3, 4]],
    [8, 0x0102030405060708n, [8, 7, 6, 5, 4, 3, 2, 1], [1, 2, 3, 4, 5, 6, 7, 8]],
  ];
  it.each(cases)('store width %i', (width, v, little, big) => {
    for (const [endian, want] of [['little', little], ['big', big]] as const) {
      const buf = new Uint8Array(width + 2).fill(0xee);
      new ByteView(buf, endian).store(1, width, v);
      expect([...buf]).toEqual([0xee, ...want, 0xee]);
      expect(new ByteView(buf, endian).load(1, width)).toBe(v);
    }
  });

  it('store keeps only the low `width` bytes (C truncation on a narrow store)', () => {
    const buf = new Uint8Array(8);
    const v = new ByteView(buf, 'little');
    v.store(0, 1, 0x1ffn);
    v.store(1, 2, 0x12345n);
    v.store(4, 4, 0xffffffff_00000001n);
    expect([...buf]).toEqual([0xff, 0x45, 0x23, 0, 1, 0, 0, 0]);
  });

  it('setU64 stores a negative bigint as two\'s complement', () => {
    const buf = new Uint8Array(8);
    new ByteView(buf, 'big').setU64(0, -2n);
    expect([...buf]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]);
  });

  it('setU32 accepts values above 2^31 and negative numbers', () => {
    const buf = new Uint8Array(8);
    const v = new ByteView(buf, 'little');
    v.setU32(0, 0xdeadbeef);
    v.setU32(4, -1);
    expect([...buf]).toEqual([0xef, 0xbe, 0xad, 0xde, 0xff, 0xff, 0xff, 0xff]);
  });

  it('a bad width is an internal error, not silently ignored', () => {
    const v = new ByteView(new Uint8Array(8), 'little');
    expect(() => v.store(0, 3, 0n)).toThrow(/internal: bad store width 3/);
    expect(() => v.load(0, 5)).toThrow(/internal: bad load width 5/);
  });
});

describe('ByteView over a subarray', () => {
  it('reads relative to the slice and never past its end', () => {
    const whole = Uint8Array.from({ length: 32 }, (_x, i) => i);
    const sub = whole.subarray(8, 12); // bytes 8, 9, 10, 11
    const v = new ByteView(sub, 'little');
    expect(v.length).toBe(4);
    expect(v.u32(0)).toBe(0x0b0a0908);
    // The underlying buffer has 20 more bytes, but the view must stop at the slice.
    expect(() => v.u32(1)).toThrow(RangeError);
    expect(() => v.u64(0)).toThrow(RangeError);
    expect(() => v.u8(4)).toThrow(RangeError);
  });

  it('writes land inside the slice only', () => {
    const whole = new Uint8Array(16).fill(0xaa);
    const v = new ByteView(whole.subarray(4, 8), 'big');
    v.setU32(0, 0x01020304);
    expect([...whole]).toEqual([0xaa, 0xaa, 0xaa, 0xaa, 1, 2, 3, 4, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa]);
    expect(() => v.setU16(3, 0)).toThrow(RangeError);
    expect(whole[8]).toBe(0xaa);
  });

  it('withEndian shares the bytes and returns the same view for the same order', () => {
    const buf = Uint8Array.from([1, 2]);
    const l = new ByteView(buf, 'little');
    expect(l.withEndian('little')).toBe(l);
    const b = l.withEndian('big');
    expect(b.u16(0)).toBe(0x0102);
    b.setU16(0, 0x0304);
    expect(l.u16(0)).toBe(0x0403);
  });
});

describe('cAlign: C _ALIGN(x, a) = (x + a - 1) & ~(a - 1) in unsigned 64-bit', () => {
  const cases: [bigint, bigint, bigint, string][] = [
    [0n, 8n, 0n, 'zero stays zero'],
    [1n, 8n, 8n, 'rounds up'],
    [8n, 8n, 8n, 'aligned stays'],
    [0x1001n, 0x1000n, 0x2000n, 'page'],
    [0x1234n, 1n, 0x1234n, 'a=1 is identity'],
    // a = 0: mask = ~0, so (x + ~0) & 0 == 0 for every x (kexec-tools < 2.0.24 with sh_addralign 0).
    [0n, 0n, 0n, 'a=0, x=0'],
    [0x1234n, 0n, 0n, 'a=0 gives 0'],
    [(1n << 64n) - 1n, 0n, 0n, 'a=0, x=max'],
    // Non-powers of two: the mask formula, not a round-up to a multiple.
    [1n, 3n, 1n, 'a=3: (1+2) & ~2 = 1'],
    [2n, 3n, 4n, 'a=3: (2+2) & ~2 = 4'],
    [5n, 3n, 5n, 'a=3: (5+2) & ~2 = 5'],
    [1n, 6n, 2n, 'a=6: (1+5) & ~5 = 2'],
    [7n, 6n, 8n, 'a=6: (7+5) & ~5 = 0b1100 & ~0b0101 = 8'],
    // Wrap-around at 2^64.
    [(1n << 64n) - 1n, 16n, 0n, 'wraps to 0'],
    [(1n << 64n) - 16n, 16n, (1n << 64n) - 16n, 'top aligned value'],
  ];
  it.each(cases)('cAlign(%s, %s) = %s (%s)', (x, a, want) => {
    expect(cAlign(x, a)).toBe(want);
  });
});

describe('integer helpers', () => {
  it('truncate and sign-extend like C casts', () => {
    expect(u64(-1n)).toBe(0xffffffffffffffffn);
    expect(u32(0x1_0000_0005n)).toBe(5n);
    expect(u16(0x12345n)).toBe(0x2345n);
    expect(s64(0xffffffffffffffffn)).toBe(-1n);
    expect(s32(0x80000000n)).toBe(-0x80000000n);
    expect(s32(0x7fffffffn)).toBe(0x7fffffffn);
    expect(s16(0x8000n)).toBe(-0x8000n);
  });
  it('hex prints unsigned 64-bit and pads', () => {
    expect(hex(-1n)).toBe('0xffffffffffffffff');
    expect(hex(255, 4)).toBe('0x00ff');
    expect(hex(-1)).toBe('0xffffffff');
  });
});
