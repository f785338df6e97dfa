// Case generators. Each takes the case's own Rng and the target, and returns a CaseDesc:
// - structured: objects synthesized with buildObject: sections with every kind of alignment, NOBITS,
//   symbols of every binding/type/shndx kind, relocations of every type the arch defines (handled
//   or not) whose values sit on each check's boundary (32/32S, REL24 ±32 MiB and alignment,
//   TOC16 ±32 KiB, the @ha rounding edge...), REL and RELA, bases with high bits set;
// - mutate: a corpus purgatory with relocation types, addends, offsets, symbol values, section
//   flags, alignments and sizes changed, or truncated;
// - malformed: a small synthesized object whose headers and tables are corrupted (parsers).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { R_X86_64 } from '../arch/x86_64.ts';
import { R_PPC64 } from '../arch/ppc64.ts';
import { R_AARCH64 } from '../arch/arm64.ts';
import { R_390 } from '../arch/s390x.ts';
import { R_RISCV } from '../arch/riscv64.ts';
import { ARCH_MODULES } from '../arch/modules.ts';
import { TARGETS } from '../arch/targets.ts';
import type { ArchModule } from '../arch/types.ts';
import {
  EM_PPC64, EM_X86_64, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, SHN_COMMON, SHN_UNDEF, SHT_NOBITS, SHT_NOTE,
  SHT_PROGBITS, SHT_REL, SHT_RELA, SHT_SYMTAB, STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FUNC, STT_NOTYPE, STT_OBJECT,
  STT_SECTION, SHT_DYNAMIC, SHT_STRTAB,
} from '../elf/constants.ts';
import { ElfFile } from '../elf/reader.ts';
import type { ObjRelocation, ObjSection } from '../elf/writer.ts';
import { PROFILE_IDS } from '../load/profile.ts';
import type { Arch, Endian } from '../types.ts';
import { realisticSymbols } from '../validate/cases.ts';
import { weightTable, type Rng } from './prng.ts';
import { corpusBytes, type CaseDesc, type FObject, type FSymbol, type FuzzMode, type FuzzValue, type Patch } from './desc.ts';

const U64 = (v: bigint) => BigInt.asUintN(64, v);

// ---------------------------------------------------------------------------------------------
// Relocation types and their boundaries

/** How a boundary value is reached: S+A (abs), S+A-P (pcrel), S+A-my_r2 (tocrel). */
type Reach = 'abs' | 'pcrel' | 'tocrel' | 'rel16' | 'any';

interface TypeInfo {
  type: number;
  reach: Reach;
  targets: bigint[];
  /** Bytes at the location. */
  width: number;
}

const S32 = [0x7fffffffn, 0x80000000n, -0x80000000n, -0x80000001n, 0xffffffffn, 0x100000000n, -1n, 0n];
const U32 = [0xffffffffn, 0x100000000n, 0n, -1n, 0x7fffffffn, 0x80000000n];

function x86Types(): Map<number, TypeInfo> {
  const R = R_X86_64;
  const m = new Map<number, TypeInfo>();
  const add = (type: number, reach: Reach, targets: bigint[], width: number) => m.set(type, { type, reach, targets, width });
  add(R['64'], 'abs', [0n, -1n, 0x8000000000000000n, 0x100000000n], 8);
  add(R['32'], 'abs', U32, 4);
  add(R['32S'], 'abs', S32, 4);
  add(R.PC32, 'pcrel', S32, 4);
  add(R.PLT32, 'pcrel', S32, 4);
  add(R.NONE, 'any', [0n], 0);
  add(R['16'], 'abs', [0xffffn, 0x10000n, -0x8000n], 2);
  add(R.PC16, 'pcrel', [0x7fffn, 0x8000n], 2);
  add(R['8'], 'abs', [0xffn, 0x100n], 1);
  add(R.PC8, 'pcrel', [0x7fn, 0x80n], 1);
  add(R.PC64, 'pcrel', [0n, -1n], 8);
  add(R.GOTPCREL, 'pcrel', [0n], 4);
  return m;
}

function ppcTypes(): Map<number, TypeInfo> {
  const R = R_PPC64;
  const m = new Map<number, TypeInfo>();
  const add = (type: number, reach: Reach, targets: bigint[], width: number) => m.set(type, { type, reach, targets, width });
  add(R.ADDR32, 'abs', [...U32, -0x80000000n, -0x80000001n], 4);
  add(R.ADDR64, 'abs', [0n, -1n, 0x8000000000000000n], 8);
  add(R.REL64, 'pcrel', [0n, 8n, -8n, 0x100000000n], 8);
  add(R.REL32, 'pcrel', [0n, 4n, -4n, 0x7fffffffn, 0x80000000n], 4);
  add(R.TOC, 'abs', [0n], 8);
  add(R.TOC16, 'tocrel', [0x7fffn, 0x8000n, -0x8000n, -0x8001n, 0n, 0xffffn], 2);
  add(R.TOC16_DS, 'tocrel', [0x7ffcn, 0x7ffen, 0x8000n, -0x8000n, -0x7ffen, 1n, 2n], 2);
  add(R.TOC16_LO, 'tocrel', [0xffffn, 0x10000n, 1n, -1n], 2);
  add(R.TOC16_LO_DS, 'tocrel', [0x10002n, 3n, 4n, -4n], 2);
  add(R.TOC16_HI, 'tocrel', [0x7fff0000n, -1n, 0xffff0000n, 0x100000000n, 0x10000n], 2);
  add(R.TOC16_HA, 'tocrel', [0x7fffn, 0x8000n, 0x17fffn, 0x18000n, -0x8000n, -0x8001n], 2);
  add(R.REL24, 'pcrel', [0x1fffffcn, 0x2000000n, -0x2000000n, -0x2000004n, 0x1fffffen, 1n, 2n, 3n, 0n, 4n], 4);
  add(R.ADDR16_LO, 'abs', [0xffffn, 0x10000n], 2);
  add(R.ADDR16_HI, 'abs', [0x7fffffffn, 0x80000000n, -0x80000000n, -0x80000001n, 0xffffffffn], 2);
  add(R.ADDR16_HA, 'abs', [0x7fffn, 0x8000n, 0xffff7fffn, 0xffff8000n, 0x7fff7fffn, 0x7fff8000n, -0x8000n, -0x8001n, 0x80000000n], 2);
  add(R.ADDR16_HIGHER, 'abs', [0xffff_ffff_0000n, 0x1_0000_0000_0000n, -1n], 2);
  add(R.ADDR16_HIGHEST, 'abs', [0xffff_0000_0000_0000n, -1n, 0n], 2);
  add(R.REL16_HA, 'rel16', [0n, 4n, 0x8000n], 4);
  add(R.REL16_LO, 'rel16', [0n, 4n, 0x8000n], 4);
  add(R.REL16, 'pcrel', [0x7fffn, 0x8000n], 2);
  add(R.REL16_HI, 'pcrel', [0x7fffffffn, 0x80000000n], 2);
  add(R.REL14, 'pcrel', [0x7ffcn, 0x8000n], 4);
  add(R.ADDR24, 'abs', [0x1fffffcn, 0x2000000n], 4);
  add(R.ADDR16, 'abs', [0x7fffn, 0x8000n], 2);
  add(R.NONE, 'any', [0n], 0);
  return m;
}

function arm64Types(): Map<number, TypeInfo> {
  const R = R_AARCH64;
  const m = new Map<number, TypeInfo>();
  const add = (type: number, reach: Reach, targets: bigint[], width: number) => m.set(type, { type, reach, targets, width });
  const wide = [0xffffn, 0x10000n, 0xffffffffn, 0x100000000n, 0xffff_ffff_ffffn, 0x1_0000_0000_0000n, -1n];
  add(R.ABS64, 'abs', [0n, -1n, 0x8000000000000000n, 0x100000000n], 8);
  add(R.ABS32, 'abs', U32, 4);
  add(R.PREL32, 'pcrel', S32, 4);
  add(R.PREL64, 'pcrel', [0n, -1n], 8);
  add(R.MOVW_UABS_G0_NC, 'abs', wide, 4);
  add(R.MOVW_UABS_G1_NC, 'abs', wide, 4);
  add(R.MOVW_UABS_G2_NC, 'abs', wide, 4);
  add(R.MOVW_UABS_G3, 'abs', wide, 4);
  add(R.LD_PREL_LO19, 'pcrel', [0xffffcn, 0x100000n, -0x100000n, -0x100004n, 1n, 2n, 3n], 4);
  add(R.ADR_PREL_LO21, 'pcrel', [0xfffffn, 0x100000n, -0x100000n, -0x100001n, 1n, 2n, 3n], 4);
  add(R.ADR_PREL_PG_HI21, 'pcrel', [0xfffff000n, 0x100000000n, -0x100000000n, -0x100001000n, 0xfffn, 0x1000n], 4);
  add(R.ADD_ABS_LO12_NC, 'abs', [0xfffn, 0x1000n, 0x7ffn], 4);
  add(R.JUMP26, 'pcrel', [0x7fffffcn, 0x8000000n, -0x8000000n, -0x8000004n, 1n, 2n], 4);
  add(R.CALL26, 'pcrel', [0x7fffffcn, 0x8000000n, -0x8000000n, -0x8000004n, 1n, 2n], 4);
  add(R.LDST8_ABS_LO12_NC, 'abs', [0xfffn, 0x1000n], 4);
  add(R.LDST16_ABS_LO12_NC, 'abs', [0xffen, 0xfffn, 1n], 4);
  add(R.LDST32_ABS_LO12_NC, 'abs', [0xffcn, 0xffen, 2n], 4);
  add(R.LDST64_ABS_LO12_NC, 'abs', [0xff8n, 0x1004n, 0x1008n, 7n, 4n], 4);
  add(R.LDST128_ABS_LO12_NC, 'abs', [0xff0n, 0x1008n, 0x1010n, 15n, 8n], 4);
  add(R.NONE, 'any', [0n], 0);
  return m;
}

function s390xTypes(): Map<number, TypeInfo> {
  const R = R_390;
  const m = new Map<number, TypeInfo>();
  const add = (type: number, reach: Reach, targets: bigint[], width: number) => m.set(type, { type, reach, targets, width });
  add(R['8'], 'abs', [0xffn, 0x100n, -0x80n, -0x81n], 1);
  add(R['12'], 'abs', [0xfffn, 0x1000n, -1n], 2);
  add(R['16'], 'abs', [0xffffn, 0x10000n, -0x8000n, -0x8001n], 2);
  add(R['20'], 'abs', [0x7ffffn, 0x80000n, -0x80000n, -0x80001n, 0xfffffn], 4);
  add(R['32'], 'abs', U32, 4);
  add(R['64'], 'abs', [0n, -1n, 0x8000000000000000n, 0x100000000n], 8);
  add(R.PC16, 'pcrel', [0x7fffn, 0x8000n, -0x8000n, -0x8001n], 2);
  add(R.PC16DBL, 'pcrel', [0xfffen, 0x10000n, -0x10000n, -0x10002n, 1n], 2);
  add(R.PC32DBL, 'pcrel', [0xfffffffen, 0x100000000n, -0x100000000n, -0x100000002n, 1n, 3n], 4);
  add(R.PLT32DBL, 'pcrel', [0xfffffffen, 0x100000000n, -0x100000000n, -0x100000002n, 1n, 3n], 4);
  add(R.PC32, 'pcrel', S32, 4);
  add(R.PC64, 'pcrel', [0n, -1n], 8);
  // The kernel's arch_kexec_do_relocs also takes GLOB_DAT and JMP_SLOT (kexec-tools: unknown).
  add(R.GLOB_DAT, 'abs', [0n, -1n], 8);
  add(R.JMP_SLOT, 'abs', [0n, -1n], 8);
  add(R.RELATIVE, 'abs', [0n, -1n], 8);
  add(R.NONE, 'any', [0n], 0);
  return m;
}

function riscvTypes(): Map<number, TypeInfo> {
  const R = R_RISCV;
  const m = new Map<number, TypeInfo>();
  const add = (type: number, reach: Reach, targets: bigint[], width: number) => m.set(type, { type, reach, targets, width });
  add(R.BRANCH, 'pcrel', [0xffen, 0x1000n, -0x1000n, 1n], 4);
  add(R.JAL, 'pcrel', [0xffffen, 0x100000n, -0x100000n], 4);
  add(R.CALL, 'pcrel', [0x7ffn, 0x800n, -0x800n, 0x7fffffffn, 0x80000000n], 8);
  add(R.CALL_PLT, 'pcrel', [0x7ffn, 0x800n, -0x801n], 8);
  add(R.PCREL_HI20, 'pcrel', [0x7ffn, 0x800n, 0xfffff7ffn], 8);
  add(R.PCREL_LO12_I, 'pcrel', [0n], 0);
  add(R.RVC_BRANCH, 'pcrel', [0xfen, 0x100n, -0x100n], 4);
  add(R.RVC_JUMP, 'pcrel', [0x7fen, 0x800n, -0x800n], 4);
  add(R.ADD16, 'abs', [0xffffn, 0x10000n], 2);
  add(R.SUB16, 'abs', [0xffffn, 0x10000n], 2);
  add(R.ADD32, 'abs', U32, 4);
  add(R.SUB32, 'abs', U32, 4);
  add(R['64'], 'abs', [0n, -1n], 8);
  add(R.ALIGN, 'any', [0n], 0);
  add(R.RELAX, 'any', [0n], 0);
  add(R.NONE, 'any', [0n], 0);
  return m;
}

type Family = ArchModule['arch'];
const TYPES: Record<Family, Map<number, TypeInfo>> = { x86_64: x86Types(), ppc64: ppcTypes(), arm64: arm64Types(), s390x: s390xTypes(), riscv64: riscvTypes() };

/** Type numbers no table defines, for the unknown-relocation paths. */
const UNKNOWN_TYPES: Record<Family, number[]> = {
  x86_64: [39, 40, 43, 200, 255, 0x100, 0xffff, 0x7fffffff, 0xffffffff],
  ppc64: [18, 23, 32, 121, 200, 247, 253, 255, 0x100, 0xffffffff],
  arm64: [2, 3, 256, 314, 574, 0x400, 0xffff, 0x7fffffff, 0xffffffff],
  s390x: [21, 26, 66, 100, 200, 249, 252, 255, 0x100, 0x7fffffff, 0xffffffff],
  riscv64: [1, 3, 12, 26, 27, 41, 42, 46, 57, 60, 62, 200, 255, 0x100, 0x7fffffff, 0xffffffff],
};

const archModule = (arch: Arch): ArchModule => ARCH_MODULES[arch];
const familyOf = (arch: Arch): Family => ARCH_MODULES[arch].arch;
const tableOf = (arch: Arch) => TYPES[familyOf(arch)];
/** Types the kexec-tools hook handles (the interesting ones), per arch; riscv64's handles none, so every type it names. */
const HANDLED: Record<Family, number[]> = {
  x86_64: [R_X86_64['64'], R_X86_64['32'], R_X86_64['32S'], R_X86_64.PC32, R_X86_64.PLT32, R_X86_64.NONE],
  ppc64: [R_PPC64.ADDR32, R_PPC64.ADDR64, R_PPC64.REL64, R_PPC64.REL32, R_PPC64.TOC, R_PPC64.TOC16, R_PPC64.TOC16_DS,
    R_PPC64.TOC16_LO, R_PPC64.TOC16_LO_DS, R_PPC64.TOC16_HI, R_PPC64.TOC16_HA, R_PPC64.REL24, R_PPC64.ADDR16_LO,
    R_PPC64.ADDR16_HI, R_PPC64.ADDR16_HA, R_PPC64.ADDR16_HIGHER, R_PPC64.ADDR16_HIGHEST, R_PPC64.REL16_HA, R_PPC64.REL16_LO],
  arm64: [R_AARCH64.ABS64, R_AARCH64.PREL32, R_AARCH64.MOVW_UABS_G0_NC, R_AARCH64.MOVW_UABS_G1_NC, R_AARCH64.MOVW_UABS_G2_NC,
    R_AARCH64.MOVW_UABS_G3, R_AARCH64.LD_PREL_LO19, R_AARCH64.ADR_PREL_LO21, R_AARCH64.ADR_PREL_PG_HI21, R_AARCH64.ADD_ABS_LO12_NC,
    R_AARCH64.JUMP26, R_AARCH64.CALL26, R_AARCH64.LDST64_ABS_LO12_NC, R_AARCH64.LDST128_ABS_LO12_NC, R_AARCH64.NONE],
  s390x: [R_390.NONE, R_390['8'], R_390['12'], R_390['16'], R_390['20'], R_390['32'], R_390['64'], R_390.PC16, R_390.PC16DBL,
    R_390.PC32DBL, R_390.PLT32DBL, R_390.PC32, R_390.PC64, R_390.RELATIVE, R_390.GLOB_DAT, R_390.JMP_SLOT],
  riscv64: [...riscvTypes().keys()],
};

/** Every type number the arch module names, in its table's order (built once per arch). */
const NAMED = new Map<Arch, number[]>();
function namedTypes(arch: Arch): number[] {
  let xs = NAMED.get(arch);
  if (!xs) NAMED.set(arch, (xs = [...archModule(arch).names.keys()]));
  return xs;
}

/** A relocation type: mostly handled ones, then every other defined type, then undefined numbers. */
export function pickType(rng: Rng, arch: Arch): number {
  const a = familyOf(arch);
  switch (rng.weightedIndex(W_TYPE)) {
    case 0: return rng.pick(HANDLED[a]);
    case 1: return rng.pick(namedTypes(arch));
    default: return rng.pick(UNKNOWN_TYPES[a]);
  }
}
const W_TYPE = weightTable(70, 22, 8);

// ---------------------------------------------------------------------------------------------
// Shared value pickers

const INTERESTING_64 = [0n, 1n, 2n, 3n, 4n, 7n, 8n, 0x7fn, 0x80n, 0xffn, 0x100n, 0xfffn, 0x1000n, 0x7fffn, 0x8000n, 0xffffn, 0x10000n,
  0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xfffffffffffffff0n,
  0xfffffffffffffff8n, 0xffffffffffffffffn];

// The small pickers below draw with weightedIndex over constant weight tables (the same draws as
// rng.weighted over [weight, value] pairs, without building the pairs and closures per call).
const W_INTERESTING = weightTable(6, 2, 1, 1);
function interesting(rng: Rng): bigint {
  switch (rng.weightedIndex(W_INTERESTING)) {
    case 0: return rng.pick(INTERESTING_64);
    case 1: return BigInt(rng.int(256));
    case 2: return rng.u64();
    default: return U64(-BigInt(rng.range(1, 64)));
  }
}

const W_DELTA = weightTable(5, 2, 2, 1, 1, 1, 1);
const DELTAS = [0n, 1n, -1n, 4n, -4n, 2n];
function smallDelta(rng: Rng): bigint {
  const i = rng.weightedIndex(W_DELTA);
  return i < DELTAS.length ? DELTAS[i]! : BigInt(rng.range(-16, 16));
}

export const BASES: bigint[] = [
  0x10_0000n, 0x3ff0_0000n, 0x1_2340_0000n, 0x3ff0_0f10n, 0n, 0x7fff_f000n, 0xffff_f000n, 0xffff_0000n, 0x8000_0000n,
  0x8000_0000_0000_0000n, 0xffff_ffff_fff0_0000n, 0xffff_ffff_ffff_f000n, 0x7fff_ffff_ffff_f000n, 0xffff_ffff_8000_0000n,
];

const W_BASE = weightTable(10, 6, 2, 1);
const COMMON_BASES = BASES.slice(0, 4);
function pickBase(rng: Rng): bigint {
  switch (rng.weightedIndex(W_BASE)) {
    case 0: return rng.pick(COMMON_BASES);
    case 1: return rng.pick(BASES);
    case 2: return rng.u64() & ~0xfffn;
    default: return rng.u64();
  }
}

const W_ALIGN = weightTable(10, 3, 3, 1, 1, 1);
const SMALL_ALIGNS = [1n, 2n, 4n, 8n, 16n];
const HUGE_ALIGNS = [1n << 32n, 1n << 63n, 1n << 40n];
const ODD_ALIGNS = [3n, 6n, 24n, 0x1001n];
function pickAlign(rng: Rng): bigint {
  switch (rng.weightedIndex(W_ALIGN)) {
    case 0: return rng.pick(SMALL_ALIGNS);
    case 1: return 0n;
    case 2: return 1n << BigInt(rng.range(5, 12));
    case 3: return 1n << BigInt(rng.range(13, 20));
    case 4: return rng.pick(HUGE_ALIGNS);
    default: return rng.pick(ODD_ALIGNS);
  }
}

function storeWord(bytes: Uint8Array, off: number, width: number, v: bigint, endian: Endian): void {
  for (let i = 0; i < width && off + i < bytes.length; i++) {
    const shift = BigInt(8 * (endian === 'little' ? i : width - 1 - i));
    if (off + i >= 0) bytes[off + i] = Number((U64(v) >> shift) & 0xffn);
  }
}

// ---------------------------------------------------------------------------------------------
// structured

const SECTION_POOL = ['.data', '.rodata', '.bss', '.text.2', '.got', '.note.x', '.comment', '.data.rel', '.sbss'];

interface GenSection extends ObjSection {
  dataLen: number;
}

/** Synthesize an object (valid container, adversarial contents). `small` keeps it tiny (malformed mode's base). */
export function structuredObject(rng: Rng, arch: Arch, small = false): { obj: FObject; base: bigint } {
  const endian: Endian = TARGETS[arch].endian;
  const ppc = arch === 'ppc64' || arch === 'ppc64le';
  const is64 = !(arch === 'x86_64' && rng.chance(0.04)); // x32 objects (kexec-tools >= 2.0.21 accepts them)
  const storeEndian: Endian = endian;
  const sections: GenSection[] = [];
  const textLen = rng.pick([0, 4, 16, 64, 128, 256]);
  sections.push({ name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: rng.bytes(textLen), addralign: rng.chance(0.8) ? rng.pick([4n, 16n]) : pickAlign(rng), dataLen: textLen });
  if (ppc && rng.chance(0.75)) {
    const n = rng.pick([8, 16, 64, 256]);
    sections.push({ name: '.toc', flags: SHF_ALLOC | SHF_WRITE, data: new Uint8Array(n), addralign: rng.chance(0.8) ? 8n : pickAlign(rng), dataLen: n });
  }
  const extra = rng.int(small ? 2 : 5);
  for (let i = 0; i < extra; i++) {
    let name = rng.pick(SECTION_POOL);
    if (sections.some((s) => s.name === name)) name = `${name}.${i}`;
    const nobits = name.startsWith('.bss') || name.startsWith('.sbss') || rng.chance(0.08);
    const flagsPick = rng.weighted<bigint>([[6, SHF_ALLOC | SHF_WRITE], [3, SHF_ALLOC], [2, 0n], [1, SHF_ALLOC | SHF_EXECINSTR], [1, SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR]]);
    const align = pickAlign(rng);
    const addr = rng.chance(0.1) ? interesting(rng) : 0n;
    if (nobits) {
      const size = rng.weighted<() => bigint>([[8, () => BigInt(rng.int(4096))], [1, () => 1n << BigInt(rng.range(20, 40))], [1, () => rng.pick([1n << 63n, U64(-1n), 1n << 31n])]])();
      sections.push({ name, type: SHT_NOBITS, flags: flagsPick | SHF_ALLOC, size, addralign: align, addr, dataLen: 0 });
    } else {
      const len = rng.pick([0, 8, 16, 32, 64, 100, 128]);
      const type = name.startsWith('.note') ? SHT_NOTE : rng.chance(0.04) ? rng.pick([SHT_STRTAB, SHT_DYNAMIC, 0x6ffffff0, 0x70000001]) : SHT_PROGBITS;
      const data = type === SHT_NOTE ? noteData(rng, endian) : rng.chance(0.5) ? new Uint8Array(len) : rng.bytes(len);
      sections.push({ name, type, flags: flagsPick, data, addralign: align, addr, dataLen: data.length });
    }
  }
  const secNames = sections.map((s) => s.name);
  const withData = sections.filter((s) => s.dataLen > 0);

  const symbols: FSymbol[] = [];
  const symName = () => `s${symbols.length}`;
  const nsyms = rng.int(small ? 3 : 6);
  for (let i = 0; i < nsyms; i++) symbols.push(randomSymbol(rng, symName(), secNames, ppc));
  if (ppc && rng.chance(0.5)) symbols.push({ name: '.TOC.', section: SHN_UNDEF, bind: STB_GLOBAL, type: STT_NOTYPE });
  if (rng.chance(0.2)) {
    const s = rng.pick(sections);
    symbols.push({ name: rng.pick(['sha256_digest', 'purgatory_start', 'stack', 'entry64_regs', 'my_toc']), section: s.name, value: BigInt(rng.int(Math.max(1, s.dataLen))), size: rng.pick([0n, 4n, 8n, 32n]), bind: STB_GLOBAL, type: rng.pick([STT_OBJECT, STT_FUNC]) });
  }

  const relocations: ObjRelocation[] = [];
  const nrel = rng.int(small ? 4 : 10) + (small ? 0 : 1);
  for (let i = 0; i < nrel && (withData.length || rng.chance(0.3)); i++) {
    const target = withData.length && rng.chance(0.9) ? rng.pick(withData) : rng.pick(sections);
    const type = pickType(rng, arch);
    const info = tableOf(arch).get(type);
    const width = info?.width ?? 4;
    const offset = pickOffset(rng, target.dataLen, width);
    let symbol: string | number;
    let addend = 0n;
    const strategy = info && rng.chance(0.75) ? info.reach : 'any';
    const goal = info ? U64(rng.pick(info.targets) + smallDelta(rng)) : 0n;
    const split = (total: bigint): [bigint, bigint] => {
      const a = rng.weighted<() => bigint>([[3, () => 0n], [2, () => BigInt(rng.range(-8, 8))], [1, () => total], [1, () => interesting(rng)]])();
      return [U64(total - a), BigInt.asIntN(64, a)];
    };
    switch (strategy) {
      case 'abs': {
        const [v, a] = split(goal);
        symbol = symName();
        symbols.push({ name: symbol, section: SHN_ABS, value: v, bind: rng.pick([STB_LOCAL, STB_GLOBAL]), type: rng.pick([STT_NOTYPE, STT_OBJECT]) });
        addend = a;
        break;
      }
      case 'pcrel': {
        // S - P = st_value + A - r_offset when the symbol is in the location's own section.
        const [v, a] = split(U64(goal + offset));
        symbol = symName();
        symbols.push({ name: symbol, section: target.name, value: v, bind: rng.pick([STB_LOCAL, STB_GLOBAL]), type: rng.pick([STT_FUNC, STT_NOTYPE]), other: ppc ? rng.int(8) << 5 : 0 });
        addend = a;
        break;
      }
      case 'tocrel': {
        const toc = sections.find((s) => s.name === '.toc');
        const [v, a] = split(U64(goal + 0x8000n));
        symbol = symName();
        symbols.push({ name: symbol, section: toc ? '.toc' : target.name, value: v, bind: STB_LOCAL, type: STT_OBJECT });
        addend = a;
        break;
      }
      case 'rel16': {
        // The ELFv2 global-entry prologue: addis 2,12,.TOC.-0b@ha / addi 2,2,.TOC.-0b@l (host-endian read).
        const insn = type === R_PPC64.REL16_HA ? 0x3c4c0000n : 0x38420000n;
        if (target.data && rng.chance(0.85)) storeWord(target.data, Number(offset), 4, insn | BigInt(rng.int(0x10000)), storeEndian);
        let toc = symbols.find((s) => s.name === '.TOC.');
        if (!toc) symbols.push((toc = { name: '.TOC.', section: SHN_UNDEF, bind: STB_GLOBAL, type: STT_NOTYPE }));
        symbol = '.TOC.';
        addend = type === R_PPC64.REL16_LO ? rng.pick([4n, 0n, 8n]) : rng.pick([0n, 4n]);
        break;
      }
      default: {
        symbol = symbols.length && rng.chance(0.85) ? rng.pick(symbols).name : rng.pick([0, symbols.length + 1, symbols.length + 2, 0xffffff]);
        addend = rng.chance(0.5) ? 0n : BigInt.asIntN(64, interesting(rng));
      }
    }
    relocations.push({ section: target.name, offset, type, symbol, addend });
  }
  const text = sections[0]!;
  const entry = rng.weighted<() => bigint>([[6, () => BigInt(rng.int(Math.max(1, text.dataLen)))], [2, () => 0n], [1, () => interesting(rng)]])();
  const flags = ppc ? rng.weighted<number>([[5, arch === 'ppc64' ? 1 : 2], [1, 0], [1, arch === 'ppc64' ? 2 : 1], [1, 3]]) : 0;
  const obj: FObject = {
    is64, endian, machine: TARGETS[arch].machine, entry, flags,
    sections: sections.map(({ dataLen: _d, ...s }) => s),
    symbols, relocations,
    rel: rng.chance(0.1),
    sectionSymbols: rng.chance(0.2),
  };
  return { obj, base: pickBase(rng) };
}

function randomSymbol(rng: Rng, name: string, secNames: string[], ppc: boolean): FSymbol {
  const section = symbolSection(rng, secNames);
  return {
    name, section,
    value: rng.chance(0.7) ? BigInt(rng.int(128)) : interesting(rng),
    size: rng.pick([0n, 4n, 8n, 32n, interesting(rng)]),
    bind: rng.weighted<number>([[4, STB_GLOBAL], [4, STB_LOCAL], [2, STB_WEAK], [1, rng.range(3, 15)]]),
    type: rng.weighted<number>([[4, STT_NOTYPE], [3, STT_FUNC], [3, STT_OBJECT], [1, STT_SECTION], [1, rng.range(4, 15)]]),
    other: ppc ? (rng.int(8) << 5) | rng.int(4) : rng.chance(0.1) ? rng.int(256) : 0,
  };
}

const W_SYM_SECTION = weightTable(14, 2, 2, 1, 1, 1, 1);
function symbolSection(rng: Rng, secNames: string[]): FSymbol['section'] {
  switch (rng.weightedIndex(W_SYM_SECTION)) {
    case 0: return rng.pick(secNames);
    case 1: return SHN_ABS;
    case 2: return SHN_UNDEF;
    case 3: return SHN_COMMON;
    case 4: return { shnum: 0 };
    case 5: return { shnum: rng.pick([-1, 1, 2]) };
    default: return rng.pick([0xff00, 0xffff, 0xfff3]);
  }
}

const W_OFFSET = weightTable(16, 2, 1, 1);
const FAR_OFFSETS = [1n << 32n, 1n << 40n, 1n << 63n, U64(-1n), U64(-4n), 0x10000000n];
function pickOffset(rng: Rng, len: number, width: number): bigint {
  switch (rng.weightedIndex(W_OFFSET)) {
    case 0: return BigInt(Math.max(0, rng.int(Math.max(1, len - width + 1))) & ~(width > 1 && rng.chance(0.8) ? Math.min(width, 4) - 1 : 0));
    case 1: return BigInt(Math.max(0, len - width + rng.range(1, 3)));
    case 2: return BigInt(len);
    default: return rng.pick(FAR_OFFSETS);
  }
}

function noteData(rng: Rng, endian: Endian): Uint8Array {
  const namesz = rng.weighted<number>([[6, 4], [1, 0], [1, 0xffffffff], [1, 0xfffffffd], [1, rng.int(64)]]);
  const descsz = rng.weighted<number>([[6, 8], [1, 0], [1, 0xffffffff], [1, 0xfffffff0], [1, rng.int(64)]]);
  const out = new Uint8Array(rng.pick([12, 24, 28, 40]));
  storeWord(out, 0, 4, BigInt(namesz), endian);
  storeWord(out, 4, 4, BigInt(descsz), endian);
  storeWord(out, 8, 4, 1n, endian);
  out.set([0x47, 0x4e, 0x55, 0], 12 < out.length ? 12 : 0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// mutate (corpus)

export interface CorpusRef {
  id: string;
  file: string;
  arch: Arch;
  shnum: number;
  nsyms: number;
  /** Entries per SHT_REL/SHT_RELA section, in section order. */
  relCounts: number[];
  sectionNames: string[];
  size: number;
  realistic: { name: string; size: number }[];
}

let corpusRefs: CorpusRef[] | undefined;

/** The corpus purgatories (ET_REL) from <root>/corpus/manifest.json, indexed once. */
export function loadCorpusRefs(root: string): CorpusRef[] {
  if (corpusRefs) return corpusRefs;
  const p = join(root, 'corpus', 'manifest.json');
  const out: CorpusRef[] = [];
  if (existsSync(p)) {
    const m = JSON.parse(readFileSync(p, 'utf8')) as { entries?: { id: string; file: string; arch: Arch; elfType?: string; origin?: { kind?: string } }[] };
    for (const e of m.entries ?? []) {
      if (e.elfType && e.elfType !== 'rel') continue;
      // Real purgatories only: the coverage corpus's objects are the structured generator's job
      // (each already sits on one boundary), and a seed's stream must not move when one is added.
      if (e.origin?.kind === 'coverage-generator') continue;
      const file = join(root, e.file);
      if (!existsSync(file)) continue;
      try {
        const bytes = corpusBytes(file);
        const elf = new ElfFile(bytes);
        if (elf.header.type !== 1) continue;
        const relCounts: number[] = [];
        let nsyms = 0;
        for (const s of elf.sections) {
          if (s.type === SHT_REL || s.type === SHT_RELA) relCounts.push(Number(s.size / (s.entsize || 1n)));
          if (s.type === SHT_SYMTAB && !nsyms) nsyms = Number(s.size / (s.entsize || 1n));
        }
        out.push({
          id: e.id, file: e.file, arch: e.arch, shnum: elf.sections.length, nsyms, relCounts,
          sectionNames: elf.sections.map((s) => elf.sectionName(s.index)), size: bytes.length,
          realistic: realisticSymbols(bytes).map((s) => ({ name: s.name, size: s.bytes.length })),
        });
      } catch {
        /* not indexable: skipped */
      }
    }
  }
  out.sort((a, b) => a.id.localeCompare(b.id));
  return (corpusRefs = out);
}

let refsOf: { all: CorpusRef[]; byArch: Map<Arch, CorpusRef[]> } | undefined;
/** loadCorpusRefs(root) of one arch, in the same order (filtered once per arch). */
function corpusRefsOf(root: string, arch: Arch): CorpusRef[] {
  const all = loadCorpusRefs(root);
  if (refsOf?.all !== all) refsOf = { all, byArch: new Map() };
  let xs = refsOf.byArch.get(arch);
  if (!xs) refsOf.byArch.set(arch, (xs = all.filter((r) => r.arch === arch)));
  return xs;
}

function boundaryFor(rng: Rng, arch: Arch, type: number): bigint {
  const info = tableOf(arch).get(type);
  return info ? U64(rng.pick(info.targets) + smallDelta(rng)) : interesting(rng);
}

function mutation(rng: Rng, ref: CorpusRef): Patch {
  const relSecs = ref.relCounts.map((n, i) => [i, n] as const).filter(([, n]) => n > 0);
  const relPatch = (field: 'type' | 'addend' | 'offset' | 'sym', value: (rs: number, i: number) => FuzzValue): Patch => {
    const [rs, n] = rng.pick(relSecs);
    const index = rng.int(n);
    return { k: 'rel', relSec: rs, index, field, value: value(rs, index) };
  };
  const sec = () => rng.range(1, Math.max(1, ref.shnum - 1));
  const kinds: [number, () => Patch][] = [
    [6, () => relPatch('type', () => BigInt(pickType(rng, ref.arch)))],
    [5, () => relPatch('addend', () => (rng.chance(0.5) ? boundaryFor(rng, ref.arch, pickType(rng, ref.arch)) : interesting(rng)))],
    [3, () => relPatch('offset', () => rng.weighted<() => FuzzValue>([[3, () => BigInt(rng.int(4096))], [2, () => interesting(rng)], [1, () => 1n << 40n]])())],
    [3, () => relPatch('sym', () => rng.weighted<() => bigint>([[3, () => BigInt(rng.int(Math.max(1, ref.nsyms)))], [2, () => BigInt(ref.nsyms + rng.int(3))], [1, () => 0xffffffn], [1, () => 0n]])())],
    [4, () => ({ k: 'sym', index: rng.range(1, Math.max(1, ref.nsyms - 1)), field: 'value', value: interesting(rng) })],
    [3, () => ({ k: 'sym', index: rng.range(1, Math.max(1, ref.nsyms - 1)), field: 'shndx', value: rng.pick<FuzzValue>([{ shnum: 0 }, { shnum: -1 }, { shnum: 1 }, BigInt(SHN_ABS), BigInt(SHN_COMMON), 0n, 0xff00n]) })],
    [1, () => ({ k: 'sym', index: rng.range(1, Math.max(1, ref.nsyms - 1)), field: rng.pick(['info', 'other'] as const), value: BigInt(rng.int(256)) })],
    [1, () => ({ k: 'sym', index: rng.range(1, Math.max(1, ref.nsyms - 1)), field: 'size', value: interesting(rng) })],
    [3, () => ({ k: 'shdr', sec: sec(), field: 'flags', value: rng.pick([SHF_ALLOC, SHF_ALLOC | SHF_EXECINSTR, SHF_ALLOC | SHF_WRITE, 0n, SHF_WRITE, 0x7n]) })],
    [3, () => ({ k: 'shdr', sec: sec(), field: 'addralign', value: pickAlign(rng) })],
    [2, () => ({ k: 'shdr', sec: sec(), field: 'size', value: rng.chance(0.5) ? BigInt(rng.int(0x2000)) : interesting(rng) })],
    [1, () => ({ k: 'shdr', sec: sec(), field: rng.pick(['link', 'info'] as const), value: rng.pick<FuzzValue>([{ shnum: 0 }, { shnum: -1 }, { shnum: 1 }, 0n, BigInt(rng.int(ref.shnum))]) })],
    [1, () => ({ k: 'shdr', sec: sec(), field: 'addr', value: interesting(rng) })],
    [1, () => ({ k: 'shdr', sec: sec(), field: 'type', value: BigInt(rng.pick([SHT_NOBITS, SHT_PROGBITS, SHT_RELA, SHT_REL, SHT_NOTE, SHT_SYMTAB])) })],
    [1, () => ({ k: 'ehdr', field: 'entry', value: interesting(rng) })],
    [1, () => ({ k: 'truncate', length: rng.int(ref.size) })],
  ];
  if (!relSecs.length) return { k: 'shdr', sec: sec(), field: 'addralign', value: pickAlign(rng) };
  return rng.weighted(kinds)();
}

// ---------------------------------------------------------------------------------------------
// malformed

function corruption(rng: Rng, nsecs: number, nsyms: number, nrels: number): Patch {
  const shnumish = (): FuzzValue => rng.pick<FuzzValue>([{ shnum: 0 }, { shnum: -1 }, { shnum: 1 }, 0n, 0xffffn, 0xffffffffn, 0xff00n]);
  const sec = () => rng.int(nsecs + 1);
  return rng.weighted<() => Patch>([
    [2, () => ({ k: 'ehdr', field: 'class', value: BigInt(rng.pick([0, 1, 2, 3, 0xff])) })],
    [2, () => ({ k: 'ehdr', field: 'data', value: BigInt(rng.pick([0, 1, 2, 3])) })],
    [1, () => ({ k: 'ehdr', field: rng.pick(['identVersion', 'version'] as const), value: BigInt(rng.pick([0, 2, 0xff])) })],
    [1, () => ({ k: 'ehdr', field: 'type', value: BigInt(rng.pick([0, 2, 3, 4, 0xfe00, 0xffff])) })],
    [1, () => ({ k: 'ehdr', field: 'machine', value: BigInt(rng.pick([0, 3, EM_X86_64, EM_PPC64, 0xffff])) })],
    [2, () => ({ k: 'ehdr', field: 'ehsize', value: BigInt(rng.pick([0, 52, 64, 65, 0xffff])) })],
    [3, () => ({ k: 'ehdr', field: 'shentsize', value: BigInt(rng.pick([0, 40, 63, 64, 65, 128, 0xffff])) })],
    [4, () => ({ k: 'ehdr', field: 'shnum', value: rng.pick<FuzzValue>([0n, 1n, { shnum: -1 }, { shnum: 1 }, { shnum: 8 }, 0xffffn]) })],
    [4, () => ({ k: 'ehdr', field: 'shoff', value: rng.pick([0n, 1n, 0x40n, 0x1000n, 1n << 32n, U64(-1n), U64(-64n), U64(-0x1000n), interesting(rng)]) })],
    [4, () => ({ k: 'ehdr', field: 'shstrndx', value: shnumish() })],
    [3, () => ({ k: 'ehdr', field: 'phoff', value: rng.pick([0x40n, 0n, U64(-1n), U64(-56n), 1n << 40n]) })],
    [3, () => ({ k: 'ehdr', field: 'phnum', value: BigInt(rng.pick([1, 2, 3, 0xffff])) })],
    [2, () => ({ k: 'ehdr', field: 'phentsize', value: BigInt(rng.pick([32, 56, 0, 57])) })],
    [5, () => ({ k: 'shdr', sec: sec(), field: 'offset', value: rng.pick([0n, 1n, U64(-1n), U64(-8n), 1n << 32n, 1n << 63n, interesting(rng)]) })],
    [5, () => ({ k: 'shdr', sec: sec(), field: 'size', value: rng.pick([0n, 1n, 7n, 23n, 25n, U64(-1n), U64(-8n), 1n << 32n, 1n << 63n, interesting(rng)]) })],
    [2, () => ({ k: 'shdr', sec: sec(), field: 'addr', value: rng.pick([U64(-1n), U64(-8n), 1n << 63n, interesting(rng)]) })],
    [3, () => ({ k: 'shdr', sec: sec(), field: 'entsize', value: rng.pick([0n, 1n, 8n, 16n, 24n, 25n, U64(-1n)]) })],
    [4, () => ({ k: 'shdr', sec: sec(), field: rng.pick(['link', 'info'] as const), value: shnumish() })],
    [3, () => ({ k: 'shdr', sec: sec(), field: 'type', value: BigInt(rng.pick([0, SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_DYNAMIC, SHT_NOTE, SHT_NOBITS, SHT_REL, 0xffffffff])) })],
    [2, () => ({ k: 'shdr', sec: sec(), field: 'name', value: rng.pick([0n, 1n, 0xffffn, 0xffffffffn, BigInt(rng.int(64))]) })],
    [2, () => ({ k: 'shdr', sec: sec(), field: 'flags', value: rng.pick([0n, SHF_ALLOC, SHF_ALLOC | SHF_EXECINSTR, U64(-1n)]) })],
    [3, () => ({ k: 'sym', index: rng.int(nsyms + 1), field: rng.pick(['name', 'shndx'] as const), value: rng.pick<FuzzValue>([{ shnum: 0 }, 0xffffn, 0xffffffffn, BigInt(rng.int(0x10000))]) })],
    [3, () => ({ k: 'rel', relSec: rng.int(2), index: rng.int(Math.max(1, nrels)), field: 'sym', value: rng.pick([BigInt(nsyms), BigInt(nsyms + 1), 0xffffffn, 0xffffffffn]) })],
    [3, () => ({ k: 'rel', relSec: rng.int(2), index: rng.int(Math.max(1, nrels)), field: 'offset', value: rng.pick([1n << 32n, 1n << 40n, U64(-1n), U64(-4n), 0x1000n]) })],
    [3, () => ({ k: 'byte', at: rng.int(0x7fffffff), value: rng.int(256) })],
    [2, () => ({ k: 'truncate', length: rng.int(1024) })],
  ])();
}

// ---------------------------------------------------------------------------------------------

export interface GenerateContext {
  /** Repository root (corpus/manifest.json lives under it). */
  root: string;
  /** TS-only runs pick a profile per case; oracle runs leave it to the oracle. */
  tsOnly?: boolean;
}

const ARCHES: Arch[] = ['x86_64', 'ppc64', 'ppc64le'];

/** Generate case `mode` for `arch` (undefined: any arch, TS-only runs). */
export function generateCase(rng: Rng, mode: FuzzMode, arch: Arch | undefined, ctx: GenerateContext): CaseDesc {
  const a = arch ?? rng.pick(ARCHES);
  const fill = rng.chance(0.5) ? 0 : rng.int(256);
  let desc: CaseDesc;
  if (mode === 'mutate') {
    const refs = corpusRefsOf(ctx.root, a);
    if (!refs.length) return generateCase(rng, 'structured', a, ctx);
    const ref = rng.pick(refs);
    const patches: Patch[] = [];
    const n = rng.weighted<number>([[5, 1], [3, 2], [2, 3], [1, 5]]);
    for (let i = 0; i < n; i++) patches.push(mutation(rng, ref));
    const symbols = ref.realistic.length && rng.chance(0.3)
      ? ref.realistic.map((s) => ({ name: s.name, bytes: rng.bytes(rng.chance(0.9) ? s.size : s.size + 1) }))
      : [];
    desc = { mode, arch: a, source: { kind: 'corpus', id: ref.id, file: ref.file }, patches, base: pickBase(rng), fill, symbols };
  } else {
    const { obj, base } = structuredObject(rng, a, mode === 'malformed');
    const patches: Patch[] = [];
    if (mode === 'malformed') {
      const nsecs = obj.sections.length + new Set((obj.relocations ?? []).map((r) => r.section)).size + 3;
      const n = rng.weighted<number>([[5, 1], [3, 2], [2, 3], [1, 6]]);
      for (let i = 0; i < n; i++) patches.push(corruption(rng, nsecs, obj.symbols.length, obj.relocations?.length ?? 0));
    }
    const globals = obj.symbols.filter((s) => s.bind === STB_GLOBAL && typeof s.section === 'string');
    const symbols = globals.length && rng.chance(0.15)
      ? [rng.pick(globals)].map((s) => ({ name: rng.chance(0.9) ? s.name : 'no_such_symbol', bytes: rng.bytes(Number(BigInt.asUintN(8, s.size ?? 0n)) % 64 + (rng.chance(0.8) ? 0 : 1)) }))
      : [];
    desc = { mode, arch: a, source: { kind: 'spec', obj }, patches, base, fill, symbols };
  }
  if (ctx.tsOnly) desc.profile = rng.pick(PROFILE_IDS);
  return desc;
}
