// AArch64 relocations, as kexec-tools' kexec/arch/arm64/kexec-arm64.c (machine_apply_elf_rel) and
// the AArch64 ELF ABI (AAELF64, "Relocation operations") define them.
import { EM_AARCH64 } from '../elf/constants.ts';
import type { ArchModule, RelocInput, RelocSpec, Semantics, U64 } from './types.ts';
import { classifierFor, checkInt, checkIntOrUInt, outOfRange, write32, write64 } from './types.ts';

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

const R = R_AARCH64;
const names = new Map<number, string>(Object.entries(R).map(([k, v]) => [v, `R_AARCH64_${k}`]));
const nameOf = (t: number) => names.get(t) ?? `R_AARCH64_${t >>> 0}`;

/** C's `__func__` in kexec-tools' messages. */
const FUNC = 'machine_apply_elf_rel';

// ---- bit writers (pure). Instruction words are little-endian whatever the data byte order.
const none: RelocSpec['write'] = () => {};
/** kexec-tools: `*loc32 = cpu_to_le32(le32_to_cpu(*loc32) + field)`: added, carries and all. */
const addToInsn: RelocSpec['write'] = (view, off, v) => view.setU32(off, (view.u32(off) + v.lo) >>> 0);
/** ABI: the field's bits replace the instruction's (lld's or32le after clearing). */
const insertInsn = (mask: number): RelocSpec['write'] => (view, off, v) =>
  view.setU32(off, ((view.u32(off) & ~mask) | (v.lo & mask)) >>> 0);

const bswap32 = (x: number): number => (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;

/**
 * `v` as the ELF file's byte order would store it (cpu_to_elf32/64), for a store-order writer: the
 * bytes of its low `width` bytes reversed when the file's byte order is not the store's.
 */
function inElfOrder(r: RelocInput, width: 4 | 8, v: U64): U64 {
  if (!r.elfEndian || r.elfEndian === r.view.endian) return v;
  return width === 4 ? r.out.set(0, bswap32(v.lo)) : r.out.set(bswap32(v.lo), bswap32(v.hi));
}

/**
 * kexec-tools' get_bits(uint32_t value, int start, int end): `value` is truncated to 32 bits by the
 * parameter type, so bits 32..63 never reach MOVW_UABS_G2_NC/G3; there `value >> 32` and `>> 48`
 * shift a 32-bit operand by its width or more (undefined behaviour): the compiled code yields 0.
 */
export function getBits32(value: U64, start: number, end: number): number {
  if (start >= 32) return 0;
  const width = end + 1 - start;
  return width >= 32 ? value.lo >>> start : (value.lo >>> start) & ((1 << width) - 1);
}

function unaligned(r: RelocInput, name: string, v: U64): never {
  outOfRange('misaligned', `${FUNC}: ERROR Unaligned value: ${v.big().toString(16)}\n`, r, name);
}

/** AAELF64 alignment check (lld checkAlignment) of a value whose low bits are `low`, ABI profile. */
function checkAlign(r: RelocInput, name: string, low: number, n: number, v: () => bigint): void {
  if ((low & (n - 1)) !== 0) {
    outOfRange('misaligned', `relocation ${name} misaligned: ${BigInt.asIntN(64, v())} is not a multiple of ${n}; references '${r.symName()}'`, r, name);
  }
}

/**
 * kexec-tools (2.0.20–2.0.32: machine_apply_elf_rel is unchanged): the 14 types below, the
 * instruction fields *added* to the word, no range checks (abiRangeChecks), alignment checks on the
 * value (not on S+A-P) for ADR_PREL_LO21 and LDST64/128, get_bits() on a uint32_t (movwGetBits32),
 * and `uint64_t data = *location` read before the switch (preRead below). ADR_PREL_LO21 is encoded
 * as LD_PREL_LO19 is (bits [20:2] at [23:5]; immlo is never set). R_AARCH64_NONE is not handled
 * (it dies). ABI: AAELF64's operations with their checks, the field inserted. Values are U64s (u64
 * arithmetic on two uint32 halves); an instruction field is a number in r.out.lo.
 */
function table(sem: Semantics): Map<number, RelocSpec> {
  const t = new Map<number, RelocSpec>();
  const kt = sem.loader === 'kexec-tools';
  const add = (type: number, width: number, compute: RelocSpec['compute'], write: RelocSpec['write']) =>
    t.set(type, { type, name: nameOf(type), width, compute, write });
  /** An instruction field (a number): kexec-tools adds `field(r)`; the ABI inserts it under `mask`. */
  const insn = (type: number, mask: number, field: (r: RelocInput, name: string) => number) =>
    add(type, 4, (r) => r.out.set(0, field(r, nameOf(type))), kt ? addToInsn : insertInsn(mask));
  /** S + A - P (u64), in r.tmp. */
  const pcrel = (r: RelocInput) => r.tmp.from(r.value).sub(r.address);

  if (!kt) add(R.NONE, 0, (r) => r.out.set(0, 0), none);
  add(R.ABS64, 8, (r) => inElfOrder(r, 8, r.value), write64);
  add(R.PREL32, 4, (r) => {
    const v = pcrel(r);
    if (sem.abiRangeChecks) checkIntOrUInt(r, 'R_AARCH64_PREL32', v, 32);
    return inElfOrder(r, 4, r.out.set(0, v.lo));
  }, write32);
  if (!kt) {
    add(R.ABS32, 4, (r) => {
      checkIntOrUInt(r, 'R_AARCH64_ABS32', r.value, 32);
      return inElfOrder(r, 4, r.out.set(0, r.value.lo));
    }, write32);
    add(R.PREL64, 8, (r) => inElfOrder(r, 8, pcrel(r)), write64);
  }
  // MOV[KZ] imm16 (bits 20:5).
  const movw = (type: number, start: number) =>
    insn(type, 0x1fffe0, (r) => {
      const v = r.value;
      const imm = sem.movwGetBits32 ? getBits32(v, start, start + 15) : ((start < 32 ? v.lo : v.hi) >>> (start & 31)) & 0xffff;
      return imm << 5;
    });
  movw(R.MOVW_UABS_G0_NC, 0);
  movw(R.MOVW_UABS_G1_NC, 16);
  movw(R.MOVW_UABS_G2_NC, 32);
  movw(R.MOVW_UABS_G3, 48);
  insn(R.LD_PREL_LO19, 0xffffe0, (r, name) => {
    const v = pcrel(r);
    if (sem.abiRangeChecks) { checkInt(r, name, v, 21); checkAlign(r, name, v.lo, 4, () => v.big()); }
    return (v.lo << 3) & 0xffffe0;
  });
  insn(R.ADR_PREL_LO21, 0x60ffffe0, (r, name) => {
    if (kt) {
      if (r.value.lo & 3) unaligned(r, name, r.value);
      return (pcrel(r).lo << 3) & 0xffffe0;
    }
    const v = pcrel(r);
    if (sem.abiRangeChecks) checkInt(r, name, v, 21);
    return (((v.lo & 3) << 29) | ((v.lo << 3) & 0xffffe0)) >>> 0;
  });
  insn(R.ADR_PREL_PG_HI21, 0x60ffffe0, (r, name) => {
    // Page(S + A) - Page(P), u64
    const x = r.tmp.set(r.value.hi, r.value.lo & ~0xfff).sub(r.out.set(r.address.hi, r.address.lo & ~0xfff));
    if (sem.abiRangeChecks) checkInt(r, name, x, 33);
    // imm = x >> 12: immlo (imm[1:0]) at 29..30, immhi (imm[20:2] = x[32:14]) at 5..23: kexec-tools'
    // `(imm & 0x1ffffc) << 3` is the same field.
    const immlo = (x.lo >>> 12) & 3;
    const immhi = ((x.lo >>> 14) | ((x.hi & 1) << 18)) & 0x7ffff;
    return ((immlo << 29) | (immhi << 5)) >>> 0;
  });
  insn(R.ADD_ABS_LO12_NC, 0x3ffc00, (r) => (r.value.lo & 0xfff) << 10);
  const branch26 = (type: number) => insn(type, 0x3ffffff, (r, name) => {
    const v = pcrel(r);
    if (sem.abiRangeChecks) { checkInt(r, name, v, 28); checkAlign(r, name, v.lo, 4, () => v.big()); }
    return (v.lo >>> 2) & 0x3ffffff;
  });
  branch26(R.JUMP26);
  branch26(R.CALL26);
  // LDST<n>_ABS_LO12_NC: bits [11:log2(n/8)] into imm12 (bits 21:10).
  const ldst = (type: number, shift: number, ktChecks: boolean) => insn(type, 0x3ffc00, (r, name) => {
    const n = 1 << shift;
    const low12 = r.value.lo & 0xfff;
    if (kt && ktChecks && (r.value.lo & (n - 1))) unaligned(r, name, r.value);
    if (sem.abiRangeChecks) checkAlign(r, name, low12, n, () => BigInt(low12));
    return (low12 >>> shift) << 10;
  });
  ldst(R.LDST64_ABS_LO12_NC, 3, true);
  ldst(R.LDST128_ABS_LO12_NC, 4, true);
  if (!kt) {
    ldst(R.LDST8_ABS_LO12_NC, 0, false);
    ldst(R.LDST16_ABS_LO12_NC, 1, false);
    ldst(R.LDST32_ABS_LO12_NC, 2, false);
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
