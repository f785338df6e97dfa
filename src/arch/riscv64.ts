// riscv64 relocations, as the kernel's kexec_file loader handles them (arch/riscv/kernel/elf_kexec.c,
// arch_kexec_apply_relocations_add: Debian's 6.1.176 and 6.12.107 both have it there) and as
// kexec-tools 2.0.32's stub machine_apply_elf_rel (kexec/arch/riscv/kexec-elf-riscv.c:172-184)
// refuses them. No ABI profile: the psABI's relaxation-aware semantics are not modelled here.
import { EM_RISCV } from '../elf/constants.ts';
import type { ArchModule, RelocSpec, Semantics } from './types.ts';
import { U64, absolute, classifierFor, pcRelative, write64 } from './types.ts';

/** Every type the RISC-V psABI ("Relocations") and glibc's <elf.h> name. */
export const R_RISCV = {
  NONE: 0, '32': 1, '64': 2, RELATIVE: 3, COPY: 4, JUMP_SLOT: 5, TLS_DTPMOD32: 6, TLS_DTPMOD64: 7,
  TLS_DTPREL32: 8, TLS_DTPREL64: 9, TLS_TPREL32: 10, TLS_TPREL64: 11, TLSDESC: 12,
  BRANCH: 16, JAL: 17, CALL: 18, CALL_PLT: 19, GOT_HI20: 20, TLS_GOT_HI20: 21, TLS_GD_HI20: 22,
  PCREL_HI20: 23, PCREL_LO12_I: 24, PCREL_LO12_S: 25, HI20: 26, LO12_I: 27, LO12_S: 28,
  TPREL_HI20: 29, TPREL_LO12_I: 30, TPREL_LO12_S: 31, TPREL_ADD: 32, ADD8: 33, ADD16: 34, ADD32: 35,
  ADD64: 36, SUB8: 37, SUB16: 38, SUB32: 39, SUB64: 40, GOT32_PCREL: 41, ALIGN: 43, RVC_BRANCH: 44,
  RVC_JUMP: 45, RVC_LUI: 46, GPREL_I: 47, GPREL_S: 48, TPREL_I: 49, TPREL_S: 50, RELAX: 51, SUB6: 52,
  SET6: 53, SET8: 54, SET16: 55, SET32: 56, '32_PCREL': 57, IRELATIVE: 58, PLT32: 59, SET_ULEB128: 60,
  SUB_ULEB128: 61, TLSDESC_HI20: 62, TLSDESC_LOAD_LO12: 63, TLSDESC_ADD_LO12: 64, TLSDESC_CALL: 65,
} as const;

const R = R_RISCV;
const names = new Map<number, string>(Object.entries(R).map(([k, v]) => [v, `R_RISCV_${k}`]));
const nameOf = (t: number): string => names.get(t) ?? `R_RISCV_${t >>> 0}`;

// ---- the kernel's immediate encoders (elf_kexec.c RV_X / ENCODE_*_IMM / CLEAN_IMM). Every field
// they build comes from bits 0..31 of the u64 value, so they read its low half (a number) only.

/** RV_X(x, s, n): n bits of x from bit s (s + n <= 32). */
const rvx = (x: number, s: number, n: number): number => (x >>> s) & ((1 << n) - 1);
export const encodeI = (v: U64): number => (rvx(v.lo, 0, 12) << 20) >>> 0;
export const encodeB = (v: U64): number => {
  const x = v.lo;
  return ((rvx(x, 1, 4) << 8) | (rvx(x, 5, 6) << 25) | (rvx(x, 11, 1) << 7) | (rvx(x, 12, 1) << 31)) >>> 0;
};
export const encodeU = (v: U64): number => (rvx(v.lo, 12, 20) << 12) >>> 0;
export const encodeJ = (v: U64): number => {
  const x = v.lo;
  return ((rvx(x, 1, 10) << 21) | (rvx(x, 11, 1) << 20) | (rvx(x, 12, 8) << 12) | (rvx(x, 20, 1) << 31)) >>> 0;
};
export const encodeCB = (v: U64): number => {
  const x = v.lo;
  return (rvx(x, 1, 2) << 3) | (rvx(x, 3, 2) << 10) | (rvx(x, 5, 1) << 2) | (rvx(x, 6, 2) << 5) | (rvx(x, 8, 1) << 12);
};
export const encodeCJ = (v: U64): number => {
  const x = v.lo;
  return (rvx(x, 1, 3) << 3) | (rvx(x, 4, 1) << 11) | (rvx(x, 5, 1) << 2) | (rvx(x, 6, 1) << 7) |
    (rvx(x, 7, 1) << 6) | (rvx(x, 8, 2) << 9) | (rvx(x, 10, 1) << 8) | (rvx(x, 11, 1) << 12);
};
/** RISCV_CONST_HIGH_PART: (x + 0x800) & ~0xfff, in unsigned long long; its low word (what the encoders use). */
export const constHigh = (v: U64): number => ((v.lo + 0x800) & ~0xfff) >>> 0;
/**
 * ENCODE_UJTYPE_IMM into `out`: auipc's U immediate (the high part, with the carry) in the low word,
 * jalr/addi's I immediate of `x - high` in the high word (its low 12 bits are x's: high has none).
 */
export const encodeUJ = (v: U64, out: U64): U64 => out.set((rvx(v.lo, 0, 12) << 20) >>> 0, constHigh(v) & 0xfffff000);

/** CLEAN_IMM(type, x) keeps the bits outside the immediate: encode(all ones) is the immediate's mask. */
const ONES = new U64().set(0xffffffff, 0xffffffff);
const keep32 = (encode: (v: U64) => number): number => ~encode(ONES) >>> 0;

// ---- bit writers: read-modify-write of the access width, little-endian (the store view)

const rmw32 = (encode: (v: U64) => number): RelocSpec['write'] => {
  const keep = keep32(encode);
  return (view, off, v) => view.setU32(off, ((view.u32(off) & keep) | encode(v)) >>> 0);
};
/** The 8-byte auipc+jalr pair (ENCODE_UJTYPE_IMM), cleaned with CLEAN_IMM(UITYPE): U in the low word, I in the high. */
const rmwUJ: RelocSpec['write'] = (view, off, v) => {
  const lo = view.little ? off : off + 4, hi = view.little ? off + 4 : off;
  const imm = encodeUJ(v, scratch);
  view.setU32(lo, ((view.u32(lo) & ~0xfffff000) | imm.lo) >>> 0);
  view.setU32(hi, ((view.u32(hi) & ~0xfff00000) | imm.hi) >>> 0);
};
const scratch = new U64();
/** `*(uN *)loc += val` / `-= val`, truncated to the width. */
const addTo = (width: 2 | 4, sign: 1 | -1): RelocSpec['write'] => width === 2
  ? (view, off, v) => view.setU16(off, (view.u16(off) + sign * (v.lo & 0xffff)) & 0xffff)
  : (view, off, v) => view.setU32(off, (view.u32(off) + sign * v.lo) >>> 0);

/**
 * The kernel's arch_kexec_apply_relocations_add (6.1.176 elf_kexec.c:365-470, 6.12.107 :372-480):
 * no range, alignment or instruction check anywhere. The PC-relative types write `val - addr`;
 * RVC_BRANCH/RVC_JUMP access 4 bytes (`*(u32 *)loc`) around a 2-byte instruction;
 * PCREL_HI20 is treated as CALL (an 8-byte access that also writes the next instruction's I
 * immediate, as the comment above it says); PCREL_LO12_I, ALIGN and RELAX do nothing; NONE is
 * not handled. R_RISCV_64 is in 6.12 (elf_kexec.c:471-473) and not in 6.1 (hook revision 1).
 */
function kernelTable(sem: Semantics): Map<number, RelocSpec> {
  const t = new Map<number, RelocSpec>();
  const add = (type: number, width: number, compute: RelocSpec['compute'], write: RelocSpec['write']) =>
    t.set(type, { type, name: nameOf(type), width, compute, write });
  const pcrel = pcRelative;
  const val = absolute;
  add(R.BRANCH, 4, pcrel, rmw32(encodeB));
  add(R.JAL, 4, pcrel, rmw32(encodeJ));
  for (const type of [R.PCREL_HI20, R.CALL_PLT, R.CALL]) add(type, 8, pcrel, rmwUJ);
  add(R.RVC_BRANCH, 4, pcrel, rmw32(encodeCB));
  add(R.RVC_JUMP, 4, pcrel, rmw32(encodeCJ));
  add(R.ADD16, 2, val, addTo(2, 1));
  add(R.SUB16, 2, val, addTo(2, -1));
  add(R.ADD32, 4, val, addTo(4, 1));
  add(R.SUB32, 4, val, addTo(4, -1));
  for (const type of [R.PCREL_LO12_I, R.ALIGN, R.RELAX]) add(type, 0, (r) => r.out.set(0, 0), () => {});
  // R_RISCV_64: Debian's 6.12.107 has it (hook revision 2), 6.1.176 does not.
  if ((sem.hookRevision ?? 2) >= 2) add(R['64'], 8, val, write64);
  return t;
}

/** kernel: elf_kexec.c's `#define pr_fmt(fmt) "kexec_image: " fmt` (line 13 in 6.1 and 6.12). */
export const RISCV_KERNEL_PR_FMT = 'kexec_image: ';

export const riscv64: ArchModule = {
  arch: 'riscv64',
  machine: EM_RISCV,
  names,
  typeName: nameOf,
  // kexec-tools 2.0.32 has no case at all: every type dies (and the ABI profile has no riscv model).
  classify: classifierFor((sem) => (sem.loader === 'kernel' ? kernelTable(sem) : new Map())),
  unknownMessage(type, sem) {
    // kernel: pr_err("Unknown rela relocation: %d\n", r_type) with an int r_type.
    if (sem.loader === 'kernel') return `${RISCV_KERNEL_PR_FMT}Unknown rela relocation: ${type | 0}\n`;
    // kexec-tools: die("Unknown rela relocation: %lu\n", r_type).
    return `Unknown rela relocation: ${type >>> 0}\n`;
  },
};
