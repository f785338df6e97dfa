// AArch64 relocations, as kexec-tools' kexec/arch/arm64/kexec-arm64.c (machine_apply_elf_rel) and
// the AArch64 ELF ABI (AAELF64, "Relocation operations") define them.
import { u64 } from '../bytes.ts';
import type { ByteView } from '../bytes.ts';
import { EM_AARCH64 } from '../elf/constants.ts';
import type { ArchModule, BigRelocInput as RelocInput, RelocSpec, Semantics } from './types.ts';
import { bigintCompute, bigintWrite, classifierFor, checkInt, checkIntOrUInt, outOfRange } from './types.ts';

/**
 * Every type AAELF64 and glibc's <elf.h> define (the ILP32 P32_ ones included; P32_ABS16 as binutils names it), for reports, the
 * census and the fuzzer. Which of them a loader handles is decided by table() below.
 */
export const R_AARCH64 = {
  NONE: 0, P32_ABS32: 1, P32_ABS16: 2, P32_COPY: 180, P32_GLOB_DAT: 181, P32_JUMP_SLOT: 182, P32_RELATIVE: 183,
  P32_TLS_DTPMOD: 184, P32_TLS_DTPREL: 185, P32_TLS_TPREL: 186, P32_TLSDESC: 187, P32_IRELATIVE: 188,
  ABS64: 257, ABS32: 258, ABS16: 259, PREL64: 260, PREL32: 261, PREL16: 262, MOVW_UABS_G0: 263,
  MOVW_UABS_G0_NC: 264, MOVW_UABS_G1: 265, MOVW_UABS_G1_NC: 266, MOVW_UABS_G2: 267, MOVW_UABS_G2_NC: 268,
  MOVW_UABS_G3: 269, MOVW_SABS_G0: 270, MOVW_SABS_G1: 271, MOVW_SABS_G2: 272, LD_PREL_LO19: 273,
  ADR_PREL_LO21: 274, ADR_PREL_PG_HI21: 275, ADR_PREL_PG_HI21_NC: 276, ADD_ABS_LO12_NC: 277,
  LDST8_ABS_LO12_NC: 278, TSTBR14: 279, CONDBR19: 280, JUMP26: 282, CALL26: 283, LDST16_ABS_LO12_NC: 284,
  LDST32_ABS_LO12_NC: 285, LDST64_ABS_LO12_NC: 286, MOVW_PREL_G0: 287, MOVW_PREL_G0_NC: 288,
  MOVW_PREL_G1: 289, MOVW_PREL_G1_NC: 290, MOVW_PREL_G2: 291, MOVW_PREL_G2_NC: 292, MOVW_PREL_G3: 293,
  LDST128_ABS_LO12_NC: 299, MOVW_GOTOFF_G0: 300, MOVW_GOTOFF_G0_NC: 301, MOVW_GOTOFF_G1: 302,
  MOVW_GOTOFF_G1_NC: 303, MOVW_GOTOFF_G2: 304, MOVW_GOTOFF_G2_NC: 305, MOVW_GOTOFF_G3: 306, GOTREL64: 307,
  GOTREL32: 308, GOT_LD_PREL19: 309, LD64_GOTOFF_LO15: 310, ADR_GOT_PAGE: 311, LD64_GOT_LO12_NC: 312,
  LD64_GOTPAGE_LO15: 313, TLSGD_ADR_PREL21: 512, TLSGD_ADR_PAGE21: 513, TLSGD_ADD_LO12_NC: 514,
  TLSGD_MOVW_G1: 515, TLSGD_MOVW_G0_NC: 516, TLSLD_ADR_PREL21: 517, TLSLD_ADR_PAGE21: 518,
  TLSLD_ADD_LO12_NC: 519, TLSLD_MOVW_G1: 520, TLSLD_MOVW_G0_NC: 521, TLSLD_LD_PREL19: 522,
  TLSLD_MOVW_DTPREL_G2: 523, TLSLD_MOVW_DTPREL_G1: 524, TLSLD_MOVW_DTPREL_G1_NC: 525,
  TLSLD_MOVW_DTPREL_G0: 526, TLSLD_MOVW_DTPREL_G0_NC: 527, TLSLD_ADD_DTPREL_HI12: 528,
  TLSLD_ADD_DTPREL_LO12: 529, TLSLD_ADD_DTPREL_LO12_NC: 530, TLSLD_LDST8_DTPREL_LO12: 531,
  TLSLD_LDST8_DTPREL_LO12_NC: 532, TLSLD_LDST16_DTPREL_LO12: 533, TLSLD_LDST16_DTPREL_LO12_NC: 534,
  TLSLD_LDST32_DTPREL_LO12: 535, TLSLD_LDST32_DTPREL_LO12_NC: 536, TLSLD_LDST64_DTPREL_LO12: 537,
  TLSLD_LDST64_DTPREL_LO12_NC: 538, TLSIE_MOVW_GOTTPREL_G1: 539, TLSIE_MOVW_GOTTPREL_G0_NC: 540,
  TLSIE_ADR_GOTTPREL_PAGE21: 541, TLSIE_LD64_GOTTPREL_LO12_NC: 542, TLSIE_LD_GOTTPREL_PREL19: 543,
  TLSLE_MOVW_TPREL_G2: 544, TLSLE_MOVW_TPREL_G1: 545, TLSLE_MOVW_TPREL_G1_NC: 546, TLSLE_MOVW_TPREL_G0: 547,
  TLSLE_MOVW_TPREL_G0_NC: 548, TLSLE_ADD_TPREL_HI12: 549, TLSLE_ADD_TPREL_LO12: 550,
  TLSLE_ADD_TPREL_LO12_NC: 551, TLSLE_LDST8_TPREL_LO12: 552, TLSLE_LDST8_TPREL_LO12_NC: 553,
  TLSLE_LDST16_TPREL_LO12: 554, TLSLE_LDST16_TPREL_LO12_NC: 555, TLSLE_LDST32_TPREL_LO12: 556,
  TLSLE_LDST32_TPREL_LO12_NC: 557, TLSLE_LDST64_TPREL_LO12: 558, TLSLE_LDST64_TPREL_LO12_NC: 559,
  TLSDESC_LD_PREL19: 560, TLSDESC_ADR_PREL21: 561, TLSDESC_ADR_PAGE21: 562, TLSDESC_LD64_LO12: 563,
  TLSDESC_ADD_LO12: 564, TLSDESC_OFF_G1: 565, TLSDESC_OFF_G0_NC: 566, TLSDESC_LDR: 567, TLSDESC_ADD: 568,
  TLSDESC_CALL: 569, TLSLE_LDST128_TPREL_LO12: 570, TLSLE_LDST128_TPREL_LO12_NC: 571,
  TLSLD_LDST128_DTPREL_LO12: 572, TLSLD_LDST128_DTPREL_LO12_NC: 573, COPY: 1024, GLOB_DAT: 1025,
  JUMP_SLOT: 1026, RELATIVE: 1027, TLS_DTPMOD: 1028, TLS_DTPREL: 1029, TLS_TPREL: 1030, TLSDESC: 1031,
  IRELATIVE: 1032,
} as const;

/** This module computes on bigints (types.ts: bigintCompute/bigintWrite adapt it to the U64 interface). */
type BigWrite = (view: ByteView, off: number, v: bigint) => void;
type BigCompute = (r: RelocInput) => bigint;

const R = R_AARCH64;
const names = new Map<number, string>(Object.entries(R).map(([k, v]) => [v, `R_AARCH64_${k}`]));
const nameOf = (t: number) => names.get(t) ?? `R_AARCH64_${t >>> 0}`;

/** C's `__func__` in kexec-tools' messages. */
const FUNC = 'machine_apply_elf_rel';

// ---- bit writers (pure). Instruction words are little-endian whatever the data byte order.
const store = (width: number): BigWrite => (view, off, v) => view.store(off, width, v);
/** kexec-tools: `*loc32 = cpu_to_le32(le32_to_cpu(*loc32) + field)`: added, carries and all. */
const addToInsn: BigWrite = (view, off, v) => view.setU32(off, Number(BigInt.asUintN(32, BigInt(view.u32(off)) + v)));
/** ABI: the field's bits replace the instruction's (lld's or32le after clearing). */
const insertInsn = (mask: number): BigWrite => (view, off, v) =>
  view.setU32(off, ((view.u32(off) & ~mask) | (Number(BigInt.asUintN(32, v)) & mask)) >>> 0);

/** `value` as the ELF file's byte order would store it (cpu_to_elf32/64), for a store-order writer. */
function inElfOrder(r: RelocInput, width: number, v: bigint): bigint {
  if (!r.elfEndian || r.elfEndian === r.view.endian) return v;
  let out = 0n;
  for (let i = 0; i < width; i++) out = (out << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

/**
 * kexec-tools' get_bits(uint32_t value, int start, int end): `value` is truncated to 32 bits by the
 * parameter type, so bits 32..63 never reach MOVW_UABS_G2_NC/G3; there `value >> 32` and `>> 48`
 * shift a 32-bit operand by its width or more (undefined behaviour): the compiled code yields 0.
 */
export function getBits32(value: bigint, start: number, end: number): bigint {
  const v = BigInt.asUintN(32, value);
  if (start >= 32) return 0n;
  const mask = (1n << BigInt(end + 1 - start)) - 1n;
  return (v >> BigInt(start)) & BigInt.asUintN(32, mask);
}

function unaligned(r: RelocInput, name: string, v: bigint): never {
  outOfRange('misaligned', `${FUNC}: ERROR Unaligned value: ${u64(v).toString(16)}\n`, r, name);
}

/** AAELF64 alignment check (lld checkAlignment), ABI profile. */
function checkAlign(r: RelocInput, name: string, v: bigint, n: bigint): void {
  if ((v & (n - 1n)) !== 0n) {
    outOfRange('misaligned', `relocation ${name} misaligned: ${BigInt.asIntN(64, v)} is not a multiple of ${n}; references '${r.symName()}'`, r, name);
  }
}

const page = (x: bigint): bigint => u64(x) & ~0xfffn;

/**
 * kexec-tools (2.0.20–2.0.32: machine_apply_elf_rel is unchanged): the 14 types below, the
 * instruction fields *added* to the word, no range checks (abiRangeChecks), alignment checks on the
 * value (not on S+A-P) for ADR_PREL_LO21 and LDST64/128, get_bits() on a uint32_t (movwGetBits32),
 * and `uint64_t data = *location` read before the switch (preRead below). ADR_PREL_LO21 is encoded
 * as LD_PREL_LO19 is (bits [20:2] at [23:5]; immlo is never set). R_AARCH64_NONE is not handled
 * (it dies). ABI: AAELF64's operations with their checks, the field inserted.
 */
function table(sem: Semantics): Map<number, RelocSpec> {
  const t = new Map<number, RelocSpec>();
  const kt = sem.loader === 'kexec-tools';
  const add = (type: number, width: number, compute: BigCompute, write: BigWrite) =>
    t.set(type, { type, name: nameOf(type), width, compute: bigintCompute(compute), write: bigintWrite(write) });
  /** An instruction field: kexec-tools adds `field(r)`; the ABI inserts it under `mask`. */
  const insn = (type: number, mask: number, field: (r: RelocInput, name: string) => bigint) =>
    add(type, 4, (r) => field(r, nameOf(type)), kt ? addToInsn : insertInsn(mask));
  const pcrel = (r: RelocInput) => u64(r.value - r.address);

  if (!kt) add(R.NONE, 0, () => 0n, store(0));
  add(R.ABS64, 8, (r) => inElfOrder(r, 8, r.value), store(8));
  add(R.PREL32, 4, (r) => {
    const v = pcrel(r);
    if (sem.abiRangeChecks) checkIntOrUInt(r, 'R_AARCH64_PREL32', v, 32);
    return inElfOrder(r, 4, BigInt.asUintN(32, v));
  }, store(4));
  if (!kt) {
    add(R.ABS32, 4, (r) => {
      checkIntOrUInt(r, 'R_AARCH64_ABS32', r.value, 32);
      return inElfOrder(r, 4, BigInt.asUintN(32, r.value));
    }, store(4));
    add(R.PREL64, 8, (r) => inElfOrder(r, 8, pcrel(r)), store(8));
  }
  // MOV[KZ] imm16 (bits 20:5).
  const movw = (type: number, start: number) =>
    insn(type, 0x1fffe0, (r) => (sem.movwGetBits32 ? getBits32(r.value, start, start + 15) : (u64(r.value) >> BigInt(start)) & 0xffffn) << 5n);
  movw(R.MOVW_UABS_G0_NC, 0);
  movw(R.MOVW_UABS_G1_NC, 16);
  movw(R.MOVW_UABS_G2_NC, 32);
  movw(R.MOVW_UABS_G3, 48);
  insn(R.LD_PREL_LO19, 0xffffe0, (r, name) => {
    const v = pcrel(r);
    if (sem.abiRangeChecks) { checkInt(r, name, v, 21); checkAlign(r, name, v, 4n); }
    return (v << 3n) & 0xffffe0n;
  });
  insn(R.ADR_PREL_LO21, 0x60ffffe0, (r, name) => {
    if (kt) {
      if (r.value & 3n) unaligned(r, name, r.value);
      return (pcrel(r) << 3n) & 0xffffe0n;
    }
    const v = pcrel(r);
    if (sem.abiRangeChecks) checkInt(r, name, v, 21);
    return ((v & 3n) << 29n) | ((v << 3n) & 0xffffe0n);
  });
  insn(R.ADR_PREL_PG_HI21, 0x60ffffe0, (r, name) => {
    const x = u64(page(r.value) - page(r.address));
    if (sem.abiRangeChecks) checkInt(r, name, x, 33);
    const imm = x >> 12n;
    // immlo (imm[1:0]) at 29..30, immhi (imm[20:2]) at 5..23: kexec-tools' `(imm & 0x1ffffc) << 3` is the same field.
    return ((imm & 3n) << 29n) | (((imm >> 2n) & 0x7ffffn) << 5n);
  });
  insn(R.ADD_ABS_LO12_NC, 0x3ffc00, (r) => (r.value & 0xfffn) << 10n);
  const branch26 = (type: number) => insn(type, 0x3ffffff, (r, name) => {
    const v = pcrel(r);
    if (sem.abiRangeChecks) { checkInt(r, name, v, 28); checkAlign(r, name, v, 4n); }
    return (v >> 2n) & 0x3ffffffn;
  });
  branch26(R.JUMP26);
  branch26(R.CALL26);
  // LDST<n>_ABS_LO12_NC: bits [11:log2(n/8)] into imm12 (bits 21:10).
  const ldst = (type: number, shift: bigint, ktChecks: boolean) => insn(type, 0x3ffc00, (r, name) => {
    const n = 1n << shift;
    if (kt && ktChecks && (r.value & (n - 1n))) unaligned(r, name, r.value);
    if (sem.abiRangeChecks) checkAlign(r, name, r.value & 0xfffn, n);
    return ((r.value & 0xfffn) >> shift) << 10n;
  });
  ldst(R.LDST64_ABS_LO12_NC, 3n, true);
  ldst(R.LDST128_ABS_LO12_NC, 4n, true);
  if (!kt) {
    ldst(R.LDST8_ABS_LO12_NC, 0n, false);
    ldst(R.LDST16_ABS_LO12_NC, 1n, false);
    ldst(R.LDST32_ABS_LO12_NC, 2n, false);
  }
  return t;
}

export const arm64: ArchModule = {
  arch: 'arm64',
  machine: EM_AARCH64,
  names,
  typeName: nameOf,
  classify: classifierFor(table),
  // kexec-arm64.c: `uint64_t data = *location;` (dbgprintf's operand) comes before the switch.
  preRead: (sem) => (sem.loader === 'kexec-tools' ? 8 : 0),
  // kexec-tools: die("%s: ERROR Unknown type: %lu\n", __func__, r_type).
  unknownMessage(type, sem) {
    if (sem.loader === 'kexec-tools') return `${FUNC}: ERROR Unknown type: ${type >>> 0}\n`;
    return `Unknown rela relocation: ${type >>> 0}\n`;
  },
};
