// The C memory model's pointer arithmetic: a pointer is a displacement from its heap buffer, and
// the buffer's host address B is below 2^47, so `buf + x` wraps below the buffer only for
// x >= 2^64 - 2^47. Expected values are worked by hand in 64-bit unsigned arithmetic.
import { describe, expect, it } from 'vitest';
import { CMem, ptrAdd, ptrOffset } from '../../src/load/cmem.ts';
import { isLoadError } from '../../src/errors.ts';

const TWO64 = 1n << 64n;

describe('ptrOffset: buf + sh_offset as a displacement from buf', () => {
  it.each([
    [0n, 0n],
    [0x40n, 0x40n],
    [TWO64 - 8n, -8n], // 0xfffffffffffffff8: 8 bytes below the buffer
    [TWO64 - 1n, -1n],
    [TWO64 - (1n << 47n), -(1n << 47n)], // the lowest displacement the model reads as "below"
    [TWO64 - (1n << 47n) - 1n, TWO64 - (1n << 47n) - 1n], // B + this stays below 2^64 for every B < 2^47: above
    [1n << 63n, 1n << 63n], // B + 2^63 does not wrap: far above the buffer
  ])('%s → %s', (field, want) => {
    expect(ptrOffset(field)).toBe(want);
  });
});

describe('ptrAdd: C pointer + unsigned 64-bit, wrapping modulo 2^64', () => {
  it.each([
    ['sh_data = buf - 8, + sh_size 24 → buf + 16', -8n, 24n, 16n],
    ['buf + 0x100, + (2^64 - 0x80) → buf + 0x80 (end below start)', 0x100n, TWO64 - 0x80n, 0x80n],
    ['image + 0x20, + r_offset 2^64 - 8 → image + 0x18', 0x20n, TWO64 - 8n, 0x18n],
    ['image + 0, + r_offset 2^64 - 8 → image - 8', 0n, TWO64 - 8n, -8n],
    ['buf + 2^63, + (2^63 + 0x40) → buf + 0x40', 1n << 63n, (1n << 63n) + 0x40n, 0x40n],
    ['buf - 8, + 0 → buf - 8', -8n, 0n, -8n],
  ])('%s', (_what, off, x, want) => {
    expect(ptrAdd(off, x)).toBe(want);
  });
});

describe('CMem.check', () => {
  const mem = new CMem(new Uint8Array(16), 'little', 'little');
  it('an access below the buffer is out-of-bounds and names the negative offset', () => {
    let err: unknown;
    try {
      mem.check({ buf: 'file', off: -8n }, 24, 'a relocation entry');
    } catch (e) {
      err = e;
    }
    expect(isLoadError(err) && err.code).toBe('out-of-bounds');
    expect(isLoadError(err) && err.where.access).toEqual({ buf: 'file', offset: -8n, length: 24n, size: 16n });
  });
  it('[0, 16) fits; [1, 17) does not', () => {
    expect(mem.check({ buf: 'file', off: 0n }, 16, 'x')).toBe(0);
    expect(() => mem.check({ buf: 'file', off: 1n }, 16, 'x')).toThrow(/outside its 16 bytes/);
  });
});

describe('CMem.streq: strcmp(p, name) == 0, reading only as far as strcmp would', () => {
  // "fn\0" at 0, "fnx" at 3 (the last three bytes: no NUL before the end of the buffer).
  const mem = new CMem(new Uint8Array([0x66, 0x6e, 0, 0x66, 0x6e, 0x78]), 'little', 'little');
  it('equal names, names that differ, a prefix: decided inside the buffer', () => {
    expect(mem.streq({ buf: 'file', off: 0n }, 'fn', 'x')).toBe(true);
    expect(mem.streq({ buf: 'file', off: 0n }, 'fx', 'x')).toBe(false);
    expect(mem.streq({ buf: 'file', off: 0n }, 'f', 'x')).toBe(false); // 'n' against the NUL
    expect(mem.streq({ buf: 'file', off: 3n }, 'fy', 'x')).toBe(false); // 'x' against 'y'
    expect(mem.streq({ buf: 'file', off: 3n }, 'fn', 'x')).toBe(false); // 'x' against the NUL
  });
  it('a comparison that needs the byte past the end is out-of-bounds (at offset 6, +1); one that stops before it is not', () => {
    let err: unknown;
    try {
      mem.streq({ buf: 'file', off: 3n }, 'fnx', 'a symbol name');
    } catch (e) {
      err = e;
    }
    expect(isLoadError(err) && err.where.access).toEqual({ buf: 'file', offset: 6n, length: 1n, size: 6n });
    expect(mem.streq({ buf: 'file', off: 5n }, 'y', 'x')).toBe(false);
    expect(() => mem.streq({ buf: 'file', off: -1n }, 'fn', 'x')).toThrow(/offset -1/);
  });
});
