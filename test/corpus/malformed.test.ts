import { describe, expect, it } from 'vitest';
import { CorpusDefectError, CorpusFormatError, isCorpusFormatError } from '../../src/corpus/errors.ts';
import { readCorpusElf } from '../../src/corpus/extract.ts';
import { checkDeclaredDefects, defectOf, type ElfDefect, type MalformedDeclaration } from '../../src/corpus/malformed.ts';
import { describeElf, entryFromElf } from '../../src/corpus/manifest.ts';
import { EM_X86_64, SHF_ALLOC, SHF_EXECINSTR, SHT_PROGBITS, SHT_SYMTAB, STT_OBJECT } from '../../src/elf/constants.ts';
import { ElfFile } from '../../src/elf/reader.ts';
import { buildObject } from '../../src/elf/writer.ts';
import { isElfFormatError } from '../../src/errors.ts';
import { patchShdr, sectionIndex } from '../fixture.ts';

// An x86_64 object whose first SHT_SYMTAB (.symtab.bad, a null symbol only) has sh_link 0xffffffff,
// past e_shnum: the object kexec-tools' elf_rel_find_symbol skip exists for.
const bad = buildObject({
  endian: 'little', machine: EM_X86_64,
  sections: [
    { name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(16), addralign: 16n },
    { name: '.symtab.bad', type: SHT_SYMTAB, flags: 0n, data: new Uint8Array(24), entsize: 24n, link: 0xffffffff, addralign: 8n },
  ],
  symbols: [{ name: 'x', section: '.text', value: 0n, size: 4n, type: STT_OBJECT }],
});
const badIndex = sectionIndex(bad, '.symtab.bad');
// Elf64_Shdr: sh_link at +40. Hand-computed from the header table, not from validate()'s output.
const linkOffset = new ElfFile(bad).sections[badIndex]!.hdrOffset + 40;
const linkDefect: ElfDefect = {
  field: `section[${badIndex}].sh_link`, offset: linkOffset, value: '0xffffffff', reason: 'symbol table sh_link is not a SHT_STRTAB',
};
const declared: MalformedDeclaration = { why: 'elf_rel_find_symbol skips a symbol table whose sh_link > e_shnum', defects: [linkDefect] };

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return expect.unreachable('expected a throw');
}

describe('a declared malformed object', () => {
  it('fails plain validation (the reason it needs a declaration)', () => {
    const e = thrown(() => readCorpusElf(bad));
    expect(isCorpusFormatError(e)).toBe(true);
    expect((e as CorpusFormatError).field).toBe(linkDefect.field);
    expect(e).not.toBeInstanceOf(CorpusDefectError);
  });

  it('is admitted when validate() reports exactly the declared defect', () => {
    const elf = readCorpusElf(bad, { malformed: declared });
    expect(elf.sections[badIndex]!.link).toBe(0xffffffff);
    expect(elf.defects().map(defectOf)).toEqual([linkDefect]);
  });

  it('is refused with an undeclared defect, naming it (field, offset, value, reason)', () => {
    // A second defect: .text's sh_entsize larger than the file (Elf64_Shdr sh_entsize at +56).
    const worse = patchShdr(bad, 1, 'entsize', BigInt(bad.length + 1));
    const e = thrown(() => readCorpusElf(worse, { malformed: declared }));
    expect(e).toBeInstanceOf(CorpusDefectError);
    const d = e as CorpusDefectError;
    expect(d.kind).toBe('undeclared');
    expect(d.defect).toEqual({
      field: 'section[1].sh_entsize', offset: new ElfFile(worse).sections[1]!.hdrOffset + 56,
      value: `0x${(bad.length + 1).toString(16)}`, reason: `larger than the file (${bad.length} bytes)`,
    });
    expect(d.field).toBe('section[1].sh_entsize');
    expect(d.message).toMatch(/^undeclared defect: larger than the file/);
    expect(isElfFormatError(d.cause)).toBe(true);
    expect(isCorpusFormatError(d)).toBe(true);
  });

  it('is refused when a declared defect no longer occurs, naming the declared one', () => {
    // The bad table's sh_link repaired to the real .strtab: the object now validates.
    const fixed = patchShdr(bad, badIndex, 'link', sectionIndex(bad, '.strtab'));
    expect(new ElfFile(fixed).defects()).toEqual([]);
    const e = thrown(() => readCorpusElf(fixed, { malformed: declared }));
    expect(e).toBeInstanceOf(CorpusDefectError);
    expect((e as CorpusDefectError).kind).toBe('missing');
    expect((e as CorpusDefectError).defect).toEqual(linkDefect);
    expect((e as CorpusDefectError).message).toMatch(/^declared defect no longer occurs: symbol table sh_link is not a SHT_STRTAB/);
  });

  it('is refused when the declared defect occurs with another value or reason', () => {
    for (const wrong of [{ ...linkDefect, value: '0x7f' }, { ...linkDefect, offset: linkOffset + 4 }, { ...linkDefect, reason: 'something else' }]) {
      const e = thrown(() => readCorpusElf(bad, { malformed: { why: 'x', defects: [wrong] } }));
      expect(e).toBeInstanceOf(CorpusDefectError);
      expect((e as CorpusDefectError).kind).toBe('undeclared');
      expect((e as CorpusDefectError).defect).toEqual(linkDefect);
    }
  });

  it('needs at least one defect, each listed once', () => {
    expect(() => checkDeclaredDefects(new ElfFile(bad), [])).toThrow(/no defect/);
    expect(() => checkDeclaredDefects(new ElfFile(bad), [linkDefect, linkDefect])).toThrow(/twice/);
  });

  it('a well-formed object that declares a defect is refused (the declaration is stale)', () => {
    const good = patchShdr(bad, badIndex, 'type', SHT_PROGBITS);
    expect(() => readCorpusElf(good, { malformed: declared })).toThrow(CorpusDefectError);
    expect(readCorpusElf(good).sections[badIndex]!.type).toBe(SHT_PROGBITS);
  });

  it('describeElf and entryFromElf take the declaration; the entry records it', () => {
    expect(() => describeElf(bad)).toThrow(CorpusFormatError);
    const d = describeElf(bad, declared);
    expect(d.arch).toBe('x86_64');
    // The bad table names no symbols; the real .symtab's are read.
    expect(d.undefinedSymbols).toEqual([]);
    const e = entryFromElf('t-bad', bad, { kind: 'coverage-generator', generator: 'g', spec: 's', specId: 'bad', covers: [], note: '' }, {}, declared);
    expect(e.malformed).toEqual(declared);
    expect(entryFromElf('t-good', buildObject({ endian: 'little', machine: EM_X86_64, sections: [] }), { kind: 'coverage-generator', generator: 'g', spec: 's', specId: 'good', covers: [], note: '' })).not.toHaveProperty('malformed');
  });
});
