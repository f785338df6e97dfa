// The interface every arch implements, lld-style: classification (which relocation types exist,
// how their value is computed) is kept apart from bit-writing (how the value lands in memory).
import type { ByteView } from '../bytes.ts';
import { LoadError } from '../errors.ts';
import { hex } from '../bytes.ts';
import type { Arch, Endian, RejectionCode } from '../types.ts';
import type { ElfSymbol } from '../elf/reader.ts';

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
}

export interface RelocInput {
  /** Store view (the loader's store byte order) over the buffer holding the location. */
  view: ByteView;
  off: number;
  /** S + sec_base + A, as the generic loop computes it (u64). */
  value: bigint;
  /** P: the final address of the location. */
  address: bigint;
  /** Host address of the location (kexec-tools' REL32 uses it). */
  hostLocation: bigint;
  sym: ElfSymbol;
  symName: () => string;
  /** my_r2: .toc + 0x8000; throws the loader's rejection when there is no .toc. */
  toc: () => bigint;
  eFlags: number;
  sem: Semantics;
  /** The ELF file's byte order (arm64 kexec-tools stores data words with cpu_to_elf64, not host order). */
  elfEndian?: Endian;
}

export interface RelocSpec {
  type: number;
  name: string;
  /** Bytes read and written at the location (0 for NONE). */
  width: number;
  /** Value to write; throws LoadError on range/instruction checks. */
  compute: (r: RelocInput) => bigint;
  /** Write bits. The default branch of a writer is an internal bug, never a user error. */
  write: (view: ByteView, off: number, v: bigint) => void;
  /**
   * The reference code makes its checks (and may die) before it touches the location, so a die
   * wins over an out-of-bounds location (kexec-elf-rel-ppc64.c). Unset: the location is accessed
   * first (kexec-elf-rel-x86_64.c stores, then checks R_X86_64_32/32S).
   */
  checksFirst?: boolean;
  /**
   * Bytes the C code accesses at the location when more than it writes: arm64 kexec-tools reads
   * `uint64_t data = *location` before its switch, whatever the type.
   */
  access?: number;
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
  /** The exact message the reference loader prints for an unhandled type (s390x kexec-tools prints P too). */
  unknownMessage(type: number, sem: Semantics, address?: bigint): string;
}

// ---- shared range checks and their single error message (lld's checkInt/checkUInt/checkAlignment)

export function outOfRange(code: RejectionCode, cMessage: string, r: RelocInput, name: string): never {
  throw new LoadError(code, cMessage, { relocation: name, symbol: r.symName() });
}

/** Signed range check on a two's complement value of `bits` bits. */
export function fitsSigned(v: bigint, bits: number): boolean {
  const s = BigInt.asIntN(64, v);
  return s >= -(1n << BigInt(bits - 1)) && s < 1n << BigInt(bits - 1);
}
export function fitsUnsigned(v: bigint, bits: number): boolean {
  return BigInt.asUintN(64, v) < 1n << BigInt(bits);
}

export function checkInt(r: RelocInput, name: string, v: bigint, bits: number): void {
  if (!fitsSigned(v, bits)) {
    const lo = -(1n << BigInt(bits - 1));
    const hi = (1n << BigInt(bits - 1)) - 1n;
    outOfRange('overflow', `relocation ${name} out of range: ${BigInt.asIntN(64, v)} is not in [${lo}, ${hi}]; references '${r.symName()}'`, r, name);
  }
}

export function checkIntOrUInt(r: RelocInput, name: string, v: bigint, bits: number): void {
  if (!fitsSigned(v, bits) && !fitsUnsigned(v, bits)) {
    outOfRange('overflow', `relocation ${name} out of range: ${hex(v)} fits neither int${bits} nor uint${bits}; references '${r.symName()}'`, r, name);
  }
}

// ---- PPC64 @l/@h/@ha/@higher/@highest helpers (pure)
export const lo = (v: bigint): bigint => v & 0xffffn;
export const hi = (v: bigint): bigint => (BigInt.asUintN(64, v) >> 16n) & 0xffffn;
export const ha = (v: bigint): bigint => (BigInt.asUintN(64, v + 0x8000n) >> 16n) & 0xffffn;
export const higher = (v: bigint): bigint => (BigInt.asUintN(64, v) >> 32n) & 0xffffn;
export const highest = (v: bigint): bigint => (BigInt.asUintN(64, v) >> 48n) & 0xffffn;

export type ArchName = Arch;

/** classify() for an arch: its relocation table, built once per Semantics object (profiles share theirs). */
export function classifierFor(build: (sem: Semantics) => Map<number, RelocSpec>): ArchModule['classify'] {
  const tables = new WeakMap<Semantics, Map<number, RelocSpec>>();
  return (type, sem) => {
    let t = tables.get(sem);
    if (!t) tables.set(sem, (t = build(sem)));
    return t.get(type);
  };
}
