// Coverage objects for kexec-tools' arm64 hook, machine_apply_elf_rel in kexec/arch/arm64/kexec-arm64.c
// (unchanged from 2.0.20 to 2.0.32). It handles 14 types; instruction fields are *added* to the
// word (`cpu_to_le32(le32_to_cpu(*loc32) + field)`), nothing is range-checked, ADR_PREL_LO21 and the
// LDST64/128 forms die when the value (S + A, not S + A - P) is unaligned, and get_bits() takes a
// uint32_t, so MOVW_UABS_G2_NC/G3 add 0. Absolute values come from SHN_ABS symbols, PC-relative
// ones from symbols in the image, so every outcome holds at every validate base.
import { SHN_ABS, STB_LOCAL, STT_FUNC, STT_OBJECT } from '../../elf/constants.ts';
import { R_AARCH64 } from '../../arch/arm64.ts';
import { AX, WA, enc, filler, objectFor, words, foreignMachine, type CoverageSpec } from './spec.ts';

const SPEC = 'src/corpus/coverage/spec-arm64.ts';
const R = R_AARCH64;
const le = (w: number, v: bigint) => enc('little', w, v);
const insn = (w: number) => le(4, BigInt(w >>> 0));

/** One relocation that kills the loader: die("%s: ERROR …", __func__, …). */
function dies(name: string, type: number, value: bigint, covers: string[], message: string, note: string): CoverageSpec {
  return {
    name, arch: 'arm64', spec: SPEC, covers, note,
    object: objectFor('arm64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: words('little', 0xf9400000, 0x3dc00000, 0x10000000, 0xd503201f), addralign: 8n }],
      symbols: [{ name: 'v', section: SHN_ABS, value }],
      relocations: [{ section: '.text', offset: 0n, type, symbol: 'v' }],
    }),
    kexecTools: { kind: 'rejected', message },
  };
}

export const arm64Specs: CoverageSpec[] = [
  {
    name: 'data-words', arch: 'arm64', spec: SPEC,
    covers: ['R_AARCH64_ABS64', 'R_AARCH64_PREL32', 'R_AARCH64_PREL32:negative'],
    note: 'ABS64 and PREL32 store through cpu_to_elf64/32 (the object is little-endian): S + A, and S + A - P truncated to 32 bits',
    object: objectFor('arm64', {
      entry: 0n,
      sections: [
        { name: '.text', flags: AX, data: words('little', 0xd503201f, 0xd503201f, 0xd503201f, 0xd65f03c0), addralign: 8n },
        { name: '.data', flags: WA, data: filler(0x18), addralign: 8n },
      ],
      symbols: [
        { name: 'v', section: SHN_ABS, value: 0x1122334455667788n },
        { name: 'fn', section: '.text', value: 4n, type: STT_FUNC, bind: STB_LOCAL },
      ],
      relocations: [
        { section: '.data', offset: 0n, type: R.ABS64, symbol: 'v', addend: 0x10n },
        { section: '.data', offset: 8n, type: R.PREL32, symbol: 'fn' },
        { section: '.data', offset: 0x10n, type: R.PREL32, symbol: 'fn', addend: 0x24n },
      ],
    }),
    kexecTools: {
      kind: 'ok',
      bytes: [
        { section: '.data', offset: 0, bytes: le(8, 0x1122334455667798n), why: 'ABS64: 0x1122334455667788 + 0x10' },
        { section: '.data', offset: 8, bytes: le(4, -0x14n), why: 'PREL32: fn (.text+4) - P (.data at 0x10, +8) = 4 - 0x18 = -0x14' },
        { section: '.data', offset: 0x10, bytes: le(4, 0x8n), why: 'PREL32: 4 + 0x24 - 0x20 = 8' },
      ],
    },
  },
  {
    name: 'movw', arch: 'arm64', spec: SPEC,
    covers: [
      'R_AARCH64_MOVW_UABS_G0_NC', 'R_AARCH64_MOVW_UABS_G1_NC', 'R_AARCH64_MOVW_UABS_G2_NC', 'R_AARCH64_MOVW_UABS_G3',
      'R_AARCH64_MOVW_UABS_G2_NC:get-bits-truncated', 'R_AARCH64_MOVW_UABS_G3:get-bits-truncated', 'R_AARCH64_MOVW_UABS_G0_NC:carry-out-of-field',
    ],
    note: 'movz/movk of a 64-bit address: get_bits(uint32_t value, …) drops bits 32..63, so G2_NC and G3 add 0; fields are added to the word, so an immediate already in the instruction carries into hw',
    object: objectFor('arm64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: words('little', 0xd2800000, 0xf2a00000, 0xf2c00000, 0xf2e00000, 0xd29fffe0, 0xd65f03c0), addralign: 8n }],
      symbols: [{ name: 'v', section: SHN_ABS, value: 0x123456789abcdef0n }, { name: 'one', section: SHN_ABS, value: 1n }],
      relocations: [
        { section: '.text', offset: 0n, type: R.MOVW_UABS_G0_NC, symbol: 'v' },
        { section: '.text', offset: 4n, type: R.MOVW_UABS_G1_NC, symbol: 'v' },
        { section: '.text', offset: 8n, type: R.MOVW_UABS_G2_NC, symbol: 'v' },
        { section: '.text', offset: 0xcn, type: R.MOVW_UABS_G3, symbol: 'v' },
        { section: '.text', offset: 0x10n, type: R.MOVW_UABS_G0_NC, symbol: 'one' },
      ],
    }),
    kexecTools: {
      kind: 'ok',
      bytes: [
        { section: '.text', offset: 0, bytes: insn(0xd29bde00), why: 'G0_NC: 0xd2800000 + (0xdef0 << 5 = 0x1bde00)' },
        { section: '.text', offset: 4, bytes: insn(0xf2b35780), why: 'G1_NC: 0xf2a00000 + (0x9abc << 5 = 0x135780)' },
        { section: '.text', offset: 8, bytes: insn(0xf2c00000), why: 'G2_NC: get_bits((uint32_t)0x9abcdef0, 32, 47) = 0: the word is unchanged (the ABI gives 0x5678 << 5)' },
        { section: '.text', offset: 0xc, bytes: insn(0xf2e00000), why: 'G3: get_bits(…, 48, 63) = 0: unchanged (the ABI gives 0x1234 << 5)' },
        { section: '.text', offset: 0x10, bytes: insn(0xd2a00000), why: 'G0_NC of 1 added to movz #0xffff (0xd29fffe0 + 0x20): the carry leaves imm16 and sets hw = 1' },
      ],
    },
  },
  {
    name: 'insn-fields', arch: 'arm64', spec: SPEC,
    covers: [
      'R_AARCH64_CALL26', 'R_AARCH64_JUMP26', 'R_AARCH64_JUMP26:backwards', 'R_AARCH64_CALL26:beyond-128MiB-unchecked',
      'R_AARCH64_LD_PREL_LO19', 'R_AARCH64_ADR_PREL_LO21', 'R_AARCH64_ADR_PREL_LO21:encoded-as-lo19', 'R_AARCH64_ADR_PREL_PG_HI21',
      'R_AARCH64_ADD_ABS_LO12_NC', 'R_AARCH64_LDST64_ABS_LO12_NC', 'R_AARCH64_LDST128_ABS_LO12_NC',
    ],
    note: 'branches, literal loads, adr/adrp and lo12 fields; .data is 4 KiB aligned so ADR_PREL_PG_HI21 spans one page whatever the base',
    object: objectFor('arm64', {
      entry: 0n,
      sections: [
        {
          name: '.text', flags: AX, addralign: 8n,
          data: words('little', 0x94000000, 0x14000000, 0x58000000, 0x10000000, 0x91000000, 0xf9400000, 0x3dc00000, 0x94000000,
            0x90000000, 0xd503201f, 0xd503201f, 0xd503201f, 0xd65f03c0, 0xd65f03c0, 0xd65f03c0, 0xd65f03c0),
        },
        { name: '.data', flags: WA, data: filler(0x20), addralign: 0x1000n },
      ],
      symbols: [
        { name: 'fn', section: '.text', value: 0x20n, type: STT_FUNC, bind: STB_LOCAL },
        { name: 'start', section: '.text', value: 0n, type: STT_FUNC, bind: STB_LOCAL },
        { name: 'lit', section: '.text', value: 0x28n, type: STT_OBJECT, bind: STB_LOCAL },
        { name: 'pg', section: '.data', value: 0x10n, type: STT_OBJECT, bind: STB_LOCAL },
        { name: 'a', section: SHN_ABS, value: 0x12345678n },
        { name: 'q', section: SHN_ABS, value: 0x12345670n },
      ],
      relocations: [
        { section: '.text', offset: 0n, type: R.CALL26, symbol: 'fn' },
        { section: '.text', offset: 4n, type: R.JUMP26, symbol: 'start' },
        { section: '.text', offset: 8n, type: R.LD_PREL_LO19, symbol: 'lit' },
        { section: '.text', offset: 0xcn, type: R.ADR_PREL_LO21, symbol: 'lit', addend: 4n },
        { section: '.text', offset: 0x10n, type: R.ADD_ABS_LO12_NC, symbol: 'a' },
        { section: '.text', offset: 0x14n, type: R.LDST64_ABS_LO12_NC, symbol: 'a' },
        { section: '.text', offset: 0x18n, type: R.LDST128_ABS_LO12_NC, symbol: 'q' },
        { section: '.text', offset: 0x1cn, type: R.CALL26, symbol: 'fn', addend: 0x8000000n },
        { section: '.text', offset: 0x20n, type: R.ADR_PREL_PG_HI21, symbol: 'pg' },
      ],
    }),
    kexecTools: {
      kind: 'ok',
      bytes: [
        { section: '.text', offset: 0, bytes: insn(0x94000008), why: 'CALL26: bl + ((0x20 - 0) >> 2) & 0x3ffffff = 8' },
        { section: '.text', offset: 4, bytes: insn(0x17ffffff), why: 'JUMP26: b + ((0 - 4) >> 2 of the unsigned long) & 0x3ffffff = 0x3ffffff' },
        { section: '.text', offset: 8, bytes: insn(0x58000100), why: 'LD_PREL_LO19: ldr + ((0x28 - 8) << 3) & 0xffffe0 = 0x100' },
        { section: '.text', offset: 0xc, bytes: insn(0x10000100), why: 'ADR_PREL_LO21: adr + ((0x2c - 0xc) << 3) & 0xffffe0 = 0x100 (as LO19: immlo stays 0)' },
        { section: '.text', offset: 0x10, bytes: insn(0x9119e000), why: 'ADD_ABS_LO12_NC: add + (0x678 << 10)' },
        { section: '.text', offset: 0x14, bytes: insn(0xf9433c00), why: 'LDST64_ABS_LO12_NC: ldr + ((0x678 & 0xff8) << 7 = 0x33c00)' },
        { section: '.text', offset: 0x18, bytes: insn(0x3dc19c00), why: 'LDST128_ABS_LO12_NC: ldr q + ((0x670 & 0xff0) << 6 = 0x19c00)' },
        { section: '.text', offset: 0x1c, bytes: insn(0x96000001), why: 'CALL26: 0x20 + 2^27 - 0x1c = 0x8000004, >> 2 = 0x2000001: no range check (the ABI limit is ±2^27)' },
        { section: '.text', offset: 0x20, bytes: insn(0xb0000000), why: 'ADR_PREL_PG_HI21: Page(.data + 0x10) - Page(.text + 0x20) = 0x1000, imm 1: immlo (1 & 3) << 29' },
      ],
    },
  },
  foreignMachine('arm64', SPEC, 'x86_64', 'a little-endian EM_X86_64 object fed to the arm64 loader: machine_verify_elf_rel checks e_machine alone, and refuses it'),
  dies('ldst64-misaligned', R.LDST64_ABS_LO12_NC, 0x1004n, ['R_AARCH64_LDST64_ABS_LO12_NC:misaligned'],
    'machine_apply_elf_rel: ERROR Unaligned value: 1004\n', 'LDST64_ABS_LO12_NC of 0x1004: value & 7 != 0 dies before the store'),
  dies('ldst128-misaligned', R.LDST128_ABS_LO12_NC, 0x1008n, ['R_AARCH64_LDST128_ABS_LO12_NC:misaligned'],
    'machine_apply_elf_rel: ERROR Unaligned value: 1008\n', 'LDST128_ABS_LO12_NC of 0x1008: value & 15 != 0 dies'),
  dies('adr-lo21-misaligned', R.ADR_PREL_LO21, 0x1002n, ['R_AARCH64_ADR_PREL_LO21:misaligned'],
    'machine_apply_elf_rel: ERROR Unaligned value: 1002\n', 'ADR_PREL_LO21 checks S + A (0x1002), not S + A - P, for 4-byte alignment'),
  dies('unknown-none', R.NONE, 0n, ['error:unknown-type', 'R_AARCH64_NONE:dies'],
    'machine_apply_elf_rel: ERROR Unknown type: 0\n', 'R_AARCH64_NONE is in the enum but not in the switch: it dies as unknown'),
  dies('unknown-abs32', R.ABS32, 0x10n, ['error:unknown-type-abs32'],
    'machine_apply_elf_rel: ERROR Unknown type: 258\n', 'R_AARCH64_ABS32 is not handled'),
];
