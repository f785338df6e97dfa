// Coverage objects for the x86_64 relocation hooks: kexec-tools' machine_apply_elf_rel
// (kexec/arch/x86_64/kexec-elf-rel-x86_64.c) and the kernel's arch_kexec_apply_relocations_add
// (arch/x86/kernel/machine_kexec_64.c). Both handle NONE, 64, 32, 32S, PC32 and PLT32; 32 and 32S
// store the low 32 bits and die when they do not read back as the value (zero- / sign-extended).
// Absolute values come from SHN_ABS symbols (value = st_value + r_addend, no section base) and
// PC-relative ones from symbols in the image, so every outcome holds at every validate base.
import { SHN_ABS, SHT_NOBITS, STB_LOCAL, STT_FUNC, STT_OBJECT } from '../../elf/constants.ts';
import { R_X86_64 } from '../../arch/x86_64.ts';
import { AX, WA, enc, filler, objectFor, type CoverageSpec, type Expectation } from './spec.ts';

const SPEC = 'src/corpus/coverage/spec-x86_64.ts';
const R = R_X86_64;
const le = (w: number, v: bigint) => enc('little', w, v);

/** One relocation that must overflow: kexec-tools dies with reloc_name(), the kernel with the number. */
function overflow(name: string, type: number, typeName: string, value: bigint, addend: bigint, covers: string, note: string): CoverageSpec {
  const shown = BigInt.asUintN(64, value + addend).toString(16);
  return {
    name, arch: 'x86_64', spec: SPEC, covers: [typeName, covers], note,
    object: objectFor('x86_64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }],
      symbols: [{ name: 'v', section: SHN_ABS, value }],
      relocations: [{ section: '.text', offset: 4n, type, symbol: 'v', addend }],
    }),
    // die("overflow in relocation type %s val %lx\n", reloc_name(r_type), value)
    kexecTools: { kind: 'rejected', message: `overflow in relocation type ${typeName} val ${shown}\n` },
    // pr_err("Overflow in relocation type %d value 0x%lx\n", (int)ELF64_R_TYPE(r_info), value)
    kernel: { kind: 'rejected', message: `kexec: Overflow in relocation type ${type} value 0x${shown}\n` },
  };
}

function unknown(type: number, cName: string, covers: string): CoverageSpec {
  return {
    name: `unknown-${type}`, arch: 'x86_64', spec: SPEC, covers: [covers],
    note: `type ${type} is outside both switches: kexec-tools names it with reloc_name(), the kernel prints the number`,
    object: objectFor('x86_64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }],
      symbols: [{ name: 'v', section: SHN_ABS, value: 0x10n }],
      relocations: [{ section: '.text', offset: 0n, type, symbol: 'v' }],
    }),
    kexecTools: { kind: 'rejected', message: `Unhandled rela relocation: ${cName}\n` },
    kernel: { kind: 'rejected', message: `kexec: Unknown rela relocation: ${type}\n` },
  };
}

const text30 = filler(0x30);

const absFit: Expectation = {
  kind: 'ok',
  bytes: [
    { section: '.text', offset: 0x00, bytes: le(4, 0xffffffffn), why: 'R_X86_64_32: 0xfffffff0 + 0xf = 0xffffffff, the largest value that reads back unchanged' },
    { section: '.text', offset: 0x04, bytes: le(4, 0n), why: 'R_X86_64_32: 0 + 0, the smallest' },
    { section: '.text', offset: 0x08, bytes: le(4, 0x7fffffffn), why: 'R_X86_64_32S: 0x7fff0000 + 0xffff = 0x7fffffff = INT32_MAX' },
    { section: '.text', offset: 0x0c, bytes: le(4, 0x80000000n), why: 'R_X86_64_32S: 0xffffffff80000000 = INT32_MIN sign-extended' },
    { section: '.text', offset: 0x10, bytes: le(8, 0x1122334455667788n), why: 'R_X86_64_64: S = 0x1122334455667788, A = 0' },
    { section: '.text', offset: 0x18, bytes: le(8, 0x1122334455667798n), why: 'R_X86_64_64: S + 0x10' },
    { section: '.text', offset: 0x20, bytes: text30.slice(0x20, 0x28), why: 'R_X86_64_NONE writes nothing' },
    { section: '.text', offset: 0x28, bytes: le(4, 0xffffffffn), why: 'R_X86_64_32S: 0 + (-1) = -1 fits (sign-extends back)' },
  ],
};

const pcrel: Expectation = {
  kind: 'ok',
  bytes: [
    { section: '.text', offset: 0x00, bytes: le(4, 0x2cn), why: 'PC32: here (0x30) - 4 - P (0x0) = 0x2c' },
    { section: '.text', offset: 0x04, bytes: le(4, 0x30n), why: 'PLT32: fn (0x38) - 4 - P (0x4) = 0x30' },
    { section: '.text', offset: 0x08, bytes: le(4, -8n), why: 'PC32: .text (0) + 0 - P (0x8) = -8' },
    { section: '.text', offset: 0x0c, bytes: le(4, 0x14n), why: 'PLT32: .text (0) + 0x20 - P (0xc) = 0x14' },
    { section: '.text', offset: 0x10, bytes: le(4, 0x40n), why: 'PC32: .data (at 0x40: after 0x40 bytes of .text, align 8) + 0x10 - P (0x10) = 0x40' },
    { section: '.text', offset: 0x14, bytes: le(4, 0x1cn), why: 'PC32: 0x30 - 2^32 - 0x14, low 32 bits 0x1c (no range check)' },
  ],
};

export const x86_64Specs: CoverageSpec[] = [
  {
    name: 'abs-fit', arch: 'x86_64', spec: SPEC,
    covers: [
      'R_X86_64_NONE', 'R_X86_64_64', 'R_X86_64_32', 'R_X86_64_32:max-fit', 'R_X86_64_32:min-fit',
      'R_X86_64_32S', 'R_X86_64_32S:max-fit', 'R_X86_64_32S:min-fit', 'R_X86_64_32S:negative-fit', 'symbol:abs', 'symbol:abs-addend',
    ],
    note: 'the last values that fit 32 and 32S at both ends, from SHN_ABS symbols with and without addends',
    object: objectFor('x86_64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: text30, addralign: 16n }],
      symbols: [
        { name: 'u32max_lo', section: SHN_ABS, value: 0xfffffff0n },
        { name: 'zero', section: SHN_ABS, value: 0n },
        { name: 's32max_lo', section: SHN_ABS, value: 0x7fff0000n },
        { name: 's32min', section: SHN_ABS, value: 0xffffffff80000000n },
        { name: 'big', section: SHN_ABS, value: 0x1122334455667788n, type: STT_OBJECT },
      ],
      relocations: [
        { section: '.text', offset: 0x00n, type: R['32'], symbol: 'u32max_lo', addend: 0xfn },
        { section: '.text', offset: 0x04n, type: R['32'], symbol: 'zero' },
        { section: '.text', offset: 0x08n, type: R['32S'], symbol: 's32max_lo', addend: 0xffffn },
        { section: '.text', offset: 0x0cn, type: R['32S'], symbol: 's32min' },
        { section: '.text', offset: 0x10n, type: R['64'], symbol: 'big' },
        { section: '.text', offset: 0x18n, type: R['64'], symbol: 'big', addend: 0x10n },
        // The kernel rejects symbol 0 (SHN_UNDEF) before the switch: NONE uses a defined symbol.
        { section: '.text', offset: 0x20n, type: R.NONE, symbol: 'big', addend: 0x55n },
        { section: '.text', offset: 0x28n, type: R['32S'], symbol: 'zero', addend: -1n },
      ],
    }),
    kexecTools: absFit,
    kernel: absFit,
  },
  overflow('r32-above', R['32'], 'R_X86_64_32', 0x100000000n, 0n, 'R_X86_64_32:max-overflow', 'R_X86_64_32 with 2^32: the first value above the range'),
  overflow('r32-negative', R['32'], 'R_X86_64_32', 0n, -1n, 'R_X86_64_32:min-overflow', 'R_X86_64_32 with -1: the first value below the range (zero-extension fails)'),
  overflow('r32s-above', R['32S'], 'R_X86_64_32S', 0x80000000n, 0n, 'R_X86_64_32S:max-overflow', 'R_X86_64_32S with 2^31: reads back as INT32_MIN'),
  overflow('r32s-below', R['32S'], 'R_X86_64_32S', 0xffffffff7fffffffn, 0n, 'R_X86_64_32S:min-overflow', 'R_X86_64_32S with -2^31-1: reads back as INT32_MAX'),
  {
    name: 'pcrel', arch: 'x86_64', spec: SPEC,
    covers: ['R_X86_64_PC32', 'R_X86_64_PLT32', 'symbol:section', 'symbol:section-addend', 'symbol:local', 'symbol:pcrel-other-section'],
    note: 'PC32/PLT32 against local, global and section symbols, in the same section and across sections (S + A - P)',
    object: objectFor('x86_64', {
      entry: 0x30n,
      sectionSymbols: true, // symbol 1 = .text, 2 = .data
      sections: [
        { name: '.text', flags: AX, data: filler(0x40), addralign: 16n },
        { name: '.data', flags: WA, data: filler(0x20, 0x77), addralign: 8n },
      ],
      symbols: [
        { name: 'here', section: '.text', value: 0x30n, bind: STB_LOCAL, type: STT_FUNC },
        { name: 'fn', section: '.text', value: 0x38n, type: STT_FUNC },
      ],
      relocations: [
        { section: '.text', offset: 0x00n, type: R.PC32, symbol: 'here', addend: -4n },
        { section: '.text', offset: 0x04n, type: R.PLT32, symbol: 'fn', addend: -4n },
        { section: '.text', offset: 0x08n, type: R.PC32, symbol: 1 },
        { section: '.text', offset: 0x0cn, type: R.PLT32, symbol: 1, addend: 0x20n },
        { section: '.text', offset: 0x10n, type: R.PC32, symbol: 2, addend: 0x10n },
        { section: '.text', offset: 0x14n, type: R.PC32, symbol: 'here', addend: -0x100000000n },
      ],
    }),
    kexecTools: pcrel,
    kernel: pcrel,
  },
  {
    name: 'foreign-machine', arch: 'x86_64', spec: SPEC, covers: ['error:wrong-machine'],
    note: 'a little-endian EM_PPC64 object fed to the x86_64 loaders: machine_verify_elf_rel refuses it; the kernel checks no machine',
    object: objectFor('ppc64le', {
      entry: 0n,
      sections: [
        { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
        { name: '.bss', type: SHT_NOBITS, flags: WA, size: 8n, addralign: 8n },
      ],
    }),
    kexecTools: { kind: 'rejected', message: 'ELF rel parse failed\n' },
    kernel: { kind: 'ok', offsets: { '.text': 0n, '.bss': 0x10n }, memsz: 0x1000n, entry: 0n },
  },
  {
    name: 'x32', arch: 'x86_64', spec: SPEC, covers: ['R_X86_64_32', 'R_X86_64_PC32', 'elf:class32-x32'],
    note: 'an ELFCLASS32 (x32) EM_X86_64 object: machine_verify_elf_rel accepts ELFCLASS32 since 2.0.21, and elf_rel_load reads Elf32 symbols and relocations (r_info = sym << 8 | type)',
    object: {
      ...objectFor('x86_64', {
        entry: 0n,
        sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }],
        symbols: [
          { name: 'v', section: SHN_ABS, value: 0x12345678n },
          { name: 'here', section: '.text', value: 0xcn, bind: STB_LOCAL, type: STT_FUNC },
        ],
        relocations: [
          { section: '.text', offset: 0n, type: R['32'], symbol: 'v', addend: 0x10n },
          { section: '.text', offset: 4n, type: R.PC32, symbol: 'here', addend: -4n },
        ],
      }),
      is64: false,
    },
    kexecTools: {
      kind: 'ok',
      bytes: [
        { section: '.text', offset: 0, bytes: le(4, 0x12345688n), why: 'R_X86_64_32: SHN_ABS 0x12345678 + 0x10 (Elf32_Rela addend)' },
        { section: '.text', offset: 4, bytes: le(4, 4n), why: 'PC32: here (0xc) - 4 - P (0x4) = 4' },
        { section: '.text', offset: 8, bytes: filler(0x10).slice(8, 0x10), why: 'not relocated: copied' },
      ],
    },
  },
  {
    name: 'big-endian', arch: 'x86_64', spec: SPEC, covers: ['error:wrong-byte-order'],
    note: 'a big-endian (ELFDATA2MSB) EM_X86_64 object: kexec-tools\' machine_verify_elf_rel refuses it before any layout',
    object: {
      ...objectFor('x86_64', {
        entry: 0n,
        sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }],
        symbols: [{ name: 'v', section: SHN_ABS, value: 0x10n }],
        relocations: [{ section: '.text', offset: 0n, type: R['64'], symbol: 'v' }],
      }),
      endian: 'big',
    },
    kexecTools: { kind: 'rejected', message: 'ELF rel parse failed\n' },
  },
  unknown(23, 'R_X86_64_TPOFF32', 'error:unknown-type-named'),
  unknown(24, 'R_X86_64_24', 'error:unknown-type-numbered'),
  unknown(9, 'R_X86_64_GOTPCREL', 'error:unknown-type-low'),
];
