// RISC-V (RV64) relocations: the kexec-tools 2.0.32 stub (kexec/arch/riscv/kexec-elf-riscv.c) here;
// the kernel's kexec_file semantics (arch/riscv/kernel/elf_kexec.c, machine_kexec_file.c) belong
// in this file's table too.
import { EM_RISCV } from '../elf/constants.ts';
import type { ArchModule, RelocSpec, Semantics } from './types.ts';
import { classifierFor } from './types.ts';

/** The RISC-V psABI (riscv-elf.adoc, "Relocations") types, for reports, the census and the fuzzer. */
export const R_RISCV = {
  NONE: 0, '32': 1, '64': 2, RELATIVE: 3, COPY: 4, JUMP_SLOT: 5, TLS_DTPMOD32: 6, TLS_DTPMOD64: 7,
  TLS_DTPREL32: 8, TLS_DTPREL64: 9, TLS_TPREL32: 10, TLS_TPREL64: 11, BRANCH: 16, JAL: 17, CALL: 18,
  CALL_PLT: 19, GOT_HI20: 20, TLS_GOT_HI20: 21, TLS_GD_HI20: 22, PCREL_HI20: 23, PCREL_LO12_I: 24,
  PCREL_LO12_S: 25, HI20: 26, LO12_I: 27, LO12_S: 28, TPREL_HI20: 29, TPREL_LO12_I: 30, TPREL_LO12_S: 31,
  TPREL_ADD: 32, ADD8: 33, ADD16: 34, ADD32: 35, ADD64: 36, SUB8: 37, SUB16: 38, SUB32: 39, SUB64: 40,
  ALIGN: 43, RVC_BRANCH: 44, RVC_JUMP: 45, RELAX: 51, SUB6: 52, SET6: 53, SET8: 54, SET16: 55, SET32: 56,
  '32_PCREL': 57, IRELATIVE: 58, PLT32: 59, SET_ULEB128: 60, SUB_ULEB128: 61,
} as const;

const names = new Map<number, string>(Object.entries(R_RISCV).map(([k, v]) => [v, `R_RISCV_${k}`]));
const nameOf = (t: number) => names.get(t) ?? `R_RISCV_${t >>> 0}`;

/**
 * kexec-tools 2.0.32: machine_apply_elf_rel is `switch (r_type) { default: die(...) }`: every type,
 * R_RISCV_NONE included, dies. (kexec-tools loads no purgatory on riscv; `kexec -s` uses kexec_file.)
 */
function table(_sem: Semantics): Map<number, RelocSpec> {
  return new Map(); // kexec-tools: none. The kernel's table is not modelled yet.
}

export const riscv64: ArchModule = {
  arch: 'riscv64',
  machine: EM_RISCV,
  names,
  typeName: nameOf,
  classify: classifierFor(table),
  // kexec-tools: die("Unknown rela relocation: %lu\n", r_type).
  unknownMessage(type) {
    return `Unknown rela relocation: ${type >>> 0}\n`;
  },
};
