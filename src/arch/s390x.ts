// s390x relocations, as kexec-tools' kexec/arch/s390/kexec-elf-rel-s390.c (machine_apply_elf_rel),
// the kernel's arch/s390/kernel/machine_kexec_reloc.c (arch_kexec_do_relocs, called by
// arch_kexec_apply_relocations_add in machine_kexec_file.c) and the s390x ELF ABI supplement define them.
import { u64 } from '../bytes.ts';
import { EM_S390 } from '../elf/constants.ts';
import type { ArchModule, RelocInput, RelocSpec, Semantics, U64 } from './types.ts';
import { absolute, classifierFor, pcRelative, checkInt, checkIntOrUInt, outOfRange, write16, write32, write64, write8 } from './types.ts';
import { KERNEL_PR_FMT } from './x86_64.ts';

/**
 * Every type the s390x ELF ABI supplement and GNU binutils (include/elf/s390.h) define; glibc's
 * <elf.h> stops at IRELATIVE (61). Which of them a loader handles is decided by table() below.
 */
export const R_390 = {
  NONE: 0, '8': 1, '12': 2, '16': 3, '32': 4, PC32: 5, GOT12: 6, GOT32: 7, PLT32: 8, COPY: 9, GLOB_DAT: 10,
  JMP_SLOT: 11, RELATIVE: 12, GOTOFF32: 13, GOTPC: 14, GOT16: 15, PC16: 16, PC16DBL: 17, PLT16DBL: 18,
  PC32DBL: 19, PLT32DBL: 20, GOTPCDBL: 21, '64': 22, PC64: 23, GOT64: 24, PLT64: 25, GOTENT: 26,
  GOTOFF16: 27, GOTOFF64: 28, GOTPLT12: 29, GOTPLT16: 30, GOTPLT32: 31, GOTPLT64: 32, GOTPLTENT: 33,
  PLTOFF16: 34, PLTOFF32: 35, PLTOFF64: 36, TLS_LOAD: 37, TLS_GDCALL: 38, TLS_LDCALL: 39, TLS_GD32: 40,
  TLS_GD64: 41, TLS_GOTIE12: 42, TLS_GOTIE32: 43, TLS_GOTIE64: 44, TLS_LDM32: 45, TLS_LDM64: 46,
  TLS_IE32: 47, TLS_IE64: 48, TLS_IEENT: 49, TLS_LE32: 50, TLS_LE64: 51, TLS_LDO32: 52, TLS_LDO64: 53,
  TLS_DTPMOD: 54, TLS_DTPOFF: 55, TLS_TPOFF: 56, '20': 57, GOT20: 58, GOTPLT20: 59, TLS_GOTIE20: 60,
  IRELATIVE: 61, PC12DBL: 62, PLT12DBL: 63, PC24DBL: 64, PLT24DBL: 65,
  GNU_VTINHERIT: 250, GNU_VTENTRY: 251,
} as const;

const R = R_390;
const names = new Map<number, string>(Object.entries(R).map(([k, v]) => [v, `R_390_${k}`]));
const nameOf = (t: number) => names.get(t) ?? `R_390_${t >>> 0}`;

// ---- bit writers (pure; they only place bits; the store view is big-endian on s390x)
const none: RelocSpec['write'] = () => {};
const STORE: Readonly<Record<number, RelocSpec['write']>> = { 0: none, 1: write8, 2: write16, 4: write32, 8: write64 };
/** R_390_12: the low 12 bits of the halfword, keeping its top nibble (the base register). */
const write12: RelocSpec['write'] = (view, off, v) => view.setU16(off, (view.u16(off) & 0xf000) | (v.lo & 0xfff));
/** R_390_20: DL (12 bits) into bits 16..27 and DH (8 bits) into bits 8..15 of the word, keeping 0xf00000ff. */
const write20: RelocSpec['write'] = (view, off, v) =>
  view.setU32(off, ((view.u32(off) & 0xf00000ff) | ((v.lo & 0xfff) << 16) | ((v.lo & 0xff000) >>> 4)) >>> 0);

/** ABI checks, where the ABI profile makes them: the field must hold the value; DBL values must be even. */
function abiChecks(r: RelocInput, name: string, v: U64, kind: 'signed' | 'either' | 'unsigned', bits: number, dbl: boolean): void {
  if (!r.sem.abiRangeChecks) return;
  if (dbl && (v.lo & 1) !== 0) outOfRange('overflow', `relocation ${name} misaligned: ${v.signed()} is not a multiple of 2; references '${r.symName()}'`, r, name);
  if (kind === 'signed') checkInt(r, name, v, bits);
  else if (kind === 'either') checkIntOrUInt(r, name, v, bits);
  else if (!v.fitsUint(bits)) outOfRange('overflow', `relocation ${name} out of range: ${v.big()} is not in [0, ${(1n << BigInt(bits)) - 1n}]; references '${r.symName()}'`, r, name);
}

/**
 * kexec-tools (2.0.20–2.0.32, the file is unchanged): 8/12/16/20/32/64 store `val`, the PC-relative
 * ones `val - address` (DBL: `>> 1` of the unsigned long); no range or alignment check; NONE is not
 * handled (it dies). Kernel (arch_kexec_do_relocs): the same writes, plus NONE (no write) and
 * RELATIVE (`*(unsigned long *)loc = val`), GLOB_DAT and JMP_SLOT (with R_390_64); PLT32DBL is not in
 * its switch (its caller maps it to PC32DBL from 6.1 on: src/load/kernel.ts). ABI: the
 * same values with their fields' range checks.
 */
function table(sem: Semantics): Map<number, RelocSpec> {
  const t = new Map<number, RelocSpec>();
  const add = (type: number, width: number, compute: RelocSpec['compute'], write: RelocSpec['write'] = STORE[width]!) =>
    t.set(type, { type, name: nameOf(type), width, compute, write });
  const direct = (type: number, width: number, kind: 'either' | 'unsigned' | 'signed', bits: number, write?: RelocSpec['write']) =>
    add(type, width, (r) => {
      abiChecks(r, nameOf(type), r.value, kind, bits, false);
      return r.value;
    }, write);
  const pcrel = (type: number, width: number, bits: number, dbl: boolean) =>
    add(type, width, (r) => {
      const v = pcRelative(r); // u64
      abiChecks(r, nameOf(type), v, 'signed', bits + (dbl ? 1 : 0), dbl);
      return dbl ? v.shr(1) : v;
    });

  if (sem.loader !== 'kexec-tools') add(R.NONE, 0, (r) => r.out.set(0, 0));
  direct(R['8'], 1, 'either', 8);
  direct(R['12'], 2, 'unsigned', 12, write12);
  direct(R['16'], 2, 'either', 16);
  direct(R['20'], 4, 'signed', 20, write20);
  direct(R['32'], 4, 'either', 32);
  add(R['64'], 8, absolute);
  pcrel(R.PC16, 2, 16, false);
  pcrel(R.PC16DBL, 2, 16, true);
  pcrel(R.PC32DBL, 4, 32, true);
  // The kernel's arch_kexec_do_relocs has no PLT32DBL case: its caller maps it to PC32DBL from 6.1
  // on (machine_kexec_file.c), which src/load/kernel.ts applies per version.
  if (sem.loader !== 'kernel') pcrel(R.PLT32DBL, 4, 32, true);
  pcrel(R.PC32, 4, 32, false);
  add(R.PC64, 8, pcRelative);
  if (sem.loader === 'kernel') {
    // machine_kexec_reloc.c: `case R_390_64: case R_390_GLOB_DAT: case R_390_JMP_SLOT: *(u64 *)loc = val;`
    add(R.GLOB_DAT, 8, absolute);
    add(R.JMP_SLOT, 8, absolute);
    add(R.RELATIVE, 8, absolute);
  }
  return t;
}

export const s390x: ArchModule = {
  arch: 's390x',
  machine: EM_S390,
  names,
  typeName: nameOf,
  classify: classifierFor(table),
  unknownMessage(type, sem, address = 0n) {
    // kernel: pr_err("Unknown rela relocation: %d\n", r_type) with an int r_type.
    if (sem.loader === 'kernel') return `${KERNEL_PR_FMT}Unknown rela relocation: ${type | 0}\n`;
    // kexec-tools: die("Unknown rela relocation: 0x%lx 0x%lx\n", r_type, address).
    return `Unknown rela relocation: 0x${(type >>> 0).toString(16)} 0x${u64(address).toString(16)}\n`;
  },
};
