// The coverage corpus: synthetic relocatable objects, each declared as data (sections, symbols,
// relocations) and built by the ELF writer, each naming the relocation types, boundary values and
// layout branches of the reference loaders it exercises. The expected outcomes are worked out from
// the C source and the ABI by hand, never taken from a loader's output (test/corpus/coverage*.test.ts
// checks them against the TS engine; the stored references record what the C code really does).
import { EM_AARCH64, EM_PPC64, EM_RISCV, EM_S390, EM_X86_64, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE } from '../../elf/constants.ts';
import type { ObjSection, ObjectSpec } from '../../elf/writer.ts';
import type { Arch, Endian } from '../../types.ts';
import type { MalformedDeclaration } from '../malformed.ts';

/** What the kexec-tools model (and the C code) does with the object, at every validate base. */
export type Expectation =
  | {
      kind: 'ok';
      /** Bytes of the loaded image, by section and offset, as the ABI and the C source give them. */
      bytes?: ExpectedBytes[];
      /** Values that depend on where the image lands: a function of the image base. */
      computed?: ExpectedValue[];
      /** The image base must be aligned to this (add_buffer with buf_align above the page size). */
      baseAlign?: bigint;
      /** Section placements relative to the image base (layout objects), by section name. */
      offsets?: Record<string, bigint>;
      /** rel_size (kexec-tools) / memsz. */
      memsz?: bigint;
      /** kexec-tools: the buf_align elf_rel_load hands to add_buffer (a load's details). */
      bufAlign?: bigint;
      /** Entry relative to the image base, or an absolute value when `entryAbsolute`. */
      entry?: bigint;
      entryAbsolute?: boolean;
    }
  | {
      kind: 'rejected';
      /** The message, or a function of the image base (the request aligned up to the page size) when it prints an address (s390x). */
      message: string | ((base: bigint) => string);
    };

export interface ExpectedBytes {
  section: string;
  offset: number;
  bytes: Uint8Array;
  /** How the value was computed (the ABI formula with numbers). */
  why: string;
}

export interface ExpectedValue {
  section: string;
  offset: number;
  /** Bytes stored (in the target's store order), the value truncated to them. */
  width: number;
  value: (base: bigint) => bigint;
  why: string;
}

export interface CoverageSpec {
  /** Unique per arch: the corpus id is cov-<arch>-<name>. */
  name: string;
  arch: Arch;
  /** The spec module (repository path) that declares it: recorded in the manifest's provenance. */
  spec: string;
  /**
   * What it targets: a relocation type name (`R_X86_64_32S`: applied), a type with a boundary
   * (`R_X86_64_32S:max-fit`), a layout branch (`layout:bss-padding`), a symbol kind
   * (`symbol:abs-addend`) or an error path (`error:common-symbol`).
   */
  covers: string[];
  note: string;
  object: ObjectSpec;
  /**
   * A deliberately malformed object: the exact defects ElfFile.validate() reports for it and the
   * loader branch only such an object reaches (recorded in the manifest; src/corpus/malformed.ts).
   */
  malformed?: MalformedDeclaration;
  kexecTools: Expectation;
  /** The kexec-tools model with the realistic symbol writes of the validate cases, where it differs. */
  kexecToolsWrites?: Expectation;
  /** The kernel's loader (every modelled version), where it differs from kexec-tools in outcome or message. */
  kernel?: Expectation;
  /** One kernel version's outcome where it differs from `kernel` (riscv64 6.1 has no R_RISCV_64). */
  kernelVersions?: Partial<Record<string, Expectation>>;
}

export interface ArchParams {
  machine: number;
  endian: Endian;
  /** e_flags: ppc64 ELFv1 (1) for big-endian, ELFv2 (2) for little-endian. */
  flags: number;
  /** The 64-bit absolute relocation: S + A into 8 bytes. */
  abs64: number;
  abs64Name: string;
  /** Names of REALISTIC_SYMBOLS (src/validate/cases.ts) that the validate cases write on this arch. */
  symbolNames: string[];
}

export const ARCHES: Record<Arch, ArchParams> = {
  x86_64: {
    machine: EM_X86_64, endian: 'little', flags: 0, abs64: 1, abs64Name: 'R_X86_64_64',
    symbolNames: ['sha256_digest', 'sha256_regions', 'entry64_regs', 'cmdline_end', 'jump_back_entry'],
  },
  ppc64: {
    machine: EM_PPC64, endian: 'big', flags: 1, abs64: 38, abs64Name: 'R_PPC64_ADDR64',
    symbolNames: ['sha256_digest', 'stack', 'kernel', 'dt_offset', 'run_at_load'],
  },
  ppc64le: {
    machine: EM_PPC64, endian: 'little', flags: 2, abs64: 38, abs64Name: 'R_PPC64_ADDR64',
    symbolNames: ['sha256_digest', 'stack', 'kernel', 'dt_offset', 'run_at_load'],
  },
  arm64: {
    machine: EM_AARCH64, endian: 'little', flags: 0, abs64: 257, abs64Name: 'R_AARCH64_ABS64',
    symbolNames: ['sha256_digest', 'sha256_regions', 'arm64_sink', 'arm64_kernel_entry', 'arm64_dtb_addr'],
  },
  s390x: {
    machine: EM_S390, endian: 'big', flags: 0, abs64: 22, abs64Name: 'R_390_64',
    symbolNames: ['sha256_digest', 'sha256_regions', 'crash_base', 'crash_size', 'purgatory_start'],
  },
  riscv64: {
    machine: EM_RISCV, endian: 'little', flags: 0, abs64: 2, abs64Name: 'R_RISCV_64',
    symbolNames: ['sha256_digest', 'sha256_regions'],
  },
};

export const AX = SHF_ALLOC | SHF_EXECINSTR;
export const WA = SHF_WRITE | SHF_ALLOC;
export const A = SHF_ALLOC;

/** Recognisable non-zero filler: every location a relocation writes starts as something else. */
export function filler(n: number, seed = 0x31): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (seed + i * 7) & 0xff | 0x01;
  return out;
}

/** `value` as `width` bytes in the given byte order (two's complement, truncated like a C store). */
export function enc(endian: Endian, width: number, value: bigint): Uint8Array {
  const out = new Uint8Array(width);
  let v = BigInt.asUintN(width * 8, value);
  for (let i = 0; i < width; i++) {
    out[endian === 'little' ? i : width - 1 - i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Instruction words (or any 32-bit words) in the object's byte order. */
export function words(endian: Endian, ...ws: number[]): Uint8Array {
  const out = new Uint8Array(ws.length * 4);
  ws.forEach((w, i) => out.set(enc(endian, 4, BigInt(w >>> 0)), i * 4));
  return out;
}

/** `base` with the given bytes placed at offsets (a copy). */
export function patch(base: Uint8Array, at: [number, Uint8Array][]): Uint8Array {
  const out = Uint8Array.from(base);
  for (const [o, b] of at) out.set(b, o);
  return out;
}

/** The common header of an object for an arch. */
export function objectFor(arch: Arch, rest: Omit<ObjectSpec, 'machine' | 'endian'>): ObjectSpec {
  const p = ARCHES[arch];
  return { machine: p.machine, endian: p.endian, flags: p.flags, ...rest };
}

export const idOf = (s: Pick<CoverageSpec, 'arch' | 'name'>): string => `cov-${s.arch}-${s.name}`;

/**
 * An object of another machine fed to `arch`'s kexec-tools loader: machine_verify_elf_rel refuses
 * it and elf_rel_build_load dies "ELF rel parse failed".
 */
export function foreignMachine(arch: Arch, spec: string, other: Arch, note: string): CoverageSpec {
  return {
    name: 'foreign-machine', arch, spec, covers: ['error:wrong-machine'], note,
    object: objectFor(other, {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }],
    }),
    kexecTools: { kind: 'rejected', message: 'ELF rel parse failed\n' },
  };
}

/**
 * Objects of `arch`'s own machine that fail exactly one other check of its kexec-tools
 * machine_verify_elf_rel (byte order, class): each is refused before any layout, and a loader that
 * skipped the check would lay it out (`sections`, no relocations) and succeed.
 */
export function refusedByMachineVerify(
  arch: Arch, spec: string, sections: ObjSection[],
  variants: readonly (readonly [name: string, cover: string, what: string, over: Readonly<Partial<Pick<ObjectSpec, 'endian' | 'is64'>>>])[],
): CoverageSpec[] {
  return variants.map(([name, cover, what, over]) => ({
    name, arch, spec, covers: [cover],
    note: `${what}: kexec-tools' machine_verify_elf_rel refuses it before any layout`,
    object: { ...objectFor(arch, { entry: 0n, sections }), ...over },
    kexecTools: { kind: 'rejected', message: 'ELF rel parse failed\n' },
  }));
}
