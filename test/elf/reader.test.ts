import { describe, expect, it } from 'vitest';
import { ElfFile, decodeRelocations, latin1 } from '../../src/elf/reader.ts';
import { buildObject, writeElf, StringTable, type ObjectSpec } from '../../src/elf/writer.ts';
import { ElfFormatError, isElfFormatError } from '../../src/errors.ts';
import {
  EM_PPC64, EM_X86_64, ET_REL, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, SHT_DYNAMIC, SHT_NOBITS, SHT_PROGBITS,
  SHT_REL, SHT_RELA, SHT_STRTAB, SHT_SYMTAB, STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FUNC, STT_OBJECT,
} from '../../src/elf/constants.ts';
import type { Endian } from '../../src/types.ts';
import { patchShdr, rng, sectionIndex } from '../fixture.ts';

const variants: [string, boolean, Endian][] = [
  ['ELF32 LE', false, 'little'],
  ['ELF32 BE', false, 'big'],
  ['ELF64 LE', true, 'little'],
  ['ELF64 BE', true, 'big'],
];

function sample(is64: boolean, endian: Endian, rel = false): ObjectSpec {
  return {
    is64, endian, machine: is64 ? EM_PPC64 : 3, entry: 0x10n, flags: 0x2, rel,
    sections: [
      { name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), addralign: 4n },
      { name: '.data', flags: SHF_ALLOC | SHF_WRITE, data: new Uint8Array(16), addralign: 8n },
      { name: '.bss', type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, size: 0x40n, addralign: 16n },
    ],
    symbols: [
      { name: 'local_fn', section: '.text', value: 4n, bind: STB_LOCAL, type: STT_FUNC, size: 4n },
      { name: 'entry', section: '.text', value: 0n, bind: STB_GLOBAL, type: STT_FUNC, size: 8n, other: 0x60 },
      { name: 'var', section: '.data', value: 8n, type: STT_OBJECT, size: 8n },
      { name: 'weakling', section: '.data', bind: STB_WEAK },
      { name: 'absolute', section: SHN_ABS, value: 0xfedcba98n },
    ],
    relocations: [
      { section: '.text', offset: 0n, type: 1, symbol: 'var', addend: rel ? 0n : -4n },
      { section: '.text', offset: 4n, type: 0xff, symbol: 'absolute', addend: rel ? 0n : 0x7fffffffn },
      { section: '.data', offset: 8n, type: 38, symbol: 'entry' },
    ],
  };
}

function expectFormatError(fn: () => unknown, field: string | RegExp, offset?: number | bigint, value?: bigint | number): ElfFormatError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected an ElfFormatError').toBeInstanceOf(ElfFormatError);
  const fe = err as ElfFormatError;
  expect(isElfFormatError(fe)).toBe(true);
  if (typeof field === 'string') expect(fe.field).toBe(field);
  else expect(fe.field).toMatch(field);
  if (offset !== undefined) expect(BigInt(fe.offset)).toBe(BigInt(offset));
  if (value !== undefined) expect(BigInt(fe.value as bigint)).toBe(BigInt(value));
  expect(fe.message).toContain(fe.field);
  return fe;
}

describe.each(variants)('writer → reader round trip, %s', (_name, is64, endian) => {
  it('header fields', () => {
    const f = new ElfFile(buildObject(sample(is64, endian)));
    expect(f.endian).toBe(endian);
    expect(f.header.is64).toBe(is64);
    expect(f.header.type).toBe(ET_REL);
    expect(f.header.machine).toBe(is64 ? EM_PPC64 : 3);
    expect(f.header.entry).toBe(0x10n);
    expect(f.header.flags).toBe(2);
    expect(f.header.ehsize).toBe(is64 ? 64 : 52);
    expect(f.header.shentsize).toBe(is64 ? 64 : 40);
    expect(f.header.version).toBe(1);
  });

  it('sections keep header order, names, types, flags and alignments', () => {
    const f = new ElfFile(buildObject(sample(is64, endian)));
    const names = f.sections.map((_s, i) => f.sectionName(i));
    expect(names).toEqual(['', '.text', '.data', '.bss', '.rela.text', '.rela.data', '.symtab', '.strtab', '.shstrtab']);
    expect(f.header.shstrndx).toBe(8);
    expect(f.sections[1]!.flags).toBe(SHF_ALLOC | SHF_EXECINSTR);
    expect(f.sections[1]!.addralign).toBe(4n);
    expect([...f.sectionData(1)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(f.sections[3]!.type).toBe(SHT_NOBITS);
    expect(f.sections[3]!.size).toBe(0x40n);
    expect(f.sectionData(3).length).toBe(0);
    expect(f.sections[4]!.type).toBe(SHT_RELA);
    expect(f.sections[4]!.info).toBe(1);
    expect(f.sections[4]!.link).toBe(6);
    expect(f.sections[4]!.entsize).toBe(is64 ? 24n : 12n);
    expect(f.sections[6]!.type).toBe(SHT_SYMTAB);
    expect(f.sections[6]!.entsize).toBe(is64 ? 24n : 16n);
    expect(f.sections[6]!.link).toBe(7);
    expect(f.sections[6]!.info).toBe(2); // one null + one local before the first global
    expect(f.sections[8]!.type).toBe(SHT_STRTAB);
  });

  it('symbols keep index 0, locals first, and every field', () => {
    const f = new ElfFile(buildObject(sample(is64, endian)));
    const syms = f.symbols(6);
    expect(syms).toHaveLength(6);
    expect(syms[0]).toMatchObject({ index: 0, name: 0, info: 0, other: 0, shndx: 0, value: 0n, size: 0n });
    const named = syms.map((s) => (s.name ? f.stringAt(7, s.name) : ''));
    expect(named).toEqual(['', 'local_fn', 'entry', 'var', 'weakling', 'absolute']);
    expect(syms[1]).toMatchObject({ bind: STB_LOCAL, stype: STT_FUNC, shndx: 1, value: 4n, size: 4n });
    expect(syms[2]).toMatchObject({ bind: STB_GLOBAL, stype: STT_FUNC, shndx: 1, other: 0x60, size: 8n });
    expect(syms[3]).toMatchObject({ bind: STB_GLOBAL, stype: STT_OBJECT, shndx: 2, value: 8n });
    expect(syms[4]).toMatchObject({ bind: STB_WEAK, shndx: 2 });
    expect(syms[5]).toMatchObject({ shndx: SHN_ABS, value: 0xfedcba98n });
    // Cached: decoded once.
    expect(f.symbols(6)).toBe(syms);
  });

  it('RELA entries: offset, r_sym (symbols[] index), type, signed addend', () => {
    const f = new ElfFile(buildObject(sample(is64, endian)));
    const r = f.relocations(4);
    expect(r.map((x) => [x.offset, x.sym, x.type, x.addend])).toEqual([
      [0n, 3, 1, -4n],
      [4n, 5, 0xff, 0x7fffffffn],
    ]);
    const d = f.relocations(5);
    expect(d.map((x) => [x.offset, x.sym, x.type, x.addend])).toEqual([[8n, 2, 38, 0n]]);
    expect(f.symbols(6)[r[0]!.sym]!.name).toBe(f.symbols(6)[3]!.name);
  });

  it('REL entries: no addend, SHT_REL and the smaller entry size', () => {
    const elf = buildObject(sample(is64, endian, true));
    const f = new ElfFile(elf);
    expect(f.sectionName(4)).toBe('.rel.text');
    expect(f.sections[4]!.type).toBe(SHT_REL);
    expect(f.sections[4]!.entsize).toBe(is64 ? 16n : 8n);
    expect(f.relocations(4).map((x) => [x.offset, x.sym, x.type, x.addend])).toEqual([
      [0n, 3, 1, 0n],
      [4n, 5, 0xff, 0n],
    ]);
  });

  it('r_info is split per class (ELF32: sym<<8|type; ELF64: sym<<32|type)', () => {
    const f = new ElfFile(buildObject(sample(is64, endian)));
    const r = f.relocations(4)[1]!;
    expect(r.info).toBe(is64 ? (5n << 32n) | 0xffn : (5n << 8n) | 0xffn);
  });
});

describe('ELF32 r_addend widening', () => {
  it('sign-extends by default (ABI) and zero-extends on request (kexec-tools unsigned long long)', () => {
    const data = new Uint8Array(12);
    const dv = new DataView(data.buffer);
    dv.setUint32(0, 0x10, true);
    dv.setUint32(4, (1 << 8) | 2, true);
    dv.setUint32(8, 0xfffffffc, true);
    expect(decodeRelocations(data, 'little', false, true)[0]!.addend).toBe(-4n);
    expect(decodeRelocations(data, 'little', false, true, false)[0]!.addend).toBe(0xfffffffcn);
  });
  it('ELF64 r_addend is a signed 64-bit field', () => {
    const data = new Uint8Array(24);
    new DataView(data.buffer).setBigUint64(16, 0xffffffffffffff00n, false);
    expect(decodeRelocations(data, 'big', true, true)[0]!.addend).toBe(-256n);
  });
  it('a partial trailing entry is not decoded', () => {
    expect(decodeRelocations(new Uint8Array(24 + 23), 'little', true, true)).toHaveLength(1);
    expect(decodeRelocations(new Uint8Array(15), 'little', true, false)).toHaveLength(0);
  });
});

describe('writeElf raw layouts', () => {
  it('writes a dynamic section that dynamic() decodes, up to DT_NULL', () => {
    const dyn = new Uint8Array(16 * 3);
    const dv = new DataView(dyn.buffer);
    dv.setBigInt64(0, 7n, true); dv.setBigUint64(8, 0x1000n, true);
    dv.setBigInt64(16, 0n, true);
    dv.setBigInt64(32, 8n, true); // after DT_NULL: ignored
    const f = new ElfFile(writeElf({ is64: true, endian: 'little', machine: EM_X86_64, type: 3, sections: [{ name: '.dynamic', type: SHT_DYNAMIC, data: dyn, entsize: 16n }] }));
    expect(f.dynamic()).toEqual([{ tag: 7n, val: 0x1000n }, { tag: 0n, val: 0n }]);
  });
  it('StringTable deduplicates and NUL-terminates', () => {
    const t = new StringTable();
    expect(t.add('')).toBe(0);
    expect(t.add('ab')).toBe(1);
    expect(t.add('c')).toBe(4);
    expect(t.add('ab')).toBe(1);
    expect([...t.bytes()]).toEqual([0, 0x61, 0x62, 0, 0x63, 0]);
  });
  it('latin1 decodes bytes one to one, in chunks', () => {
    expect(latin1(Uint8Array.from([0x41, 0xe9, 0xff]))).toBe('A\u00e9\u00ff');
    expect(latin1(new Uint8Array(10000).fill(0x61))).toHaveLength(10000);
  });
});

describe('malformed headers → ElfFormatError naming field, offset and value', () => {
  const good64 = buildObject(sample(true, 'little'));
  const good32be = buildObject(sample(false, 'big'));

  it('a file shorter than e_ident', () => {
    expectFormatError(() => new ElfFile(good64.slice(0, 10)), 'e_ident', 0, 10);
    expectFormatError(() => new ElfFile(new Uint8Array(0)), 'e_ident', 0, 0);
  });

  it('a file shorter than the ELF header of its class', () => {
    expectFormatError(() => new ElfFile(good64.slice(0, 63)), 'e_ehsize', 0, 63);
    expectFormatError(() => new ElfFile(good32be.slice(0, 51)), 'e_ehsize', 0, 51);
    expect(() => new ElfFile(good32be.slice(0, 52))).toThrow(ElfFormatError); // header fits, section headers do not
  });

  it('bad magic names the byte', () => {
    for (let i = 0; i < 4; i++) {
      const b = good64.slice();
      b[i] = 0;
      expectFormatError(() => new ElfFile(b), 'e_ident[EI_MAG]', i, 0);
    }
  });

  it('unknown EI_CLASS and EI_DATA', () => {
    const c = good64.slice();
    c[4] = 3;
    expectFormatError(() => new ElfFile(c), 'e_ident[EI_CLASS]', 4, 3);
    const d = good64.slice();
    d[5] = 0;
    expectFormatError(() => new ElfFile(d), 'e_ident[EI_DATA]', 5, 0);
  });

  it('e_shoff past EOF (ELF64 field at 0x28, ELF32 at 0x20)', () => {
    const b = good64.slice();
    new DataView(b.buffer).setBigUint64(0x28, BigInt(b.length), true);
    expectFormatError(() => new ElfFile(b), 'e_shoff', 0x28);
    const c = good32be.slice();
    new DataView(c.buffer).setUint32(0x20, c.length - 1, false);
    expectFormatError(() => new ElfFile(c), 'e_shoff', 0x20);
  });

  it('e_shoff near 2^64 does not wrap the range check', () => {
    const b = good64.slice();
    new DataView(b.buffer).setBigUint64(0x28, 0xffffffffffffffc0n, true);
    const e = expectFormatError(() => new ElfFile(b), 'e_shoff', 0x28);
    expect(BigInt(e.value as bigint)).toBeGreaterThan(0xffffffffffffffc0n);
  });

  it('a huge e_shnum makes the header table run past EOF', () => {
    const b = good64.slice();
    new DataView(b.buffer).setUint16(0x3c, 0xffff, true);
    expectFormatError(() => new ElfFile(b), 'e_shoff', 0x28);
  });

  it('e_shentsize smaller than Elf64_Shdr', () => {
    const b = good64.slice();
    new DataView(b.buffer).setUint16(0x3a, 63, true);
    expectFormatError(() => new ElfFile(b), 'e_shentsize', 0x3a, 63);
  });

  it('e_shstrndx out of range: names are empty, nothing throws', () => {
    const b = good64.slice();
    new DataView(b.buffer).setUint16(0x3e, 200, true);
    const f = new ElfFile(b);
    expect(f.sections.map((_s, i) => f.sectionName(i)).every((n) => n === '')).toBe(true);
  });

  it('a section name offset past .shstrtab is reported, not thrown', () => {
    const b = patchShdr(good64, 1, 'name', 0x7fffffff);
    expect(new ElfFile(b).sectionName(1)).toBe('<bad name 2147483647>');
  });

  it('sh_offset + sh_size past EOF on sectionData names the section header', () => {
    const idx = sectionIndex(good64, '.data');
    const b = patchShdr(good64, idx, 'size', BigInt(good64.length));
    const f = new ElfFile(b);
    const e = expectFormatError(() => f.sectionData(idx), `section[${idx}].sh_offset`, f.sections[idx]!.hdrOffset);
    expect(e.reason).toMatch(/past the end of the file/);
    // sh_size = 2^64 - 1: the sum must not wrap into range.
    const w = new ElfFile(patchShdr(good64, idx, 'size', (1n << 64n) - 1n));
    expectFormatError(() => w.sectionData(idx), `section[${idx}].sh_offset`);
    const o = new ElfFile(patchShdr(good64, idx, 'offset', (1n << 64n) - 8n));
    expectFormatError(() => o.sectionData(idx), `section[${idx}].sh_offset`);
  });

  it('a NOBITS section has no file data even with a wild sh_offset', () => {
    const idx = sectionIndex(good64, '.bss');
    const f = new ElfFile(patchShdr(good64, idx, 'offset', 0xffffffffffn));
    expect(f.sectionData(idx)).toHaveLength(0);
  });

  it('a string that is not NUL-terminated', () => {
    const strtab = sectionIndex(good64, '.strtab');
    const f0 = new ElfFile(good64);
    const size = f0.sections[strtab]!.size;
    // Drop the final NUL of the last name ('absolute').
    const f = new ElfFile(patchShdr(good64, strtab, 'size', size - 1n));
    const last = f.symbols(6)[5]!.name;
    const e = expectFormatError(() => f.stringAt(strtab, last), `section[${strtab}] string`, f.sections[strtab]!.offset + BigInt(last), last);
    expect(e.reason).toBe('string not NUL-terminated');
    // The other names still end inside the table.
    expect(f.stringAt(strtab, f.symbols(6)[1]!.name)).toBe('local_fn');
  });

  it('a string offset past its table', () => {
    const strtab = sectionIndex(good64, '.strtab');
    const f = new ElfFile(good64);
    const e = expectFormatError(() => f.stringAt(strtab, 10000), `section[${strtab}] string`);
    expect(e.reason).toMatch(/past the string table/);
  });

  it('a section index out of range', () => {
    const f = new ElfFile(good64);
    expectFormatError(() => f.section(99), 'section index', 0, 99);
    expectFormatError(() => f.symbols(99), 'symbol table index', 0, 99);
    expectFormatError(() => f.relocations(-1), 'relocation section index');
  });

  it('relocations() on a section that is not REL/RELA names sh_type', () => {
    const f = new ElfFile(good64);
    expectFormatError(() => f.relocations(1), 'section[1].sh_type', f.sections[1]!.hdrOffset + 4, SHT_PROGBITS);
  });
});

describe('validate(): the checks a loader-grade read leaves out', () => {
  it.each(variants)('accepts a well-formed %s object and returns it; extent() is the object, not what follows', (_n, is64, endian) => {
    for (const rel of [false, true]) {
      const good = buildObject(sample(is64, endian, rel));
      const f = new ElfFile(good);
      expect(f.validate()).toBe(f);
      expect(f.extent()).toBe(good.length);
      const padded = new Uint8Array(good.length + 100).fill(0xa5);
      padded.set(good);
      expect(new ElfFile(padded).validate().extent()).toBe(good.length);
    }
  });

  const good64 = buildObject(sample(true, 'little'));
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const idx = (name: string) => sectionIndex(good64, name);
  const hdr = (name: string) => new ElfFile(good64).sections[idx(name)]!.hdrOffset;
  // [what, field, byte offset named, spoil]
  const cases: [string, string, () => number, (b: Uint8Array) => Uint8Array][] = [
    ['EI_VERSION not EV_CURRENT', 'e_ident[EI_VERSION]', () => 6, (b) => ((b[6] = 0), b)],
    ['e_version not EV_CURRENT', 'e_version', () => 20, (b) => (dv(b).setUint32(20, 2, true), b)],
    ['e_ehsize not 64', 'e_ehsize', () => 0x34, (b) => (dv(b).setUint16(0x34, 80, true), b)],
    // The constructor skips a program header table at e_phoff 0; validate() does not.
    ['e_phnum 1 at e_phoff 0 with e_phentsize below 56', 'e_phentsize', () => 0x36, (b) => (dv(b).setUint16(0x38, 1, true), dv(b).setUint16(0x36, 8, true), b)],
    ['e_shstrndx not below e_shnum', 'e_shstrndx', () => 0x3e, (b) => (dv(b).setUint16(0x3e, 200, true), b)],
    ['e_shstrndx naming a non-STRTAB', 'e_shstrndx', () => 0x3e, (b) => (dv(b).setUint16(0x3e, idx('.text'), true), b)],
    ['section 0 not SHT_NULL', 'section[0].sh_type', () => new ElfFile(good64).sections[0]!.hdrOffset + 4, (b) => patchShdr(b, 0, 'type', SHT_PROGBITS)],
    ['sh_size larger than the file', `section[${idx('.data')}].sh_size`, () => hdr('.data') + 32, (b) => patchShdr(b, idx('.data'), 'size', BigInt(b.length + 1))],
    ['contents past EOF', `section[${idx('.data')}].sh_offset`, () => hdr('.data') + 24, (b) => patchShdr(b, idx('.data'), 'offset', BigInt(b.length - 4))],
    ['a NOBITS sh_offset past EOF', `section[${idx('.bss')}].sh_offset`, () => hdr('.bss') + 24, (b) => patchShdr(b, idx('.bss'), 'offset', BigInt(b.length + 1))],
    ['sh_entsize larger than the file', `section[${idx('.text')}].sh_entsize`, () => hdr('.text') + 56, (b) => patchShdr(b, idx('.text'), 'entsize', BigInt(b.length + 1))],
    ['a section name past .shstrtab', `section[${idx('.shstrtab')}] string`, () => -1, (b) => patchShdr(b, 1, 'name', 0x7fffffff)],
    ['RELA sh_entsize below 24', `section[${idx('.rela.text')}].sh_entsize`, () => hdr('.rela.text') + 56, (b) => patchShdr(b, idx('.rela.text'), 'entsize', 16)],
    ['RELA sh_size not a multiple of sh_entsize', `section[${idx('.rela.text')}].sh_size`, () => hdr('.rela.text') + 32, (b) => patchShdr(b, idx('.rela.text'), 'size', 30)],
    ['SHT_SYMTAB sh_entsize below 24', `section[${idx('.symtab')}].sh_entsize`, () => hdr('.symtab') + 56, (b) => patchShdr(b, idx('.symtab'), 'entsize', 8)],
    ['SHT_SYMTAB sh_link not a STRTAB', `section[${idx('.symtab')}].sh_link`, () => hdr('.symtab') + 40, (b) => patchShdr(b, idx('.symtab'), 'link', idx('.text'))],
    ['a symbol name not NUL-terminated in its table', `section[${idx('.strtab')}] string`, () => -1, (b) => patchShdr(b, idx('.strtab'), 'size', new ElfFile(b).sections[idx('.strtab')]!.size - 1n)],
  ];
  it.each(cases)('rejects %s, naming %s', (_what, field, at, spoil) => {
    const b = spoil(good64.slice());
    const f = new ElfFile(b); // the loader-grade read accepts it
    const offset = at();
    expectFormatError(() => f.validate(), field, offset < 0 ? undefined : offset);
  });
});

describe('defects(): every defect validate() finds, not only the first', () => {
  const good64 = buildObject(sample(true, 'little'));
  const f0 = new ElfFile(good64);
  const idx = (name: string) => sectionIndex(good64, name);
  const hdr = (name: string) => f0.sections[idx(name)]!.hdrOffset;
  const fields = (b: Uint8Array) => new ElfFile(b).defects().map((e) => [e.field, Number(e.offset), e.reason]);

  it('is empty for a well-formed object', () => {
    expect(f0.defects()).toEqual([]);
  });

  it('lists independent defects in validate() order; validate() throws the first', () => {
    // Section 0 made SHT_PROGBITS, .text's sh_entsize past the file, the symbol table's sh_link at .text.
    let b = patchShdr(good64, 0, 'type', SHT_PROGBITS);
    b = patchShdr(b, idx('.text'), 'entsize', BigInt(b.length + 1));
    b = patchShdr(b, idx('.symtab'), 'link', idx('.text'));
    expect(fields(b)).toEqual([
      ['section[0].sh_type', f0.sections[0]!.hdrOffset + 4, 'section 0 is not SHT_NULL'],
      [`section[${idx('.text')}].sh_entsize`, hdr('.text') + 56, `larger than the file (${b.length} bytes)`],
      [`section[${idx('.symtab')}].sh_link`, hdr('.symtab') + 40, 'symbol table sh_link is not a SHT_STRTAB'],
    ]);
    expectFormatError(() => new ElfFile(b).validate(), 'section[0].sh_type', f0.sections[0]!.hdrOffset + 4);
  });

  it('reports a symbol table with a bad sh_link once: its symbol names are not read through it', () => {
    // sh_link 0xffffffff: past e_shnum (the kexec-tools elf_rel_find_symbol skip).
    const b = patchShdr(good64, idx('.symtab'), 'link', 0xffffffff);
    expect(new ElfFile(b).defects().map((e) => [e.field, e.value])).toEqual([[`section[${idx('.symtab')}].sh_link`, 0xffffffff]]);
  });

  it('checks every SHT_SYMTAB, not only the first', () => {
    const spec = sample(true, 'little');
    // A second symbol table after the real one (buildObject puts its own .symtab last).
    const b = buildObject({ ...spec, sections: [...spec.sections, { name: '.symtab2', type: SHT_SYMTAB, flags: 0n, data: new Uint8Array(24), entsize: 24n, link: 0x7f }] });
    const i = sectionIndex(b, '.symtab2');
    expect(i).toBeLessThan(sectionIndex(b, '.symtab'));
    const f = new ElfFile(b);
    expect(f.defects().map((e) => [e.field, Number(e.offset), e.value, e.reason])).toEqual([
      [`section[${i}].sh_link`, f.sections[i]!.hdrOffset + 40, 0x7f, 'symbol table sh_link is not a SHT_STRTAB'],
    ]);
  });

  it('skips the checks an earlier defect made meaningless: no names once e_shstrndx is out of range', () => {
    const b = good64.slice();
    new DataView(b.buffer).setUint16(0x3e, 200, true);
    // Only the one defect: the section names (read through e_shstrndx) are not checked.
    expect(fields(b)).toEqual([['e_shstrndx', 0x3e, `not below e_shnum (${f0.sections.length})`]]);
  });
});

describe('the reader throws nothing but ElfFormatError', () => {
  function exercise(bytes: Uint8Array): void {
    const f = new ElfFile(bytes);
    for (let i = 0; i < f.sections.length; i++) {
      f.sectionName(i);
      const s = f.sections[i]!;
      if (s.type === SHT_SYMTAB) {
        for (const sym of f.symbols(i)) if (sym.name) f.stringAt(s.link, sym.name);
      }
      if (s.type === SHT_RELA || s.type === SHT_REL) f.relocations(i);
      f.sectionData(i);
    }
    f.dynamic();
    f.extent();
    f.validate();
  }
  function expectOnlyFormatErrors(bytes: Uint8Array): void {
    try {
      exercise(bytes);
    } catch (e) {
      if (!(e instanceof ElfFormatError)) throw e;
    }
  }

  it.each(variants)('every truncation of a %s object', (_n, is64, endian) => {
    const good = buildObject(sample(is64, endian));
    exercise(good);
    for (let n = 0; n < good.length; n++) expectOnlyFormatErrors(good.slice(0, n));
  });

  it('1500 seeded random mutations of header and section-header bytes', () => {
    const good = buildObject(sample(true, 'big'));
    const shoff = Number(new ElfFile(good).header.shoff);
    const next = rng(0x5eed);
    for (let k = 0; k < 1500; k++) {
      const b = good.slice();
      const n = 1 + (next() % 4);
      for (let j = 0; j < n; j++) {
        const inHeaders = next() % 2 === 0;
        const at = inHeaders ? (next() % 2 ? next() % 64 : shoff + (next() % (b.length - shoff))) : next() % b.length;
        b[at] = next() & 0xff;
      }
      expectOnlyFormatErrors(b);
    }
  });
});

describe('buildObject: section 0, symbol 0 and symbols past the table (malformed coverage objects)', () => {
  const base: ObjectSpec = {
    endian: 'little', machine: 62, entry: 0n,
    sections: [{ name: '.text', flags: 6n, data: new Uint8Array(0x10), addralign: 16n }],
    symbols: [{ name: 'a', section: '.text', value: 4n }],
  };
  it('section0: its header fields and bytes replace SHT_NULL\'s zeros; names resolve to indexes', () => {
    const data = Uint8Array.from({ length: 24 }, (_, i) => i + 1);
    const f = new ElfFile(buildObject({ ...base, section0: { type: 4, flags: 2n, data, link: '.symtab', info: '.text', entsize: 24n, addralign: 8n } }));
    const s0 = f.sections[0]!;
    // null, .text, .symtab (3 - 1 = 2), .strtab, .shstrtab
    expect({ type: s0.type, flags: s0.flags, link: s0.link, info: s0.info, size: s0.size, entsize: s0.entsize }).toEqual({ type: 4, flags: 2n, link: 2, info: 1, size: 24n, entsize: 24n });
    expect(s0.offset).toBeGreaterThan(0n);
    expect([...f.sectionData(0)]).toEqual([...data]);
  });
  it('tail: bytes after the section header table (what reading header e_shnum finds)', () => {
    const tail = Uint8Array.from({ length: 64 }, (_, i) => i);
    const plain = buildObject(base);
    const b = buildObject({ ...base, tail });
    expect(b.length).toBe(plain.length + 64);
    expect([...b.subarray(plain.length)]).toEqual([...tail]);
    const f = new ElfFile(b);
    expect(Number(f.header.shoff) + 64 * f.sections.length).toBe(plain.length);
  });
  it('nullSymbol replaces symbol 0; hiddenSymbols follow the table in the file, outside sh_size', () => {
    const b = buildObject({ ...base, nullSymbol: { name: 'z', section: '.text', value: 8n }, hiddenSymbols: [{ name: 'h', section: '.text', value: 0xcn }] });
    const f = new ElfFile(b);
    const symtab = f.sections.find((s) => s.type === SHT_SYMTAB)!;
    expect(symtab.size).toBe(48n); // symbol 0 (z) and a; h is not counted
    const syms = f.symbols(symtab.index);
    expect(syms.map((s) => [f.stringAt(symtab.link, s.name), s.bind, s.shndx, s.value])).toEqual([['z', 1, 1, 8n], ['a', 1, 1, 4n]]);
    // the 24 bytes after the table: h, global, .text, 0xc
    const at = Number(symtab.offset + symtab.size);
    const v = new DataView(b.buffer, b.byteOffset);
    expect([f.stringAt(symtab.link, v.getUint32(at, true)), b[at + 4]! >> 4, v.getUint16(at + 6, true), v.getBigUint64(at + 8, true)]).toEqual(['h', 1, 1, 0xcn]);
  });
});
