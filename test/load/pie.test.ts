// The PIE load model (src/load/pie.ts): segment placement and zero-fill, every dynamic relocation
// type in both byte orders, rejections, symbols. Expected bits are worked out by hand from the
// psABIs (x86-64 psABI 4.4, 64-bit ELF V2 ABI / ELFv1 supplement 3.5.3: RELATIVE = B + A,
// ADDR64 = S + A, GLOB_DAT = S (x86_64) or S + A (ppc64), #lo/#hi/#ha/#higher/#highest); each test
// name says which rule it checks, and the arithmetic is in the comments.
import { describe, expect, it } from 'vitest';
import {
  DT_FLAGS, DT_NEEDED, DT_RELAENT, DT_RELR, EM_PPC64, EM_X86_64, ET_EXEC, PF_R, PF_W, PF_X, SHF_ALLOC, SHF_EXECINSTR,
  STB_LOCAL, STB_WEAK, STT_FUNC, STT_OBJECT,
} from '../../src/elf/constants.ts';
import { buildPie, pieMetadataAddress, type PieRelocationSpec, type PieSpec } from '../../src/elf/pie-writer.ts';
import { buildObject } from '../../src/elf/writer.ts';
import { R_X86_64 } from '../../src/arch/x86_64.ts';
import { R_PPC64 } from '../../src/arch/ppc64.ts';
import { makeProfile } from '../../src/load/profile.ts';
import { PIE_DYNAMIC, classifyPie, getPieAddr, getPieSymbol, layoutPie, loadPie } from '../../src/load/pie.ts';
import { x86_64 } from '../../src/arch/x86_64.ts';
import { ppc64 } from '../../src/arch/ppc64.ts';
import type { Endian, LoadedImage } from '../../src/types.ts';
import { enc, loadBytes, okImage, rejection, sectionAddr, type LoadOpts } from '../fixture.ts';

const X = R_X86_64;
const P = R_PPC64;
const pie = (o: LoadOpts = {}): LoadOpts => ({ profile: 'pie', ...o });

/** Bytes of the image at link-time address `vaddr` (the image starts at link-time address 0 here). */
const at = (img: LoadedImage, vaddr: number, n: number) => [...img.bytes.slice(vaddr, vaddr + n)];

// -------------------------------------------------------------------------------------------
// The standard x86_64 PIE:
//   .text  vaddr 0x0     0x40 bytes 0xcc  R-X  align 0x1000
//   .data  vaddr 0x2000  0x40 bytes 0x11  RW-  memsz 0x80 (0x40 bytes of bss) align 0x1000
//   metadata (.dynsym .dynstr .hash .rela.dyn .dynamic) at 0x3000
// Dynamic symbols: 1 fn (.text+0x10), 2 var (0x2008), 3 wundef (weak, undefined), 4 gundef
// (global, undefined), 5 absv (SHN_ABS 0x1234). Base 0x100000 (already 0x1000-aligned): B = 0x100000.
function x86Pie(relocations: PieRelocationSpec[], extra: Partial<PieSpec> = {}): Uint8Array {
  return buildPie({
    endian: 'little', machine: EM_X86_64, entry: 0x10n,
    segments: [
      { name: '.text', vaddr: 0n, data: new Uint8Array(0x40).fill(0xcc), flags: PF_R | PF_X, align: 0x1000n },
      { name: '.data', vaddr: 0x2000n, data: new Uint8Array(0x40).fill(0x11), memsz: 0x80n, flags: PF_R | PF_W, align: 0x1000n },
    ],
    dynsyms: [
      { name: 'fn', value: 0x10n, type: STT_FUNC },
      { name: 'var', value: 0x2008n, type: STT_OBJECT, size: 8n },
      { name: 'wundef', value: 0n, bind: STB_WEAK, section: 'undef' },
      { name: 'gundef', value: 0n, section: 'undef' },
      { name: 'absv', value: 0x1234n, section: 'abs' },
    ],
    symbols: [
      { name: 'fn', value: 0x10n, type: STT_FUNC, size: 0x30n },
      { name: 'var', value: 0x2008n, type: STT_OBJECT, size: 8n },
      { name: 'bssvar', value: 0x2040n, type: STT_OBJECT, size: 8n },
      { name: 'lvar', value: 0x2000n, type: STT_OBJECT, size: 8n, bind: STB_LOCAL },
    ],
    relocations,
    ...extra,
  });
}

describe('PIE layout: segments at B + p_vaddr, zero-fill to p_memsz', () => {
  it('base aligned up to the largest p_align; image = [min p_vaddr, max p_vaddr + p_memsz)', () => {
    const spec: PieSpec = {
      endian: 'little', machine: EM_X86_64, entry: 0x24n,
      segments: [
        { name: '.text', vaddr: 0n, data: new Uint8Array(0x40).fill(0xcc), flags: PF_R | PF_X, align: 0x1000n },
        { name: '.data', vaddr: 0x10000n, data: new Uint8Array(0x20).fill(0x11), memsz: 0x60n, flags: PF_R | PF_W, align: 0x10000n },
      ],
    };
    const img = okImage(loadBytes(buildPie(spec), pie({ base: 0x123456n, fill: 0xaa })));
    // 0x123456 aligned up to 0x10000 = 0x130000.
    expect(img.base).toBe(0x130000n);
    expect(img.entry).toBe(0x130024n);
    // Span: metadata segment at 0x11000 (first page after 0x10060) is the last PT_LOAD.
    const meta = pieMetadataAddress(spec);
    expect(meta).toBe(0x11000n);
    expect(img.memsz).toBe(BigInt(img.bytes.length));
    expect(img.bytes.length).toBeGreaterThan(0x11000);
    expect(at(img, 0, 0x40)).toEqual(new Array(0x40).fill(0xcc));
    // The gap between segments belongs to no segment: it keeps the fill byte.
    expect(at(img, 0x40, 0x10)).toEqual(new Array(0x10).fill(0xaa));
    expect(at(img, 0xfff0, 0x10)).toEqual(new Array(0x10).fill(0xaa));
    expect(at(img, 0x10000, 0x20)).toEqual(new Array(0x20).fill(0x11));
    // [p_filesz, p_memsz) is zero even with a non-zero fill byte.
    expect(at(img, 0x10020, 0x40)).toEqual(new Array(0x40).fill(0));
    expect(sectionAddr(img, '.data')).toBe(0x140000n);
    expect(sectionAddr(img, '.data.bss')).toBe(0x140020n);
    expect(img.sections.find((s) => s.name === '.data.bss')!.nobits).toBe(true);
  });

  it('layoutPie is pure: bias, start, size, entry, per-segment image offsets', () => {
    const l = layoutPie([
      { index: 2, vaddr: 0x1000n, filesz: 0x10n, memsz: 0x10n, align: 0x1000n, flags: PF_R | PF_X },
      { index: 3, vaddr: 0x5000n, filesz: 0x8n, memsz: 0x100n, align: 0x4000n, flags: PF_R | PF_W },
    ], 0x1004n, 0x7001n);
    // B = align(0x7001, 0x4000) = 0x8000; start = B + 0x1000; size = 0x5100 - 0x1000.
    expect(l).toMatchObject({ bias: 0x8000n, start: 0x9000n, size: 0x4100n, entry: 0x9004n });
    expect(l.segments.map((s) => [s.addr, s.imageOffset, s.writable])).toEqual([[0x9000n, 0, false], [0xd000n, 0x4000, true]]);
  });

  it('a segment of p_align 0 or 1 leaves the base as given', () => {
    const l = layoutPie([{ index: 0, vaddr: 0n, filesz: 4n, memsz: 4n, align: 0n, flags: PF_R }], 0n, 0x123457n);
    expect(l.bias).toBe(0x123457n);
  });
});

// -------------------------------------------------------------------------------------------
describe('x86_64 dynamic relocations (psABI, worked by hand; B = 0x100000)', () => {
  const load = (relocations: PieRelocationSpec[], o: LoadOpts = {}, extra: Partial<PieSpec> = {}) =>
    loadBytes(x86Pie(relocations, extra), pie({ base: 0x100000n, ...o }));

  it('R_X86_64_RELATIVE = B + A: 0x100000 + 0x20 = 0x100020', () => {
    const img = okImage(load([{ offset: 0x2010n, type: X.RELATIVE, addend: 0x20n }]));
    expect(at(img, 0x2010, 8)).toEqual(enc(8, 0x100020n, 'little'));
    expect(img.relocations[0]).toMatchObject({ typeName: 'R_X86_64_RELATIVE', address: 0x102010n, value: 0x100020n, imageOffset: 0x2010, width: 8 });
  });

  it('R_X86_64_64 = S + A: (B + 0x2008) + 4 = 0x10200c', () => {
    const img = okImage(load([{ offset: 0x2018n, type: X['64'], symbol: 'var', addend: 4n }]));
    expect(at(img, 0x2018, 8)).toEqual(enc(8, 0x10200cn, 'little'));
    expect(img.relocations[0]!.symbol).toBe('var');
  });

  it('R_X86_64_GLOB_DAT = S (the addend 0x55 is ignored): 0x102008', () => {
    const img = okImage(load([{ offset: 0x2020n, type: X.GLOB_DAT, symbol: 'var', addend: 0x55n }]));
    expect(at(img, 0x2020, 8)).toEqual(enc(8, 0x102008n, 'little'));
  });

  it('R_X86_64_32 = S + A, zero-extended 32 bits: 0x100010 + 2 = 0x100012', () => {
    const img = okImage(load([{ offset: 0x2028n, type: X['32'], symbol: 'fn', addend: 2n }]));
    expect(at(img, 0x2028, 4)).toEqual(enc(4, 0x100012n, 'little'));
  });

  it('R_X86_64_PC32 = S + A - P: 0x100010 - 4 - 0x10202c = -0x2020 = 0xffffdfe0', () => {
    const img = okImage(load([{ offset: 0x202cn, type: X.PC32, symbol: 'fn', addend: -4n }]));
    expect(at(img, 0x202c, 4)).toEqual([0xe0, 0xdf, 0xff, 0xff]);
  });

  it('R_X86_64_NONE writes nothing and is logged with width 0', () => {
    const img = okImage(load([{ offset: 0x2030n, type: X.NONE }]));
    expect(at(img, 0x2030, 8)).toEqual(new Array(8).fill(0x11));
    expect(img.relocations[0]).toMatchObject({ typeName: 'R_X86_64_NONE', width: 0, imageOffset: -1 });
  });

  it('weak undefined symbol resolves to 0 (S + A = 7); SHN_ABS is not biased (0x1234 + 1)', () => {
    const img = okImage(load([
      { offset: 0x2030n, type: X['64'], symbol: 'wundef', addend: 7n },
      { offset: 0x2038n, type: X['64'], symbol: 'absv', addend: 1n },
    ]));
    expect(at(img, 0x2030, 8)).toEqual(enc(8, 7n, 'little'));
    expect(at(img, 0x2038, 8)).toEqual(enc(8, 0x1235n, 'little'));
  });

  it('a relocation into the zero-filled part of a segment (bss) is applied', () => {
    const img = okImage(load([{ offset: 0x2078n, type: X.RELATIVE, addend: 0x10n }]));
    expect(at(img, 0x2078, 8)).toEqual(enc(8, 0x100010n, 'little'));
  });

  it('SHT_REL table: the implicit addend is the location (0x1111111111111111 + B)', () => {
    const img = okImage(load([{ offset: 0x2010n, type: X.RELATIVE }], {}, { rel: true }));
    expect(at(img, 0x2010, 8)).toEqual(enc(8, 0x1111111111211111n, 'little'));
  });

  it('text relocation accepted when DT_TEXTREL or DF_TEXTREL is set', () => {
    for (const textrel of ['DT_TEXTREL', 'DF_TEXTREL'] as const) {
      const img = okImage(load([{ offset: 0x8n, type: X.RELATIVE, addend: 0x2000n }], {}, { textrel }));
      expect(at(img, 8, 8)).toEqual(enc(8, 0x102000n, 'little'));
    }
  });

  describe('rejections', () => {
    it('R_X86_64_32 overflow above 4 GiB (B = 0x100000000: S + A = 0x100000012)', () => {
      const r = rejection(load([{ offset: 0x2028n, type: X['32'], symbol: 'fn', addend: 2n }], { base: 0x100000000n }));
      expect(r.code).toBe('overflow');
    });
    it('undefined global symbol', () => {
      const r = rejection(load([{ offset: 0x2010n, type: X['64'], symbol: 'gundef' }]));
      expect(r).toEqual({ code: 'undefined-symbol', message: 'Undefined symbol: gundef\n' });
    });
    it.each([
      ['R_X86_64_COPY', X.COPY], ['R_X86_64_JUMP_SLOT', X.JUMP_SLOT], ['R_X86_64_IRELATIVE', X.IRELATIVE],
      ['R_X86_64_DTPMOD64', X.DTPMOD64], ['R_X86_64_32S', X['32S']], ['R_X86_64_9999', 9999],
    ])('%s is not a dynamic relocation this loader applies: unknown-relocation', (name, type) => {
      const r = rejection(load([{ offset: 0x2010n, type, symbol: 'var' }]));
      expect(r.code).toBe('unknown-relocation');
      expect(r.message).toBe(`Unknown dynamic relocation: ${name} (${type}) in DT_RELA\n`);
    });
    it('write into a read-only segment without DT_TEXTREL/DF_TEXTREL: textrel-undeclared', () => {
      const r = rejection(load([{ offset: 0x8n, type: X.RELATIVE, addend: 0n }]));
      expect(r.code).toBe('textrel-undeclared');
    });
    it('location outside every PT_LOAD (0x5000), or straddling a segment end (0x207c + 8 > 0x2080): out-of-bounds', () => {
      expect(rejection(load([{ offset: 0x5000n, type: X.RELATIVE }])).code).toBe('out-of-bounds');
      expect(rejection(load([{ offset: 0x207cn, type: X.RELATIVE }])).code).toBe('out-of-bounds');
    });
    it('symbol index past DT_HASH nchain: bad-section-index', () => {
      expect(rejection(load([{ offset: 0x2010n, type: X['64'], symbol: 42 }])).code).toBe('bad-section-index');
    });
    it('SHT_REL with a partial-field type has no implicit addend: unsupported', () => {
      const elf = buildPie({
        endian: 'big', machine: EM_PPC64,
        segments: [{ name: '.data', vaddr: 0n, data: new Uint8Array(16), flags: PF_R | PF_W }],
        dynsyms: [{ name: 'v', value: 8n }], relocations: [{ offset: 2n, type: P.ADDR16_LO, symbol: 'v' }], rel: true,
      });
      expect(rejection(loadBytes(elf, pie())).code).toBe('unsupported');
    });
  });
});

// -------------------------------------------------------------------------------------------
// The standard ppc64 PIE, both byte orders:
//   .text vaddr 0x0 0x40 bytes (0x60000000 nops) R-X align 0x10000
//   .data vaddr 0x10000 0x40 bytes 0x11, memsz 0x80, RW- align 0x10000; metadata at 0x11000
// Dynamic symbols: 1 var (.data+8 = 0x10008). .symtab: var, .TOC. = 0x18000 (local).
// Base 0x123456 → B = 0x130000; S(var) = 0x140008.
function ppcPie(endian: Endian, relocations: PieRelocationSpec[], extra: Partial<PieSpec> = {}): Uint8Array {
  const text = new Uint8Array(0x40);
  for (let i = 0; i < 0x40; i += 4) text.set(enc(4, 0x60000000n, endian), i); // nop, in the file's byte order
  return buildPie({
    endian, machine: EM_PPC64, entry: 0n, eFlags: endian === 'little' ? 2 : 1,
    segments: [
      { name: '.text', vaddr: 0n, data: text, flags: PF_R | PF_X, align: 0x10000n },
      { name: '.data', vaddr: 0x10000n, data: new Uint8Array(0x40).fill(0x11), memsz: 0x80n, flags: PF_R | PF_W, align: 0x10000n },
    ],
    dynsyms: [{ name: 'var', value: 0x10008n, type: STT_OBJECT, size: 8n, section: '.data' }],
    symbols: [
      { name: 'var', value: 0x10008n, type: STT_OBJECT, size: 8n },
      { name: '.TOC.', value: 0x18000n, bind: STB_LOCAL, section: '.data' },
    ],
    relocations, textrel: 'DT_TEXTREL',
    ...extra,
  });
}

describe.each(['big', 'little'] as const)('ppc64 dynamic relocations, %s-endian (ELF ABI, worked by hand; B = 0x130000)', (endian) => {
  const load = (relocations: PieRelocationSpec[], o: LoadOpts = {}, extra: Partial<PieSpec> = {}) =>
    loadBytes(ppcPie(endian, relocations, extra), pie({ base: 0x123456n, ...o }));
  const e = (w: number, v: bigint) => enc(w, v, endian);

  it('R_PPC64_RELATIVE = B + A: 0x130000 + 0x20 = 0x130020', () => {
    const img = okImage(load([{ offset: 0x10010n, type: P.RELATIVE, addend: 0x20n }]));
    expect(at(img, 0x10010, 8)).toEqual(e(8, 0x130020n));
  });

  it('R_PPC64_ADDR64 = S + A: 0x140008 + 4 = 0x14000c', () => {
    const img = okImage(load([{ offset: 0x10018n, type: P.ADDR64, symbol: 'var', addend: 4n }]));
    expect(at(img, 0x10018, 8)).toEqual(e(8, 0x14000cn));
  });

  it('R_PPC64_UADDR64 at an unaligned location = S + A: 0x140008', () => {
    const img = okImage(load([{ offset: 0x10021n, type: P.UADDR64, symbol: 'var' }]));
    expect(at(img, 0x10021, 8)).toEqual(e(8, 0x140008n));
  });

  it('R_PPC64_GLOB_DAT = S + A (ppc64 keeps the addend): 0x140008 + 0x10 = 0x140018', () => {
    const img = okImage(load([{ offset: 0x10028n, type: P.GLOB_DAT, symbol: 'var', addend: 0x10n }]));
    expect(at(img, 0x10028, 8)).toEqual(e(8, 0x140018n));
  });

  it('R_PPC64_ADDR32 = S + A, 32 bits: 0x140008', () => {
    const img = okImage(load([{ offset: 0x10030n, type: P.ADDR32, symbol: 'var' }]));
    expect(at(img, 0x10030, 4)).toEqual(e(4, 0x140008n));
  });

  // S + A = 0x140008 + 0x8000 = 0x148008: #lo = 0x8008, #hi = 0x0014, #ha = (0x148008 + 0x8000) >> 16 = 0x15.
  it.each([
    ['R_PPC64_ADDR16_LO', P.ADDR16_LO, 0x8008n],
    ['R_PPC64_ADDR16_HI', P.ADDR16_HI, 0x0014n],
    ['R_PPC64_ADDR16_HA', P.ADDR16_HA, 0x0015n],
    ['R_PPC64_ADDR16_HIGHER', P.ADDR16_HIGHER, 0n],
    ['R_PPC64_ADDR16_HIGHEST', P.ADDR16_HIGHEST, 0n],
  ])('%s (text relocation) of S + A = 0x148008 writes the halfword by hand: %s', (_name, type, half) => {
    const img = okImage(load([{ offset: 0x12n, type, symbol: 'var', addend: 0x8000n }]));
    expect(at(img, 0x12, 2)).toEqual(e(2, half));
    // The other halfword of the instruction word is untouched (0x6000 / 0x0000 in store order).
    expect(at(img, 0x10, 2)).toEqual(endian === 'big' ? [0x60, 0] : [0, 0]);
  });

  it('R_PPC64_ADDR16_HIGHER/HIGHEST at B = 0x123456789abc0000: S = 0x123456789abd0008 → 0x5678, 0x1234', () => {
    const img = okImage(load([
      { offset: 0x12n, type: P.ADDR16_HIGHER, symbol: 'var' },
      { offset: 0x16n, type: P.ADDR16_HIGHEST, symbol: 'var' },
      { offset: 0x1an, type: P.ADDR16_LO, symbol: 'var' },
    ], { base: 0x123456789abc0000n }));
    expect(at(img, 0x12, 2)).toEqual(e(2, 0x5678n));
    expect(at(img, 0x16, 2)).toEqual(e(2, 0x1234n));
    expect(at(img, 0x1a, 2)).toEqual(e(2, 0x0008n));
  });

  it('R_PPC64_TOC = .TOC. after load: B + 0x18000 = 0x148000', () => {
    const img = okImage(load([{ offset: 0x10038n, type: P.TOC }]));
    expect(at(img, 0x10038, 8)).toEqual(e(8, 0x148000n));
  });

  it('R_PPC64_TOC without .TOC.: .got + 0x8000 (B + 0x20000 + 0x8000 = 0x158000)', () => {
    const elf = buildPie({
      endian, machine: EM_PPC64,
      segments: [
        { name: '.data', vaddr: 0x10000n, data: new Uint8Array(0x40), flags: PF_R | PF_W, align: 0x10000n },
        { name: '.got', vaddr: 0x20000n, data: new Uint8Array(8), flags: PF_R | PF_W, align: 0x10000n },
      ],
      relocations: [{ offset: 0x10000n, type: P.TOC }],
    });
    const img = okImage(loadBytes(elf, pie({ base: 0x123456n })));
    expect(at(img, 0, 8)).toEqual(e(8, 0x158000n)); // the image starts at link-time 0x10000
  });

  describe('rejections', () => {
    it('R_PPC64_ADDR16_HI checks its range (ABI, glibc rtld, lld): S + A = 0x80008008 at B = 0x7fff0000', () => {
      const r = rejection(load([{ offset: 0x12n, type: P.ADDR16_HI, symbol: 'var', addend: 0x8000n }], { base: 0x7fff0000n }));
      expect(r.code).toBe('overflow');
      expect(r.message).toContain('R_PPC64_ADDR16_HI out of range');
    });
    it('R_PPC64_ADDR16_HA: S + A + 0x8000 must fit int32 (0x7fff8000 + 0x8000 does not)', () => {
      // B = 0x7ffe0000: S = 0x7fff0008; A = 0x7ff8 → 0x7fff8000.
      const r = rejection(load([{ offset: 0x12n, type: P.ADDR16_HA, symbol: 'var', addend: 0x7ff8n }], { base: 0x7ffe0000n }));
      expect(r.code).toBe('overflow');
    });
    it.each([
      ['R_PPC64_JMP_SLOT', P.JMP_SLOT], ['R_PPC64_REL24', P.REL24], ['R_PPC64_TPREL64', P.TPREL64],
      ['R_PPC64_ADDR16_HIGHERA', P.ADDR16_HIGHERA], ['R_PPC64_IRELATIVE', P.IRELATIVE],
    ])('%s: unknown-relocation', (name, type) => {
      const r = rejection(load([{ offset: 0x10010n, type, symbol: 'var' }]));
      expect(r.code).toBe('unknown-relocation');
      expect(r.message).toBe(`Unknown dynamic relocation: ${name} (${type}) in DT_RELA\n`);
    });
    it('ADDR16 text relocation without DT_TEXTREL: textrel-undeclared', () => {
      const r = rejection(load([{ offset: 0x12n, type: P.ADDR16_LO, symbol: 'var' }], {}, { textrel: undefined }));
      expect(r.code).toBe('textrel-undeclared');
    });
    it('R_PPC64_TOC with neither .TOC. nor .got: no-toc-section', () => {
      const elf = buildPie({
        endian, machine: EM_PPC64,
        segments: [{ name: '.data', vaddr: 0n, data: new Uint8Array(16), flags: PF_R | PF_W }],
        relocations: [{ offset: 0n, type: P.TOC }],
      });
      expect(rejection(loadBytes(elf, pie())).code).toBe('no-toc-section');
    });
    it('the other byte order: wrong-machine (a ppc64 loader reads its own byte order)', () => {
      const other = endian === 'big' ? 'ppc64le' : 'ppc64';
      const r = rejection(loadBytes(ppcPie(endian, []), pie({ target: other })));
      expect(r.code).toBe('wrong-machine');
    });
  });
});

// -------------------------------------------------------------------------------------------
describe('PIE rejections before any relocation', () => {
  const x = (extra: Partial<PieSpec>) => loadBytes(x86Pie([], extra), pie());
  it('an ET_REL object: not-pie', () => {
    const elf = buildObject({ endian: 'little', machine: EM_X86_64, sections: [{ name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(4) }] });
    const r = rejection(loadBytes(elf, pie()));
    expect(r).toEqual({ code: 'not-pie', message: 'not a PIE: e_type 1 (ET_DYN is 3)\n' });
  });
  it('ET_EXEC: not-pie', () => expect(rejection(x({ type: ET_EXEC })).code).toBe('not-pie'));
  it('no PT_DYNAMIC: not-pie', () => expect(rejection(x({ omitPtDynamic: true })).code).toBe('not-pie'));
  it('wrong e_machine: wrong-machine', () => expect(rejection(loadBytes(x86Pie([]), pie({ target: 'ppc64le' }))).code).toBe('wrong-machine'));
  it('DT_RELAENT other than 24: elf-format', () => {
    const r = rejection(x({ editDynamic: (d) => d.map((e) => (e.tag === DT_RELAENT ? { ...e, val: 16n } : e)) }));
    expect(r.code).toBe('elf-format');
    expect(r.message).toContain('DT_RELAENT 0x10');
  });
  it('PT_DYNAMIC without DT_NULL: elf-format', () => {
    expect(rejection(x({ editDynamic: (d) => d.slice(0, -1) })).code).toBe('elf-format');
  });
  it('DT_NEEDED or DT_RELR: unsupported', () => {
    expect(rejection(x({ extraDynamic: [{ tag: DT_NEEDED, val: 1n }] })).code).toBe('unsupported');
    expect(rejection(x({ extraDynamic: [{ tag: DT_RELR, val: 0x3000n }] })).code).toBe('unsupported');
  });
  it('DT_FLAGS twice: elf-format', () => {
    expect(rejection(x({ extraDynamic: [{ tag: DT_FLAGS, val: 0n }, { tag: DT_FLAGS, val: 4n }] })).code).toBe('elf-format');
  });
  it('overlapping PT_LOAD segments: elf-format', () => {
    const elf = buildPie({
      endian: 'little', machine: EM_X86_64,
      segments: [{ vaddr: 0n, data: new Uint8Array(0x20) }, { vaddr: 0x10n, data: new Uint8Array(0x20) }],
    });
    expect(rejection(loadBytes(elf, pie())).code).toBe('elf-format');
  });
  it('a PT_LOAD whose file bytes run past the end: elf-format (from the ELF reader)', () => {
    const elf = x86Pie([]);
    const cut = elf.slice(0, 0x1010); // .text's file bytes start at 0x1000
    expect(rejection(loadBytes(cut, pie())).code).toBe('elf-format');
  });
  it('garbage: an Outcome, never an exception', () => {
    expect(loadBytes(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 9]), pie()).kind).toBe('rejected');
  });
});

// -------------------------------------------------------------------------------------------
describe('PIE symbols: set/get by name through .symtab, else the dynamic symbols', () => {
  it('set writes at B + st_value; get reads it back; the address includes the bias', () => {
    const bytes = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const img = okImage(loadBytes(x86Pie([]), pie({ base: 0x100000n, symbols: [{ name: 'var', bytes }] })));
    expect(at(img, 0x2008, 8)).toEqual([...bytes]);
    const { state } = loadPie(x86Pie([]), 0x100000n, makeProfile('pie', 'x86_64'), { symbols: [{ name: 'var', bytes }] });
    expect([...getPieSymbol(state, 'var', 8)]).toEqual([...bytes]);
    expect(getPieAddr(state, 'var')).toBe(0x102008n);
  });
  it('a symbol in the zero-filled part of a segment can be set (the image holds p_memsz)', () => {
    const img = okImage(loadBytes(x86Pie([]), pie({ symbols: [{ name: 'bssvar', bytes: new Uint8Array(8).fill(0x5a) }] })));
    expect(at(img, 0x2040, 8)).toEqual(new Array(8).fill(0x5a));
  });
  it('size mismatch, unknown name, and local symbols are refused as kexec-tools refuses them', () => {
    expect(rejection(loadBytes(x86Pie([]), pie({ symbols: [{ name: 'var', bytes: new Uint8Array(4) }] })))).toEqual({ code: 'symbol-size-mismatch', message: 'Symbol: var has size: 8 not 4\n' });
    expect(rejection(loadBytes(x86Pie([]), pie({ symbols: [{ name: 'nope', bytes: new Uint8Array(4) }] }))).code).toBe('symbol-not-found');
    expect(rejection(loadBytes(x86Pie([]), pie({ symbols: [{ name: 'lvar', bytes: new Uint8Array(8) }] }))).code).toBe('symbol-not-found');
  });
  it('without .symtab the dynamic symbols are searched', () => {
    const img = okImage(loadBytes(x86Pie([], { symbols: undefined }), pie({ symbols: [{ name: 'var', bytes: new Uint8Array(8).fill(9) }] })));
    expect(at(img, 0x2008, 8)).toEqual(new Array(8).fill(9));
  });
  it('without section headers: DT_SYMTAB walked as far as DT_HASH nchain', () => {
    const img = okImage(loadBytes(x86Pie([{ offset: 0x2010n, type: X.RELATIVE, addend: 1n }], { noSectionHeaders: true }), pie({ symbols: [{ name: 'var', bytes: new Uint8Array(8).fill(7) }] })));
    expect(at(img, 0x2008, 8)).toEqual(new Array(8).fill(7));
    expect(at(img, 0x2010, 8)).toEqual(enc(8, 0x100001n, 'little'));
    expect(img.sections).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------
describe('loads of one array share its parse (decoded relocations kept per parse)', () => {
  // .text 0x0 (0x40 bytes), .data 0x2000: 0x40 file bytes, memsz 0x2000 (so it can straddle 2^64).
  // RELATIVE at 0x2008 (addend 0x10) and at 0x3000 (addend 0x20, in .data's zero-filled part).
  const straddle = () => buildPie({
    endian: 'little', machine: EM_X86_64,
    segments: [
      { name: '.text', vaddr: 0n, data: new Uint8Array(0x40).fill(0xcc), flags: PF_R | PF_X },
      { name: '.data', vaddr: 0x2000n, data: new Uint8Array(0x40), memsz: 0x2000n, flags: PF_R | PF_W },
    ],
    relocations: [{ offset: 0x2008n, type: X.RELATIVE, addend: 0x10n }, { offset: 0x3000n, type: X.RELATIVE, addend: 0x20n }],
  });
  const TOP = 1n << 64n;
  it('B = 0x100000: B + A at both locations, on the first load and on a later one', () => {
    const elf = straddle();
    for (let i = 0; i < 2; i++) {
      const img = okImage(loadBytes(elf, pie({ base: 0x100000n })));
      expect(at(img, 0x2008, 8)).toEqual(enc(8, 0x100010n, 'little'));
      expect(at(img, 0x3000, 8)).toEqual(enc(8, 0x100020n, 'little'));
    }
  });
  it('B = 2^64 - 0x3000 (.data at [2^64 - 0x1000, 2^64 + 0x1000)): 0x2008 is relocated mod 2^64; 0x3000 lands at address 0, below .data as an integer: out-of-bounds, kept parse or not', () => {
    const elf = straddle();
    okImage(loadBytes(elf, pie({ base: 0x100000n }))); // the parse is kept from here on
    const B = TOP - 0x3000n;
    const want = { code: 'out-of-bounds', message: 'R_X86_64_RELATIVE at 0x3000 (+8) is outside every PT_LOAD segment\n' };
    expect(rejection(loadBytes(elf, pie({ base: B })))).toEqual(want);
    expect(rejection(loadBytes(elf.slice(), pie({ base: B })))).toEqual(want);
    // Without the second relocation the same base loads: 0x2008 gets B + 0x10 = 2^64 - 0x2ff0.
    const one = buildPie({
      endian: 'little', machine: EM_X86_64,
      segments: [{ name: '.data', vaddr: 0x2000n, data: new Uint8Array(0x40), memsz: 0x2000n, flags: PF_R | PF_W }],
      relocations: [{ offset: 0x2008n, type: X.RELATIVE, addend: 0x10n }],
    });
    okImage(loadBytes(one, pie({ base: 0x100000n })));
    const img = okImage(loadBytes(one, pie({ base: B })));
    expect(at(img, 0x8, 8)).toEqual(enc(8, TOP - 0x2ff0n, 'little')); // the image starts at .data (link-time 0x2000)
    expect(okImage(loadBytes(elf, pie({ base: 0x100000n }))).relocations.map((r) => r.value)).toEqual([0x100010n, 0x100020n]);
  });
  it('the relocation log read from a default load (replayed) equals the one recorded with log: true', () => {
    const elf = straddle();
    const replayed = okImage(loadBytes(elf, pie({ base: 0x200000n }))).relocations.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? `${v}` : v)));
    const recorded = okImage(loadBytes(elf, pie({ base: 0x200000n, log: true }))).relocations.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? `${v}` : v)));
    expect(replayed).toEqual(recorded);
    expect(replayed).toHaveLength(2);
    expect(okImage(loadBytes(elf, pie({ base: 0x200000n, log: false }))).relocations).toEqual([]);
  });
});

describe('classification table (one line per type; bits from the arch modules)', () => {
  it('every PIE type writes through a spec the arch module classifies under the pie profile', () => {
    for (const [arch, mod, target] of [['x86_64', x86_64, 'x86_64'], ['ppc64', ppc64, 'ppc64le']] as const) {
      const sem = makeProfile('pie', target).sem;
      for (const type of PIE_DYNAMIC[arch].keys()) {
        const c = classifyPie(mod, type, sem)!;
        expect(c.name).toBe(mod.typeName(type));
        if (c.kind.expr !== 'none') expect(c.spec).toBe(mod.classify(c.kind.via, sem));
      }
    }
  });
});
