// Coverage objects for branches of the kernel's generic loader (kernel/kexec_file.c, 6.12 line
// numbers) that only an unusual or malformed object reaches: the loops that start at section 0 and
// symbol 0, the end of the symbol table, the entry rule's start_fixed flag, a section index equal
// to e_shnum, and one page of section headers. x86_64 objects (the kernel loader whose generic code
// `mutate --kernel` scores), and one for the names the x86_64, s390x and riscv64 hooks print; the
// kexec-tools loaders of the same arch load them too. Offsets are relative to
// the image base; the kernel's memsz is page-rounded by kexec_add_buffer.
import { SHN_ABS, SHT_RELA, SHT_SYMTAB, STB_LOCAL, STT_FUNC, STT_OBJECT } from '../../elf/constants.ts';
import { relocationBytes, symbolTableBytes } from '../../elf/writer.ts';
import { A, ARCHES, AX, WA, enc, filler, objectFor, patch, type CoverageSpec } from './spec.ts';

const SPEC = 'src/corpus/coverage/spec-kernel.ts';
const le = (w: number, v: bigint) => enc('little', w, v);
const BIG = 0x1122334455667788n;

/** The mem of the `unaligned` validate base (0x3ff00f10, src/validate/cases.ts) aligned up to the kernel's 4K page. */
const UNALIGNED_MEM = 0x3ff0_1000n;

/** Byte offset of section `i`'s header field at `field` (Elf64_Shdr), with the header table at `shoff`. */
const shdrField = (shoff: number, i: number, field: number) => shoff + i * 64 + field;

export const kernelSpecs: CoverageSpec[] = [
  {
    name: 'shnum-64', arch: 'x86_64', spec: SPEC, covers: ['layout:shnum-one-page'],
    note: '64 sections: the copy of the section headers (vzalloc(e_shnum * 64), kexec_file.c:997) is exactly one 4K page, so a loop that reads one header more than e_shnum reads past it',
    object: objectFor('x86_64', {
      entry: 0n,
      // null + .text + 59 notes + .symtab + .strtab + .shstrtab = 64
      sections: [
        { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
        ...Array.from({ length: 59 }, (_, i) => ({ name: `.n${i}`, flags: 0n, data: Uint8Array.of(i), addralign: 1n })),
      ],
    }),
    kexecTools: { kind: 'ok', offsets: { '.text': 0n }, memsz: 0x10n, entry: 0n },
    kernel: { kind: 'ok', offsets: { '.text': 0n }, memsz: 0x1000n, entry: 0n },
  },
  {
    name: 'entry-symbol-fixes-start', arch: 'x86_64', spec: SPEC, covers: ['layout:entry-symbol-start-fixed'],
    note: 'purgatory_start at .text+0x10 and e_entry 0x3ff01010 inside a later exec section .text2 (sh_addr 0x3ff01000): at the unaligned base (mem 0x3ff01000) the symbol rule gives start = mem + 0x10 = e_entry, and only start_fixed keeps .text2 from moving it again (kexec_file.c:1031-1036, 1047-1055)',
    object: objectFor('x86_64', {
      entry: UNALIGNED_MEM + 0x10n,
      sections: [
        { name: '.text', flags: AX, data: filler(0x20), addralign: 16n },
        { name: '.text2', flags: AX, data: filler(0x20, 0x40), addralign: 16n, addr: UNALIGNED_MEM },
      ],
      symbols: [{ name: 'purgatory_start', section: '.text', value: 0x10n, type: STT_FUNC }],
    }),
    // kexec-tools: the first ALLOC|EXEC section containing e_entry by its original address is .text2
    // (0x3ff01000 <= e_entry < 0x3ff01020): entry = its new address + 0x10.
    kexecTools: { kind: 'ok', offsets: { '.text': 0n, '.text2': 0x20n }, memsz: 0x40n, entry: 0x30n },
    // 6.1/6.12: the symbol rule fixes start in .text (i == st_shndx, exec, 0x10 < 0x20).
    kernel: { kind: 'ok', offsets: { '.text': 0n, '.text2': 0x20n }, memsz: 0x1000n, entry: 0x10n },
    // 5.10 has no symbol rule: .text2 contains e_entry and start still equals it.
    kernelVersions: { '5.10': { kind: 'ok', offsets: { '.text': 0n, '.text2': 0x20n }, memsz: 0x1000n, entry: 0x30n } },
  },
  {
    name: 'symbol0-global', arch: 'x86_64', spec: SPEC, covers: ['symbol:index-0-global'],
    note: 'symbol 0 is a global purgatory_start at .text+8 instead of the null symbol: kexec_purgatory_find_symbol scans from k = 0 (kexec_file.c:888), so 6.1/6.12 take the entry from it',
    object: objectFor('x86_64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }],
      nullSymbol: { name: 'purgatory_start', section: '.text', value: 8n, type: STT_FUNC },
    }),
    kexecTools: { kind: 'ok', offsets: { '.text': 0n }, memsz: 0x10n, entry: 0n },
    kernel: { kind: 'ok', offsets: { '.text': 0n }, memsz: 0x1000n, entry: 8n },
    kernelVersions: { '5.10': { kind: 'ok', offsets: { '.text': 0n }, memsz: 0x1000n, entry: 0n } },
  },
  {
    name: 'symbol-past-table', arch: 'x86_64', spec: SPEC, covers: ['symbol:past-table-end'],
    note: 'the 24 bytes right after .symtab\'s sh_size are a global purgatory_start at .text+8: the lookup stops at k < sh_size / sizeof(Elf_Sym) (kexec_file.c:888) and never reads it, so e_entry decides',
    object: objectFor('x86_64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }],
      hiddenSymbols: [{ name: 'purgatory_start', section: '.text', value: 8n, type: STT_FUNC }],
    }),
    kexecTools: { kind: 'ok', offsets: { '.text': 0n }, memsz: 0x10n, entry: 0n },
    kernel: { kind: 'ok', offsets: { '.text': 0n }, memsz: 0x1000n, entry: 0n },
  },
  {
    name: 'symbol-shndx-shnum', arch: 'x86_64', spec: SPEC, covers: ['symbol:shndx-shnum'],
    note: 'a global shnum_sym whose st_shndx is e_shnum (6): kexec_purgatory_find_symbol returns NULL for st_shndx >= e_shnum (kexec_file.c:895-896), so reading it back fails with -EINVAL (the kernel probes ask for it; kexec-tools would read e_shdr[6] past its array and is never asked)',
    object: objectFor('x86_64', {
      entry: 0n,
      // null, .text, .data, .symtab, .strtab, .shstrtab: e_shnum 6
      sections: [
        { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
        { name: '.data', flags: WA, data: filler(0x10, 0x20), addralign: 8n },
      ],
      symbols: [{ name: 'shnum_sym', section: 6, value: 0n, size: 8n, type: STT_OBJECT }],
    }),
    kexecTools: { kind: 'ok', offsets: { '.text': 0n, '.data': 0x10n }, memsz: 0x20n, entry: 0n },
    kernel: { kind: 'ok', offsets: { '.text': 0n, '.data': 0x10n }, memsz: 0x1000n, entry: 0n },
  },
  {
    name: 'section0-symtab', arch: 'x86_64', spec: SPEC, covers: ['symbol:section-0-symtab'],
    note: 'section 0 is a SHT_SYMTAB (linked to .strtab) whose one symbol is a global purgatory_start at .text+0xc; .symtab has another at .text+8: the lookup walks the sections from i = 0 (kexec_file.c:877) and the first table decides',
    object: objectFor('x86_64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }],
      symbols: [{ name: 'purgatory_start', section: '.text', value: 8n, type: STT_FUNC }],
      // st_name 1: "purgatory_start" is the first (only) name in .strtab; st_info GLOBAL|FUNC; st_shndx 1 (.text)
      section0: { type: SHT_SYMTAB, flags: 0n, data: symbolTableBytes([{ name: 1, info: 0x12, other: 0, shndx: 1, value: 0xcn, size: 0n }], 'little', true), link: '.strtab', entsize: 24n, addralign: 8n },
    }),
    malformed: {
      why: 'kexec_purgatory_find_symbol walks the section headers from index 0: only a symbol table in section 0 tells that from a walk that starts at 1',
      // Ehdr 0x40; section 0's table 0x40 (0x18); .text 0x60 (0x10); .symtab 0x70 (0x30); .strtab 0xa0
      // ("\0purgatory_start\0", 0x11); .shstrtab 0xb1 ("\0.text\0.symtab\0.strtab\0.shstrtab\0", 0x21): e_shoff 0xd8.
      defects: [{ field: 'section[0].sh_type', offset: shdrField(0xd8, 0, 4), value: '0x2', reason: 'section 0 is not SHT_NULL' }],
    },
    kexecTools: { kind: 'ok', offsets: { '.text': 0n }, memsz: 0x10n, entry: 0n },
    kernel: { kind: 'ok', offsets: { '.text': 0n }, memsz: 0x1000n, entry: 0xcn },
    kernelVersions: { '5.10': { kind: 'ok', offsets: { '.text': 0n }, memsz: 0x1000n, entry: 0n } },
  },
  {
    name: 'section0-alloc', arch: 'x86_64', spec: SPEC, covers: ['layout:section-0-alloc'],
    note: 'section 0 is SHF_ALLOC PROGBITS with 0x10 bytes: the kernel\'s layout loops start at i = 0 (kexec_file.c:932, 1014), so it is sized and copied first, .text after it at 0x10',
    object: objectFor('x86_64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }],
      section0: { type: 1, flags: A, data: filler(0x10, 0x60), addralign: 16n },
    }),
    malformed: {
      why: 'the layout loops of kexec_purgatory_setup_kbuf and kexec_purgatory_setup_sechdrs start at section 0: only an allocated section 0 tells that from loops that start at 1',
      // Ehdr 0x40; section 0 0x40 (0x10); .text 0x50 (0x10); .symtab 0x60 (0x18); .strtab 0x78 (1);
      // .shstrtab 0x79 (0x21): e_shoff 0xa0.
      defects: [{ field: 'section[0].sh_type', offset: shdrField(0xa0, 0, 4), value: '0x1', reason: 'section 0 is not SHT_NULL' }],
    },
    // kexec-tools: elf_rel_load's loops start at 0 too; .text contains e_entry 0 by its original address.
    kexecTools: { kind: 'ok', offsets: { '.text': 0x10n }, memsz: 0x20n, entry: 0x10n },
    kernel: { kind: 'ok', offsets: { '.text': 0x10n }, memsz: 0x1000n, entry: 0x10n },
  },
  {
    name: 'section0-rela', arch: 'x86_64', spec: SPEC, covers: ['layout:section-0-rela'],
    note: 'section 0 is a SHT_RELA for .data (sh_link .symtab) with one R_X86_64_64 against the SHN_ABS absval: kexec_apply_relocations walks the sections from i = 0 (kexec_file.c:1078) and applies it',
    object: objectFor('x86_64', {
      entry: 0n,
      sections: [
        { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
        { name: '.data', flags: WA, data: filler(8, 0x20), addralign: 8n },
      ],
      symbols: [{ name: 'absval', section: SHN_ABS, value: BIG }],
      // one Elf64_Rela: r_offset 0, R_X86_64_64 (1) against symbol 1 (absval), r_addend 0
      section0: { type: SHT_RELA, flags: 0n, data: relocationBytes([{ offset: 0n, sym: 1, type: 1, addend: 0n }], 'little', true, false), link: '.symtab', info: '.data', entsize: 24n, addralign: 8n },
    }),
    malformed: {
      why: 'kexec_apply_relocations walks the section headers from index 0: only a relocation section in section 0 tells that from a walk that starts at 1',
      // Ehdr 0x40; section 0 0x40 (0x18); .text 0x60 (0x10); .data 0x70 (8); .symtab 0x78 (0x30); .strtab 0xa8
      // ("\0absval\0", 8); .shstrtab 0xb0 ("\0.text\0.data\0.symtab\0.strtab\0.shstrtab\0", 0x27): e_shoff 0xd8.
      defects: [{ field: 'section[0].sh_type', offset: shdrField(0xd8, 0, 4), value: '0x4', reason: 'section 0 is not SHT_NULL' }],
    },
    kexecTools: { kind: 'ok', bytes: [{ section: '.data', offset: 0, bytes: le(8, BIG), why: 'R_X86_64_64 from section 0: S (SHN_ABS) + 0' }] },
    kernel: { kind: 'ok', bytes: [{ section: '.data', offset: 0, bytes: le(8, BIG), why: 'R_X86_64_64 from section 0: S (SHN_ABS) + 0' }] },
  },
  {
    name: 'undefined-unnamed-symbol', arch: 'x86_64', spec: SPEC, covers: ['error:undefined-symbol-unnamed'],
    note: 'an R_X86_64_64 against an unnamed undefined symbol, and section 0\'s sh_name naming ".text": the x86_64 hook names an unnamed symbol by its section, shstrtab + sechdrs[st_shndx].sh_name (machine_kexec_64.c:472-475), so the kernel prints "Undefined symbol: .text"',
    object: objectFor('x86_64', {
      entry: 0n,
      sections: [
        { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
        { name: '.data', flags: WA, data: filler(8, 0x20), addralign: 8n },
      ],
      symbols: [{ name: '', section: 0 }],
      relocations: [{ section: '.data', offset: 0n, type: 1, symbol: '' }],
      section0: { type: 0, flags: 0n, name: '.text' },
    }),
    // kexec-tools takes an undefined STT_NOTYPE symbol as value 0 + e_shdr[0].sh_addr (0): R_X86_64_64 stores 0.
    kexecTools: { kind: 'ok', bytes: [{ section: '.data', offset: 0, bytes: le(8, 0n), why: 'S = 0 + sh_addr of section 0 (0), A = 0' }] },
    // pr_err("Undefined symbol: %s\n", name), pr_fmt "kexec: " (machine_kexec_64.c:486)
    kernel: { kind: 'rejected', message: 'kexec: Undefined symbol: .text\n' },
  },
  ...(['x86_64', 's390x', 'riscv64'] as const).map((arch): CoverageSpec => {
    const p = ARCHES[arch];
    const pr = arch === 'riscv64' ? 'kexec_image: ' : 'kexec: ';
    return {
      name: 'unnamed-symbol-shnum', arch, spec: SPEC, covers: ['error:invalid-section-unnamed'],
      note: `a ${p.abs64Name} against an unnamed symbol whose st_shndx is e_shnum (7), with 64 bytes after the section header table whose sh_name names ".text": the hook names an unnamed symbol shstrtab + sechdrs[st_shndx].sh_name and prints "Invalid section 7 for symbol .text"`,
      object: objectFor(arch, {
        entry: 0n,
        // null, .text, .data, .rela.data, .symtab, .strtab, .shstrtab: e_shnum 7; ".text" is at 1 in .shstrtab
        sections: [
          { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
          { name: '.data', flags: WA, data: filler(8, 0x20), addralign: 8n },
        ],
        symbols: [{ name: '', section: 7, bind: STB_LOCAL }],
        relocations: [{ section: '.data', offset: 0n, type: p.abs64, symbol: '' }],
        tail: patch(new Uint8Array(64), [[0, enc(p.endian, 4, 1n)]]),
      }),
      // kexec-tools checks st_shndx > e_shnum and reads e_shdr[7], one past its array (kt-off-by-one-section-index).
      kexecTools: { kind: 'rejected', message: 'C loader would read e_shdr[7] (st_shndx (for a section symbol name)) past the 7-entry section array (undefined behaviour)' },
      kernel: { kind: 'rejected', message: `${pr}Invalid section 7 for symbol .text\n` },
      // s390x 5.10 returns -ENOEXEC without a message (and reads no name)
      ...(arch === 's390x' ? { kernelVersions: { '5.10': { kind: 'rejected', message: '' } } } : {}),
    };
  }),
  {
    name: 'symtab-link-shnum', arch: 'x86_64', spec: SPEC, covers: ['symbol:symtab-link-shnum-skipped'],
    note: 'a SHT_SYMTAB (.symtab.bad, one null symbol) before .symtab whose sh_link is e_shnum (7): kexec_purgatory_find_symbol skips it (sh_link >= e_shnum, kexec_file.c:881) before reading sechdrs[7], which is past the end of the file; no name the kexec-tools cases look up is defined (kexec-tools checks > and would read e_shdr[7])',
    object: objectFor('x86_64', {
      entry: 0n,
      // null, .text, .data, .symtab.bad, .symtab, .strtab, .shstrtab: e_shnum 7
      sections: [
        { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
        { name: '.data', flags: WA, data: filler(0x10, 0x20), addralign: 8n },
        { name: '.symtab.bad', type: SHT_SYMTAB, flags: 0n, data: new Uint8Array(24), entsize: 24n, link: 7, addralign: 8n },
      ],
    }),
    malformed: {
      why: 'kexec_purgatory_find_symbol skips a symbol table whose sh_link is e_shnum or more (>=); only such a table tells that from a check with >',
      // Ehdr 0x40; .text 0x40; .data 0x50; .symtab.bad 0x60 (0x18); .symtab 0x78 (0x18); .strtab 0x90 (1);
      // .shstrtab 0x91 ("\0.text\0.data\0.symtab.bad\0.symtab\0.strtab\0.shstrtab\0", 0x33): e_shoff 0xc8.
      defects: [{ field: 'section[3].sh_link', offset: shdrField(0xc8, 3, 40), value: '0x7', reason: 'symbol table sh_link is not a SHT_STRTAB' }],
    },
    kexecTools: { kind: 'ok', offsets: { '.text': 0n, '.data': 0x10n }, memsz: 0x20n, entry: 0n },
    kernel: { kind: 'ok', offsets: { '.text': 0n, '.data': 0x10n }, memsz: 0x1000n, entry: 0n },
  },
  {
    name: 'rela-symtab-link-shnum', arch: 'x86_64', spec: SPEC, covers: ['layout:reloc-symtab-link-shnum-skipped'],
    note: 'the symbol table of .rela.data is a section whose sh_link is e_shnum (9): kexec_apply_relocations skips that relocation section (symtab->sh_link >= e_shnum, kexec_file.c:1109) before the hook reads sechdrs[9], past the end of the file; .rela.text is applied (kexec-tools checks > and reads e_shdr[9])',
    object: objectFor('x86_64', {
      entry: 0n,
      // null, .text, .data, .notsymtab, .rela.text, .rela.data, .symtab, .strtab, .shstrtab: e_shnum 9
      sections: [
        { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
        { name: '.data', flags: WA, data: filler(0x8, 0x20), addralign: 8n },
        { name: '.notsymtab', flags: 0n, data: filler(0x18, 0x40), addralign: 8n, link: 9 },
      ],
      symbols: [{ name: 'absval', section: SHN_ABS, value: BIG }],
      relocations: [
        { section: '.text', offset: 0n, type: 1, symbol: 'absval' },
        { section: '.data', offset: 0n, type: 1, symbol: 'absval' },
      ],
      relOverrides: { '.data': { link: '.notsymtab' } },
    }),
    kexecTools: { kind: 'rejected', message: 'C loader would read e_shdr[9] (symtab sh_link) past the 9-entry section array (undefined behaviour)' },
    kernel: {
      kind: 'ok',
      bytes: [
        { section: '.text', offset: 0, bytes: le(8, BIG), why: '.rela.text applied' },
        { section: '.data', offset: 0, bytes: filler(0x8, 0x20), why: '.rela.data skipped (symtab->sh_link >= e_shnum: continue)' },
      ],
    },
  },
];
