import { describe, expect, it } from 'vitest';
import { appendedSize, parseBzImage, readCorpusElf, scanEmbeddedElfs, sniffCompression, type Compression } from '../../src/corpus/extract.ts';
import { CorpusFormatError, isCorpusFormatError } from '../../src/corpus/errors.ts';
import { SHT_REL, SHT_RELA, SHT_SYMTAB } from '../../src/elf/constants.ts';
import { isElfFormatError } from '../../src/errors.ts';
import { relocationHistogram } from '../../src/inspect.ts';
import { concat, rela, synthElf } from './synth-elf.ts';

const junk = (n: number, seed = 1) => {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
};

describe('scanEmbeddedElfs', () => {
  it('finds an ET_REL x86_64 object at an odd offset, with its exact length', () => {
    const obj = synthElf();
    const buf = concat(junk(1001), obj, junk(333, 7));
    const found = scanEmbeddedElfs(buf, { type: 1, machine: 62 });
    expect(found).toHaveLength(1);
    expect(found[0]!.offset).toBe(1001);
    expect(found[0]!.length).toBe(obj.length);
    expect(Buffer.from(found[0]!.bytes).equals(Buffer.from(obj))).toBe(true);
    const elf = found[0]!.elf;
    expect(elf.sections.map((s) => elf.sectionName(s.index))).toEqual(['', '.text', '.shstrtab']);
  });

  it('filters on e_type and e_machine', () => {
    const buf = concat(synthElf({ type: 2 }), junk(17), synthElf({ machine: 21, endian: 'big' }), junk(5), synthElf());
    expect(scanEmbeddedElfs(buf, { type: 1, machine: 62 }).map((f) => f.offset)).toEqual([buf.length - synthElf().length]);
    const ppc = scanEmbeddedElfs(buf, { type: 1, machine: 21 });
    expect(ppc).toHaveLength(1);
    expect(ppc[0]!.endian).toBe('big');
    expect(scanEmbeddedElfs(buf, { type: 2, machine: 62 }).map((f) => f.offset)).toEqual([0]);
  });

  it('finds several objects in one buffer', () => {
    const a = synthElf();
    const b = synthElf({ sections: [{ name: '.data', type: 1, data: junk(100) }] });
    const buf = concat(junk(64), a, b, junk(64));
    expect(scanEmbeddedElfs(buf, { type: 1, machine: 62 }).map((f) => [f.offset, f.length])).toEqual([
      [64, a.length],
      [64 + a.length, b.length],
    ]);
  });

  it('reports a truncated candidate through onReject instead of throwing', () => {
    const obj = synthElf();
    const buf = concat(junk(10), obj.subarray(0, obj.length - 1));
    const rejected: [number, CorpusFormatError][] = [];
    expect(scanEmbeddedElfs(buf, { type: 1, machine: 62, onReject: (o, e) => rejected.push([o, e]) })).toEqual([]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]![0]).toBe(10);
    expect(isCorpusFormatError(rejected[0]![1])).toBe(true);
    expect(rejected[0]![1].field).toBe('e_shoff');
  });

  it('rejects a candidate whose e_shstrndx is out of range', () => {
    const obj = synthElf();
    new DataView(obj.buffer).setUint16(62, 99, true);
    const errs: CorpusFormatError[] = [];
    expect(scanEmbeddedElfs(obj, { type: 1, machine: 62, onReject: (_o, e) => errs.push(e) })).toEqual([]);
    expect(errs[0]?.field).toBe('e_shstrndx');
  });

  it('ignores a bare magic followed by junk, and a magic too close to the end', () => {
    const buf = concat(junk(50), Uint8Array.of(0x7f, 0x45, 0x4c, 0x46), junk(200, 3), Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1));
    expect(scanEmbeddedElfs(buf, { type: 1, machine: 62 })).toEqual([]);
  });
});

describe('readCorpusElf + relocationHistogram', () => {
  for (const endian of ['little', 'big'] as const) {
    it(`decodes RELA entries (${endian}-endian) and names them`, () => {
      const machine = endian === 'big' ? 21 : 62;
      const entries: [bigint, number, number, bigint][] =
        machine === 62
          ? [[0n, 2, 1, -4n], [8n, 2, 1, -4n], [16n, 1, 2, 0n], [20n, 11, 2, 0x10n]]
          : [[0n, 10, 1, 0n], [4n, 50, 2, 0x8000n], [8n, 48, 2, 0x8000n], [12n, 38, 3, 0n]];
      const obj = synthElf({
        endian,
        machine,
        sections: [
          { name: '.text', type: 1, data: junk(32) },
          { name: '.rela.text', type: 4, data: rela(entries, endian), entsize: 24, info: 1 },
        ],
      });
      const elf = readCorpusElf(obj);
      const tables = elf.sections.filter((s) => s.type === SHT_RELA || s.type === SHT_REL);
      expect(tables).toHaveLength(1);
      expect(elf.relocations(tables[0]!.index).map((e) => [e.offset, e.type, e.sym, e.addend])).toEqual(entries);
      expect(relocationHistogram(elf)).toEqual(
        machine === 62
          ? { R_X86_64_32S: 1, R_X86_64_64: 1, R_X86_64_PC32: 2 }
          : { R_PPC64_ADDR64: 1, R_PPC64_REL24: 1, R_PPC64_TOC16_HA: 1, R_PPC64_TOC16_LO: 1 },
      );
    });
  }

  it('rejects a relocation table whose size is not a multiple of sh_entsize', () => {
    const obj = synthElf({ sections: [{ name: '.rela.text', type: 4, data: new Uint8Array(30), entsize: 24 }] });
    expect(() => readCorpusElf(obj)).toThrow(CorpusFormatError);
  });

  it('rejects a section running past the buffer, naming the field', () => {
    const obj = synthElf();
    const dv = new DataView(obj.buffer);
    const shoff = Number(dv.getBigUint64(40, true));
    dv.setBigUint64(shoff + 64 + 32, 0x100000n, true); // .text sh_size
    try {
      readCorpusElf(obj);
      expect.unreachable();
    } catch (e) {
      expect(isCorpusFormatError(e)).toBe(true);
      expect((e as CorpusFormatError).field).toBe('section[1].sh_size');
      expect(isElfFormatError((e as CorpusFormatError).cause)).toBe(true);
    }
  });
});

/** A synthetic bzImage: setup sectors, then protected-mode code holding the payload. */
function synthBzImage(setupSects: number, payload: Uint8Array, payloadOffset = 0x1234): Uint8Array {
  const pm = ((setupSects === 0 ? 4 : setupSects) + 1) * 512;
  const buf = new Uint8Array(pm + payloadOffset + payload.length + 100);
  const dv = new DataView(buf.buffer);
  buf[0x1f1] = setupSects;
  dv.setUint16(0x1fe, 0xaa55, true);
  dv.setUint32(0x202, 0x53726448, true);
  dv.setUint16(0x206, 0x020f, true);
  dv.setUint32(0x248, payloadOffset, true);
  dv.setUint32(0x24c, payload.length, true);
  buf.set(payload, pm + payloadOffset);
  return buf;
}

describe('parseBzImage', () => {
  const magics: [Compression, number[]][] = [
    ['gzip', [0x1f, 0x8b, 0x08]],
    ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
    ['lz4', [0x02, 0x21, 0x4c, 0x18]],
    ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
    ['bzip2', [0x42, 0x5a, 0x68, 0x39]],
    ['lzma', [0x5d, 0x00, 0x00, 0x00, 0x04]],
    ['none-elf', [0x7f, 0x45, 0x4c, 0x46]],
    ['unknown', [0x00, 0x11, 0x22, 0x33]],
  ];
  it.each(magics)('sniffs %s', (name, magic) => {
    const payload = concat(Uint8Array.from(magic), junk(40));
    const info = parseBzImage(synthBzImage(27, payload));
    expect(info.compression).toBe(name);
    expect(info.setupSects).toBe(27);
    expect(info.protectedModeOffset).toBe(28 * 512);
    expect(info.payloadOffset).toBe(0x1234);
    expect(info.payloadFileOffset).toBe(28 * 512 + 0x1234);
    expect(info.payloadLength).toBe(payload.length);
    expect(Buffer.from(info.payload).equals(Buffer.from(payload))).toBe(true);
    expect(sniffCompression(payload)).toBe(name);
  });

  it('treats setup_sects = 0 as 4, per the boot protocol', () => {
    const info = parseBzImage(synthBzImage(0, Uint8Array.of(0x1f, 0x8b)));
    expect([info.setupSectsRaw, info.setupSects, info.protectedModeOffset]).toEqual([0, 4, 2560]);
  });

  it.each([
    ['boot_flag', (dv: DataView) => dv.setUint16(0x1fe, 0, true)],
    ['header', (dv: DataView) => dv.setUint32(0x202, 0, true)],
    ['version', (dv: DataView) => dv.setUint16(0x206, 0x0207, true)],
    ['payload_offset', (dv: DataView) => dv.setUint32(0x24c, 0x7fffffff, true)],
  ])('rejects a bad %s with a typed error', (field, spoil) => {
    const img = synthBzImage(10, junk(64));
    spoil(new DataView(img.buffer));
    try {
      parseBzImage(img);
      expect.unreachable();
    } catch (e) {
      expect(isCorpusFormatError(e)).toBe(true);
      expect((e as CorpusFormatError).field).toBe(field);
    }
  });

  it('rejects a buffer too short for the header', () => {
    expect(() => parseBzImage(new Uint8Array(100))).toThrow(CorpusFormatError);
  });

  it('reads the appended little-endian size', () => {
    expect(appendedSize(Uint8Array.of(9, 9, 0x78, 0x56, 0x34, 0x12))).toBe(0x12345678);
    expect(appendedSize(Uint8Array.of(1, 2))).toBeUndefined();
  });
});

describe('readCorpusElf symbols', () => {
  it('keeps symbol 0 and reports undefined globals (names from the linked string table)', () => {
    // The .symtab links to .shstrtab (index 3 here), so names are offsets into it: 1 = ".text".
    const sym = (name: number, info: number, shndx: number) => {
      const b = new Uint8Array(24);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, name, true);
      b[4] = info;
      dv.setUint16(6, shndx, true);
      return b;
    };
    const obj = synthElf({
      sections: [
        { name: '.text', type: 1, data: junk(8) },
        { name: '.symtab', type: 2, data: concat(sym(0, 0, 0), sym(1, 0x12, 0), sym(7, 0x10, 1)), entsize: 24, link: 3 },
      ],
    });
    const elf = readCorpusElf(obj);
    const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB)!;
    expect(elf.symbols(symtab.index).map((s) => [elf.stringAt(symtab.link, s.name), s.bind, s.stype, s.shndx])).toEqual([
      ['', 0, 0, 0],
      ['.text', 1, 2, 0],
      ['.symtab', 1, 0, 1],
    ]);
  });
});
