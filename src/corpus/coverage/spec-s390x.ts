// Coverage objects for kexec-tools' s390 hook, machine_apply_elf_rel in
// kexec/arch/s390/kexec-elf-rel-s390.c (unchanged from 2.0.20 to 2.0.32): 8/12/16/20/32/64 store
// val (12 and 20 keep the instruction's other bits), PC16/PC16DBL/PC32DBL/PLT32DBL/PC32/PC64 store
// val - address (DBL: >> 1); nothing is range- or alignment-checked; every other type, NONE
// included, dies printing the type and P. Big-endian stores.
import { SHN_ABS, STB_LOCAL, STT_FUNC } from '../../elf/constants.ts';
import { R_390 } from '../../arch/s390x.ts';
import { AX, WA, enc, filler, objectFor, foreignMachine, refusedByMachineVerify, type CoverageSpec } from './spec.ts';

const SPEC = 'src/corpus/coverage/spec-s390x.ts';
const R = R_390;
const be = (w: number, v: bigint) => enc('big', w, v);
const data20 = filler(0x18);

/** An unhandled type: die("Unknown rela relocation: 0x%lx 0x%lx\n", r_type, address), P = the image base + 8. */
function unknown(type: number, covers: string[], note: string): CoverageSpec {
  return {
    name: `unknown-${type}`, arch: 's390x', spec: SPEC, covers, note,
    object: objectFor('s390x', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 8n }],
      symbols: [{ name: 'v', section: SHN_ABS, value: 0x10n }],
      relocations: [{ section: '.text', offset: 8n, type, symbol: 'v' }],
    }),
    kexecTools: { kind: 'rejected', message: (base) => `Unknown rela relocation: 0x${type.toString(16)} 0x${(base + 8n).toString(16)}\n` },
  };
}

export const s390xSpecs: CoverageSpec[] = [
  {
    name: 'direct', arch: 's390x', spec: SPEC,
    covers: ['R_390_8', 'R_390_12', 'R_390_16', 'R_390_20', 'R_390_32', 'R_390_64', 'R_390_8:truncated-unchecked', 'R_390_32:truncated-unchecked'],
    note: 'the direct forms: low bits of val, no range check; R_390_12 keeps the top nibble of its halfword, R_390_20 the 0xf00000ff bits of its word',
    object: objectFor('s390x', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 8n }, { name: '.data', flags: WA, data: data20, addralign: 8n }],
      symbols: [
        { name: 'v8', section: SHN_ABS, value: 0x1ffn }, { name: 'v12', section: SHN_ABS, value: 0xfabcn },
        { name: 'v16', section: SHN_ABS, value: 0x12345n }, { name: 'v20', section: SHN_ABS, value: 0x12345n },
        { name: 'v32', section: SHN_ABS, value: 0x123456789n }, { name: 'v64', section: SHN_ABS, value: 0x1122334455667788n },
      ],
      relocations: [
        { section: '.data', offset: 0n, type: R['8'], symbol: 'v8' },
        { section: '.data', offset: 2n, type: R['12'], symbol: 'v12' },
        { section: '.data', offset: 4n, type: R['16'], symbol: 'v16' },
        { section: '.data', offset: 8n, type: R['20'], symbol: 'v20' },
        { section: '.data', offset: 0xcn, type: R['32'], symbol: 'v32' },
        { section: '.data', offset: 0x10n, type: R['64'], symbol: 'v64' },
      ],
    }),
    kexecTools: {
      kind: 'ok',
      bytes: [
        { section: '.data', offset: 0, bytes: be(1, 0xffn), why: 'R_390_8: (unsigned char)0x1ff' },
        { section: '.data', offset: 1, bytes: data20.slice(1, 2), why: 'untouched' },
        { section: '.data', offset: 2, bytes: be(2, 0x3abcn), why: 'R_390_12: (0xfabc & 0xfff) | (0x3f47 & 0xf000) = 0x3abc' },
        { section: '.data', offset: 4, bytes: be(2, 0x2345n), why: 'R_390_16: (unsigned short)0x12345' },
        { section: '.data', offset: 8, bytes: be(4, 0x6345127fn), why: 'R_390_20: (0x6971777f & 0xf00000ff) | 0x345 << 16 | 0x12000 >> 4' },
        { section: '.data', offset: 0xc, bytes: be(4, 0x23456789n), why: 'R_390_32: (unsigned int)0x123456789' },
        { section: '.data', offset: 0x10, bytes: be(8, 0x1122334455667788n), why: 'R_390_64: val' },
      ],
    },
  },
  {
    name: 'pcrel', arch: 's390x', spec: SPEC,
    covers: [
      'R_390_PC16', 'R_390_PC16DBL', 'R_390_PC32DBL', 'R_390_PLT32DBL', 'R_390_PC32', 'R_390_PC64',
      'R_390_PLT32DBL:negative', 'R_390_PC32DBL:odd-unchecked', 'R_390_PC32:overflow-unchecked',
    ],
    note: 'val - address, the DBL forms shifted right by one as an unsigned long; an odd distance and one past 32 bits are stored without a check',
    object: objectFor('s390x', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x40), addralign: 8n }],
      symbols: [{ name: 'fn', section: '.text', value: 0x20n, type: STT_FUNC, bind: STB_LOCAL }],
      relocations: [
        { section: '.text', offset: 0n, type: R.PC16DBL, symbol: 'fn' },
        { section: '.text', offset: 4n, type: R.PC32DBL, symbol: 'fn', addend: 2n },
        { section: '.text', offset: 8n, type: R.PC32, symbol: 'fn' },
        { section: '.text', offset: 0x10n, type: R.PC64, symbol: 'fn' },
        { section: '.text', offset: 0x18n, type: R.PC32DBL, symbol: 'fn', addend: 1n },
        { section: '.text', offset: 0x1cn, type: R.PC32, symbol: 'fn', addend: 0x100000000n },
        { section: '.text', offset: 0x30n, type: R.PC16, symbol: 'fn' },
        { section: '.text', offset: 0x34n, type: R.PLT32DBL, symbol: 'fn' },
      ],
    }),
    kexecTools: {
      kind: 'ok',
      bytes: [
        { section: '.text', offset: 0, bytes: be(2, 0x10n), why: 'PC16DBL: (0x20 - 0) >> 1' },
        { section: '.text', offset: 4, bytes: be(4, 0xfn), why: 'PC32DBL: (0x22 - 4) >> 1' },
        { section: '.text', offset: 8, bytes: be(4, 0x18n), why: 'PC32: 0x20 - 8' },
        { section: '.text', offset: 0x10, bytes: be(8, 0x10n), why: 'PC64: 0x20 - 0x10' },
        { section: '.text', offset: 0x18, bytes: be(4, 4n), why: 'PC32DBL: (0x21 - 0x18) >> 1 = 4: the odd bit is dropped' },
        { section: '.text', offset: 0x1c, bytes: be(4, 4n), why: 'PC32: 0x20 + 2^32 - 0x1c, low 32 bits 4' },
        { section: '.text', offset: 0x30, bytes: be(2, 0xfff0n), why: 'PC16: 0x20 - 0x30 = -0x10' },
        { section: '.text', offset: 0x34, bytes: be(4, 0xfffffff6n), why: 'PLT32DBL: (0x20 - 0x34 = -0x14 as an unsigned long) >> 1, low 32 bits' },
      ],
    },
  },
  // machine_verify_elf_rel's other two checks: ei_data ELFDATA2MSB, ei_class ELFCLASS64.
  ...refusedByMachineVerify('s390x', SPEC, [
    { name: '.text', flags: AX, data: filler(0x10), addralign: 8n }, { name: '.data', flags: WA, data: filler(0x10, 0x40), addralign: 8n },
  ], [
    ['little-endian', 'error:wrong-byte-order', 'a little-endian (ELFDATA2LSB) ELFCLASS64 EM_S390 object', { endian: 'little' }],
    ['elfclass32', 'error:wrong-class', 'a big-endian ELFCLASS32 EM_S390 object', { is64: false }],
  ]),
  foreignMachine('s390x', SPEC, 'ppc64', 'a big-endian ELF64 EM_PPC64 object (byte order and class as s390x wants) fed to the s390x loader: machine_verify_elf_rel refuses its e_machine'),
  unknown(R.NONE, ['error:unknown-type', 'R_390_NONE:dies'], 'R_390_NONE is not in the switch: it dies, printing r_type and P'),
  unknown(R.GOTENT, ['error:unknown-type-gotent'], 'R_390_GOTENT (GOT-relative) is not handled'),
];
