// The interface every arch implements, lld-style: classification (which relocation types exist,
// how their value is computed) is kept apart from bit-writing (how the value lands in memory).
//
// For an arch author: export an ArchModule whose classify() comes from classifierFor(table), where
// table(sem) maps each handled type to a RelocSpec { type, name, width, compute, write }.
// - compute(r) gets one RelocInput per load, refilled for every relocation (no allocation): r.value
//   (S + sec_base + A), r.address (P), r.hostLocation(into), r.symOther, r.toc(into), r.symName(). Values
//   are U64s (two uint32 halves, exact mod 2^64): `r.out.from(r.value).sub(r.address)` is C's
//   `value - address`; return r.value, r.out or r.tmp. Range checks: checkInt/checkIntOrUInt/
//   U64.fitsInt/fitsUint; a die() is outOfRange(code, message, r, name).
// - write(view, off, v) places the bits (write8/16/32/64 here, or the arch's own masks on v.lo/v.hi).
//   Every arch computes on U64s: no BigInt per relocation (BigInt only spells values out in messages).
import type { ByteView } from '../bytes.ts';
import { LoadError } from '../errors.ts';
import { hex } from '../bytes.ts';
import type { Arch, Endian, RejectionCode } from '../types.ts';

/** Semantic switches that differ between loaders. Each is one named divergence from the ABI. */
export interface Semantics {
  /** Which loader's messages and checks to reproduce. */
  loader: 'kexec-tools' | 'kernel' | 'abi';
  /** ppc64 REL32 subtracts the host pointer of the location (kexec-tools) instead of P. */
  rel32HostPointer: boolean;
  /** ppc64 REL64 writes S+A (kexec-tools) instead of S+A-P. */
  rel64Absolute: boolean;
  /** ppc64 REL16_HA/LO rewrite `addis 2,12`/`addi 2,2` into `lis 2`/`addi 2,2` against .TOC. (kexec-tools). */
  rel16Rewrite: boolean;
  /** ppc64 local-entry offsets (REL24): from the ABI the loader was built for, or from e_flags. */
  localEntry: 'elfv1' | 'elfv2' | 'e_flags';
  /** Range checks the ABI requires but kexec-tools omits (PC32, PLT32, ADDR32; REL32 is checked wherever it is S+A-P). */
  abiRangeChecks: boolean;
  /**
   * ppc64 ADDR16_HI/HA: #hi/#ha(S+A) must fit int32 (ABI); kexec-tools' own purgatory builds
   * 64-bit addresses with @h (v2wrap.S), which needs them unchecked.
   */
  addr16HiRangeChecks: boolean;
  /** Resolve the undefined `.TOC.` symbol to the TOC pointer (ABI); kexec-tools uses 0. */
  resolveDotToc: boolean;
  /** The REL16_HA rewrite (rel16Rewrite) loads `lis 2,.TOC.@ha` with the carry (as its comment says); kexec-tools takes @h. */
  rel16Carry: boolean;
  /** arm64 MOVW_UABS_G2_NC/G3 take bits 32..63 of a value truncated to 32 bits (kexec-tools' get_bits(uint32_t value, …)): 0. */
  movwGetBits32: boolean;
  /**
   * Kernel profiles of targets whose arch hook changed between the modelled versions: which
   * revision (1, the older; 2). s390x: 5.10 is 1 (silent symbol errors, no PLT32DBL mapping);
   * riscv64: 6.1 is 1 (no R_RISCV_64). A field, not the version: the load models never read the
   * profile's version (memo keys are built from the fields, src/validate/validate.ts memoKey).
   */
  hookRevision?: number;
}

/**
 * A u64 as two uint32 halves. Exact for every value and allocation-free: the engine keeps a few
 * per load and reuses them for every relocation. Every method mutates `this` and returns it, so
 * an arch's compute reads like C: `r.out.from(r.value).sub(r.address)` is `value - address` mod 2^64.
 * BigInt appears only where a message or the log spells a value out (big(), signed()).
 */
const SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/** The u64 with unsigned 32-bit halves hi, lo as a bigint: hi * 2^32 + lo is an exact double below 2^53, one BigInt instead of three. */
export function bigOfHalves(hi: number, lo: number): bigint {
  return hi < 0x200000 ? BigInt(hi * 0x100000000 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

export class U64 {
  hi = 0;
  lo = 0;
  static of(v: bigint): U64 {
    return new U64().setBig(v);
  }
  set(hi: number, lo: number): this {
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
    return this;
  }
  setBig(v: bigint): this {
    if (v >= 0n && v <= SAFE_BIG) {
      const n = Number(v); // exact below 2^53: the halves on numbers
      return this.set(Math.floor(n / 0x100000000), n >>> 0);
    }
    const x = BigInt.asUintN(64, v);
    return this.set(Number(x >> 32n), Number(x & 0xffffffffn));
  }
  from(o: U64): this {
    this.hi = o.hi;
    this.lo = o.lo;
    return this;
  }
  add(o: U64): this {
    const lo = this.lo + o.lo;
    this.lo = lo >>> 0;
    this.hi = (this.hi + o.hi + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    return this;
  }
  sub(o: U64): this {
    const lo = this.lo - o.lo;
    this.lo = lo >>> 0;
    this.hi = (this.hi - o.hi - (lo < 0 ? 1 : 0)) >>> 0;
    return this;
  }
  /** this + n mod 2^64 for a safe integer n with |n| < 2^32 (a constant such as 0x8000 or -4). */
  addN(n: number): this {
    const lo = this.lo + n;
    const carry = Math.floor(lo / 0x100000000);
    this.lo = lo >>> 0;
    this.hi = (this.hi + carry) >>> 0;
    return this;
  }
  /** Logical shift right by n (0 < n < 32). */
  shr(n: number): this {
    this.lo = ((this.lo >>> n) | (this.hi << (32 - n))) >>> 0;
    this.hi = this.hi >>> n;
    return this;
  }
  eq(o: U64): boolean {
    return this.hi === o.hi && this.lo === o.lo;
  }
  isZero(): boolean {
    return this.hi === 0 && this.lo === 0;
  }
  /** As a signed two's complement value of 64 bits, it lies in [-2^(bits-1), 2^(bits-1)) (bits <= 64). */
  fitsInt(bits: number): boolean {
    if (bits <= 32) {
      const half = 2 ** (bits - 1);
      return this.hi === 0 ? this.lo < half : this.hi === 0xffffffff && this.lo >= 0x100000000 - half;
    }
    if (bits >= 64) return true;
    const hi = this.hi | 0; // signed high word: value = hi * 2^32 + lo
    const half = 2 ** (bits - 33); // the bound on hi
    return hi >= -half && hi < half;
  }
  /** As an unsigned 64-bit value, it is below 2^bits. */
  fitsUint(bits: number): boolean {
    if (bits >= 64) return true;
    if (bits <= 32) return this.hi === 0 && this.lo < 2 ** bits;
    return this.hi < 2 ** (bits - 32);
  }
  /** The u64 as a bigint (messages and the relocation log). */
  big(): bigint {
    return bigOfHalves(this.hi, this.lo);
  }
  /** The s64 as a bigint. */
  signed(): bigint {
    return BigInt.asIntN(64, this.big());
  }
}

/**
 * One relocation's inputs. A loader makes one per load and refills it for every relocation: no
 * per-relocation object or closure. symName() and toc() ask the loader about the relocation being
 * applied; they are only called where a message needs the name or the type needs the TOC.
 */
export class RelocInput {
  /** Store view (the loader's store byte order) over the buffer holding the location. */
  view: ByteView;
  off = 0;
  /** S + sec_base + A, as the generic loop computes it (u64). */
  readonly value = new U64();
  /** P: the final address of the location. */
  readonly address = new U64();
  /** st_other of the symbol (ppc64 ELFv2 local entry offsets). */
  symOther = 0;
  /** The ELF file's byte order (arm64 kexec-tools stores data words with cpu_to_elf64, not host order). */
  elfEndian?: Endian;
  /** Scratch values an arch's compute may use (compute returns one of them, or value). */
  readonly out = new U64();
  readonly tmp = new U64();
  constructor(
    view: ByteView,
    readonly eFlags: number,
    readonly sem: Semantics,
    /** The symbol's name, as the loader's messages print it. */
    readonly symName: () => string,
    /** my_r2 (.toc + 0x8000) into `into`; throws the loader's rejection when there is no .toc. */
    readonly toc: (into: U64) => U64,
    /**
     * The host address of the location into `into` (kexec-tools' ppc64 REL32 subtracts it), asked
     * for only by the type that uses it. A loader whose location has no host pointer of its own
     * omits it: P.
     */
    readonly hostLocation: (into: U64) => U64 = (into) => into.from(this.address),
  ) {
    this.view = view;
  }
}

export interface RelocSpec {
  type: number;
  name: string;
  /** Bytes read and written at the location (0 for NONE). */
  width: number;
  /**
   * The value to write (r.value, r.out or r.tmp); throws LoadError on range/instruction checks.
   * Arithmetic is u64 through U64's methods (mod 2^64, as C's unsigned long long).
   */
  compute: (r: RelocInput) => U64;
  /** Write bits. The default branch of a writer is an internal bug, never a user error. */
  write: (view: ByteView, off: number, v: U64) => void;
  /**
   * The reference code makes its checks (and may die) before it touches the location, so a die
   * wins over an out-of-bounds location (kexec-elf-rel-ppc64.c). Unset: the location is accessed
   * first (kexec-elf-rel-x86_64.c stores, then checks R_X86_64_32/32S).
   */
  checksFirst?: boolean;
}

export interface ArchModule {
  /** The arch family (ppc64 serves ppc64 and ppc64le). */
  arch: 'x86_64' | 'ppc64' | 'arm64' | 's390x' | 'riscv64';
  machine: number;
  /** Full name table (handled or not), for reports and the census. */
  names: ReadonlyMap<number, string>;
  typeName(type: number): string;
  /** Classification: the spec for a type under given semantics, or undefined if unhandled. */
  classify(type: number, sem: Semantics): RelocSpec | undefined;
  /**
   * Bytes the loader's hook reads at the location before it looks at the type, so even for a type
   * it then rejects (arm64 kexec-tools: `uint64_t data = *location;` before its switch). 0: none.
   */
  preRead?(sem: Semantics): number;
  /** The exact message the reference loader prints for an unhandled type (s390x kexec-tools prints P too). */
  unknownMessage(type: number, sem: Semantics, address?: bigint): string;
}

// ---- bit writers shared by the arches (store byte order is the view's)
export const write8: RelocSpec['write'] = (v, off, x) => v.setU8(off, x.lo & 0xff);
export const write16: RelocSpec['write'] = (v, off, x) => v.setU16(off, x.lo & 0xffff);
export const write32: RelocSpec['write'] = (v, off, x) => v.setU32(off, x.lo);
export const write64: RelocSpec['write'] = (v, off, x) => {
  v.setU32(v.little ? off : off + 4, x.lo);
  v.setU32(v.little ? off + 4 : off, x.hi);
};

// ---- the two computations most types share (lld's R_ABS and R_PC); arches name them instead of
// writing their own `(r) => r.value`, so applySpec() can call them directly
/** S + A (with sec_base: the generic loop's value). */
export const absolute: RelocSpec['compute'] = (r) => r.value;
/** S + A - P, mod 2^64. */
export const pcRelative: RelocSpec['compute'] = (r) => r.out.from(r.value).sub(r.address);

/**
 * `spec.write(view, off, spec.compute(r))`: how every loader applies a classified relocation. The
 * shared computations and writers are called by name rather than through the spec: in a process
 * that loads several arches, the call through `spec.compute`/`spec.write` sees every arch's
 * functions (megamorphic, ≈ 8 ns per relocation measured, a third of a 10^6-relocation load); a
 * call by name is inlined. Same functions, same order: only the dispatch differs.
 */
export function applySpec(s: RelocSpec, r: RelocInput, view: ByteView, off: number): void {
  const c = s.compute;
  const v = c === absolute ? absolute(r) : c === pcRelative ? pcRelative(r) : c(r);
  const w = s.write;
  if (w === write64) write64(view, off, v);
  else if (w === write32) write32(view, off, v);
  else if (w === write16) write16(view, off, v);
  else w(view, off, v);
}

/**
 * Whether a spec writes the same bytes at every base B of a layout that moves with B, for a
 * location that moves (P = P0 + B) and a value that moves with it iff `valueMoves`: S+A-P when the
 * value moves, S+A when it does not, placed by a plain writer (which reads nothing at the
 * location). Any other computation may range-check, read the location, the TOC or the host
 * address: never.
 */
export function baseInvariant(s: RelocSpec, valueMoves: boolean): boolean {
  return plainWriter(s.write) && s.compute === (valueMoves ? pcRelative : absolute);
}

/**
 * Whether a spec's bytes at base B are its bytes at base 0 plus B, mod 2^(8 × width) in the store
 * byte order (addToField): S+A of a value that moves with B, placed by a plain writer (the low
 * 8 × width bits of the value), since (V0 + B) mod 2^k = ((V0 mod 2^k) + B) mod 2^k.
 */
export function baseLinear(s: RelocSpec, valueMoves: boolean): boolean {
  return valueMoves && s.compute === absolute && plainWriter(s.write);
}

/** write8/16/32/64: the low bits of the value, nothing read at the location. */
function plainWriter(w: RelocSpec['write']): boolean {
  return w === write64 || w === write32 || w === write16 || w === write8;
}

/** Add the u64 (hi, lo) to the `width`-byte field at `off` (view's byte order), mod 2^(8 × width): what a plain writer's field becomes when its value moves by (hi, lo). */
export function addToField(v: ByteView, off: number, width: number, hi: number, lo: number): void {
  const dv = v.dv, le = v.little;
  switch (width) {
    case 8: {
      const l = dv.getUint32(le ? off : off + 4, le) + lo;
      dv.setUint32(le ? off : off + 4, l >>> 0, le);
      dv.setUint32(le ? off + 4 : off, dv.getUint32(le ? off + 4 : off, le) + hi + (l > 0xffffffff ? 1 : 0), le);
      return;
    }
    case 4: dv.setUint32(off, (dv.getUint32(off, le) + lo) >>> 0, le); return;
    case 2: dv.setUint16(off, (dv.getUint16(off, le) + lo) & 0xffff, le); return;
    case 1: dv.setUint8(off, (dv.getUint8(off) + lo) & 0xff); return;
    default: throw new Error(`internal: addToField of width ${width}`);
  }
}

// ---- shared range checks and their single error message (lld's checkInt/checkUInt/checkAlignment)

/** What a range check needs of its relocation: the symbol's name for the message. */
export interface Named {
  symName(): string;
}

export function outOfRange(code: RejectionCode, cMessage: string, r: Named, name: string): never {
  throw new LoadError(code, cMessage, { relocation: name, symbol: r.symName() });
}

const scratch = new U64();
const asU64 = (v: U64 | bigint): U64 => (typeof v === 'bigint' ? scratch.setBig(v) : v);

export function checkInt(r: Named, name: string, value: U64 | bigint, bits: number): void {
  const v = asU64(value);
  if (!v.fitsInt(bits)) {
    const lo = -(1n << BigInt(bits - 1));
    const hi = (1n << BigInt(bits - 1)) - 1n;
    outOfRange('overflow', `relocation ${name} out of range: ${v.signed()} is not in [${lo}, ${hi}]; references '${r.symName()}'`, r, name);
  }
}

export function checkIntOrUInt(r: Named, name: string, value: U64 | bigint, bits: number): void {
  const v = asU64(value);
  if (!v.fitsInt(bits) && !v.fitsUint(bits)) {
    outOfRange('overflow', `relocation ${name} out of range: ${hex(v.big())} fits neither int${bits} nor uint${bits}; references '${r.symName()}'`, r, name);
  }
}

// ---- PPC64 @l/@h/@ha/@higher/@highest helpers (pure; the halfword as a number)
export const lo = (v: U64): number => v.lo & 0xffff;
export const hi = (v: U64): number => v.lo >>> 16;
export const ha = (v: U64): number => ((v.lo + 0x8000) >>> 16) & 0xffff;
export const higher = (v: U64): number => v.hi & 0xffff;
export const highest = (v: U64): number => v.hi >>> 16;

export type ArchName = Arch;

/** classify() for an arch: its relocation table, built once per Semantics object (profiles share theirs). */
export function classifierFor(build: (sem: Semantics) => Map<number, RelocSpec>): ArchModule['classify'] {
  const tables = new WeakMap<Semantics, Map<number, RelocSpec>>();
  // Every spec of every arch as an object of one shape (checksFirst always present): the loaders'
  // reads of spec.compute/write/name/width then see one hidden class, not one per arch.
  const make = (sem: Semantics) => {
    const t = new Map<number, RelocSpec>();
    for (const [type, s] of build(sem)) {
      t.set(type, { type: s.type, name: s.name, width: s.width, compute: s.compute, write: s.write, checksFirst: s.checksFirst === true });
    }
    return t;
  };
  let lastSem: Semantics | undefined;
  let last: Map<number, RelocSpec> | undefined;
  return (type, sem) => {
    if (sem !== lastSem) {
      let t = tables.get(sem);
      if (!t) tables.set(sem, (t = make(sem)));
      lastSem = sem;
      last = t;
    }
    return last!.get(type);
  };
}
