// Coverage objects for kexec-tools' ppc64 machine_apply_elf_rel (kexec/arch/ppc64/kexec-elf-rel-ppc64.c),
// built for ppc64 (big-endian, ELFv1: no local entry offsets) and ppc64le (ELFv2: REL24 adds
// PPC64_LOCAL_ENTRY_OFFSET(st_other)). Stores are host-endian, so every expected halfword and word
// below is in the target's byte order. TOC-relative values are v = S + A - my_r2 with
// my_r2 = .toc's address + 0x8000 (the first .toc with a non-zero size, aligned to at least 256 by
// machine_verify_elf_rel); the objects pick A = v + 0x8000 against a symbol at the start of .toc,
// so v does not depend on the base. Absolute values come from SHN_ABS symbols.
import { SHN_ABS, SHN_UNDEF, STB_LOCAL, STT_FUNC } from '../../elf/constants.ts';
import { R_PPC64 } from '../../arch/ppc64.ts';
import type { ObjRelocation } from '../../elf/writer.ts';
import { ARCHES, AX, WA, enc, filler, objectFor, words, type CoverageSpec, type ExpectedBytes } from './spec.ts';

const SPEC = 'src/corpus/coverage/spec-ppc64.ts';
const R = R_PPC64;
const BL = 0x48000001; // bl .+0
const ADDIS_2_12 = 0x3c4c0000; // addis r2,r12,0
const ADDI_2_2 = 0x38420000; // addi r2,r2,0
const NOP = 0x60000000;

export function ppc64Specs(arch: 'ppc64' | 'ppc64le'): CoverageSpec[] {
  const e = ARCHES[arch].endian;
  const elfv2 = arch === 'ppc64le';
  const spec = (s: Omit<CoverageSpec, 'arch' | 'spec'>): CoverageSpec => ({ arch, spec: SPEC, ...s });
  const h16 = (v: bigint) => enc(e, 2, v);
  const w32 = (v: bigint) => enc(e, 4, v);
  /** The halfword at `off` of `bytes`, read in the target's byte order. */
  const half = (bytes: Uint8Array, off: number) => (e === 'big' ? (bytes[off]! << 8) | bytes[off + 1]! : bytes[off]! | (bytes[off + 1]! << 8));
  const rejected = (message: string) => ({ kind: 'rejected' as const, message });

  // ---- TOC-relative forms: .text 0x24, .data at 0x28, .toc forced to 256 → at 0x100, my_r2 = base + 0x8100.
  const tocText = filler(0x24, 0x13);
  const keep = (off: number, v: number) => BigInt((half(tocText, off) & 3) | (v & 0xfffc)); // DS forms keep bits 0-1
  const toc = (off: number, type: number, v: bigint): ObjRelocation => ({ section: '.text', offset: BigInt(off), type, symbol: 'tocbase', addend: v + 0x8000n });
  const tocBytes: ExpectedBytes[] = [
    { section: '.text', offset: 0x00, bytes: h16(0x7fffn), why: 'TOC16 v = 0x7fff, the largest that fits (v + 0x8000 <= 0xffff)' },
    { section: '.text', offset: 0x02, bytes: h16(0x8000n), why: 'TOC16 v = -0x8000, the smallest' },
    { section: '.text', offset: 0x04, bytes: h16(keep(0x04, 0x7ffc)), why: 'TOC16_DS v = 0x7ffc (largest aligned), bits 0-1 of the instruction kept' },
    { section: '.text', offset: 0x06, bytes: h16(keep(0x06, 0x8000)), why: 'TOC16_DS v = -0x8000' },
    { section: '.text', offset: 0x08, bytes: h16(0x2345n), why: 'TOC16_LO v = 0x12345: no range check, low 16 bits' },
    { section: '.text', offset: 0x0a, bytes: h16(keep(0x0a, 0x1234)), why: 'TOC16_LO_DS v = 0x1234, bits 0-1 kept' },
    { section: '.text', offset: 0x0c, bytes: h16(0x1234n), why: 'TOC16_HI v = 0x12345678: v >> 16' },
    { section: '.text', offset: 0x0e, bytes: h16(0xffffn), why: 'TOC16_HI v = -0x10000: (unsigned long)v >> 16, low 16 bits' },
    { section: '.text', offset: 0x10, bytes: h16(1n), why: 'TOC16_HA v = 0x17fff: low half 0x7fff, no carry' },
    { section: '.text', offset: 0x12, bytes: h16(2n), why: 'TOC16_HA v = 0x18000: low half 0x8000 carries' },
    { section: '.text', offset: 0x14, bytes: h16(0xffffn), why: 'TOC16_LO v = -1' },
    { section: '.text', offset: 0x16, bytes: h16(0xffffn), why: 'TOC16_HA v = -0x8001: (v + 0x8000) >> 16 = -1' },
    { section: '.text', offset: 0x18, bytes: h16(0n), why: 'TOC16_HA v = -0x8000: (v + 0x8000) >> 16 = 0' },
    { section: '.text', offset: 0x1a, bytes: h16(0x1234n), why: 'TOC16_HI v = 0x12348000: no carry (TOC16_HA would give 0x1235)' },
  ];

  const tocError = (name: string, type: number, v: bigint, message: string, covers: string[]): CoverageSpec => spec({
    name, covers, note: `${covers[0]} with v = ${v}`,
    object: objectFor(arch, {
      entry: 0n,
      sections: [
        { name: '.text', flags: AX, data: filler(0x10, 0x13), addralign: 16n },
        { name: '.toc', flags: WA, data: filler(0x10, 0x50), addralign: 8n },
      ],
      symbols: [{ name: 'tocbase', section: '.toc', bind: STB_LOCAL }],
      relocations: [{ section: '.text', offset: 2n, type, symbol: 'tocbase', addend: v + 0x8000n }],
    }),
    kexecTools: rejected(message),
  });

  // ---- REL24: .text of `bl` words, f at 0x40 (no local entry), g0..g7 at 0x60 with st_other = k << 5.
  const localEntry = (k: number) => (elfv2 ? BigInt(((1 << k) >> 2) << 2) : 0n);
  // The sites hold 0xffffffff (kexec-tools does not look at the opcode): every bit outside 2-25 must survive.
  const REL24_SITE = 0xffffffff;
  const bl = (v: bigint) => w32((BigInt(REL24_SITE) & ~0x03fffffcn & 0xffffffffn) | (BigInt.asUintN(64, v) & 0x03fffffcn));
  const rel24Bytes: ExpectedBytes[] = [
    { section: '.text', offset: 0x00, bytes: bl(0x1fffffcn), why: 'REL24 v = 0x1fffffc, the largest reachable: bits 2-25 replaced, the others kept' },
    { section: '.text', offset: 0x04, bytes: bl(-0x2000000n), why: 'REL24 v = -0x2000000, the smallest' },
    { section: '.text', offset: 0x08, bytes: bl(0x38n), why: 'REL24 f (0x40) - P (0x8)' },
    ...Array.from({ length: 8 }, (_, k): ExpectedBytes => {
      const off = 0x0c + 4 * k;
      const v = 0x60n + localEntry(k) - BigInt(off);
      return { section: '.text', offset: off, bytes: bl(v), why: `REL24 g${k} (0x60, st_other ${k} << 5${elfv2 ? `: local entry + ${localEntry(k)}` : ': ELFv1 build, no local entry'}) - P (0x${off.toString(16)})` };
    }),
  ];
  const rel24Error = (name: string, v: bigint, covers: string[]): CoverageSpec => spec({
    name, covers, note: `${covers[0]}: v = ${v}`,
    object: objectFor(arch, {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: words(e, BL, BL, BL, BL), addralign: 16n }],
      symbols: [{ name: 'f', section: '.text', value: 8n, bind: STB_LOCAL, type: STT_FUNC }],
      relocations: [{ section: '.text', offset: 0n, type: R.REL24, symbol: 'f', addend: v - 8n }],
    }),
    // die("REL24 %li out of range!\n", (long int)value)
    kexecTools: rejected(`REL24 ${v} out of range!\n`),
  });

  // ---- REL16_HA/LO (the ELFv2 global entry `addis 2,12,.TOC.-0b@ha; addi 2,2,.TOC.-0b@l`):
  // .text 0x20, .toc at 0x100, my_r2 = base + 0x8100; .TOC. is undefined (value 0).
  const r2 = (b: bigint) => b + 0x8100n;
  // Immediates with bits 0 and 15 set: the instruction checks look at the upper halfword only.
  const rel16Text = words(e, ADDIS_2_12 | 0x9235, ADDI_2_2 | 0xd679, ADDIS_2_12 | 0x9235, ADDI_2_2 | 0xd679, ADDIS_2_12 | 0x9235, ADDI_2_2 | 0xd679, NOP, NOP);

  const addr16: ExpectedBytes[] = [
    { section: '.data', offset: 0x00, bytes: h16(0x7fffn), why: 'ADDR16_LO 0x1122334455667fff' },
    { section: '.data', offset: 0x02, bytes: h16(0x5566n), why: 'ADDR16_HI: bits 16-31' },
    { section: '.data', offset: 0x04, bytes: h16(0x5566n), why: 'ADDR16_HA, low half 0x7fff: no carry' },
    { section: '.data', offset: 0x06, bytes: h16(0x5567n), why: 'ADDR16_HA 0x1122334455668000, low half 0x8000: carry' },
    { section: '.data', offset: 0x08, bytes: h16(0x3344n), why: 'ADDR16_HIGHER: bits 32-47' },
    { section: '.data', offset: 0x0a, bytes: h16(0x1122n), why: 'ADDR16_HIGHEST: bits 48-63' },
    { section: '.data', offset: 0x0c, bytes: h16(0n), why: 'ADDR16_HA 0xffff8000: the carry leaves 16 bits' },
    { section: '.data', offset: 0x0e, bytes: h16(0xffffn), why: 'ADDR16_HI 0xffff8000' },
    { section: '.data', offset: 0x10, bytes: w32(0x44332211n), why: 'ADDR32 0x8877665544332211: low 32 bits, no check' },
    { section: '.data', offset: 0x14, bytes: w32(0x55668010n), why: 'ADDR32 0x1122334455668000 + 0x10' },
    { section: '.data', offset: 0x18, bytes: enc(e, 8, 0x8877665544332211n), why: 'ADDR64' },
    { section: '.data', offset: 0x20, bytes: enc(e, 8, 0x8877665544332211n), why: 'REL64: kexec-tools writes S + A (not S + A - P)' },
    { section: '.data', offset: 0x28, bytes: h16(0x8001n), why: 'ADDR16_LO 0x1122334455668000 + 1' },
    { section: '.data', offset: 0x2a, bytes: h16(0x6655n), why: 'ADDR16_HIGHER 0x8877665544332211' },
    { section: '.data', offset: 0x2c, bytes: h16(0x8877n), why: 'ADDR16_HIGHEST 0x8877665544332211' },
    { section: '.data', offset: 0x2e, bytes: h16(0x5567n), why: 'ADDR16_HA 0x1122334455667fff + 1: the addend carries' },
    { section: '.data', offset: 0x30, bytes: h16(0x9abcn), why: 'ADDR16_HA 0xcdef9abc9abc7fff: bit 15 of the result set' },
    { section: '.data', offset: 0x32, bytes: h16(0x9abcn), why: 'ADDR16_HIGHER 0xcdef9abc9abc7fff: bit 15 of the result set' },
  ];
  const a16 = (off: number, type: number, symbol: string, addend = 0n): ObjRelocation => ({ section: '.data', offset: BigInt(off), type, symbol, addend });

  return [
    spec({
      name: 'addr16',
      covers: [
        'R_PPC64_ADDR16_LO', 'R_PPC64_ADDR16_HI', 'R_PPC64_ADDR16_HA', 'R_PPC64_ADDR16_HA:low-7fff', 'R_PPC64_ADDR16_HA:low-8000',
        'R_PPC64_ADDR16_HA:carry-out', 'R_PPC64_ADDR16_HIGHER', 'R_PPC64_ADDR16_HIGHEST', 'R_PPC64_ADDR32', 'R_PPC64_ADDR64', 'R_PPC64_REL64',
      ],
      note: 'the @l/@h/@ha/@higher/@highest forms and ADDR32/ADDR64/REL64 on SHN_ABS values, with @ha carries at low half 0x7fff/0x8000',
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: words(e, NOP, NOP, NOP, NOP), addralign: 16n },
          { name: '.data', flags: WA, data: filler(0x38, 0x21), addralign: 8n },
        ],
        symbols: [
          { name: 'v1', section: SHN_ABS, value: 0x1122334455667fffn },
          { name: 'v2', section: SHN_ABS, value: 0x1122334455668000n },
          { name: 'v3', section: SHN_ABS, value: 0xffff8000n },
          { name: 'big', section: SHN_ABS, value: 0x8877665544332211n },
          { name: 'v4', section: SHN_ABS, value: 0xcdef9abc9abc7fffn },
        ],
        relocations: [
          a16(0x00, R.ADDR16_LO, 'v1'), a16(0x02, R.ADDR16_HI, 'v1'), a16(0x04, R.ADDR16_HA, 'v1'), a16(0x06, R.ADDR16_HA, 'v2'),
          a16(0x08, R.ADDR16_HIGHER, 'v1'), a16(0x0a, R.ADDR16_HIGHEST, 'v1'), a16(0x0c, R.ADDR16_HA, 'v3'), a16(0x0e, R.ADDR16_HI, 'v3'),
          a16(0x10, R.ADDR32, 'big'), a16(0x18, R.ADDR64, 'big'), a16(0x20, R.REL64, 'big'),
          a16(0x28, R.ADDR16_LO, 'v2', 1n), a16(0x2a, R.ADDR16_HIGHER, 'big'), a16(0x2c, R.ADDR16_HIGHEST, 'big'), a16(0x2e, R.ADDR16_HA, 'v1', 1n),
          a16(0x30, R.ADDR16_HA, 'v4'), a16(0x32, R.ADDR16_HIGHER, 'v4'),
          // Last: a 4-byte store here must leave the ADDR64 result at 0x18 alone.
          a16(0x14, R.ADDR32, 'v2', 0x10n),
        ],
      }),
      kexecTools: { kind: 'ok', bytes: addr16 },
    }),
    spec({
      name: 'toc',
      covers: [
        'R_PPC64_TOC', 'R_PPC64_TOC16', 'R_PPC64_TOC16:max-fit', 'R_PPC64_TOC16:min-fit', 'R_PPC64_TOC16_DS', 'R_PPC64_TOC16_DS:max-fit',
        'R_PPC64_TOC16_DS:min-fit', 'R_PPC64_TOC16_LO', 'R_PPC64_TOC16_LO_DS', 'R_PPC64_TOC16_HI', 'R_PPC64_TOC16_HA',
        'R_PPC64_TOC16_HA:low-7fff', 'R_PPC64_TOC16_HA:low-8000', 'toc:align-256', 'toc:my-r2',
      ],
      note: 'every TOC-relative form at its limits; .toc (align 0x80) after 0x38 bytes lands at 0x100 (raised to 256), my_r2 = base + 0x8100',
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: tocText, addralign: 16n },
          { name: '.data', flags: WA, data: filler(0x10, 0x61), addralign: 8n },
          { name: '.toc', flags: WA, data: filler(0x10, 0x50), addralign: 0x80n },
        ],
        symbols: [{ name: 'tocbase', section: '.toc', bind: STB_LOCAL }],
        relocations: [
          toc(0x00, R.TOC16, 0x7fffn), toc(0x02, R.TOC16, -0x8000n), toc(0x04, R.TOC16_DS, 0x7ffcn), toc(0x06, R.TOC16_DS, -0x8000n),
          toc(0x08, R.TOC16_LO, 0x12345n), toc(0x0a, R.TOC16_LO_DS, 0x1234n), toc(0x0c, R.TOC16_HI, 0x12345678n), toc(0x0e, R.TOC16_HI, -0x10000n),
          toc(0x10, R.TOC16_HA, 0x17fffn), toc(0x12, R.TOC16_HA, 0x18000n), toc(0x14, R.TOC16_LO, -1n), toc(0x16, R.TOC16_HA, -0x8001n),
          toc(0x18, R.TOC16_HA, -0x8000n), toc(0x1a, R.TOC16_HI, 0x12348000n),
          { section: '.data', offset: 0n, type: R.TOC, symbol: 'tocbase' },
          { section: '.data', offset: 8n, type: R.ADDR64, symbol: 'tocbase' },
        ],
      }),
      kexecTools: {
        kind: 'ok', bytes: tocBytes,
        computed: [
          { section: '.data', offset: 0, width: 8, value: r2, why: 'R_PPC64_TOC writes my_r2 = .toc (0x100) + 0x8000' },
          { section: '.data', offset: 8, width: 8, value: (b) => b + 0x100n, why: '.toc at 0x100: sh_addralign 0x80 raised to 256' },
        ],
        offsets: { '.text': 0n, '.data': 0x28n, '.toc': 0x100n },
      },
    }),
    tocError('toc16-above', R.TOC16, 0x8000n, 'TOC16 relocation overflows (32768)\n', ['R_PPC64_TOC16:max-overflow']),
    tocError('toc16-below', R.TOC16, -0x8001n, 'TOC16 relocation overflows (18446744073709518847)\n', ['R_PPC64_TOC16:min-overflow']),
    tocError('toc16ds-above', R.TOC16_DS, 0x8000n, 'TOC16 relocation overflows (32768)\n', ['R_PPC64_TOC16_DS:max-overflow']),
    tocError('toc16ds-below', R.TOC16_DS, -0x8004n, 'TOC16 relocation overflows (18446744073709518844)\n', ['R_PPC64_TOC16_DS:min-overflow']),
    tocError('toc16ds-misaligned', R.TOC16_DS, 0x7ffen, 'bad TOC16 relocation (32766)\n', ['R_PPC64_TOC16_DS:misaligned']),
    tocError('toc16lods-misaligned', R.TOC16_LO_DS, 0x1001n, 'bad TOC16 relocation (4097)\n', ['R_PPC64_TOC16_LO_DS:misaligned']),
    spec({
      name: 'toc-missing',
      covers: ['toc:missing', 'toc:got-is-not-toc'],
      note: 'a TOC16 relocation with a .got but no .toc: my_r2() dies',
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: filler(0x10, 0x13), addralign: 16n },
          { name: '.got', flags: WA, data: filler(0x10, 0x50), addralign: 8n },
        ],
        symbols: [{ name: 'gotbase', section: '.got', bind: STB_LOCAL }],
        relocations: [{ section: '.text', offset: 2n, type: R.TOC16, symbol: 'gotbase', addend: 0x8000n }],
      }),
      kexecTools: rejected('TOC reloc without a toc section?'),
    }),
    spec({
      name: 'toc-two-sections',
      covers: ['toc:empty-toc-skipped', 'toc:align-above-256'],
      note: 'an empty .toc first, then a .toc aligned to 0x200 (kept, not lowered to 256) at 0x200: my_r2 = base + 0x8200',
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: filler(0x24, 0x13), addralign: 16n },
          { name: '.toc', flags: WA, data: new Uint8Array(0), addralign: 8n },
          { name: '.data', flags: WA, data: filler(0x10, 0x61), addralign: 8n },
          { name: '.toc', flags: WA, data: filler(0x10, 0x50), addralign: 0x200n }, // the name resolves to this one
        ],
        symbols: [{ name: 'tocbase', section: '.toc', bind: STB_LOCAL }],
        relocations: [
          { section: '.text', offset: 2n, type: R.TOC16, symbol: 'tocbase', addend: 0x8010n },
          { section: '.data', offset: 0n, type: R.TOC, symbol: 'tocbase' },
        ],
      }),
      kexecTools: {
        kind: 'ok',
        bytes: [{ section: '.text', offset: 2, bytes: h16(0x10n), why: 'TOC16: .toc + 0x8010 - my_r2 = 0x10' }],
        computed: [{ section: '.data', offset: 0, width: 8, value: (b) => b + 0x8200n, why: 'my_r2 from the second (non-empty) .toc at 0x200' }],
        offsets: { '.text': 0n, '.data': 0x28n },
      },
    }),
    spec({
      name: 'rel24',
      covers: ['R_PPC64_REL24', 'R_PPC64_REL24:max-fit', 'R_PPC64_REL24:min-fit', elfv2 ? 'R_PPC64_REL24:local-entry' : 'R_PPC64_REL24:elfv1-no-local-entry'],
      note: `REL24 at both ends of its range and to symbols with every st_other local-entry code (${elfv2 ? 'ELFv2: offsets 0,0,4,8,16,32,64,128' : 'ELFv1 build: ignored'})`,
      object: objectFor(arch, {
        entry: 0n,
        sections: [{ name: '.text', flags: AX, data: words(e, ...Array.from({ length: 0x20 }, () => REL24_SITE)), addralign: 16n }],
        symbols: [
          { name: 'f', section: '.text', value: 0x40n, bind: STB_LOCAL, type: STT_FUNC },
          ...Array.from({ length: 8 }, (_, k) => ({ name: `g${k}`, section: '.text', value: 0x60n, bind: STB_LOCAL, type: STT_FUNC, other: k << 5 })),
        ],
        relocations: [
          { section: '.text', offset: 0n, type: R.REL24, symbol: 'f', addend: 0x1fffffcn - 0x40n },
          { section: '.text', offset: 4n, type: R.REL24, symbol: 'f', addend: -0x2000000n - 0x40n + 4n },
          { section: '.text', offset: 8n, type: R.REL24, symbol: 'f' },
          ...Array.from({ length: 8 }, (_, k): ObjRelocation => ({ section: '.text', offset: BigInt(0x0c + 4 * k), type: R.REL24, symbol: `g${k}` })),
        ],
      }),
      kexecTools: { kind: 'ok', bytes: rel24Bytes },
    }),
    rel24Error('rel24-above', 0x2000000n, ['R_PPC64_REL24:max-overflow']),
    rel24Error('rel24-below', -0x2000004n, ['R_PPC64_REL24:min-overflow']),
    rel24Error('rel24-misaligned', 2n, ['R_PPC64_REL24:misaligned']),
    rel24Error('rel24-misaligned-1', 1n, ['R_PPC64_REL24:misaligned-bit0']),
    spec({
      name: 'pcrel-misc',
      covers: ['R_PPC64_REL32', 'R_PPC64_REL64:section', 'R_PPC64_ADDR32:truncated'],
      note: 'REL32 (kexec-tools subtracts the host pointer of the location), REL64 and ADDR32 of image addresses',
      object: objectFor(arch, {
        entry: 0n,
        sectionSymbols: true, // 1 .text, 2 .data
        sections: [
          { name: '.text', flags: AX, data: words(e, NOP, NOP, NOP, NOP), addralign: 16n },
          { name: '.data', flags: WA, data: filler(0x20, 0x21), addralign: 8n },
        ],
        symbols: [{ name: 'big', section: SHN_ABS, value: 0x8877665544332211n }],
        relocations: [
          { section: '.data', offset: 0n, type: R.REL64, symbol: 2, addend: 8n },
          { section: '.data', offset: 8n, type: R.REL32, symbol: 'big' },
          { section: '.data', offset: 0x10n, type: R.REL32, symbol: 2, addend: 0x10n },
          // After the REL32 at 0x10: a 4-byte store must leave it alone.
          { section: '.data', offset: 0xcn, type: R.ADDR32, symbol: 1, addend: 4n },
        ],
      }),
      kexecTools: {
        kind: 'ok',
        computed: [
          { section: '.data', offset: 0, width: 8, value: (b) => b + 0x10n + 8n, why: 'REL64 = S + A: .data (0x10) + 8' },
          { section: '.data', offset: 0xc, width: 4, value: (b) => b + 4n, why: 'ADDR32 .text + 4, truncated to 32 bits' },
        ],
      },
    }),
    spec({
      name: 'rel16',
      covers: ['R_PPC64_REL16_HA', 'R_PPC64_REL16_LO', 'R_PPC64_REL16_HA:no-carry', 'symbol:undef-toc', 'toc:align-255'],
      note: 'the global-entry rewrite: addis 2,12 becomes lis 2,(.TOC.+A+my_r2)>>16 (no @ha carry), addi 2,2 gets the low half; .TOC. undefined (0)',
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: rel16Text, addralign: 16n },
          { name: '.data1', flags: WA, data: filler(1, 0x70), addralign: 1n },
          // sh_addralign 255 (not a power of two) is raised to 256 like any value below it: at 0x100.
          { name: '.toc', flags: WA, data: filler(0x10, 0x50), addralign: 255n },
        ],
        symbols: [{ name: '.TOC.', section: SHN_UNDEF }],
        relocations: [
          { section: '.text', offset: 0n, type: R.REL16_HA, symbol: '.TOC.', addend: 0n },
          { section: '.text', offset: 4n, type: R.REL16_LO, symbol: '.TOC.', addend: 4n },
          { section: '.text', offset: 8n, type: R.REL16_HA, symbol: '.TOC.', addend: -0x101n },
          { section: '.text', offset: 0xcn, type: R.REL16_LO, symbol: '.TOC.', addend: -0x101n + 4n },
          { section: '.text', offset: 0x10n, type: R.REL16_HA, symbol: '.TOC.', addend: 0x80010000n },
          { section: '.text', offset: 0x14n, type: R.REL16_LO, symbol: '.TOC.', addend: 0x80010000n + 4n },
        ],
      }),
      kexecTools: {
        kind: 'ok',
        computed: [
          { section: '.text', offset: 0, width: 4, value: (b) => 0x3c400000n + ((r2(b) >> 16n) & 0xffffn), why: 'lis 2,(0 + my_r2) >> 16' },
          { section: '.text', offset: 4, width: 2, value: (b) => r2(b) & 0xffffn, why: 'halfword at the location: 4 + my_r2 - 4' },
          { section: '.text', offset: 8, width: 4, value: (b) => 0x3c400000n + (((r2(b) - 0x101n) >> 16n) & 0xffffn), why: 'lis 2,(my_r2 - 0x101) >> 16' },
          { section: '.text', offset: 0xc, width: 2, value: (b) => (r2(b) - 0x101n) & 0xffffn, why: 'my_r2 - 0x101 + 4 - 4, low half' },
          { section: '.text', offset: 0x10, width: 4, value: (b) => 0x3c400000n + (((r2(b) + 0x80010000n) >> 16n) & 0xffffn), why: 'lis 2,(my_r2 + 0x80010000) >> 16: an odd immediate with bit 15 set' },
          { section: '.text', offset: 0x14, width: 2, value: (b) => (r2(b) + 0x80010000n) & 0xffffn, why: 'low half' },
        ],
      },
    }),
    ...([['rel16ha-bad-insn', 0xbc4c0000, 'bit 31 set'], ['rel16ha-bad-insn-2', 0x3c4d0000, 'addis 2,13']] as const).map(([name, word, what]) => spec({
      name,
      covers: ['R_PPC64_REL16_HA:unexpected-instruction'],
      note: `REL16_HA on 0x${word.toString(16)} (${what}), not addis 2,12`,
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: words(e, word, ADDI_2_2, NOP, NOP), addralign: 16n },
          { name: '.toc', flags: WA, data: filler(0x10, 0x50), addralign: 8n },
        ],
        symbols: [{ name: '.TOC.', section: SHN_UNDEF }],
        relocations: [{ section: '.text', offset: 0n, type: R.REL16_HA, symbol: '.TOC.' }],
      }),
      kexecTools: rejected('Unexpected instruction for  R_PPC64_REL16_HA'),
    })),
    ...([['rel16lo-bad-insn', 0x38430000, 'addi 2,3'], ['rel16lo-bad-insn-2', 0xb8420000, 'bit 31 set']] as const).map(([name, word, what]) => spec({
      name,
      covers: ['R_PPC64_REL16_LO:unexpected-instruction'],
      note: `REL16_LO on 0x${word.toString(16)} (${what}), not addi 2,2, after a good REL16_HA`,
      object: objectFor(arch, {
        entry: 0n,
        sections: [
          { name: '.text', flags: AX, data: words(e, ADDIS_2_12, word, NOP, NOP), addralign: 16n },
          { name: '.toc', flags: WA, data: filler(0x10, 0x50), addralign: 8n },
        ],
        symbols: [{ name: '.TOC.', section: SHN_UNDEF }],
        relocations: [
          { section: '.text', offset: 0n, type: R.REL16_HA, symbol: '.TOC.' },
          { section: '.text', offset: 4n, type: R.REL16_LO, symbol: '.TOC.', addend: 4n },
        ],
      }),
      kexecTools: rejected('Unexpected instruction for R_PPC64_REL16_LO'),
    })),
    spec({
      name: 'foreign-machine',
      covers: ['error:wrong-machine'],
      note: `an EM_X86_64 object fed to the ${arch} loaders: machine_verify_elf_rel refuses it`,
      object: objectFor('x86_64', {
        entry: 0n,
        sections: [{ name: '.text', flags: AX, data: filler(0x10, elfv2 ? 0x52 : 0x51), addralign: 16n }],
      }),
      kexecTools: rejected('ELF rel parse failed\n'),
    }),
    spec({
      name: 'elfclass32',
      covers: ['error:wrong-class'],
      note: `an ELFCLASS32 EM_PPC64 object fed to the ${arch} loaders: machine_verify_elf_rel accepts ELFCLASS64 only`,
      object: {
        ...objectFor(arch, {
          entry: 0n,
          sections: [{ name: '.text', flags: AX, data: words(e, NOP, NOP, NOP, NOP), addralign: 16n }],
          symbols: [{ name: 'v', section: SHN_ABS, value: 0x100n }],
          relocations: [{ section: '.text', offset: 0n, type: R.ADDR32, symbol: 'v' }],
        }),
        is64: false,
      },
      kexecTools: rejected('ELF rel parse failed\n'),
    }),
    spec({
      name: 'unknown-2',
      covers: ['error:unknown-type'],
      note: 'R_PPC64_ADDR24 is not in the switch',
      object: objectFor(arch, {
        entry: 0n,
        sections: [{ name: '.text', flags: AX, data: words(e, NOP, NOP, NOP, NOP), addralign: 16n }],
        symbols: [{ name: 'v', section: SHN_ABS, value: 0x100n }],
        relocations: [{ section: '.text', offset: 0n, type: R.ADDR24, symbol: 'v' }],
      }),
      kexecTools: rejected('Unknown rela relocation: 2\n'),
    }),
  ];
}
