// One byte view with explicit endianness. Every multi-byte read or write in the engine goes
// through it. The *store* endianness can differ from the file's: kexec-tools stores host-endian.
import type { Endian } from './types.ts';

export const U64 = (1n << 64n) - 1n;
export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
export const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);
export const u16 = (v: bigint): bigint => BigInt.asUintN(16, v);
export const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
export const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);
export const s16 = (v: bigint): bigint => BigInt.asIntN(16, v);

/** C's `_ALIGN(x, a)`: `(x + a - 1) & ~(a - 1)` in 64-bit unsigned arithmetic, for any a (even 0 or non powers of two). */
export function cAlign(x: bigint, a: bigint): bigint {
  const mask = u64(a - 1n);
  return u64(u64(x + mask) & u64(~mask));
}

export function hex(v: bigint | number, width = 0): string {
  const s = (typeof v === 'bigint' ? u64(v) : BigInt(v >>> 0)).toString(16);
  return '0x' + s.padStart(width, '0');
}

export class ByteView {
  readonly bytes: Uint8Array;
  readonly dv: DataView;
  readonly little: boolean;

  constructor(bytes: Uint8Array, readonly endian: Endian) {
    this.bytes = bytes;
    // Always pass the length: a subarray's buffer is larger than the view.
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.little = endian === 'little';
  }

  get length(): number {
    return this.bytes.length;
  }

  /** The same bytes viewed with another byte order. */
  withEndian(endian: Endian): ByteView {
    return endian === this.endian ? this : new ByteView(this.bytes, endian);
  }

  u8(off: number): number {
    return this.dv.getUint8(off);
  }
  u16(off: number): number {
    return this.dv.getUint16(off, this.little);
  }
  u32(off: number): number {
    return this.dv.getUint32(off, this.little);
  }
  u64(off: number): bigint {
    return this.dv.getBigUint64(off, this.little);
  }
  i32(off: number): number {
    return this.dv.getInt32(off, this.little);
  }
  /** u32 or u64 by ELF class, as bigint. */
  word(off: number, is64: boolean): bigint {
    return is64 ? this.u64(off) : BigInt(this.u32(off));
  }

  setU8(off: number, v: number): void {
    this.dv.setUint8(off, v);
  }
  setU16(off: number, v: number): void {
    this.dv.setUint16(off, v, this.little);
  }
  setU32(off: number, v: number): void {
    this.dv.setUint32(off, v >>> 0, this.little);
  }
  setU64(off: number, v: bigint): void {
    this.dv.setBigUint64(off, u64(v), this.little);
  }
  /** Store the low `width` bytes of v (1, 2, 4 or 8). */
  store(off: number, width: number, v: bigint): void {
    switch (width) {
      case 1: this.setU8(off, Number(v & 0xffn)); break;
      case 2: this.setU16(off, Number(v & 0xffffn)); break;
      case 4: this.setU32(off, Number(v & 0xffffffffn)); break;
      case 8: this.setU64(off, v); break;
      default: throw new Error(`internal: bad store width ${width}`);
    }
  }
  load(off: number, width: number): bigint {
    switch (width) {
      case 1: return BigInt(this.u8(off));
      case 2: return BigInt(this.u16(off));
      case 4: return BigInt(this.u32(off));
      case 8: return this.u64(off);
      default: throw new Error(`internal: bad load width ${width}`);
    }
  }
}
