// A model of the C loader's memory: section data pointers (sh_data) point either into the
// file buffer or into the image buffer. Every access is bounds-checked; an access the C code
// would make outside its buffers becomes an `out-of-bounds` rejection (undefined behaviour in C).
import { ByteView } from '../bytes.ts';
import { LoadError } from '../errors.ts';
import { latin1 } from '../elf/reader.ts';
import type { Endian, Where } from '../types.ts';

export type BufId = 'file' | 'image';

export interface Ptr {
  buf: BufId;
  /**
   * Displacement of the C pointer from the start of its buffer, as C's pointer arithmetic and
   * pointer comparisons see it on a real heap address (see ptrOffset/ptrAdd): `buf + sh_offset`
   * with sh_offset = 2^64 - 8 points 8 bytes *below* the buffer, not 2^64 - 8 bytes above it.
   */
  off: bigint;
}

/**
 * Heap buffers on the modelled hosts lie below 2^47: Linux places user mappings under 2^47 on
 * x86_64 (even with 5-level paging, unless asked for more) and ppc64, and qemu-user guests share
 * the host's address space. A pointer at host address B < 2^47 plus a 64-bit x therefore wraps
 * past 2^64 (landing below B) only when x >= 2^64 - B > 2^64 - 2^47.
 */
const HOST_ADDRESS_LIMIT = 1n << 47n;
const TWO64 = 1n << 64n;
const WRAP_AT = TWO64 - HOST_ADDRESS_LIMIT;

/**
 * `buf + field` for a 64-bit unsigned offset field (sh_offset, p_offset): its displacement from
 * the buffer, in [-2^47, 2^64 - 2^47). Values from 2^64 - 2^47 up are negative (below the buffer);
 * anything smaller lies above it, however large: with sh_offset = 2^63 the C pointer is
 * B + 2^63, above every address in the buffer (UBSan: "pointer index expression with base
 * 0x618000000880 overflowed to 0x8000618000000880", kexec-elf.c:657), not below it.
 * Exact for a buffer at any host address B < 2^47, except for displacements in [-2^47, -B):
 * there the real pointer wraps to the top of the address space, which the model (not knowing B)
 * reads as below the buffer.
 */
export function ptrOffset(field: bigint): bigint {
  return field >= WRAP_AT ? field - TWO64 : field;
}

/**
 * C's `p + x` for a pointer at displacement `off` and a 64-bit unsigned `x` (sh_size, r_offset,
 * st_value): the sum wraps modulo 2^64, in the same displacement window as ptrOffset.
 */
export function ptrAdd(off: bigint, x: bigint): bigint {
  const s = off + x;
  return s >= WRAP_AT ? s - TWO64 : s;
}

/** Largest |displacement| handled as a number: sums with a u32 stay exact (below 2^53). */
export const SAFE_OFF = 2 ** 52;

/** A Ptr's displacement as a number when it is exact and small enough to add a u32 to, else NaN. */
export function offNumber(off: bigint): number {
  return off >= -SAFE_OFF_BIG && off <= SAFE_OFF_BIG ? Number(off) : Number.NaN;
}
const SAFE_OFF_BIG = 1n << 52n;

const EMPTY = new Uint8Array(0);
const EMPTY_LE = new ByteView(EMPTY, 'little');
const EMPTY_BE = new ByteView(EMPTY, 'big');

/** strcmp(b + o, name) == 0 where name's length + 1 bytes from o lie in b (no read can leave it). */
export function streqIn(b: Uint8Array, o: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if (b[o + i] !== name.charCodeAt(i)) return false;
  return b[o + name.length] === 0;
}

export class CMem {
  /**
   * The file as the C code's buffer holds it. kexec-tools may write into its copy of the file
   * (relocations against non-ALLOC sections, symbols set there), so the first such write copies
   * the caller's bytes (copy on write): until then `file` is the caller's array, read only.
   */
  file: Uint8Array;
  private fileOwned: boolean;
  image: Uint8Array = EMPTY;
  /** Views with the *file's* byte order (for parsing) and the *store* byte order (host-endian C stores). */
  fileView: ByteView;
  imageView: ByteView;
  fileStore: ByteView;
  imageStore: ByteView;

  /**
   * `copy`: whether the loader may write into its copy of the file (kexec-tools does; the
   * kernel's loader never writes its input and passes false). Writes go through writable().
   */
  constructor(bytes: Uint8Array, readonly fileEndian: Endian, readonly storeEndian: Endian, copy = true, views?: CMem) {
    this.file = bytes;
    this.fileOwned = !copy;
    this.fileView = views?.fileView ?? new ByteView(this.file, fileEndian);
    this.fileStore = views?.fileStore ?? this.fileView.withEndian(storeEndian);
    this.imageView = this.imageStore = fileEndian === 'little' ? EMPTY_LE : EMPTY_BE;
  }

  /** A new memory over the same file bytes, with no image (the file's views are shared: a write replaces them, never changes them). */
  fresh(): CMem {
    return new CMem(this.file, this.fileEndian, this.storeEndian, !this.fileOwned, this);
  }

  setImage(image: Uint8Array): void {
    this.image = image;
    this.imageView = new ByteView(image, this.fileEndian);
    this.imageStore = this.imageView.withEndian(this.storeEndian);
  }

  bytesOf(b: BufId): Uint8Array {
    return b === 'file' ? this.file : this.image;
  }

  /** The buffer for a write: the file is copied on its first write (never the caller's bytes). */
  writable(b: BufId): Uint8Array {
    if (b === 'file' && !this.fileOwned) {
      this.file = new Uint8Array(this.file); // a copy (a Buffer's slice() would be a view of the caller's bytes)
      this.fileOwned = true;
      this.fileView = new ByteView(this.file, this.fileEndian);
      this.fileStore = this.fileView.withEndian(this.storeEndian);
    }
    return this.bytesOf(b);
  }

  /** Resolve [p, p+len) to a number offset, or reject as out-of-bounds (below or past the buffer). */
  check(p: Ptr, len: number | bigint, what: string, where: Where = {}): number {
    // In bounds, on numbers (exact: the displacement is at most 2^52 and the sum stays below 2^53).
    if (p.off >= 0n && p.off <= SAFE_OFF_BIG && typeof len === 'number' && len <= SAFE_OFF && Number(p.off) + len <= this.bytesOf(p.buf).length) {
      return Number(p.off);
    }
    const size = BigInt(this.bytesOf(p.buf).length);
    const l = BigInt(len);
    if (p.off < 0n || p.off + l > size) {
      throw new LoadError(
        'out-of-bounds',
        `C loader would access ${what} at ${p.buf} buffer offset ${p.off} (+${l}), outside its ${size} bytes (undefined behaviour)`,
        { ...where, access: { buf: p.buf, offset: p.off, length: l, size } },
      );
    }
    return Number(p.off);
  }

  /**
   * check() for a displacement held as a number (exact, |off| <= SAFE_OFF); `where` is built only
   * when the access is out of bounds.
   */
  checkN(buf: BufId, off: number, len: number, what: string, where: () => Where): number {
    if (off >= 0 && off + len <= this.bytesOf(buf).length) return off;
    return this.check({ buf, off: BigInt(off) }, len, what, where());
  }

  view(p: Ptr, len: number, what: string, where?: Where): { view: ByteView; off: number } {
    const off = this.check(p, len, what, where);
    return { view: p.buf === 'file' ? this.fileView : this.imageView, off };
  }

  store(p: Ptr, len: number, what: string, where?: Where): { view: ByteView; off: number } {
    const off = this.check(p, len, what, where);
    this.writable(p.buf);
    return { view: p.buf === 'file' ? this.fileStore : this.imageStore, off };
  }

  /** Read a NUL-terminated C string of fewer than `max` characters; undefined if it runs off its buffer (only used for messages). */
  cstring(p: Ptr, max = 4096): string | undefined {
    const b = this.bytesOf(p.buf);
    if (p.off < 0n || p.off >= BigInt(b.length)) return undefined;
    return this.cstringN(p.buf, Number(p.off), max);
  }

  /** cstring() at a displacement held as an exact number. */
  cstringN(buf: BufId, start: number, max = 4096): string | undefined {
    const b = this.bytesOf(buf);
    if (start < 0 || start >= b.length) return undefined;
    const end = b.indexOf(0, start);
    return end >= 0 && end - start < max ? latin1(b.subarray(start, end)) : undefined;
  }

  /** strcmp(p, name) == 0, reading only as far as strcmp would. */
  streq(p: Ptr, name: string, what: string, where?: Where): boolean {
    const b = this.bytesOf(p.buf);
    if (p.off >= 0n && p.off <= SAFE_OFF_BIG && Number(p.off) + name.length < b.length) return streqIn(b, Number(p.off), name);
    for (let i = 0; i <= name.length; i++) {
      const want = i < name.length ? name.charCodeAt(i) : 0;
      const off = this.check({ buf: p.buf, off: p.off + BigInt(i) }, 1, what, where);
      if (b[off] !== want) return false;
    }
    return true;
  }
}
