// x86_64 relocations, as kexec-tools' kexec/arch/x86_64/kexec-elf-rel-x86_64.c and the ABI define them.
import { EM_X86_64 } from '../elf/constants.ts';
import type { ArchModule, RelocInput, RelocSpec, Semantics } from './types.ts';
import { absolute, checkInt, classifierFor, outOfRange, pcRelative, write32, write64 } from './types.ts';

/**
 * Every type the x86-64 psABI (x86-64-ABI, "Relocation Types") and GNU binutils
 * (include/elf/x86-64.h) define, for reports, the census and the fuzzer. Which of them a loader
 * handles is decided by table() below, not by this list. 39/40 (PC32_BND, PLT32_BND) are
 * deprecated in the psABI but still named by binutils; 250/251 are GNU extensions.
 */
export const R_X86_64 = {
  NONE: 0, '64': 1, PC32: 2, GOT32: 3, PLT32: 4, COPY: 5, GLOB_DAT: 6, JUMP_SLOT: 7, RELATIVE: 8,
  GOTPCREL: 9, '32': 10, '32S': 11, '16': 12, PC16: 13, '8': 14, PC8: 15, DTPMOD64: 16, DTPOFF64: 17,
  TPOFF64: 18, TLSGD: 19, TLSLD: 20, DTPOFF32: 21, GOTTPOFF: 22, TPOFF32: 23, PC64: 24, GOTOFF64: 25,
  GOTPC32: 26, GOT64: 27, GOTPCREL64: 28, GOTPC64: 29, GOTPLT64: 30, PLTOFF64: 31, SIZE32: 32, SIZE64: 33,
  GOTPC32_TLSDESC: 34, TLSDESC_CALL: 35, TLSDESC: 36, IRELATIVE: 37, RELATIVE64: 38,
  PC32_BND: 39, PLT32_BND: 40, GOTPCRELX: 41, REX_GOTPCRELX: 42,
  CODE_4_GOTPCRELX: 43, CODE_4_GOTTPOFF: 44, CODE_4_GOTPC32_TLSDESC: 45,
  CODE_5_GOTPCRELX: 46, CODE_5_GOTTPOFF: 47, CODE_5_GOTPC32_TLSDESC: 48,
  CODE_6_GOTPCRELX: 49, CODE_6_GOTTPOFF: 50, CODE_6_GOTPC32_TLSDESC: 51,
  GNU_VTINHERIT: 250, GNU_VTENTRY: 251,
} as const;

const names = new Map<number, string>(Object.entries(R_X86_64).map(([k, v]) => [v, `R_X86_64_${k}`]));

/** kexec-tools' own reloc_name(): a table up to TPOFF32, then "R_X86_64_<n>". */
function kexecToolsName(type: number): string {
  return type <= 23 ? names.get(type)! : `R_X86_64_${type >>> 0}`;
}

const writers: Record<number, RelocSpec['write']> = { 4: write32, 8: write64 };

function overflow(r: RelocInput, type: number, sem: Semantics): never {
  const name = names.get(type)!;
  const value = r.value.big().toString(16);
  // kernel: pr_err("Overflow in relocation type %d value 0x%lx\n", (int)ELF64_R_TYPE(r_info), value)
  if (sem.loader === 'kernel') outOfRange('overflow', `${KERNEL_PR_FMT}Overflow in relocation type ${type} value 0x${value}\n`, r, name);
  // kexec-tools: die("overflow in relocation type %s val %lx\n", reloc_name(r_type), value)
  outOfRange('overflow', `overflow in relocation type ${name} val ${value}\n`, r, name);
}

/**
 * The kernel's x86_64 hook (arch/x86/kernel/machine_kexec_64.c, arch_kexec_apply_relocations_add,
 * identical in 5.10, 6.1 and 6.12) handles the same six types with the same checks as kexec-tools;
 * it differs in its messages (pr_fmt "kexec: ") and in its symbol checks, which src/load/kernel.ts
 * (archRela, one loop for every arch hook) applies before calling classify(): every SHN_UNDEF symbol is rejected (kexec-tools accepts an
 * undefined STT_NOTYPE one), and st_shndx >= e_shnum is invalid (kexec-tools: > e_shnum).
 */
export const KERNEL_PR_FMT = 'kexec: ';

function table(sem: Semantics): Map<number, RelocSpec> {
  const t = new Map<number, RelocSpec>();
  const add = (type: number, width: number, compute: RelocSpec['compute']) =>
    t.set(type, { type, name: names.get(type)!, width, compute, write: writers[width] ?? write32 });
  const pcrel = (type: number) =>
    add(type, 4, !sem.abiRangeChecks ? pcRelative : (r) => {
      const v = pcRelative(r);
      checkInt(r, names.get(type)!, v, 32); // ABI: PC32 is a signed 32-bit field
      return v;
    });

  add(R_X86_64.NONE, 0, absolute);
  add(R_X86_64['64'], 8, absolute);
  // (u32)value != value
  add(R_X86_64['32'], 4, (r) => {
    if (!r.value.fitsUint(32)) overflow(r, R_X86_64['32'], sem);
    return r.value;
  });
  // (s32)value != (s64)value
  add(R_X86_64['32S'], 4, (r) => {
    if (!r.value.fitsInt(32)) overflow(r, R_X86_64['32S'], sem);
    return r.value;
  });
  pcrel(R_X86_64.PC32);
  pcrel(R_X86_64.PLT32);
  return t;
}

export const x86_64: ArchModule = {
  arch: 'x86_64',
  machine: EM_X86_64,
  names,
  typeName: (type) => names.get(type) ?? `R_X86_64_${type >>> 0}`,
  classify: classifierFor(table),
  unknownMessage(type, sem) {
    if (sem.loader === 'kexec-tools') return `Unhandled rela relocation: ${kexecToolsName(type)}\n`;
    if (sem.loader === 'kernel') return `${KERNEL_PR_FMT}Unknown rela relocation: ${type >>> 0}\n`; // "%llu" of ELF64_R_TYPE
    return `Unknown rela relocation: ${type}\n`;
  },
};

