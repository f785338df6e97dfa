// The kexec-tools load model: layout, rejections (every code, exact messages), symbols and the
// memory model's out-of-bounds cases. Expected values are worked out by hand from
// kexec/kexec-elf-rel.c (elf_rel_load, elf_rel_*_symbol) and kexec/kexec-elf.c (build_elf_info).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load } from '../../src/engine.ts';
import type { Outcome } from '../../src/types.ts';
import { DEFAULT_CORPUS } from '../../src/validate/validate.ts';
import type { ManifestEntry } from '../../src/corpus/manifest.ts';
import { realisticSymbols } from '../../src/validate/cases.ts';
import {
  EM_PPC64, EM_X86_64, ET_EXEC, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, SHN_COMMON, SHN_UNDEF, SHT_NOBITS,
  SHT_PROGBITS, STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FUNC, STT_OBJECT, STT_SECTION,
} from '../../src/elf/constants.ts';
import { buildObject, type ObjRelocation, type ObjSection, type ObjSymbol, type ObjectSpec } from '../../src/elf/writer.ts';
import { ElfFile } from '../../src/elf/reader.ts';
import { R_X86_64 } from '../../src/arch/x86_64.ts';
import { R_PPC64 } from '../../src/arch/ppc64.ts';
import { makeProfile } from '../../src/load/profile.ts';
import {
  PARSE_FAILED, alignedBase, applyLayout, getAddr, getSymbol, layoutKexecTools, loadKexecTools, parseKexecTools, relocateKexecTools,
  relocationTypesOf, shiftLayout, shiftable, type LayoutSection,
} from '../../src/load/kexec-tools.ts';
import { isLoadError, LoadError } from '../../src/errors.ts';
import {
  bytesOf, le, loadBytes, loadObject, okImage, patchShdr, rejection, rng, sectionAddr, sectionBytes, sectionIndex, std, type LoadOpts,
} from '../fixture.ts';

const R = R_X86_64;
const AX = SHF_ALLOC | SHF_EXECINSTR;
const WA = SHF_ALLOC | SHF_WRITE;


const x86 = makeProfile('kexec-tools', 'x86_64');
const reloc = (type: number, offset: bigint, symbol: string | number, addend = 0n, section = '.text'): ObjRelocation =>
  ({ section, offset, type, symbol, addend });

function setU16(elf: Uint8Array, off: number, v: number, little = true): Uint8Array {
  const b = elf.slice();
  new DataView(b.buffer).setUint16(off, v, little);
  return b;
}
function setU64(elf: Uint8Array, off: number, v: bigint, little = true): Uint8Array {
  const b = elf.slice();
  new DataView(b.buffer).setBigUint64(off, v, little);
  return b;
}

// -------------------------------------------------------------------------------------------
describe('layout (elf_rel_load)', () => {
  it('standard object: sections in header order, bss after bufsz + bss_pad', () => {
    const img = okImage(loadObject(std()));
    expect(img.base).toBe(0x100000n);
    expect(sectionAddr(img, '.text')).toBe(0x100000n);
    expect(sectionAddr(img, '.data')).toBe(0x100020n);
    expect(sectionAddr(img, '.bss')).toBe(0x100040n);
    expect(img.bytes.length).toBe(0x30);
    expect(img.memsz).toBe(0x30n + 0x10n + 0x40n);
  });

  it('footprint, alignment and bss_pad, worked by hand on five sections', () => {
    // .text 0x13 @16, .data 8 @8, .bss 0x100 @64 (NOBITS), .rodata 4 @4, .bss2 0x10 @16 (NOBITS).
    // bufsz: _ALIGN(0,16)+0x13 = 0x13; _ALIGN(0x13,8)+8 = 0x20; _ALIGN(0x20,4)+4 = 0x24.
    // bsssz: 0x100, then _ALIGN(0x100,16)+0x10 = 0x110. bss_align 64 → buf_align 64.
    // bss_pad = 64 - (0x24 & 63) = 0x1c. memsz = 0x24 + 0x1c + 0x110 = 0x150.
    // Base 0x100123 aligned to max(64, 4096) = 0x101000.
    const spec: ObjectSpec = {
      endian: 'little', machine: EM_X86_64,
      sections: [
        { name: '.text', flags: AX, data: new Uint8Array(0x13).fill(0x90), addralign: 16n },
        { name: '.data', flags: WA, data: new Uint8Array(8).fill(0x22), addralign: 8n },
        { name: '.bss', type: SHT_NOBITS, flags: WA, size: 0x100n, addralign: 64n },
        { name: '.rodata', flags: SHF_ALLOC, data: Uint8Array.from([1, 2, 3, 4]), addralign: 4n },
        { name: '.bss2', type: SHT_NOBITS, flags: WA, size: 0x10n, addralign: 16n },
      ],
    };
    const img = okImage(loadObject(spec, { base: 0x100123n, fill: 0xa5 }));
    expect(img.base).toBe(0x101000n);
    expect(img.memsz).toBe(0x150n);
    expect(img.bytes.length).toBe(0x24);
    expect(sectionAddr(img, '.text')).toBe(0x101000n);
    expect(sectionAddr(img, '.data')).toBe(0x101018n);
    expect(sectionAddr(img, '.rodata')).toBe(0x101020n);
    expect(sectionAddr(img, '.bss')).toBe(0x101040n);
    expect(sectionAddr(img, '.bss2')).toBe(0x101140n);
    // The fill byte appears in the inter-section padding (xmalloc'd buffer, never zeroed).
    expect([...img.bytes]).toEqual([
      ...new Array(0x13).fill(0x90), 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, ...new Array(8).fill(0x22), 1, 2, 3, 4,
    ]);
  });

  it('the pure layout function returns the same numbers', () => {
    const secs: LayoutSection[] = [
      { type: SHT_PROGBITS, flags: AX, addr: 0n, size: 0x13n, addralign: 16n },
      { type: SHT_PROGBITS, flags: WA, addr: 0n, size: 8n, addralign: 8n },
      { type: SHT_NOBITS, flags: WA, addr: 0n, size: 0x100n, addralign: 64n },
      { type: SHT_PROGBITS, flags: SHF_ALLOC, addr: 0n, size: 4n, addralign: 4n },
      { type: SHT_NOBITS, flags: WA, addr: 0n, size: 0x10n, addralign: 16n },
      { type: SHT_PROGBITS, flags: 0n, addr: 0x5555n, size: 0x99n, addralign: 1n },
    ];
    const l = layoutKexecTools(secs, 0n, 0x100123n, x86);
    expect(l).toMatchObject({ base: 0x101000n, bufsz: 0x24n, bssPad: 0x1cn, bsssz: 0x110n, memsz: 0x150n, bufAlign: 64n, bssAlign: 64n });
    expect(l.addr).toEqual([0x101000n, 0x101018n, 0x101040n, 0x101020n, 0x101140n, 0x5555n]);
    expect(l.imageOffset).toEqual([0, 0x18, -1, 0x20, -1, -1]);
    expect(l.entry).toBe(0x101000n); // e_entry 0 is inside .text (sh_addr 0, size 0x13)
  });

  it('no bss_pad when bufsz is already a multiple of bss_align', () => {
    const l = layoutKexecTools([
      { type: SHT_PROGBITS, flags: AX, addr: 0n, size: 0x40n, addralign: 16n },
      { type: SHT_NOBITS, flags: WA, addr: 0n, size: 8n, addralign: 32n },
    ], 0n, 0x100000n, x86);
    expect(l.bssPad).toBe(0n);
    expect(l.addr[1]).toBe(0x100040n);
  });

  it('placement follows header order, not alignment order (no sorting)', () => {
    const l = layoutKexecTools([
      { type: SHT_PROGBITS, flags: SHF_ALLOC, addr: 0n, size: 3n, addralign: 1n },
      { type: SHT_PROGBITS, flags: SHF_ALLOC, addr: 0n, size: 1n, addralign: 16n },
      { type: SHT_PROGBITS, flags: SHF_ALLOC, addr: 0n, size: 2n, addralign: 4n },
    ], 0n, 0x200000n, x86);
    expect(l.addr).toEqual([0x200000n, 0x200010n, 0x200014n]);
    expect(l.bufsz).toBe(0x16n);
  });

  it('base is aligned up to max(buf_align, getpagesize()): a 0x2000-aligned section moves base 0x101000 to 0x102000', () => {
    const l = layoutKexecTools([{ type: SHT_PROGBITS, flags: SHF_ALLOC, addr: 0n, size: 8n, addralign: 0x2000n }], 0n, 0x101000n, x86);
    expect(l.base).toBe(0x102000n);
    expect(l.bufAlign).toBe(0x2000n);
    const small = layoutKexecTools([{ type: SHT_PROGBITS, flags: SHF_ALLOC, addr: 0n, size: 8n, addralign: 8n }], 0n, 0x100008n, x86);
    expect(small.base).toBe(0x101000n);
  });

  it('bss alignment raises buf_align (if (buf_align < bss_align) buf_align = bss_align)', () => {
    const l = layoutKexecTools([
      { type: SHT_PROGBITS, flags: SHF_ALLOC, addr: 0n, size: 8n, addralign: 8n },
      { type: SHT_NOBITS, flags: WA, addr: 0n, size: 8n, addralign: 0x4000n },
    ], 0n, 0x101000n, x86);
    expect(l.bufAlign).toBe(0x4000n);
    expect(l.base).toBe(0x104000n);
    expect(l.bssPad).toBe(0x4000n - 8n);
    expect(l.addr[1]).toBe(0x108000n);
  });

  it('non-ALLOC sections keep their sh_addr and take no space', () => {
    const spec = std([], {}, []);
    spec.sections.push({ name: '.comment', flags: 0n, data: new Uint8Array(0x100), addr: 0x4321n });
    const img = okImage(loadObject(spec));
    expect(sectionAddr(img, '.comment')).toBe(0x4321n);
    expect(img.bytes.length).toBe(0x30);
  });

  describe('sh_addralign 0', () => {
    // A: size 0x10 align 8 (bytes 0xaa); B: size 0x20 align 0 (bytes 0xbb).
    const secs = (bSize = 0x20): ObjSection[] => [
      { name: '.a', flags: SHF_ALLOC, data: new Uint8Array(0x10).fill(0xaa), addralign: 8n },
      { name: '.b', flags: SHF_ALLOC, data: new Uint8Array(bSize).fill(0xbb), addralign: 0n },
    ];
    const obj = (bSize?: number): ObjectSpec => ({ endian: 'little', machine: EM_X86_64, sections: secs(bSize) });

    it('kexec-tools >= 2.0.24 (commit 2b78a27, get_section_addralign): 0 counts as 1 → bufsz 0x30, B at base+0x10', () => {
      for (const profile of ['kexec-tools-2.0.25', 'kexec-tools-2.0.29', 'kexec-tools-2.0.32']) {
        const img = okImage(loadObject(obj(), { profile }));
        expect(img.bytes.length).toBe(0x30);
        expect(sectionAddr(img, '.b')).toBe(0x100010n);
        expect([...img.bytes]).toEqual([...new Array(0x10).fill(0xaa), ...new Array(0x20).fill(0xbb)]);
      }
    });

    it('kexec-tools 2.0.20: _ALIGN(x, 0) == 0 resets bufsz (0x20) and places B at address 0, over A (base 0)', () => {
      const img = okImage(loadObject(obj(), { profile: 'kexec-tools-2.0.20', base: 0n }));
      expect(img.bytes.length).toBe(0x20);
      expect(sectionAddr(img, '.a')).toBe(0n);
      expect(sectionAddr(img, '.b')).toBe(0n);
      expect([...img.bytes]).toEqual(new Array(0x20).fill(0xbb));
    });

    it('kexec-tools 2.0.20 with a non-zero base: memcpy(buf + (0 - buf_addr), ...) is outside the buffer → out-of-bounds', () => {
      expect(rejection(loadObject(obj(), { profile: 'kexec-tools-2.0.20' })).code).toBe('out-of-bounds');
    });

    it('kexec-tools 2.0.20: an empty align-0 section last resets bufsz to _ALIGN(0x10, 0) + 0 = 0; copying .a into xmalloc(0) → out-of-bounds', () => {
      expect(layoutKexecTools([
        { type: SHT_PROGBITS, flags: SHF_ALLOC, addr: 0n, size: 0x10n, addralign: 8n },
        { type: SHT_PROGBITS, flags: SHF_ALLOC, addr: 0n, size: 0n, addralign: 0n },
      ], 0n, 0x100000n, makeProfile('kexec-tools-2.0.20', 'x86_64'))).toMatchObject({ bufsz: 0n, addr: [0x100000n, 0n] });
      expect(rejection(loadObject(obj(0), { profile: 'kexec-tools-2.0.20' })).code).toBe('out-of-bounds');
    });
  });

  describe('entry fix-up', () => {
    // .data (WA, sh_addr 0, size 0x40) contains e_entry but is not EXECINSTR; .text and .text2 both
    // contain it; the first ALLOC|EXECINSTR one wins. Placed: .data 0x100000, .text 0x100040, .text2 0x100060.
    const obj = (entry: bigint, textAddr = 0n): ObjectSpec => ({
      endian: 'little', machine: EM_X86_64, entry,
      sections: [
        { name: '.data', flags: WA, data: new Uint8Array(0x40), addralign: 16n },
        { name: '.text', flags: AX, data: new Uint8Array(0x20), addralign: 16n, addr: textAddr },
        { name: '.text2', flags: AX, data: new Uint8Array(0x20), addralign: 16n, addr: textAddr },
      ],
    });
    it('e_entry 0x10 → first ALLOC|EXECINSTR section containing it (.text at 0x100040) + 0x10', () => {
      expect(okImage(loadObject(obj(0x10n))).entry).toBe(0x100050n);
    });
    it('e_entry relative to a non-zero sh_addr: 0x1008 in .text [0x1000, 0x1020) → 0x100048', () => {
      expect(okImage(loadObject(obj(0x1008n, 0x1000n))).entry).toBe(0x100048n);
    });
    it('e_entry == sh_addr + sh_size is outside ((sh_addr + sh_size) > e_entry): left unchanged', () => {
      expect(okImage(loadObject(obj(0x20n))).entry).toBe(0x20n);
    });
    it('e_entry in no executable section is passed through unchanged', () => {
      expect(okImage(loadObject(obj(0x12345n))).entry).toBe(0x12345n);
    });
  });
});

// -------------------------------------------------------------------------------------------
describe('relocation placement and the C memory model', () => {
  it('r_offset past its section but inside the image silently overwrites the next section (as C)', () => {
    // .text is 0x20 bytes; .text+0x28 is .data+8 (var). R_X86_64_64 of absv = 0x1234.
    const img = okImage(loadObject(std([reloc(R['64'], 0x28n, 'absv')])));
    expect([...sectionBytes(img, '.data')]).toEqual([...new Array(8).fill(0x11), ...le(8, 0x1234n)]);
    expect(img.relocations[0]!.imageOffset).toBe(0x28);
  });
  it('r_offset past the image → out-of-bounds', () => {
    expect(rejection(loadObject(std([reloc(R['64'], 0x2cn, 'absv')]))).code).toBe('out-of-bounds'); // 0x2c + 8 > 0x30
    expect(rejection(loadObject(std([reloc(R['64'], 0xfffffffffffffff8n, 'absv')]))).code).toBe('out-of-bounds');
  });
  describe('a location past the image: which comes first, the die or the access?', () => {
    // kexec-elf-rel-ppc64.c computes my_r2(), runs do_relative_toc()'s checks and the REL24 range
    // check before it touches *location; REL16_HA/LO read the instruction first.
    // kexec-elf-rel-x86_64.c stores first (R_X86_64_32/32S check the stored word afterwards).
    const T = SHF_ALLOC | SHF_EXECINSTR;
    const ppc = (relocations: ObjRelocation[], toc = true): ObjectSpec => ({
      endian: 'little', machine: EM_PPC64, flags: 2,
      sections: [
        { name: '.text', flags: T, data: new Uint8Array(0x40), addralign: 4n },
        ...(toc ? [{ name: '.toc', flags: WA, data: new Uint8Array(8), addralign: 8n }] : []),
      ],
      symbols: [
        { name: 'far', section: SHN_ABS, value: 0x10000000n, type: STT_FUNC },
        { name: 'near', section: SHN_ABS, value: 0x4001000n, type: STT_FUNC },
        ...(toc ? [{ name: 't', section: '.toc' }] : []),
        { name: '.TOC.', section: SHN_UNDEF },
      ],
      relocations,
    });
    const past = 0x1000n; // the image is 0x108 bytes
    const at = (type: number, symbol: string, addend = 0n, toc = true) =>
      loadObject(ppc([{ section: '.text', offset: past, type, symbol, addend }], toc), { target: 'ppc64le', base: 0x4000000n });

    it('R_PPC64_REL24 out of range dies "REL24 ... out of range!" before the access', () => {
      // P = 0x4000000 + 0x1000; 0x10000000 - 0x4001000 = 0xbfff000 = 201322496.
      expect(rejection(at(R_PPC64.REL24, 'far'))).toEqual({ code: 'rel24-out-of-range', message: 'REL24 201322496 out of range!\n' });
    });
    it('R_PPC64_REL24 in range then touches the location → out-of-bounds', () => {
      expect(rejection(at(R_PPC64.REL24, 'near')).code).toBe('out-of-bounds');
    });
    it('R_PPC64_TOC16 overflow dies before the access', () => {
      expect(rejection(at(R_PPC64.TOC16, 't', 0x10000n))).toEqual({ code: 'toc16-overflow', message: 'TOC16 relocation overflows (32768)\n' });
    });
    it('R_PPC64_TOC16_DS misalignment dies before the access', () => {
      expect(rejection(at(R_PPC64.TOC16_DS, 't', 0x8001n)).code).toBe('toc16-misaligned');
    });
    it('R_PPC64_TOC without .toc: my_r2() dies before the store', () => {
      expect(rejection(at(R_PPC64.TOC, '.TOC.', 0n, false))).toEqual({ code: 'no-toc-section', message: 'TOC reloc without a toc section?' });
    });
    it('R_PPC64_REL16_HA reads the instruction first → out-of-bounds', () => {
      expect(rejection(at(R_PPC64.REL16_HA, '.TOC.')).code).toBe('out-of-bounds');
    });
    it('R_PPC64_ADDR64 just stores → out-of-bounds', () => {
      expect(rejection(at(R_PPC64.ADDR64, 'far')).code).toBe('out-of-bounds');
    });
    it('R_X86_64_32 stores before its overflow check → out-of-bounds, not overflow', () => {
      expect(rejection(loadObject(std([reloc(R['32'], 0x1000n, 'absv', 0xffffffffn)]))).code).toBe('out-of-bounds');
    });
  });

  it('the last fitting offset is accepted (0x28 + 8 == bufsz)', () => {
    expect(okImage(loadObject(std([reloc(R['64'], 0x28n, 'absv')])))).toBeTruthy();
  });
  it('a relocation in .bss writes into the file buffer (sh_data is never moved for NOBITS): image unchanged', () => {
    const img = okImage(loadObject(std([reloc(R['64'], 0n, 'absv', 0n, '.bss')])));
    expect([...img.bytes]).toEqual([...new Array(0x20).fill(0xcc), ...new Array(0x10).fill(0x11)]);
    expect(img.relocations[0]!.imageOffset).toBe(-1);
  });
  it('r_sym past the symbol table and the file → out-of-bounds', () => {
    expect(rejection(loadObject(std([reloc(R['64'], 0n, 0xffffff)]))).code).toBe('out-of-bounds');
  });
  it('value = S + sec_base + A carries twice out of the low word (u64): 0xffffffff + 0xfffff000 + 0xffffffff = 0x2ffffeffe', () => {
    // .text is the first section, at the page-aligned base 0xfffff000; st_value 0xffffffff, r_addend 0xffffffff.
    const spec = std([reloc(R['64'], 0n, 'far', 0xffffffffn)], {}, [{ name: 'far', section: '.text', value: 0xffffffffn, type: STT_FUNC, size: 0n }]);
    const img = okImage(loadObject(spec, { base: 0xfffff000n }));
    expect(sectionAddr(img, '.text')).toBe(0xfffff000n);
    expect([...sectionBytes(img, '.text').subarray(0, 8)]).toEqual([0xfe, 0xef, 0xff, 0xff, 0x02, 0, 0, 0]);
    expect(img.relocations[0]!.value).toBe(0x2ffffeffen);
  });
  it('r_sym 0 (STN_UNDEF, STT_NOTYPE) is allowed and resolves to 0: value = A', () => {
    const img = okImage(loadObject(std([reloc(R['64'], 0n, 0, 0x5678n)])));
    expect([...sectionBytes(img, '.text').subarray(0, 8)]).toEqual(le(8, 0x5678n));
  });
  it('an undefined STT_NOTYPE symbol resolves to 0 + A (the ppc64 .TOC. case)', () => {
    const spec = std([reloc(R['64'], 0n, 'ext', 8n)], {}, [{ name: 'ext', section: SHN_UNDEF }]);
    expect([...sectionBytes(okImage(loadObject(spec)), '.text').subarray(0, 8)]).toEqual(le(8, 8n));
  });
  it('SHN_ABS symbols have sec_base 0', () => {
    const img = okImage(loadObject(std([reloc(R['64'], 0n, 'absv', 1n)])));
    expect([...sectionBytes(img, '.text').subarray(0, 8)]).toEqual(le(8, 0x1235n));
  });
  it('relocations against a non-ALLOC section are skipped entirely (even unknown types)', () => {
    const spec = std([reloc(R.GOT32, 0n, 'fn', 0n, '.debug')]);
    spec.sections.push({ name: '.debug', flags: 0n, data: new Uint8Array(8) });
    expect(okImage(loadObject(spec)).relocations).toHaveLength(0);
  });
  it('a relocation section whose symtab has sh_link > e_shnum is silently skipped ("Invalid section number?")', () => {
    const elf = buildObject(std([reloc(R.GOT32, 0n, 'fn')]));
    const symtab = sectionIndex(elf, '.symtab');
    const shnum = new ElfFile(elf).sections.length;
    expect(okImage(loadBytes(patchShdr(elf, symtab, 'link', shnum + 1))).relocations).toHaveLength(0);
  });
  it('the section symbol name comes from .shstrtab (st_name 0 → e_shdr[st_shndx].sh_name)', () => {
    const spec = std([reloc(R['64'], 0n, 1)], { sectionSymbols: true });
    const img = okImage(loadObject(spec));
    expect(img.relocations[0]!.symbol).toBe('.text');
    expect([...sectionBytes(img, '.text').subarray(0, 8)]).toEqual(le(8, 0x100000n));
  });
  it('fill byte 0 and 0xff: padding only, section bytes copied over it', () => {
    const spec: ObjectSpec = {
      endian: 'little', machine: EM_X86_64,
      sections: [
        { name: '.a', flags: SHF_ALLOC, data: Uint8Array.from([1]), addralign: 1n },
        { name: '.b', flags: SHF_ALLOC, data: Uint8Array.from([2]), addralign: 4n },
      ],
    };
    expect([...okImage(loadObject(spec, { fill: 0xff })).bytes]).toEqual([1, 0xff, 0xff, 0xff, 2]);
    expect([...okImage(loadObject(spec, { fill: 0 })).bytes]).toEqual([1, 0, 0, 0, 2]);
  });
});

// -------------------------------------------------------------------------------------------
describe('rejections: every code with its exact kexec-tools message', () => {
  const elf = buildObject(std());
  const shnum = new ElfFile(elf).sections.length;

  describe('parse failures all carry "ELF rel parse failed\\n"', () => {
    const cases: [string, string, Uint8Array][] = [
      ['elf-format', 'a file shorter than e_ident', elf.slice(0, 15)],
      ['elf-format', 'a file shorter than Elf64_Ehdr', elf.slice(0, 63)],
      ['elf-format', 'bad magic', (() => { const b = elf.slice(); b[0] = 0x7e; return b; })()],
      ['elf-format', 'EI_CLASS 0', (() => { const b = elf.slice(); b[4] = 0; return b; })()],
      ['elf-format', 'EI_DATA 3', (() => { const b = elf.slice(); b[5] = 3; return b; })()],
      ['elf-format', 'EI_VERSION 2', (() => { const b = elf.slice(); b[6] = 2; return b; })()],
      ['elf-format', 'e_version 0', (() => { const b = elf.slice(); new DataView(b.buffer).setUint32(20, 0, true); return b; })()],
      ['elf-format', 'e_ehsize 63', setU16(elf, 52, 63)],
      ['elf-format', 'e_shentsize 65', setU16(elf, 58, 65)],
      ['elf-format', 'e_phnum 1 with e_phentsize 0', setU16(elf, 56, 1)],
      ['elf-format', 'e_shoff past EOF', setU64(elf, 40, BigInt(elf.length))],
      ['elf-format', 'huge e_shnum (0xffff): section headers past EOF', setU16(elf, 60, 0xffff)],
      ['elf-format', 'sh_offset + sh_size past EOF', patchShdr(elf, 1, 'size', BigInt(elf.length))],
      ['elf-format', 'sh_addr + sh_size wraps', patchShdr(elf, 1, 'addr', 0xfffffffffffffff0n)],
      ['elf-format', 'SHT_SYMTAB with sh_entsize 16', patchShdr(elf, sectionIndex(elf, '.symtab'), 'entsize', 16)],
      ['not-relocatable', 'e_type ET_EXEC', setU16(elf, 16, ET_EXEC)],
      ['no-section-headers', 'e_shnum 0', setU16(elf, 60, 0)],
      ['wrong-machine', 'EM_PPC64 on an x86_64 build', setU16(elf, 18, EM_PPC64)],
      ['wrong-machine', 'big-endian data on an x86_64 build', buildObject({ ...std(), endian: 'big' })],
    ];
    it.each(cases)('%s: %s', (code, _what, bytes) => {
      expect(rejection(loadBytes(bytes, { target: 'x86_64' }))).toEqual({ code, message: PARSE_FAILED });
    });
    it('e_shoff 0 with e_shnum > 0: build_mem_notes walks the NULL e_shdr array (kexec-elf.c build_mem_notes; the C loader faults)', () => {
      const o = loadBytes(setU64(elf, 40, 0n), { target: 'x86_64' });
      expect(o.kind === 'rejected' && o.code).toBe('out-of-bounds');
    });
    it('wrong-machine: ELFCLASS32 on a ppc64 build', () => {
      const b = buildObject({ ...std(), is64: false, machine: EM_PPC64, endian: 'big' });
      expect(rejection(loadBytes(b, { target: 'ppc64' }))).toEqual({ code: 'wrong-machine', message: PARSE_FAILED });
    });
    it('a corrupt SHT_NOTE (n_namesz past the section) fails build_mem_notes', () => {
      const spec = std();
      const note = new Uint8Array(16);
      new DataView(note.buffer).setUint32(0, 0x100, true);
      spec.sections.push({ name: '.note', type: 7, flags: 0n, data: note });
      expect(rejection(loadObject(spec))).toEqual({ code: 'elf-format', message: PARSE_FAILED });
    });
  });

  it('unknown-relocation (x86_64): "Unhandled rela relocation: R_X86_64_GOT32\\n"', () => {
    expect(rejection(loadObject(std([reloc(R.GOT32, 0n, 'fn')]))))
      .toEqual({ code: 'unknown-relocation', message: 'Unhandled rela relocation: R_X86_64_GOT32\n' });
  });
  it('unknown-relocation (ppc64): "Unknown rela relocation: 3\\n"', () => {
    const spec: ObjectSpec = { ...std([reloc(R_PPC64.ADDR16, 0n, 'fn')]), machine: EM_PPC64, endian: 'big' };
    expect(rejection(loadObject(spec, { target: 'ppc64' }))).toEqual({ code: 'unknown-relocation', message: 'Unknown rela relocation: 3\n' });
  });
  it('overflow: "overflow in relocation type R_X86_64_32 val ..."', () => {
    expect(rejection(loadObject(std([reloc(R['32'], 0n, 'absv', 0xffffffffn)]))))
      .toEqual({ code: 'overflow', message: 'overflow in relocation type R_X86_64_32 val 100001233\n' });
  });
  it('undefined-symbol: an SHN_UNDEF symbol that is not STT_NOTYPE → "Undefined symbol: ext\\n"', () => {
    const spec = std([reloc(R['64'], 0n, 'ext')], {}, [{ name: 'ext', section: SHN_UNDEF, type: STT_FUNC }]);
    expect(rejection(loadObject(spec))).toEqual({ code: 'undefined-symbol', message: 'Undefined symbol: ext\n' });
  });
  it('undefined-symbol without a name prints the name of e_shdr[0] (empty)', () => {
    const spec = std([reloc(R['64'], 0n, '')], {}, [{ name: '', section: SHN_UNDEF, type: STT_OBJECT }]);
    expect(rejection(loadObject(spec))).toEqual({ code: 'undefined-symbol', message: 'Undefined symbol: \n' });
  });
  it('common-symbol: "symbol: \'cv\' in common section\\n"', () => {
    const spec = std([reloc(R['64'], 0n, 'cv')], {}, [{ name: 'cv', section: SHN_COMMON, type: STT_OBJECT, size: 8n }]);
    expect(rejection(loadObject(spec))).toEqual({ code: 'common-symbol', message: "symbol: 'cv' in common section\n" });
  });
  describe('sh_info / sh_link / st_shndx against e_shnum', () => {
    const relElf = buildObject(std([reloc(R['64'], 0n, 'fn')]));
    const relIdx = sectionIndex(relElf, '.rela.text');
    const n = new ElfFile(relElf).sections.length;

    it('sh_info = e_shnum + 1 → "Invalid section number\\n"', () => {
      expect(rejection(loadBytes(patchShdr(relElf, relIdx, 'info', n + 1)))).toEqual({ code: 'bad-section-index', message: 'Invalid section number\n' });
    });
    it('sh_link = e_shnum + 1 → "Invalid section number\\n"', () => {
      expect(rejection(loadBytes(patchShdr(relElf, relIdx, 'link', n + 1)))).toEqual({ code: 'bad-section-index', message: 'Invalid section number\n' });
    });
    it('off by one: sh_info == e_shnum passes the "> e_shnum" check and reads e_shdr[e_shnum] → out-of-bounds, not a die', () => {
      expect(rejection(loadBytes(patchShdr(relElf, relIdx, 'info', n))).code).toBe('out-of-bounds');
    });
    it('off by one: sh_link == e_shnum with an ALLOC target reads symtab->sh_link past the array → out-of-bounds', () => {
      expect(rejection(loadBytes(patchShdr(relElf, relIdx, 'link', n))).code).toBe('out-of-bounds');
    });
    it('sh_link == e_shnum with a non-ALLOC target: C only forms &e_shdr[e_shnum] and skips the section → ok', () => {
      const spec = std([reloc(R['64'], 0n, 'fn', 0n, '.debug')]);
      spec.sections.push({ name: '.debug', flags: 0n, data: new Uint8Array(8) });
      const e = buildObject(spec);
      const m = new ElfFile(e).sections.length;
      expect(okImage(loadBytes(patchShdr(e, sectionIndex(e, '.rela.debug'), 'link', m))).relocations).toHaveLength(0);
    });
    it('st_shndx > e_shnum on a named symbol → "Invalid section: %d for symbol %s\\n"', () => {
      const spec = std([reloc(R['64'], 0n, 'bad')], {}, [{ name: 'bad', section: 0x100 }]);
      expect(rejection(loadObject(spec))).toEqual({ code: 'bad-section-index', message: 'Invalid section: 256 for symbol bad\n' });
    });
    it('st_shndx in the reserved range (SHN_LORESERVE 0xff00) is just > e_shnum', () => {
      const spec = std([reloc(R['64'], 0n, 'res')], {}, [{ name: 'res', section: 0xff00 }]);
      expect(rejection(loadObject(spec)).message).toBe('Invalid section: 65280 for symbol res\n');
    });
    it('off by one: st_shndx == e_shnum reads e_shdr[e_shnum].sh_addr → out-of-bounds, not a die', () => {
      const spec = std([reloc(R['64'], 0n, 'edge')], {}, [{ name: 'edge', section: n }]);
      expect(new ElfFile(buildObject(spec)).sections.length).toBe(n);
      expect(rejection(loadObject(spec)).code).toBe('out-of-bounds');
    });
    it('st_shndx == e_shnum - 1 (the last real section) is fine', () => {
      const spec = std([reloc(R['64'], 0n, 'last')], {}, [{ name: 'last', section: n - 1 }]);
      expect(okImage(loadObject(spec))).toBeTruthy();
    });
  });

  describe('ppc64 arch rejections (messages verbatim from kexec-elf-rel-ppc64.c)', () => {
    const T = SHF_ALLOC | SHF_EXECINSTR;
    const ppc = (relocations: ObjRelocation[], toc = true, text = new Uint8Array(0x40)): ObjectSpec => ({
      endian: 'little', machine: EM_PPC64, flags: 2,
      sections: [
        { name: '.text', flags: T, data: text, addralign: 4n },
        ...(toc ? [{ name: '.toc', flags: WA, data: new Uint8Array(8), addralign: 8n }] : []),
      ],
      symbols: [
        { name: 'far', section: SHN_ABS, value: 0x10000000n, type: STT_FUNC },
        ...(toc ? [{ name: 't', section: '.toc' }] : []),
        { name: '.TOC.', section: SHN_UNDEF },
      ],
      relocations,
    });
    const cases: [string, string, ObjectSpec][] = [
      ['toc16-overflow', 'TOC16 relocation overflows (32768)\n', ppc([{ section: '.text', offset: 0n, type: R_PPC64.TOC16, symbol: 't', addend: 0x10000n }])],
      ['toc16-misaligned', 'bad TOC16 relocation (1)\n', ppc([{ section: '.text', offset: 0n, type: R_PPC64.TOC16_DS, symbol: 't', addend: 0x8001n }])],
      ['rel24-out-of-range', 'REL24 201326592 out of range!\n', ppc([{ section: '.text', offset: 0n, type: R_PPC64.REL24, symbol: 'far' }])],
      ['rel16-unexpected-instruction', 'Unexpected instruction for  R_PPC64_REL16_HA', ppc([{ section: '.text', offset: 0n, type: R_PPC64.REL16_HA, symbol: '.TOC.' }])],
      ['rel16-unexpected-instruction', 'Unexpected instruction for R_PPC64_REL16_LO', ppc([{ section: '.text', offset: 4n, type: R_PPC64.REL16_LO, symbol: '.TOC.', addend: 4n }])],
      ['no-toc-section', 'TOC reloc without a toc section?', ppc([{ section: '.text', offset: 0n, type: R_PPC64.TOC, symbol: '.TOC.' }], false)],
    ];
    it.each(cases)('%s: %j', (code, message, spec) => {
      // Base 0x4000000: REL24 to 0x10000000 from 0x4000000 is +0xc000000.
      expect(rejection(loadObject(spec, { target: 'ppc64le', base: 0x4000000n }))).toEqual({ code, message });
    });
  });

  it('an unknown profile id is a rejection, not an exception', () => {
    const o = loadObject(std(), { profile: 'kexec-tools-9' });
    expect(o.kind).toBe('rejected');
    expect(rejection(o).message).toMatch(/unknown profile 'kexec-tools-9'/);
  });
});

// -------------------------------------------------------------------------------------------
describe('elf_rel_set_symbol / elf_rel_get_symbol / elf_rel_get_addr', () => {
  const set = (name: string, bytes: number[], spec = std(), o: LoadOpts = {}) =>
    loadObject(spec, { ...o, symbols: [{ name, bytes: Uint8Array.from(bytes) }] });

  it('set writes into the image at sh_data + st_value, after relocation', () => {
    // R_X86_64_64 fills var (.data+8) with 0x1234; the symbol write then replaces it.
    const img = okImage(set('var', [1, 2, 3, 4, 5, 6, 7, 8], std([reloc(R['64'], 8n, 'absv', 0n, '.data')])));
    expect([...sectionBytes(img, '.data')]).toEqual([...new Array(8).fill(0x11), 1, 2, 3, 4, 5, 6, 7, 8]);
  });
  it('symbol-not-found: "Symbol: nosuch not found cannot set\\n"', () => {
    expect(rejection(set('nosuch', [0]))).toEqual({ code: 'symbol-not-found', message: 'Symbol: nosuch not found cannot set\n' });
  });
  it('global binding only: a LOCAL or a WEAK symbol is not found', () => {
    expect(rejection(set('lvar', [1, 2, 3, 4, 5, 6, 7, 8])).code).toBe('symbol-not-found');
    expect(rejection(set('wvar', [1, 2, 3, 4, 5, 6, 7, 8])).message).toBe('Symbol: wvar not found cannot set\n');
  });
  it('symbol-size-mismatch: "Symbol: var has size: 8 not 4\\n"', () => {
    expect(rejection(set('var', [1, 2, 3, 4]))).toEqual({ code: 'symbol-size-mismatch', message: 'Symbol: var has size: 8 not 4\n' });
  });
  it('symbol-size-mismatch prints st_size with %lld (signed)', () => {
    const spec = std([], {}, [{ name: 'neg', section: '.data', size: 0xffffffffffffffffn }]);
    expect(rejection(set('neg', [1], spec)).message).toBe('Symbol: neg has size: -1 not 1\n');
  });
  it('symbol-in-bss: "Symbol: bssvar is in a bss section cannot set\\n"', () => {
    expect(rejection(set('bssvar', [1, 2, 3, 4, 5, 6, 7, 8]))).toEqual({ code: 'symbol-in-bss', message: 'Symbol: bssvar is in a bss section cannot set\n' });
  });
  it('symbol-bad-section: a global SHN_UNDEF symbol → "Symbol: ext has Bad section index 0\\n"', () => {
    const spec = std([], {}, [{ name: 'ext', section: SHN_UNDEF, size: 1n }]);
    expect(rejection(set('ext', [1], spec))).toEqual({ code: 'symbol-bad-section', message: 'Symbol: ext has Bad section index 0\n' });
  });
  it('symbol-bad-section: a global SHN_ABS symbol is "> e_shnum" → "Bad section index 65521"', () => {
    expect(rejection(set('absv', [1, 2, 3, 4, 5, 6, 7, 8]))).toEqual({ code: 'symbol-bad-section', message: 'Symbol: absv has Bad section index 65521\n' });
  });
  it('a symbol whose bytes run past the image → out-of-bounds', () => {
    const spec = std([], {}, [{ name: 'tail', section: '.data', value: 0xcn, size: 8n }]);
    expect(rejection(set('tail', [1, 2, 3, 4, 5, 6, 7, 8], spec)).code).toBe('out-of-bounds');
  });

  describe('through loadKexecTools', () => {
    const loaded = () => loadKexecTools(buildObject(std()), 0x100000n, x86, { fill: 0, hostAddress: 0n });
    const thrown = (fn: () => unknown): LoadError => {
      try {
        fn();
      } catch (e) {
        if (isLoadError(e)) return e as LoadError;
        throw e;
      }
      expect.fail('expected a LoadError');
    };
    it('get_symbol reads the relocated image', () => {
      const { kt } = loaded();
      expect([...getSymbol(kt, 'var', 8)]).toEqual(new Array(8).fill(0x11));
    });
    it('get_addr = e_shdr[st_shndx].sh_addr + st_value (.data 0x100020 + 8)', () => {
      expect(getAddr(loaded().kt, 'var')).toBe(0x100028n);
      expect(getAddr(loaded().kt, 'fn')).toBe(0x100000n);
      expect(getAddr(loaded().kt, 'bssvar')).toBe(0x100040n);
    });
    it('get messages: "not found cannot get", "cannot retrive it\'s address", and bss "cannot set" (sic)', () => {
      const { kt } = loaded();
      expect(thrown(() => getSymbol(kt, 'nosuch', 8)).cMessage).toBe('Symbol: nosuch not found cannot get\n');
      expect(thrown(() => getAddr(kt, 'nosuch')).cMessage).toBe("Symbol: nosuch not found cannot retrive it's address\n");
      expect(thrown(() => getSymbol(kt, 'bssvar', 8)).cMessage).toBe('Symbol: bssvar is in a bss section cannot set\n');
      expect(thrown(() => getSymbol(kt, 'var', 4)).cMessage).toBe('Symbol: var has size: 8 not 4\n');
      expect(thrown(() => getAddr(kt, 'wvar')).code).toBe('symbol-not-found');
    });
  });
});

// -------------------------------------------------------------------------------------------
describe('huge counts and sizes', () => {
  const elf = buildObject(std([reloc(R['64'], 0n, 'fn')]));
  it('a relocation section whose sh_size runs past EOF fails the parse', () => {
    const b = patchShdr(elf, sectionIndex(elf, '.rela.text'), 'size', 0x100000n * 24n);
    expect(rejection(loadBytes(b))).toEqual({ code: 'elf-format', message: PARSE_FAILED });
  });
  it('a relocation section whose sh_size is not a multiple of the entry size reads a last partial entry (ptr < rel_end)', () => {
    // One real entry + 1 byte: the loop reads a second 24-byte entry from the bytes after the table.
    const b = patchShdr(elf, sectionIndex(elf, '.rela.text'), 'size', 25n);
    // buildObject puts .symtab right after .rela.text, so the extra entry is the all-zero symbol 0:
    // r_info 0 → R_X86_64_NONE against symbol 0, a no-op.
    const img = okImage(loadBytes(b));
    expect(img.relocations.map((r) => r.typeName)).toEqual(['R_X86_64_64', 'R_X86_64_NONE']);
  });
  it('a huge bss is only memsz, never allocated', () => {
    const spec = std();
    spec.sections[2] = { name: '.bss', type: SHT_NOBITS, flags: WA, size: 0x100000000n, addralign: 32n };
    const img = okImage(loadObject(spec));
    expect(img.bytes.length).toBe(0x30);
    expect(img.memsz).toBe(0x30n + 0x10n + 0x100000000n);
  });
  it('an image inflated by alignment beyond the model limit (512 MiB) is "unsupported", not an allocation', () => {
    // bufsz = _ALIGN(1, 0x40000000) + 1 = 0x40000001.
    const spec: ObjectSpec = {
      endian: 'little', machine: EM_X86_64,
      sections: [
        { name: '.a', flags: SHF_ALLOC, data: Uint8Array.from([1]), addralign: 1n },
        { name: '.b', flags: SHF_ALLOC, data: Uint8Array.from([2]), addralign: 0x40000000n },
      ],
    };
    expect(layoutKexecTools([
      { type: SHT_PROGBITS, flags: SHF_ALLOC, addr: 0n, size: 1n, addralign: 1n },
      { type: SHT_PROGBITS, flags: SHF_ALLOC, addr: 0n, size: 1n, addralign: 0x40000000n },
    ], 0n, 0n, x86).bufsz).toBe(0x40000001n);
    expect(rejection(loadObject(spec)).code).toBe('unsupported');
  });
  describe('sh_size so large that sh_offset + sh_size wraps (passes build_mem_shdrs\' (uintmax_t) check)', () => {
    // For sh_size = 2^64 - sh_offset: (sh_offset + sh_size) mod 2^64 = 0 <= len. The pointer
    // end = sh_data + sh_size then wraps below sh_data, so `for (ptr = sh_data; ptr < end; ...)`
    // runs zero times: nothing is read.
    const wrapSize = (e: Uint8Array, idx: number) => (1n << 64n) - new ElfFile(e).sections[idx]!.offset;

    it('a wrapping .rela section applies no relocation (rel_end < sh_data)', () => {
      const e = buildObject(std([reloc(R.GOT32, 0n, 'fn')]));
      const idx = sectionIndex(e, '.rela.text');
      const img = okImage(loadBytes(patchShdr(e, idx, 'size', wrapSize(e, idx))));
      expect(img.relocations).toHaveLength(0);
    });
    it('a wrapping .symtab is an empty table for elf_rel_find_symbol (sym_end < sh_data)', () => {
      const e = buildObject(std());
      const idx = sectionIndex(e, '.symtab');
      const o = loadBytes(patchShdr(e, idx, 'size', wrapSize(e, idx)), { symbols: [{ name: 'var', bytes: new Uint8Array(8) }] });
      expect(rejection(o)).toEqual({ code: 'symbol-not-found', message: 'Symbol: var not found cannot set\n' });
    });
    it('a wrapping SHT_NOTE has no notes (note_end < note_start)', () => {
      const spec = std();
      spec.sections.push({ name: '.note', type: 7, flags: 0n, data: new Uint8Array(12) });
      const e = buildObject(spec);
      const idx = sectionIndex(e, '.note');
      expect(okImage(loadBytes(patchShdr(e, idx, 'size', wrapSize(e, idx))))).toBeTruthy();
    });
  });

  describe('sh_offset close to 2^64: section data below the file buffer (kexec-elf.c:640 passes it, :657 sh_data = buf + sh_offset)', () => {
    // (sh_offset + sh_size) mod 2^64 = (2^64 - 8 + 24) mod 2^64 = 16 <= len, so the section "fits";
    // sh_data = buf - 8 and sh_data + sh_size = buf + 16 > sh_data, so every pointer loop runs, and
    // its first read starts 8 bytes below the buffer.
    const below = (o: ReturnType<typeof loadBytes>) => {
      const r = rejection(o);
      return { code: r.code, access: o.kind === 'rejected' ? o.where?.access : undefined };
    };
    const wrap = (e: Uint8Array, name: string, off: bigint, size: bigint) =>
      patchShdr(patchShdr(e, sectionIndex(e, name), 'offset', off), sectionIndex(e, name), 'size', size);
    const withRel = buildObject(std([reloc(R['64'], 0n, 'absv')]));
    const len = BigInt(withRel.length);

    it('.rela.text at 2^64 - 8, 24 bytes: elf_rel_load reads its first entry at file offset -8 (kexec-elf-rel.c:341-342) → out-of-bounds', () => {
      expect(below(loadBytes(wrap(withRel, '.rela.text', -8n, 24n)))).toEqual({ code: 'out-of-bounds', access: { buf: 'file', offset: -8n, length: 24n, size: len } });
    });
    it('.symtab at 2^64 - 8: elf_rel_find_symbol reads symbol 0 at file offset -8 (kexec-elf-rel.c:467-468) → out-of-bounds, not symbol-not-found', () => {
      const e = buildObject(std());
      const o = loadBytes(wrap(e, '.symtab', -8n, 24n), { symbols: [{ name: 'var', bytes: new Uint8Array(8) }] });
      expect(below(o)).toEqual({ code: 'out-of-bounds', access: { buf: 'file', offset: -8n, length: 24n, size: BigInt(e.length) } });
    });
    it('SHT_NOTE at 2^64 - 8: build_mem_notes reads the 12-byte header at file offset -8 (kexec-elf.c:695, :704) → out-of-bounds', () => {
      const spec = std();
      spec.sections.push({ name: '.note', type: 7, flags: 0n, data: new Uint8Array(12) });
      const e = buildObject(spec);
      expect(below(loadBytes(wrap(e, '.note', -8n, 24n)))).toEqual({ code: 'out-of-bounds', access: { buf: 'file', offset: -8n, length: 12n, size: BigInt(e.length) } });
    });
    it('PT_NOTE with p_offset 2^64 - 8 (kexec-elf.c:427 passes it, :444 p_data = buf - 8) → out-of-bounds at -8', () => {
      // Append one 56-byte Elf64_Phdr { p_type PT_NOTE, p_offset 2^64 - 8, p_filesz 24 } and point e_phoff at it.
      const e = new Uint8Array(withRel.length + 56);
      e.set(withRel);
      const dv = new DataView(e.buffer);
      const ph = withRel.length;
      dv.setUint32(ph, 4, true);
      dv.setBigUint64(ph + 8, (1n << 64n) - 8n, true);
      dv.setBigUint64(ph + 32, 24n, true);
      dv.setBigUint64(32, BigInt(ph), true); // e_phoff
      dv.setUint16(54, 56, true); // e_phentsize
      dv.setUint16(56, 1, true); // e_phnum
      expect(below(loadBytes(e))).toEqual({ code: 'out-of-bounds', access: { buf: 'file', offset: -8n, length: 12n, size: BigInt(e.length) } });
    });
    it('an ALLOC section at 2^64 - 8: memcpy(buf + off, sh_data, sh_size) copies from file offset -8 (kexec-elf-rel.c:280) → out-of-bounds', () => {
      expect(below(loadBytes(wrap(withRel, '.text', -8n, 0x20n)))).toEqual({ code: 'out-of-bounds', access: { buf: 'file', offset: -8n, length: 0x20n, size: len } });
    });
    it('.rela.text at 2^63 with sh_size 2^63 + 0x40: buf + 2^63 lies above the buffer (no wrap below 2^64 for a heap address < 2^47), rel_end = buf + 0x40 < sh_data → no relocation', () => {
      expect(okImage(loadBytes(wrap(withRel, '.rela.text', 1n << 63n, (1n << 63n) + 0x40n))).relocations).toHaveLength(0);
    });
    it('.rela.text at 2^64 - 2^47 (the lowest offset read as below the buffer) with sh_size 2^47 + 0x40 → out-of-bounds', () => {
      expect(below(loadBytes(wrap(withRel, '.rela.text', -(1n << 47n), (1n << 47n) + 0x40n))).access?.offset).toBe(-(1n << 47n));
    });
  });

  describe('a 64-bit offset that wraps back into the image is an ordinary access', () => {
    it('r_offset 2^64 - 8 on .data (image + 0x20): location = image + 0x18, the last 8 bytes of .text (kexec-elf-rel.c:355)', () => {
      const img = okImage(loadObject(std([reloc(R['64'], (1n << 64n) - 8n, 'absv', 0n, '.data')])));
      expect([...sectionBytes(img, '.text')]).toEqual([...new Array(0x18).fill(0xcc), ...le(8, 0x1234n)]);
      expect(img.relocations[0]!.imageOffset).toBe(0x18);
    });
    it('r_offset 2^64 - 0x28 on .data: location = image - 8 → out-of-bounds', () => {
      expect(rejection(loadObject(std([reloc(R['64'], (1n << 64n) - 0x28n, 'absv', 0n, '.data')]))).code).toBe('out-of-bounds');
    });
    it('st_value 2^64 - 8 in .data: elf_rel_set_symbol writes sh_data + st_value = image + 0x18 (kexec-elf-rel.c:527)', () => {
      const spec = std([], {}, []);
      spec.symbols = [{ name: 'var', section: '.data', value: (1n << 64n) - 8n, type: STT_OBJECT, size: 8n }];
      const img = okImage(loadObject(spec, { symbols: [{ name: 'var', bytes: bytesOf(1, 2, 3, 4, 5, 6, 7, 8) }] }));
      expect([...sectionBytes(img, '.text').subarray(0x18)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    });
  });

  it('kexec-tools 2.0.20, base 2^48, sh_addralign 0: off = 0 - buf_addr = 0xffff000000000000 is far outside the buffer → out-of-bounds', () => {
    const spec: ObjectSpec = {
      endian: 'little', machine: EM_X86_64,
      sections: [
        { name: '.a', flags: SHF_ALLOC, data: new Uint8Array(0x10).fill(0xaa), addralign: 8n },
        { name: '.b', flags: SHF_ALLOC, data: new Uint8Array(0x20).fill(0xbb), addralign: 0n },
      ],
    };
    expect(rejection(loadObject(spec, { profile: 'kexec-tools-2.0.20', base: 1n << 48n })).code).toBe('out-of-bounds');
  });

  it('e_shnum 0xffff is a parse failure (headers past EOF)', () => {
    expect(rejection(loadBytes(setU16(elf, 60, 0xffff)))).toEqual({ code: 'elf-format', message: PARSE_FAILED });
  });
  it('STT_SECTION symbols resolve to the placed section address', () => {
    const spec = std([reloc(R['64'], 0n, 2, 4n)], { sectionSymbols: true });
    // Symbol 2 is the section symbol of .data (0x100020) → 0x100024.
    expect([...sectionBytes(okImage(loadObject(spec)), '.text').subarray(0, 8)]).toEqual(le(8, 0x100024n));
    expect(STT_SECTION).toBe(3);
  });
});

describe('x86_64 target accepts only what machine_verify_elf_rel accepts', () => {
  it('ELFCLASS64 LE EM_X86_64 ok; kexec-tools 2.0.20 rejects x32, 2.0.21+ accepts it', () => {
    const x32 = buildObject({ ...std(), is64: false });
    expect(okImage(loadBytes(x32))).toBeTruthy();
    expect(rejection(loadBytes(x32, { profile: 'kexec-tools-2.0.20' })).code).toBe('wrong-machine');
  });
});

describe('STB_GLOBAL lookup walks every SHT_SYMTAB', () => {
  it('symbols are matched by exact name (strcmp), not prefix', () => {
    const spec = std([], {}, [{ name: 'var2', section: '.data', value: 0n, size: 4n }]);
    const img = okImage(loadObject(spec, { symbols: [{ name: 'var2', bytes: bytesOf(9, 9, 9, 9) }] }));
    expect([...sectionBytes(img, '.data').subarray(0, 4)]).toEqual([9, 9, 9, 9]);
    expect(STB_GLOBAL).toBe(1);
  });
});

describe('one parse per input: reused across loads, never stale', () => {
  // R_X86_64_64 against fn (.text, st_value 0) with addend 0x10 at .text+0: the word is base + 0x10.
  const word = (img: { bytes: Uint8Array }) => Buffer.from(img.bytes.subarray(0, 8)).readBigUInt64LE(0);
  /** The file offset of the addend of the first entry of .rela.text (r_offset, r_info, r_addend). */
  const addendAt = (elf: Uint8Array) => Number(new ElfFile(elf).sections[sectionIndex(elf, '.rela.text')]!.offset) + 16;

  it('the same array at two bases, then changed in place: each load reads the bytes it is given', () => {
    const elf = buildObject(std([reloc(R['64'], 0n, 'fn', 0x10n)]));
    expect(word(okImage(loadBytes(elf, { base: 0x100000n })))).toBe(0x100010n);
    expect(word(okImage(loadBytes(elf, { base: 0x200000n })))).toBe(0x200010n);
    new DataView(elf.buffer, elf.byteOffset).setBigUint64(addendAt(elf), 0x20n, true); // the addend, in place
    expect(word(okImage(loadBytes(elf, { base: 0x100000n })))).toBe(0x100020n);
    elf[18] = 3; // e_machine EM_386, in place: the parse itself must run again
    expect(rejection(loadBytes(elf, { target: 'x86_64' }))).toEqual({ code: 'wrong-machine', message: PARSE_FAILED });
  });

  it('the default log (replayed when read) describes the bytes that were loaded, even after the caller changed them', () => {
    const elf = buildObject(std([reloc(R['64'], 0n, 'fn', 0x10n)]));
    const img = okImage(loadBytes(elf));
    new DataView(elf.buffer, elf.byteOffset).setBigUint64(addendAt(elf), 0x20n, true);
    expect(img.relocations.map((r) => [r.typeName, r.symbol, r.addend, r.value, [...r.bytes]])).toEqual([
      ['R_X86_64_64', 'fn', 0x10n, 0x100010n, le(8, 0x100010n)],
    ]);
  });

  it('arrays loaded once each, in turn, then one changed in place: each load reads its own bytes, and each log the bytes it loaded', () => {
    const a = buildObject(std([reloc(R['64'], 0n, 'fn', 0x10n)]));
    const b = buildObject(std([reloc(R['64'], 0n, 'fn', 0x30n)]));
    const imgA = okImage(loadBytes(a));
    expect(word(okImage(loadBytes(b)))).toBe(0x100030n);
    new DataView(a.buffer, a.byteOffset).setBigUint64(addendAt(a), 0x20n, true);
    expect(word(okImage(loadBytes(a)))).toBe(0x100020n);
    expect(word(okImage(loadBytes(a, { base: 0x200000n })))).toBe(0x200020n); // the same array again, at another base
    expect(word(okImage(loadBytes(b, { base: 0x200000n })))).toBe(0x200030n);
    expect(imgA.relocations.map((r) => [r.addend, r.value])).toEqual([[0x10n, 0x100010n]]);
  });

  it('a Buffer given to the stages directly: the file copy a relocation writes is a copy, not a view of the caller\'s bytes', () => {
    const elf = Buffer.from(buildObject(std([reloc(R['64'], 0n, 'fn', 0x1234n, '.bss')])));
    const before = Buffer.from(elf);
    const kt = parseKexecTools(elf, x86);
    applyLayout(kt, layoutKexecTools(kt.shdrs, kt.entry, 0x100000n, x86), 0);
    expect(relocateKexecTools(kt, { fill: 0, hostAddress: 0n }).map((r) => [r.typeName, r.imageOffset])).toEqual([['R_X86_64_64', -1]]);
    expect(elf.equals(before)).toBe(true);
  });
});

describe('loads of one parse share its layout at base 0, its pre-relocation image and its decoded relocations', () => {
  // The premise (shiftable): with power-of-two alignments, C's _ALIGN(B + x, a) = B + _ALIGN(x, a) mod 2^64
  // for a base B aligned to max(buf_align, page size). Checked against the layout computed at B itself.
  it('2,000 random section tables with power-of-two alignments: the layout at B is the layout at 0 moved by B', () => {
    const next = rng(17);
    const big = () => (BigInt(next()) << 32n) | BigInt(next());
    const pick = <T>(xs: readonly T[]) => xs[next() % xs.length]!;
    const aligns = [0n, 1n, 2n, 8n, 16n, 0x1000n, 0x10000n, 1n << 40n, 1n << 63n];
    const sizes = () => pick([0n, 1n, 0x10n, 0x123n, 0x4000n, big() & 0xffffffn, big()]);
    let checked = 0;
    for (let t = 0; t < 2000; t++) {
      const profile = makeProfile(pick(['kexec-tools', 'kexec-tools-2.0.20', 'abi']), pick(['x86_64', 'ppc64le'] as const));
      const secs: LayoutSection[] = Array.from({ length: 1 + (next() % 6) }, () => ({
        type: pick([SHT_PROGBITS, SHT_NOBITS]), flags: pick([0n, SHF_ALLOC, AX, WA]), addr: pick([0n, 0x40n, big()]),
        size: sizes(), addralign: pick(aligns),
      }));
      const entry = pick([0n, 0x10n, secs[0]!.addr + 4n, big()]);
      const base = pick([0n, 0x100000n, 0x12345678n, big(), (1n << 64n) - 0x1000n, (1n << 64n) - 1n]);
      if (!shiftable(secs, profile)) continue;
      const l0 = layoutKexecTools(secs, entry, 0n, profile);
      const alloc = secs.map((x) => (x.flags & SHF_ALLOC) !== 0n);
      expect(shiftLayout(l0, alignedBase(l0, base, profile), alloc)).toEqual(layoutKexecTools(secs, entry, base, profile));
      checked++;
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('an alignment that is not a power of two (or 0 where kexec-tools keeps it) is not shiftable', () => {
    const sec = (addralign: bigint): LayoutSection => ({ type: SHT_PROGBITS, flags: SHF_ALLOC, addr: 0n, size: 8n, addralign });
    expect(shiftable([sec(3n)], x86)).toBe(false);
    expect(shiftable([sec(0n)], makeProfile('kexec-tools-2.0.20', 'x86_64'))).toBe(false); // _ALIGN(x, 0) = 0 whatever the base
    expect(shiftable([sec(0n)], x86)).toBe(true); // 2.0.25 on: align 0 is taken as 1
    expect(shiftable([{ ...sec(3n), flags: 0n }], x86)).toBe(true); // a non-ALLOC section is never placed
  });

  // Every load of one array after its first goes through the shared plan; a fresh copy of the bytes is
  // a new input, loaded on its own. The two must agree on everything at every base.
  const real = ['debian-kexec-tools-2.0.32-3-amd64', 'debian-linux-6.1.176-1-amd64', 'debian-kexec-tools-2.0.32-3-ppc64el'];
  for (const id of real) {
    it(`${id}: one array at many bases, fills and host addresses = a fresh copy each time`, () => {
      const elf = new Uint8Array(readFileSync(resolve(DEFAULT_CORPUS, 'elf', `${id}.ro`)));
      const bases = [0x100000n, 0x3ffff000n, 0x123456789000n, (1n << 64n) - 0x2000n, 0x100000n];
      const view = (o: Outcome) => {
        const img = okImage(o);
        return { ...img, bytes: Buffer.from(img.bytes).toString('hex'), sections: [...img.sections], relocations: [...img.relocations] };
      };
      const opts: LoadOpts[] = [];
      for (const base of bases) {
        for (const fill of [0, 0xa5]) {
          // The log replayed when read (default) and kept (log: true; a shared load's log derives from the plan's template).
          for (const hostAddress of [0n, 0x7f0012345000n]) for (const log of [undefined, true]) opts.push({ base, fill, hostAddress, profile: 'kexec-tools-2.0.25', log });
        }
      }
      // The array's loads in a row (a fresh array between two of them would make each a first load).
      const shared = opts.map((o) => view(loadBytes(elf, o)));
      opts.forEach((o, i) => expect(shared[i], JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v))).toEqual(view(loadBytes(elf.slice(), o))));
      expect(shared.length).toBe(40);
    });
  }

  // A kept log of a shared load holds only its bytes and its shift; every other field is the plan's
  // template, shared by every load of the array. A later load at another base and fill must not
  // change an earlier load's log, kept or replayed when first read.
  it('a log of one load does not change when later loads of the same array run (kept and replayed logs)', () => {
    const elf = new Uint8Array(readFileSync(resolve(DEFAULT_CORPUS, 'elf', 'debian-kexec-tools-2.0.32-3-amd64.ro')));
    const o = (base: bigint, fill: number, log?: boolean): LoadOpts => ({ base, fill, profile: 'kexec-tools-2.0.25', log });
    const plain = (img: { relocations: readonly unknown[] }) => JSON.stringify(img.relocations, (_k, v: unknown) =>
      (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? [...v] : v));
    loadBytes(elf, o(0x100000n, 0)); // the first load of the array; from the second on, its loads share a plan
    const a = okImage(loadBytes(elf, o(0x3ffff000n, 0, true))); // kept, not read yet
    const aLazy = okImage(loadBytes(elf, o(0x3ffff000n, 0))); // replayed at its first read
    const aRead = okImage(loadBytes(elf, o(0x3ffff000n, 0, true)));
    const readBefore = plain(aRead);
    const b = okImage(loadBytes(elf, o((1n << 64n) - 0x2000n, 0xa5, true)));
    expect(plain(b)).not.toBe(readBefore); // B's log differs from A's (else the test shows nothing)
    const fresh = okImage(loadBytes(elf.slice(), o(0x3ffff000n, 0, true))); // a new input: recorded entry by entry, no template
    const expected = plain(fresh);
    expect(fresh.relocations.length).toBe(146);
    expect(plain(a)).toBe(expected);
    expect(plain(aLazy)).toBe(expected);
    expect(readBefore).toBe(expected);
    expect(plain(aRead)).toBe(expected);
    expect(relocationTypesOf(a)).toEqual(relocationTypesOf(fresh));
    expect([...relocationTypesOf(a)!.values()].reduce((n, t) => n + t.count, 0)).toBe(146);
  });

  // The plan (and its log template) outlive a change of fill, which makes a new pre-relocation image.
  it('a kept log first asked for after the fill changed equals a fresh copy\'s', () => {
    const elf = new Uint8Array(readFileSync(resolve(DEFAULT_CORPUS, 'elf', 'debian-kexec-tools-2.0.32-3-amd64.ro')));
    const o = (base: bigint, fill: number, log?: boolean): LoadOpts => ({ base, fill, profile: 'kexec-tools-2.0.25', log });
    loadBytes(elf, o(0x100000n, 0));
    loadBytes(elf, o(0x200000n, 0)); // the plan: made at this second load, at fill 0
    const loads = [o(0x3ffff000n, 0xa5, true), o(0x3ffff000n, 0xa5, true), o(0x500000n, 0, true), o(0x600000n, 0xa5)];
    const shared = loads.map((x) => [...okImage(loadBytes(elf, x)).relocations]);
    loads.forEach((x, i) => expect(shared[i]).toEqual([...okImage(loadBytes(elf.slice(), x)).relocations]));
  });
});

describe('loads of one parse: relocations that write the same bytes at every base are applied once', () => {
  // std(): .text (0x20 bytes of 0xcc, align 16) at the aligned base B, .data at B + 0x20; fn = B,
  // var = B + 0x28, absv = 0x1234 (SHN_ABS). Hand-computed words per base:
  //   .text 0x00 R_X86_64_64 fn:          S+A = B (8 bytes), then
  //   .text 0x04 R_X86_64_PC32 fn+0x10:   B+0x10 - (B+4) = 0xc over its high half (the ranges overlap:
  //                                        the PC32 word is the same at every base, but the 64-bit one before it is not)
  //   .text 0x10 R_X86_64_PC32 var-4:     B+0x24 - (B+0x10) = 0x14 (the same at every base, alone)
  //   .text 0x14 R_X86_64_PC32 absv:      0x1234 - (B+0x14) mod 2^32 (its value does not move, P does)
  //   .text 0x18 R_X86_64_64 absv:        0x1234 (the same at every base, alone)
  //   .data 0x00 R_X86_64_64 var:         B+0x28 (each load adds B to its word at base 0)
  //   .data 0x08 R_X86_64_64 var+0xffff0000: B+0xffff0028 (its low word carries into the high one when B's low
  //                                        word is 0x10000 or more: 0x100000, 0x123400100000, 0x7fff00010000)
  const elf = buildObject(std([
    reloc(R['64'], 0n, 'fn'), reloc(R.PC32, 4n, 'fn', 0x10n), reloc(R.PC32, 0x10n, 'var', -4n), reloc(R.PC32, 0x14n, 'absv'),
    reloc(R['64'], 0x18n, 'absv'), reloc(R['64'], 0n, 'var', 0n, '.data'), reloc(R['64'], 8n, 'var', 0xffff0000n, '.data'),
  ]));
  const want = (b: bigint) => {
    const t = new Uint8Array(0x20).fill(0xcc);
    const v = new DataView(t.buffer);
    v.setBigUint64(0, b, true);
    v.setUint32(4, 0xc, true);
    v.setUint32(0x10, 0x14, true);
    v.setUint32(0x14, Number(BigInt.asUintN(32, 0x1234n - b - 0x14n)), true);
    v.setBigUint64(0x18, 0x1234n, true);
    const d = new Uint8Array(0x10).fill(0x11);
    new DataView(d.buffer).setBigUint64(0, BigInt.asUintN(64, b + 0x28n), true);
    new DataView(d.buffer).setBigUint64(8, BigInt.asUintN(64, b + 0xffff0028n), true);
    return { text: [...t], data: [...d] };
  };
  const got = (o: Outcome) => {
    const img = okImage(o);
    return { text: [...sectionBytes(img, '.text')], data: [...sectionBytes(img, '.data')] };
  };
  const bases = [0x100000n, 0x123400000000n, 0xfffffffffff00000n, 0x7fff00010000n, 0x100000n];

  // (One array loaded again and again, without another array in between: the loads after the first share a plan.)
  it('every load of one array writes the hand-computed words, as a fresh copy does', () => {
    for (const base of bases) expect(got(loadBytes(elf, { base })), `base ${base.toString(16)}`).toEqual(want(base));
    for (const base of bases) expect(got(loadBytes(elf.slice(), { base })), `fresh, base ${base.toString(16)}`).toEqual(want(base));
  });

  it('300 random objects, relocations overlapping or not, against moving and fixed symbols: the loads of one array in a row = a fresh copy each', () => {
    const next = rng(17);
    const types = [R['64'], R.PC32, R.PLT32, R['32'], R['32S']];
    const width = (t: number) => (t === R['64'] ? 8 : 4);
    const symbols = ['fn', 'var', 'lvar', 'absv', 'bssvar'];
    const bases = [0x100000n, 0x7fff00010000n, 0xfffffffffff00000n, 0x3ffff000n];
    const view = (o: Outcome) => (o.kind === 'ok' ? { bytes: Buffer.from(o.image.bytes).toString('hex'), log: [...o.image.relocations] } : o);
    let shared = 0;
    for (let c = 0; c < 300; c++) {
      const relocs: ObjRelocation[] = [];
      for (let k = 1 + (next() % 10); k > 0; k--) {
        const type = types[next() % types.length]!;
        const section = next() % 3 ? '.text' : '.data';
        const room = (section === '.text' ? 0x20 : 0x10) - width(type);
        const addend = [0n, 4n, -4n, 0xffff0000n, -0x100000n][next() % 5]!;
        relocs.push(reloc(type, BigInt(next() % (room + 1)), symbols[next() % symbols.length]!, addend, section));
      }
      const elf = buildObject(std(relocs));
      const fill = next() % 2 ? 0 : 0xa5; // one per case: a change of fill makes a new template without what preApply wrote
      const runs = bases.flatMap((base) => [undefined, true].map((log) => ({ base, fill, log })));
      const inRow = runs.map((o) => view(loadBytes(elf, o)));
      runs.forEach((o, i) => expect(inRow[i], `case ${c}: ${JSON.stringify(relocs, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v))} at ${o.base.toString(16)}`).toEqual(view(loadBytes(elf.slice(), o))));
      shared += runs.length - 1;
    }
    expect(shared).toBe(300 * 7);
  });

  it('a kept or replayed log of a shared-plan load equals a fresh copy\'s: every entry, in order, with the bytes it wrote', () => {
    const entries = (o: Outcome) => [...okImage(o).relocations]; // compared by toJSON (test/setup.ts)
    const shared = bases.map((base) => [loadBytes(elf, { base, log: true }), loadBytes(elf, { base })] as const);
    bases.forEach((base, i) => {
      const fresh = entries(loadBytes(elf.slice(), { base, log: true }));
      expect(fresh.map((r) => r.typeName)).toEqual(['R_X86_64_64', 'R_X86_64_PC32', 'R_X86_64_PC32', 'R_X86_64_PC32', 'R_X86_64_64', 'R_X86_64_64', 'R_X86_64_64']);
      const [kept, replayed] = shared[i]!;
      expect(got(kept)).toEqual(want(base));
      expect(entries(kept)).toEqual(fresh);
      expect(entries(replayed)).toEqual(fresh);
    });
  });
});

describe('one engine: the log option, the by-type summary, the file copy, REL32 host pointers', () => {
  // The manifest's census of each file (relocationCount, relocations by type), counted when it was added.
  const manifest = (JSON.parse(readFileSync(resolve(DEFAULT_CORPUS, 'manifest.json'), 'utf8')) as { entries: ManifestEntry[] }).entries;
  const real = (id: string) => {
    const e = manifest.find((x) => x.id === id)!;
    return { e, elf: new Uint8Array(readFileSync(resolve(DEFAULT_CORPUS, '..', e.file))) };
  };

  it('Debian 2.0.25 amd64: every relocation entry of the file is logged (manifest count); log: false gives the same image, no entries, and the log summed by type', () => {
    const { e, elf } = real('debian-kexec-tools-2.0.25-3_deb12u3-amd64');
    const req = { elf, base: 0x100000n, fill: 0, symbols: realisticSymbols(elf) };
    const withLog = okImage(load(req, { profile: 'kexec-tools-2.0.25' }));
    const noLog = okImage(load(req, { profile: 'kexec-tools-2.0.25', log: false }));
    expect(withLog.relocations.length).toBe(e.relocationCount);
    expect(noLog.relocations).toEqual([]);
    const { relocationTypes, ...rest } = noLog;
    expect(rest).toEqual({ ...withLog, relocations: [] });
    const byType = new Map<string, { count: number; bytes: number }>();
    for (const r of withLog.relocations) {
      const t = byType.get(r.typeName) ?? { count: 0, bytes: 0 };
      byType.set(r.typeName, { count: t.count + 1, bytes: t.bytes + r.width });
    }
    expect(relocationTypes).toEqual(byType);
    // The manifest's per-type census (counted from the file when it was added) is what was applied.
    expect(Object.fromEntries([...byType].map(([k, v]) => [k, v.count]))).toEqual(e.relocations);
  });

  it('the log is read once and kept; an ok outcome is plain data (JSON and spreads carry the entries)', () => {
    const img = okImage(loadObject(std([reloc(R['64'], 0n, 'fn'), reloc(R.PC32, 8n, 'fn', -4n)])));
    expect(img.relocations).toBe(img.relocations);
    expect(Object.keys(img)).toContain('relocations');
    expect({ ...img }.relocations.map((r) => r.typeName)).toEqual(['R_X86_64_64', 'R_X86_64_PC32']);
  });

  it('a relocation into a SHF_ALLOC NOBITS section writes the C code\'s file copy (sh_data = buf + sh_offset), never the caller\'s bytes', () => {
    const elf = buildObject(std([reloc(R['64'], 0n, 'fn', 0x1234n, '.bss')]));
    const before = elf.slice();
    const a = okImage(loadBytes(elf));
    const b = okImage(loadBytes(elf));
    expect(Buffer.from(elf).equals(Buffer.from(before))).toBe(true);
    expect(a.relocations.map((r) => [r.typeName, r.imageOffset, r.width])).toEqual([['R_X86_64_64', -1, 8]]);
    expect(a.bytes).toEqual(b.bytes);
  });

  it('ppc64le 2.0.25: every REL32 word is value - (host buffer + image offset), mod 2^32 (kexec-elf-rel-ppc64.c: value - (uintptr_t)location)', () => {
    const { elf } = real('debian-kexec-tools-2.0.25-3_deb12u3-ppc64el');
    for (const host of [0x1000n, 0x7fff_0000_2000n]) {
      const img = okImage(load({ elf, base: 0x100000n, fill: 0, symbols: [] }, { profile: 'kexec-tools-2.0.25', target: 'ppc64le', hostAddress: host }));
      const rel32 = img.relocations.filter((r) => r.typeName === 'R_PPC64_REL32');
      expect(rel32.length).toBeGreaterThan(0);
      for (const r of rel32) {
        const want = BigInt.asUintN(32, r.value - (host + BigInt(r.imageOffset)));
        expect(Buffer.from(r.bytes).readUInt32LE(0), `REL32 at image offset ${r.imageOffset}`).toBe(Number(want));
        expect(Buffer.from(img.bytes.subarray(r.imageOffset, r.imageOffset + 4)).readUInt32LE(0)).toBe(Number(want));
      }
    }
  });
});
