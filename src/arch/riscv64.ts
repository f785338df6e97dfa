// riscv64 relocations, as the kernel's kexec_file loader handles them (arch/riscv/kernel/elf_kexec.c,
// arch_kexec_apply_relocations_add: Debian's 6.1.176 and 6.12.107 both have it there) and as
// kexec-tools 2.0.32's stub machine_apply_elf_rel (kexec/arch/riscv/kexec-elf-riscv.c:172-184)
// refuses them. No ABI profile: the psABI's relaxation-aware semantics are not modelled here.
import { u64 } from '../bytes.ts';
import type { ByteView } from '../bytes.ts';
import { EM_RISCV } from '../elf/constants.ts';
import type { ArchModule, BigRelocInput, RelocSpec, Semantics } from './types.ts';
import { bigintCompute, bigintWrite, classifierFor } from './types.ts';

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

/** This module computes on bigints (types.ts: bigintCompute/bigintWrite adapt it to the U64 interface). */
type BigWrite = (view: ByteView, off: number, v: bigint) => void;
type BigCompute = (r: BigRelocInput) => bigint;

// ---- the kernel's immediate encoders (elf_kexec.c RV_X / ENCODE_*_IMM / CLEAN_IMM), on u64 values

const M64 = (1n << 64n) - 1n;
/** RV_X(x, s, n): n bits of x from bit s. */
const rvx = (x: bigint, s: number, n: number): bigint => (x >> BigInt(s)) & ((1n << BigInt(n)) - 1n);
export const encodeI = (x: bigint): bigint => rvx(x, 0, 12) << 20n;
export const encodeB = (x: bigint): bigint => (rvx(x, 1, 4) << 8n) | (rvx(x, 5, 6) << 25n) | (rvx(x, 11, 1) << 7n) | (rvx(x, 12, 1) << 31n);
export const encodeU = (x: bigint): bigint => rvx(x, 12, 20) << 12n;
export const encodeJ = (x: bigint): bigint => (rvx(x, 1, 10) << 21n) | (rvx(x, 11, 1) << 20n) | (rvx(x, 12, 8) << 12n) | (rvx(x, 20, 1) << 31n);
export const encodeCB = (x: bigint): bigint =>
  (rvx(x, 1, 2) << 3n) | (rvx(x, 3, 2) << 10n) | (rvx(x, 5, 1) << 2n) | (rvx(x, 6, 2) << 5n) | (rvx(x, 8, 1) << 12n);
export const encodeCJ = (x: bigint): bigint =>
  (rvx(x, 1, 3) << 3n) | (rvx(x, 4, 1) << 11n) | (rvx(x, 5, 1) << 2n) | (rvx(x, 6, 1) << 7n) |
  (rvx(x, 7, 1) << 6n) | (rvx(x, 8, 2) << 9n) | (rvx(x, 10, 1) << 8n) | (rvx(x, 11, 1) << 12n);
/** RISCV_CONST_HIGH_PART: (x + 0x800) & ~0xfff, in unsigned long long. */
export const constHigh = (x: bigint): bigint => u64(x + 0x800n) & (M64 ^ 0xfffn);
/** ENCODE_UJTYPE_IMM: auipc's U immediate (high part, with the carry) | jalr/addi's I immediate << 32. */
export const encodeUJ = (x: bigint): bigint => encodeU(constHigh(x)) | (encodeI(u64(x - constHigh(x))) << 32n);
/** ENCODE_UITYPE_IMM: the mask CLEAN_IMM(UITYPE) clears (no carry: only used on all-ones). */
const encodeUI = (x: bigint): bigint => encodeU(x) | (encodeI(x) << 32n);

/** CLEAN_IMM(type, x): x with the type's immediate bits cleared. */
const cleaner = (encode: (x: bigint) => bigint, width: 4 | 8) => {
  const keep = (M64 ^ encode(M64)) & (width === 4 ? 0xffffffffn : M64);
  return (old: bigint) => old & keep;
};

// ---- bit writers: read-modify-write of the access width, little-endian (the store view)

const rmw32 = (encode: (x: bigint) => bigint): BigWrite => {
  const clean = cleaner(encode, 4);
  return (view, off, v) => view.store(off, 4, (clean(view.load(off, 4)) | encode(v)) & 0xffffffffn);
};
const rmw64 = (encode: (x: bigint) => bigint, mask: (x: bigint) => bigint): BigWrite => {
  const clean = cleaner(mask, 8);
  return (view, off, v) => view.store(off, 8, (clean(view.load(off, 8)) | encode(v)) & M64);
};
/** `*(uN *)loc += val` / `-= val`, truncated to the width. */
const addTo = (width: 2 | 4, sign: 1n | -1n): BigWrite => {
  const m = (1n << BigInt(width * 8)) - 1n;
  return (view, off, v) => view.store(off, width, (view.load(off, width) + sign * v) & m);
};
const store = (width: number): BigWrite => (view, off, v) => view.store(off, width, v);

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
  const add = (type: number, width: number, compute: BigCompute, write: BigWrite) =>
    t.set(type, { type, name: nameOf(type), width, compute: bigintCompute(compute), write: bigintWrite(write) });
  const pcrel = (r: { value: bigint; address: bigint }) => u64(r.value - r.address);
  const val = (r: { value: bigint }) => r.value;
  const none = () => 0n;
  add(R.BRANCH, 4, pcrel, rmw32(encodeB));
  add(R.JAL, 4, pcrel, rmw32(encodeJ));
  for (const type of [R.PCREL_HI20, R.CALL_PLT, R.CALL]) add(type, 8, pcrel, rmw64(encodeUJ, encodeUI));
  add(R.RVC_BRANCH, 4, pcrel, rmw32(encodeCB));
  add(R.RVC_JUMP, 4, pcrel, rmw32(encodeCJ));
  add(R.ADD16, 2, val, addTo(2, 1n));
  add(R.SUB16, 2, val, addTo(2, -1n));
  add(R.ADD32, 4, val, addTo(4, 1n));
  add(R.SUB32, 4, val, addTo(4, -1n));
  for (const type of [R.PCREL_LO12_I, R.ALIGN, R.RELAX]) add(type, 0, none, () => {});
  // R_RISCV_64: Debian's 6.12.107 has it (hook revision 2), 6.1.176 does not.
  if ((sem.hookRevision ?? 2) >= 2) add(R['64'], 8, val, store(8));
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
