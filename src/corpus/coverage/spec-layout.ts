// Coverage objects for the generic loader, on every arch (the generic code is compiled into each
// target's loader): kexec-tools' elf_rel_load (kexec/kexec-elf-rel.c: entry section, footprint,
// bss padding, placement, the relocation loop's symbol resolution) and elf_rel_set_symbol, and the
// kernel's kexec_purgatory_setup_kbuf / kexec_purgatory_setup_sechdrs (kernel/kexec_file.c).
// Offsets below are relative to the image base and follow the C line by line:
//   bufsz = _ALIGN(bufsz, align) + sh_size over PROGBITS; bsssz likewise over NOBITS;
//   bss_pad = bss_align - (bufsz & (bss_align - 1)) when non-zero; rel_size = bufsz + bss_pad + bsssz.
import { SHN_ABS, SHN_COMMON, SHN_UNDEF, SHT_NOBITS, SHT_SYMTAB, STB_LOCAL, STT_FUNC, STT_OBJECT } from '../../elf/constants.ts';
import type { Arch } from '../../types.ts';
import { A, ARCHES, AX, WA, enc, filler, objectFor, type CoverageSpec, type Expectation } from './spec.ts';

const SPEC = 'src/corpus/coverage/spec-layout.ts';

/** An absolute symbol value with distinct bytes. */
const BIG = 0x1122334455667788n;

export function layoutSpecs(arch: Arch): CoverageSpec[] {
  const p = ARCHES[arch];
  const e = p.endian;
  const abs = p.abs64;
  const isX86 = arch === 'x86_64';
  const spec = (s: Omit<CoverageSpec, 'arch' | 'spec'>): CoverageSpec => ({ arch, spec: SPEC, ...s });
  // The kernel's x86_64 hook relocates like kexec-tools; the ppc64le kernel has no RELA hook.
  // Its memsz is page-rounded by kexec_add_buffer (kexec_file.c: kbuf->memsz = ALIGN(kbuf->memsz, PAGE_SIZE)).
  const kernelOf = (x: Expectation | undefined): Partial<Pick<CoverageSpec, 'kernel'>> =>
    isX86 && x ? { kernel: x.kind === 'ok' && x.memsz !== undefined ? { ...x, memsz: (x.memsz + 0xfffn) & ~0xfffn } : x } : {};
  const rejectedBoth = (kt: string, kernel: string) => ({ kexecTools: { kind: 'rejected' as const, message: kt }, ...kernelOf({ kind: 'rejected', message: kernel }) });
  const [n1, n2, n4, n8, nBig] = p.symbolNames as [string, string, string, string, string];
  /** .text, .data with one absolute relocation against the SHN_ABS absval, .rela.data's header fields overridden. */
  const badRelaHeader = (over: { info?: number; link?: number | string }) => objectFor(arch, {
    entry: 0n,
    sections: [
      { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
      { name: '.data', flags: WA, data: filler(0x8, 0x20), addralign: 8n },
    ],
    symbols: [{ name: 'absval', section: SHN_ABS, value: BIG }],
    relocations: [{ section: '.data', offset: 0n, type: abs, symbol: 'absval' }],
    relOverrides: { '.data': over },
  });

  const symbolKinds: Expectation = {
    kind: 'ok',
    bytes: [
      { section: '.data', offset: 0x00, bytes: enc(e, 8, BIG), why: `${p.abs64Name}: SHN_ABS, value = st_value (no section base)` },
      { section: '.data', offset: 0x08, bytes: enc(e, 8, BIG + 0x10n), why: 'SHN_ABS + 0x10: the addend is kept' },
      { section: '.data', offset: 0x10, bytes: enc(e, 8, 0n), why: 'SHN_ABS + (-st_value): a negative addend' },
    ],
    computed: [
      { section: '.data', offset: 0x18, width: 8, value: (b) => b + 0x58n, why: 'section symbol .data.b (at 0x58: .text 0x10, .data 0x48 at 0x10), no addend' },
      { section: '.data', offset: 0x20, width: 8, value: (b) => b + 0x58n + 0x24n, why: 'section symbol .data.b + 0x24' },
      { section: '.data', offset: 0x28, width: 8, value: (b) => b + 0x58n + 8n, why: 'local symbol at .data.b+8' },
      { section: '.data', offset: 0x30, width: 8, value: (b) => b + 0x80n + 0x10n + 4n, why: 'global in .bss (NOBITS at 0x80: bufsz 0x78, bss_pad 8) value 0x10, addend 4' },
      { section: '.data', offset: 0x38, width: 8, value: (b) => b + 4n, why: 'local function in .text at 4' },
      { section: '.data', offset: 0x40, width: 8, value: (b) => b + 0x80n, why: 'section symbol of .bss' },
    ],
    offsets: { '.text': 0n, '.data': 0x10n, '.data.b': 0x58n, '.bss': 0x80n },
    memsz: 0xa0n,
  };

  const specs: CoverageSpec[] = [
    spec({
      name: 'bss-padding',
      covers: ['layout:bss-padding', 'layout:nobits-several', 'layout:progbits-align-pad', 'layout:bss-align-max'],
      note: 'bufsz 0x21 (.text 0x13, .data at 0x18), bss_align 0x40: bss_pad 0x1f; .sbss0 at 0x40, .bss at 0x80, .sbss at 0xb0, rel_size 0xb5',
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: filler(0x13), addralign: 16n },
          { name: '.data', flags: WA, data: filler(9, 0x50), addralign: 8n },
          { name: '.sbss0', type: SHT_NOBITS, flags: WA, size: 3n, addralign: 4n },
          { name: '.bss', type: SHT_NOBITS, flags: WA, size: 0x2dn, addralign: 0x40n },
          { name: '.sbss', type: SHT_NOBITS, flags: WA, size: 5n, addralign: 8n },
        ],
      }),
      // bsssz: .sbss0 0..3, .bss 0x40..0x6d, .sbss 0x70..0x75 → 0x75; bss_pad 0x40 - 0x21 = 0x1f; rel_size 0x21 + 0x1f + 0x75.
      kexecTools: { kind: 'ok', offsets: { '.text': 0n, '.data': 0x18n, '.sbss0': 0x40n, '.bss': 0x80n, '.sbss': 0xb0n }, memsz: 0xb5n, entry: 0n },
      // kernel: bufsz = ALIGN(0x21, 0x40) = 0x40, memsz = 0x40 + 0x75 (the padding is inside its buffer).
      ...kernelOf({ kind: 'ok', offsets: { '.text': 0n, '.data': 0x18n, '.sbss0': 0x40n, '.bss': 0x80n, '.sbss': 0xb0n }, memsz: 0xb5n, entry: 0n }),
    }),
    spec({
      name: 'align-one',
      covers: ['layout:align-one'],
      note: 'every section byte-aligned (sh_addralign 1): buf_align stays at its initial 1 (add_buffer then aligns to the page); .data right after .text at 0x13, rel_size 0x18',
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: filler(0x13), addralign: 1n },
          { name: '.data', flags: WA, data: filler(5, 0x50), addralign: 1n },
        ],
      }),
      kexecTools: { kind: 'ok', offsets: { '.text': 0n, '.data': 0x13n }, memsz: 0x18n, entry: 0n, bufAlign: 1n },
      ...kernelOf({ kind: 'ok', offsets: { '.text': 0n, '.data': 0x13n }, memsz: 0x18n, entry: 0n }),
    }),
    spec({
      name: 'bss-no-padding',
      covers: ['layout:bss-no-padding'],
      note: 'bufsz 0x40 is already bss-aligned (0x20): no padding, .bss at 0x40, rel_size 0x50',
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: filler(0x40), addralign: 16n },
          { name: '.bss', type: SHT_NOBITS, flags: WA, size: 0x10n, addralign: 0x20n },
        ],
      }),
      kexecTools: { kind: 'ok', offsets: { '.text': 0n, '.bss': 0x40n }, memsz: 0x50n, entry: 0n },
      ...kernelOf({ kind: 'ok', offsets: { '.text': 0n, '.bss': 0x40n }, memsz: 0x50n, entry: 0n }),
    }),
    spec({
      name: 'bss-align-above-page',
      covers: ['layout:bss-align-above-base', 'layout:bss-align-above-progbits'],
      note: 'a NOBITS alignment (128 KiB) above every PROGBITS one and above the page size: buf_align = bss_align, bss_pad 0x1fff0',
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
          { name: '.bss', type: SHT_NOBITS, flags: WA, size: 8n, addralign: 0x20000n },
        ],
      }),
      kexecTools: { kind: 'ok', offsets: { '.text': 0n, '.bss': 0x20000n }, memsz: 0x20008n, baseAlign: 0x20000n, entry: 0n },
      ...kernelOf({ kind: 'ok', offsets: { '.text': 0n, '.bss': 0x20000n }, memsz: 0x20008n, baseAlign: 0x20000n, entry: 0n }),
    }),
    spec({
      name: 'progbits-align-above-page',
      covers: ['layout:align-above-base', 'layout:align-above-bss'],
      note: 'a PROGBITS alignment (128 KiB) above the page size and above the bss alignment (0x10): the base is aligned to it',
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: filler(0x10), addralign: 0x20000n },
          { name: '.data', flags: WA, data: filler(8, 0x50), addralign: 8n },
          { name: '.bss', type: SHT_NOBITS, flags: WA, size: 8n, addralign: 0x10n },
        ],
      }),
      kexecTools: { kind: 'ok', offsets: { '.text': 0n, '.data': 0x10n, '.bss': 0x20n }, memsz: 0x28n, baseAlign: 0x20000n, entry: 0n },
      ...kernelOf({ kind: 'ok', offsets: { '.text': 0n, '.data': 0x10n, '.bss': 0x20n }, memsz: 0x28n, baseAlign: 0x20000n, entry: 0n }),
    }),
    spec({
      name: 'addralign-zero',
      covers: ['layout:addralign-zero-progbits', 'layout:addralign-zero-nobits'],
      note: 'sh_addralign 0 after odd-sized sections: kexec-tools (>= 2.0.24) treats it as 1; the kernel aligns with ALIGN(x, 0) = 0',
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: filler(0x13), addralign: 4n },
          { name: '.data0', flags: WA, data: filler(0x20, 0x60), addralign: 0n },
          { name: '.bss', type: SHT_NOBITS, flags: WA, size: 3n, addralign: 8n },
          { name: '.bss0', type: SHT_NOBITS, flags: WA, size: 5n, addralign: 0n },
        ],
      }),
      // bufsz 0x33, bss_align 8: pad 5; .bss at 0x38, .bss0 at 0x3b; rel_size 0x33 + 5 + 8.
      kexecTools: { kind: 'ok', offsets: { '.text': 0n, '.data0': 0x13n, '.bss': 0x38n, '.bss0': 0x3bn }, memsz: 0x40n, entry: 0n },
      // kernel: .data0 at ALIGN(0x13, 0) = 0 (over .text), bufsz ALIGN(0x20, 8) = 0x20, memsz 0x20 + 5.
      ...kernelOf({ kind: 'ok', offsets: { '.text': 0n, '.data0': 0n, '.bss': 0x20n }, memsz: 0x25n, entry: 0n }),
    }),
    spec({
      name: 'entry-section-end',
      covers: ['layout:entry-not-first-section', 'layout:entry-section-end-exclusive'],
      note: 'e_entry 0x20 is the end of .text.a (excluded) and inside .text.b: the entry is .text.b (at 0x20) + 0x20',
      object: objectFor(arch, {
        entry: 0x20n,
        sections: [
          { name: '.text.a', flags: AX, data: filler(0x20), addralign: 16n },
          { name: '.text.b', flags: AX, data: filler(0x40, 0x40), addralign: 16n },
        ],
      }),
      kexecTools: { kind: 'ok', offsets: { '.text.a': 0n, '.text.b': 0x20n }, memsz: 0x60n, entry: 0x40n },
      ...kernelOf({ kind: 'ok', offsets: { '.text.a': 0n, '.text.b': 0x20n }, memsz: 0x60n, entry: 0x40n }),
    }),
    spec({
      name: 'entry-section-start',
      covers: ['layout:entry-skip-nonalloc', 'layout:entry-skip-nonexec', 'layout:entry-section-start', 'layout:entry-first-match'],
      note: 'sections with addresses: e_entry 0x3000 is in a non-ALLOC exec section, an ALLOC data section, at the start of .text.b and inside .text.c: .text.b wins',
      object: objectFor(arch, {
        entry: 0x3000n,
        sections: [
          { name: '.exec_noalloc', flags: AX & ~A, data: filler(0x40, 0x11), addralign: 8n, addr: 0x3000n },
          { name: '.data', flags: WA, data: filler(0x40, 0x22), addralign: 8n, addr: 0x3000n },
          { name: '.text.a', flags: AX, data: filler(0x10, 0x33), addralign: 16n, addr: 0x2000n },
          { name: '.text.b', flags: AX, data: filler(0x30, 0x44), addralign: 16n, addr: 0x3000n },
          { name: '.text.c', flags: AX, data: filler(0x30, 0x55), addralign: 16n, addr: 0x3000n },
        ],
      }),
      kexecTools: { kind: 'ok', offsets: { '.data': 0n, '.text.a': 0x40n, '.text.b': 0x50n, '.text.c': 0x80n }, memsz: 0xb0n, entry: 0x50n },
      ...kernelOf({ kind: 'ok', offsets: { '.data': 0n, '.text.a': 0x40n, '.text.b': 0x50n, '.text.c': 0x80n }, memsz: 0xb0n, entry: 0x50n }),
    }),
    spec({
      name: 'entry-outside-exec',
      covers: ['layout:entry-outside-exec', 'layout:no-nobits-odd-bufsz'],
      note: 'e_entry 0x7080 lies only in an ALLOC non-exec section: no entry section, the entry stays e_entry',
      object: objectFor(arch, {
        entry: 0x7080n,
        sections: [
          { name: '.text', flags: AX, data: filler(0x40), addralign: 16n },
          { name: '.rodata', flags: A, data: filler(0xff, 0x66), addralign: 8n, addr: 0x7000n },
        ],
      }),
      // No NOBITS section: bss_align stays 1, so an odd bufsz (0x13f) gets no padding.
      kexecTools: { kind: 'ok', offsets: { '.text': 0n, '.rodata': 0x40n }, memsz: 0x13fn, entry: 0x7080n, entryAbsolute: true },
      ...kernelOf({ kind: 'ok', offsets: { '.text': 0n, '.rodata': 0x40n }, memsz: 0x13fn, entry: 0x7080n, entryAbsolute: true }),
    }),
    spec({
      name: 'purgatory-start',
      covers: ['kernel:purgatory-start', 'layout:entry-not-first-section'],
      note: 'purgatory_start in the first exec section (.text.ps at 0x1000, value 8); e_entry 4 is in .text (addr 0): kexec-tools uses e_entry, kernel 6.1+ purgatory_start',
      object: objectFor(arch, {
        entry: 4n,
        sections: [
          { name: '.text.ps', flags: AX, data: filler(0x40), addralign: 16n, addr: 0x1000n },
          { name: '.text', flags: AX, data: filler(0x20, 0x70), addralign: 16n },
        ],
        symbols: [{ name: 'purgatory_start', section: '.text.ps', value: 8n, type: STT_FUNC }],
      }),
      kexecTools: { kind: 'ok', offsets: { '.text.ps': 0n, '.text': 0x40n }, memsz: 0x60n, entry: 0x44n },
    }),
    spec({
      name: 'purgatory-start-nonexec',
      covers: ['kernel:purgatory-start-nonexec'],
      note: 'purgatory_start in a data section: the kernel falls back to e_entry (in .text at 0x10 + 4)',
      object: objectFor(arch, {
        entry: 4n,
        sections: [
          { name: '.data', flags: WA, data: filler(0x10, 0x10), addralign: 8n },
          { name: '.text', flags: AX, data: filler(0x20, 0x70), addralign: 16n },
        ],
        symbols: [{ name: 'purgatory_start', section: '.data', value: 8n, type: STT_FUNC }],
      }),
      kexecTools: { kind: 'ok', offsets: { '.data': 0n, '.text': 0x10n }, memsz: 0x30n, entry: 0x14n },
      ...kernelOf({ kind: 'ok', offsets: { '.data': 0n, '.text': 0x10n }, memsz: 0x30n, entry: 0x14n }),
    }),
    spec({
      name: 'purgatory-start-past-end',
      covers: ['kernel:purgatory-start-past-end'],
      note: 'purgatory_start at st_value == sh_size of its exec section: the kernel falls back to e_entry (.text at 0x40 + 4)',
      object: objectFor(arch, {
        entry: 4n,
        sections: [
          { name: '.text.ps', flags: AX, data: filler(0x40), addralign: 16n, addr: 0x1000n },
          { name: '.text', flags: AX, data: filler(0x20, 0x70), addralign: 16n },
        ],
        symbols: [{ name: 'purgatory_start', section: '.text.ps', value: 0x40n, type: STT_FUNC }],
      }),
      kexecTools: { kind: 'ok', offsets: { '.text.ps': 0n, '.text': 0x40n }, memsz: 0x60n, entry: 0x44n },
      ...kernelOf({ kind: 'ok', offsets: { '.text.ps': 0n, '.text': 0x40n }, memsz: 0x60n, entry: 0x44n }),
    }),
    spec({
      name: 'symbol-writes',
      covers: ['layout:symbol-write-local-skipped', 'layout:symbol-write-1', 'layout:symbol-write-2', 'layout:symbol-write-4', 'layout:symbol-write-8', 'layout:symbol-write-odd', 'layout:symbol-write-large'],
      note: `global data symbols the realistic cases write (${p.symbolNames.join(', ')}) with sizes 1, 2, 4, 8 and 0x233, at odd offsets of two sections`,
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
          { name: '.data', flags: WA, data: filler(0x40, 0x20), addralign: 8n },
          { name: '.data.big', flags: WA, data: filler(0x260, 0x30), addralign: 16n },
        ],
        symbols: [
          // A local of the same name and size first: elf_rel_find_symbol / the kernel take only STB_GLOBAL.
          { name: n1, section: '.data', value: 0x30n, size: 1n, type: STT_OBJECT, bind: STB_LOCAL },
          { name: n1, section: '.data', value: 3n, size: 1n, type: STT_OBJECT },
          { name: n2, section: '.data', value: 6n, size: 2n, type: STT_OBJECT },
          { name: n4, section: '.data', value: 0xcn, size: 4n, type: STT_OBJECT },
          { name: n8, section: '.data', value: 0x18n, size: 8n, type: STT_OBJECT },
          { name: nBig, section: '.data.big', value: 0x21n, size: 0x233n, type: STT_OBJECT },
        ],
      }),
      kexecTools: { kind: 'ok', offsets: { '.text': 0n, '.data': 0x10n, '.data.big': 0x50n }, memsz: 0x2b0n, entry: 0n },
      ...kernelOf({ kind: 'ok', offsets: { '.text': 0n, '.data': 0x10n, '.data.big': 0x50n }, memsz: 0x2b0n, entry: 0n }),
    }),
    spec({
      name: 'symtab-end',
      covers: ['symbol:table-end'],
      note: 'the .strtab bytes right after .symtab, read as one more Elf64_Sym, would be a global symbol (st_info = the 4th byte of the first name, 0x10) with a name offset far past any buffer: elf_rel_find_symbol stops at the end of the table (ptr < sym_end) and never reads it; a lookup that finds nothing scans the whole table',
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
          { name: '.data', flags: WA, data: filler(0x10, 0x20), addralign: 8n },
        ],
        symbols: [{ name: 'tab\x10end', section: '.data', value: 4n, size: 4n, type: STT_OBJECT }],
      }),
      kexecTools: { kind: 'ok', offsets: { '.text': 0n, '.data': 0x10n }, memsz: 0x20n, entry: 0n, bufAlign: 16n },
      ...kernelOf({ kind: 'ok', offsets: { '.text': 0n, '.data': 0x10n }, memsz: 0x20n, entry: 0n }),
    }),
    // Two symbol tables, the first with sh_link 0xffffffff (past e_shnum). elf_rel_find_symbol
    // skips a table whose sh_link > e_shnum (the kernel's kexec_purgatory_find_symbol: >=) and finds
    // the symbol in the second; without the skip it reads e_shdr[0xffffffff].sh_data, about 300 GB
    // past the section array. Every lookup (the realistic write, the probes, the missing-name probe)
    // walks the first table before the second.
    spec({
      name: 'symtab-bad-strtab-link',
      covers: ['symbol:symtab-bad-link-skipped'],
      note: `a SHT_SYMTAB (.symtab.bad, one null symbol) before the real .symtab, whose sh_link 0xffffffff is past e_shnum: symbol lookups skip it and find ${n8} in .symtab`,
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
          { name: '.data', flags: WA, data: filler(0x10, 0x20), addralign: 8n },
          // Sections: null, .text, .data, .symtab.bad, .symtab, .strtab, .shstrtab: e_shnum 7.
          { name: '.symtab.bad', type: SHT_SYMTAB, flags: 0n, data: new Uint8Array(24), entsize: 24n, link: 0xffffffff, addralign: 8n },
        ],
        symbols: [{ name: n8, section: '.data', value: 8n, size: 8n, type: STT_OBJECT }],
      }),
      malformed: {
        why: 'elf_rel_find_symbol (kexec-tools) and kexec_purgatory_find_symbol (kernel) skip a symbol table whose sh_link is past e_shnum; only such a table tells the skip from its absence',
        // The writer's layout: Elf64_Ehdr 0x40, .text 0x40, .data 0x50, .symtab.bad 0x60 (0x18),
        // .symtab 0x78 (null + one symbol, 0x30), .strtab 0xa8 ("\0" name "\0"), .shstrtab (51
        // bytes: "\0" and the six names .text .data .symtab.bad .symtab .strtab .shstrtab with
        // their NULs), e_shoff that rounded up to 8; section 3's sh_link at +40 in its Elf64_Shdr.
        defects: [{
          field: 'section[3].sh_link', offset: ((0xa8 + n8.length + 2 + 51 + 7) & ~7) + 3 * 64 + 40,
          value: '0xffffffff', reason: 'symbol table sh_link is not a SHT_STRTAB',
        }],
      },
      kexecTools: { kind: 'ok', offsets: { '.text': 0n, '.data': 0x10n }, memsz: 0x20n, entry: 0n, bufAlign: 16n },
      ...kernelOf({ kind: 'ok', offsets: { '.text': 0n, '.data': 0x10n }, memsz: 0x20n, entry: 0n }),
    }),
    // elf_rel_find_symbol takes the first STB_GLOBAL symbol of the name; the realistic cases ask
    // to write the first defined STT_OBJECT one outside NOBITS (cases.ts). An earlier global of the
    // same name that is undefined, in .bss or of another size makes the C loader refuse the write.
    ...([
      ['undef', 'Bad section index 0', { section: SHN_UNDEF }, 'error:symbol-write-undefined'],
      ['bss', 'in a bss section', { section: '.bss', size: 8n, type: STT_OBJECT }, 'error:symbol-write-nobits'],
      ['size', 'size: 4 not 8', { section: '.data', value: 0x10n, size: 4n, type: STT_FUNC }, 'error:symbol-write-size'],
    ] as const).map(([trap, what, first, cover]) => spec({
      kexecToolsWrites: { kind: 'rejected', message: `Symbol: ${n8} ${trap === 'bss' ? 'is ' : 'has '}${what}${trap === 'bss' ? ' cannot set' : ''}\n` },
      name: `symbol-write-${trap}-first`,
      covers: [cover],
      note: `a global ${n8} (${trap}) before the 8-byte data one the realistic case writes: kexec-tools finds the first and dies (${what})`,
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
          { name: '.data', flags: WA, data: filler(0x20, 0x20), addralign: 8n },
          { name: '.bss', type: SHT_NOBITS, flags: WA, size: 0x10n, addralign: 8n },
        ],
        symbols: [
          { name: n8, ...first },
          { name: n8, section: '.data', value: 8n, size: 8n, type: STT_OBJECT },
        ],
      }),
      kexecTools: { kind: 'ok', offsets: { '.text': 0n, '.data': 0x10n, '.bss': 0x30n }, memsz: 0x40n, entry: 0n },
      ...kernelOf({ kind: 'ok', offsets: { '.text': 0n, '.data': 0x10n, '.bss': 0x30n }, memsz: 0x40n, entry: 0n }),
    })),
    spec({
      name: 'symbol-kinds',
      covers: [p.abs64Name, 'symbol:abs', 'symbol:abs-addend', 'symbol:abs-negative-addend', 'symbol:section', 'symbol:section-addend', 'symbol:local', 'symbol:nobits'],
      note: 'the generic loop\'s value = st_value + sec_base + r_addend for SHN_ABS, section, local, NOBITS and function symbols',
      object: objectFor(arch, {
        entry: 0n,
        sectionSymbols: true, // 1 .text, 2 .data, 3 .data.b, 4 .bss
        sections: [
          { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
          { name: '.data', flags: WA, data: filler(0x48, 0x20), addralign: 8n },
          { name: '.data.b', flags: WA, data: filler(0x20, 0x40), addralign: 8n },
          { name: '.bss', type: SHT_NOBITS, flags: WA, size: 0x20n, addralign: 16n },
        ],
        symbols: [
          { name: 'absval', section: SHN_ABS, value: BIG },
          { name: 'dlocal', section: '.data.b', value: 8n, bind: STB_LOCAL, type: STT_OBJECT },
          { name: 'bvar', section: '.bss', value: 0x10n, type: STT_OBJECT },
          { name: 'tfn', section: '.text', value: 4n, bind: STB_LOCAL, type: STT_FUNC },
        ],
        relocations: [
          { section: '.data', offset: 0x00n, type: abs, symbol: 'absval' },
          { section: '.data', offset: 0x08n, type: abs, symbol: 'absval', addend: 0x10n },
          { section: '.data', offset: 0x10n, type: abs, symbol: 'absval', addend: -BIG },
          { section: '.data', offset: 0x18n, type: abs, symbol: 3 },
          { section: '.data', offset: 0x20n, type: abs, symbol: 3, addend: 0x24n },
          { section: '.data', offset: 0x28n, type: abs, symbol: 'dlocal' },
          { section: '.data', offset: 0x30n, type: abs, symbol: 'bvar', addend: 4n },
          { section: '.data', offset: 0x38n, type: abs, symbol: 'tfn' },
          { section: '.data', offset: 0x40n, type: abs, symbol: 4 },
        ],
      }),
      kexecTools: symbolKinds,
      ...kernelOf(symbolKinds),
    }),
    spec({
      name: 'symbol-undef-notype',
      covers: ['symbol:undef-notype', 'symbol:index-zero'],
      note: 'an undefined STT_NOTYPE symbol and symbol 0 resolve to 0 + r_addend in kexec-tools (STN_UNDEF rule); the kernel rejects every undefined symbol',
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
          { name: '.data', flags: WA, data: filler(0x10, 0x20), addralign: 8n },
        ],
        symbols: [{ name: 'ext', section: SHN_UNDEF }],
        relocations: [
          { section: '.data', offset: 0x0n, type: abs, symbol: 'ext', addend: 0x5678n },
          { section: '.data', offset: 0x8n, type: abs, symbol: 0, addend: 0x1234n },
        ],
      }),
      kexecTools: {
        kind: 'ok',
        bytes: [
          { section: '.data', offset: 0, bytes: enc(e, 8, 0x5678n), why: 'undefined NOTYPE: value 0 + 0x5678' },
          { section: '.data', offset: 8, bytes: enc(e, 8, 0x1234n), why: 'symbol 0: value 0 + 0x1234' },
        ],
      },
      ...kernelOf({ kind: 'rejected', message: 'kexec: Undefined symbol: ext\n' }),
    }),
    spec({
      name: 'symbol-undef-func',
      covers: ['error:undefined-symbol'],
      note: 'an undefined STT_FUNC symbol',
      object: objectFor(arch, {
        entry: 0n,
        sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }],
        symbols: [{ name: 'ext_fn', section: SHN_UNDEF, type: STT_FUNC }],
        relocations: [{ section: '.text', offset: 0n, type: abs, symbol: 'ext_fn' }],
      }),
      ...rejectedBoth('Undefined symbol: ext_fn\n', 'kexec: Undefined symbol: ext_fn\n'),
    }),
    spec({
      name: 'symbol-common',
      covers: ['error:common-symbol'],
      note: 'a SHN_COMMON symbol',
      object: objectFor(arch, {
        entry: 0n,
        sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }],
        symbols: [{ name: 'cbuf', section: SHN_COMMON, value: 8n, size: 8n, type: STT_OBJECT }],
        relocations: [{ section: '.text', offset: 0n, type: abs, symbol: 'cbuf' }],
      }),
      ...rejectedBoth("symbol: 'cbuf' in common section\n", "kexec: symbol 'cbuf' in common section\n"),
    }),
    spec({
      name: 'symbol-bad-shndx',
      covers: ['error:bad-section-index'],
      note: 'st_shndx 0xff00 (SHN_LORESERVE, above e_shnum)',
      object: objectFor(arch, {
        entry: 0n,
        sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }],
        symbols: [{ name: 'bad', section: 0xff00 }],
        relocations: [{ section: '.text', offset: 0n, type: abs, symbol: 'bad' }],
      }),
      ...rejectedBoth('Invalid section: 65280 for symbol bad\n', 'kexec: Invalid section 65280 for symbol bad\n'),
    }),
    spec({
      name: 'rel-and-rela',
      covers: ['reloc-section:rel', 'reloc-section:rela'],
      note: 'SHT_REL (kexec-tools: r_addend 0, the implicit addend in the location is ignored) beside SHT_RELA; the kernel has no REL hook',
      object: objectFor(arch, {
        entry: 0n,
        relSections: ['.data'],
        sections: [
          { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
          { name: '.data', flags: WA, data: filler(0x18, 0x20), addralign: 8n },
          { name: '.data2', flags: WA, data: filler(0x10, 0x40), addralign: 8n },
        ],
        symbols: [{ name: 'absval', section: SHN_ABS, value: BIG }],
        relocations: [
          { section: '.data', offset: 0x0n, type: abs, symbol: 'absval' },
          { section: '.data', offset: 0x10n, type: abs, symbol: 'absval' },
          { section: '.data2', offset: 0x8n, type: abs, symbol: 'absval', addend: 0x10n },
        ],
      }),
      kexecTools: {
        kind: 'ok',
        bytes: [
          { section: '.data', offset: 0x0, bytes: enc(e, 8, BIG), why: 'REL: S + 0 (elf_rel() sets no addend)' },
          { section: '.data', offset: 0x8, bytes: filler(0x18, 0x20).slice(8, 0x10), why: 'untouched between the REL sites (rel_size 16, not 24)' },
          { section: '.data', offset: 0x10, bytes: enc(e, 8, BIG), why: 'second REL entry' },
          { section: '.data2', offset: 0x8, bytes: enc(e, 8, BIG + 0x10n), why: 'RELA: S + A' },
        ],
      },
      ...kernelOf({ kind: 'rejected', message: 'kexec_file: REL relocation unsupported.\n' }),
    }),
    spec({
      name: 'rela-bad-info',
      covers: ['error:reloc-section-bad-info'],
      note: 'a relocation section whose sh_info (0x7fff) is above e_shnum: kexec-tools dies, the kernel returns -ENOEXEC',
      object: badRelaHeader({ info: 0x7fff }),
      kexecTools: { kind: 'rejected', message: 'Invalid section number\n' },
    }),
    // An index equal to e_shnum: the kernel's checks (>=) refuse it; kexec-tools' (>) let it through
    // and read e_shdr[e_shnum], one entry past the array (kt-off-by-one-section-index): undefined
    // behaviour, which the model refuses as out-of-bounds. Sections: null, .text, .data, .rela.data,
    // .symtab, .strtab, .shstrtab (buildObject): e_shnum 7.
    ...([
      ['rela-info-shnum', 'sh_info', { info: 7 }],
      ['rela-link-shnum', 'sh_link', { link: 7 }],
    ] as const).map(([name, field, over]) => spec({
      name,
      covers: [`error:reloc-section-${field === 'sh_info' ? 'info' : 'link'}-shnum`],
      note: `a relocation section whose ${field} is e_shnum (7): the kernel returns -ENOEXEC; kexec-tools reads e_shdr[7] past the array`,
      object: badRelaHeader(over),
      kexecTools: { kind: 'rejected', message: `C loader would read e_shdr[7] (${field}) past the 7-entry section array (undefined behaviour)` },
    })),
    spec({
      name: 'rela-bad-strtab-link',
      covers: ['layout:reloc-symtab-bad-link-skipped'],
      note: 'the symbol table of .rela.data is a section whose sh_link (0x7f) is above e_shnum: that relocation section is skipped, .rela.text is applied',
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
          { name: '.data', flags: WA, data: filler(0x8, 0x20), addralign: 8n },
          { name: '.notsymtab', flags: 0n, data: filler(0x18, 0x40), addralign: 8n, link: 0x7f },
        ],
        symbols: [{ name: 'absval', section: SHN_ABS, value: BIG }],
        relocations: [
          { section: '.text', offset: 0n, type: abs, symbol: 'absval' },
          { section: '.data', offset: 0n, type: abs, symbol: 'absval' },
        ],
        relOverrides: { '.data': { link: '.notsymtab' } },
      }),
      kexecTools: {
        kind: 'ok',
        bytes: [
          { section: '.text', offset: 0, bytes: enc(e, 8, BIG), why: '.rela.text applied' },
          { section: '.data', offset: 0, bytes: filler(0x8, 0x20), why: '.rela.data skipped (symtab->sh_link > e_shnum: continue)' },
        ],
      },
      ...kernelOf({
        kind: 'ok',
        bytes: [
          { section: '.text', offset: 0, bytes: enc(e, 8, BIG), why: '.rela.text applied' },
          { section: '.data', offset: 0, bytes: filler(0x8, 0x20), why: '.rela.data skipped (symtab->sh_link >= e_shnum: continue)' },
        ],
      }),
    }),
    spec({
      name: 'reloc-nonalloc-skipped',
      covers: ['layout:reloc-target-nonalloc'],
      note: 'relocations for a non-ALLOC section are skipped, even an unknown type; those for .data are applied',
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
          { name: '.data', flags: WA, data: filler(0x8, 0x20), addralign: 8n },
          { name: '.note.cov', flags: 0n, data: filler(0x10, 0x40), addralign: 8n },
        ],
        symbols: [{ name: 'absval', section: SHN_ABS, value: BIG }],
        relocations: [
          // A type neither loader handles (R_X86_64_GOTPCREL, R_PPC64_ADDR24): it would die if applied.
          { section: '.note.cov', offset: 0n, type: isX86 ? 9 : 2, symbol: 'absval' },
          { section: '.data', offset: 0n, type: abs, symbol: 'absval' },
        ],
      }),
      kexecTools: { kind: 'ok', bytes: [{ section: '.data', offset: 0, bytes: enc(e, 8, BIG), why: 'S + 0' }] },
      ...kernelOf({ kind: 'ok', bytes: [{ section: '.data', offset: 0, bytes: enc(e, 8, BIG), why: 'S + 0' }] }),
    }),
  ];
  return specs;
}
