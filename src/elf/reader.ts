// ELF reader: ELF32/ELF64, both byte orders. Validates every offset, size, count and index
// against the file before use, with overflow-safe (bigint) arithmetic, and throws only
// ElfFormatError. Tables are decoded once, on demand, into plain objects.
import { ByteView } from '../bytes.ts';
import { ElfFormatError, isElfFormatError } from '../errors.ts';
import type { Endian } from '../types.ts';
import {
  ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, EV_CURRENT, SHT_NOBITS, SHT_NULL, SHT_REL, SHT_RELA, SHT_STRTAB,
  SHT_SYMTAB, SIZES, SHT_DYNAMIC,
} from './constants.ts';

export interface ElfHeader {
  is64: boolean;
  klass: number;
  data: number;
  identVersion: number;
  osabi: number;
  type: number;
  machine: number;
  version: number;
  entry: bigint;
  phoff: bigint;
  shoff: bigint;
  flags: number;
  ehsize: number;
  phentsize: number;
  phnum: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

export interface SectionHeader {
  index: number;
  name: number;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: bigint;
  size: bigint;
  link: number;
  info: number;
  addralign: bigint;
  entsize: bigint;
  /** Byte offset of this header in the file. */
  hdrOffset: number;
}

export interface ProgramHeader {
  index: number;
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

export interface ElfSymbol {
  index: number;
  name: number;
  info: number;
  other: number;
  shndx: number;
  value: bigint;
  size: bigint;
  bind: number;
  stype: number;
}

export interface ElfRelocation {
  index: number;
  offset: bigint;
  sym: number;
  type: number;
  /** 0 for SHT_REL. */
  addend: bigint;
  /** Raw r_info, for reporting. */
  info: bigint;
}

export interface DynamicEntry {
  tag: bigint;
  val: bigint;
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

function fail(field: string, offset: number | bigint, value: bigint | number | string, reason: string): never {
  throw new ElfFormatError(field, offset, value, reason);
}

/** Check that [off, off+len) lies in a file of `size` bytes, with no overflow. Returns off as number. */
export function checkRange(field: string, off: bigint, len: bigint, size: number, at: number | bigint = off): number {
  if (off < 0n || len < 0n) fail(field, at, off, 'negative offset or length');
  if (off + len > BigInt(size)) fail(field, at, off + len, `range [${off}, ${off + len}) runs past the end of the file (${size} bytes)`);
  return Number(off);
}

/** Byte offsets of the section header fields validate() names, per class: [ELF32, ELF64]. */
const SHDR_FIELDS = [
  { offset: 16, size: 20, link: 24, entsize: 36 },
  { offset: 24, size: 32, link: 40, entsize: 56 },
] as const;

export class ElfFile {
  readonly view: ByteView;
  readonly header: ElfHeader;
  readonly endian: Endian;
  readonly sections: SectionHeader[];
  readonly programHeaders: ProgramHeader[];
  private readonly symCache = new Map<number, ElfSymbol[]>();

  constructor(readonly bytes: Uint8Array) {
    const size = bytes.length;
    if (size < 16) fail('e_ident', 0, size, 'file shorter than e_ident (16 bytes)');
    for (let i = 0; i < 4; i++) if (bytes[i] !== ELF_MAGIC[i]) fail('e_ident[EI_MAG]', i, bytes[i] ?? 0, 'bad ELF magic');
    const klass = bytes[4]!;
    const data = bytes[5]!;
    if (klass !== ELFCLASS32 && klass !== ELFCLASS64) fail('e_ident[EI_CLASS]', 4, klass, 'unknown ELF class');
    if (data !== ELFDATA2LSB && data !== ELFDATA2MSB) fail('e_ident[EI_DATA]', 5, data, 'unknown data encoding');
    this.endian = data === ELFDATA2LSB ? 'little' : 'big';
    const v = (this.view = new ByteView(bytes, this.endian));
    const is64 = klass === ELFCLASS64;
    const c = is64 ? 1 : 0;
    if (size < SIZES.ehdr[c]) fail('e_ehsize', 0, size, `file shorter than the ELF${is64 ? 64 : 32} header`);
    const w = is64 ? 8 : 4;
    const o = is64 ? 24 + 3 * 8 : 24 + 3 * 4; // offset of e_flags
    this.header = {
      is64, klass, data,
      identVersion: bytes[6]!,
      osabi: bytes[7]!,
      type: v.u16(16),
      machine: v.u16(18),
      version: v.u32(20),
      entry: v.word(24, is64),
      phoff: v.word(24 + w, is64),
      shoff: v.word(24 + 2 * w, is64),
      flags: v.u32(o),
      ehsize: v.u16(o + 4),
      phentsize: v.u16(o + 6),
      phnum: v.u16(o + 8),
      shentsize: v.u16(o + 10),
      shnum: v.u16(o + 12),
      shstrndx: v.u16(o + 14),
    };
    this.sections = [];
    this.programHeaders = [];
    const h = this.header;
    if (h.shnum > 0 && h.shoff > 0n) {
      if (h.shentsize < SIZES.shdr[c]) fail('e_shentsize', o + 10, h.shentsize, `smaller than Elf${is64 ? 64 : 32}_Shdr`);
      const base = checkRange('e_shoff', h.shoff, BigInt(h.shnum) * BigInt(h.shentsize), size, 24 + 2 * w);
      for (let i = 0; i < h.shnum; i++) this.sections.push(this.readShdr(i, base + i * h.shentsize));
    }
    if (h.phnum > 0 && h.phoff > 0n) {
      if (h.phentsize < SIZES.phdr[c]) fail('e_phentsize', o + 6, h.phentsize, `smaller than Elf${is64 ? 64 : 32}_Phdr`);
      const base = checkRange('e_phoff', h.phoff, BigInt(h.phnum) * BigInt(h.phentsize), size, 24 + w);
      for (let i = 0; i < h.phnum; i++) this.programHeaders.push(this.readPhdr(i, base + i * h.phentsize));
    }
  }

  private readShdr(index: number, off: number): SectionHeader {
    const v = this.view;
    if (this.header.is64) {
      return {
        index, hdrOffset: off,
        name: v.u32(off), type: v.u32(off + 4), flags: v.u64(off + 8), addr: v.u64(off + 16),
        offset: v.u64(off + 24), size: v.u64(off + 32), link: v.u32(off + 40), info: v.u32(off + 44),
        addralign: v.u64(off + 48), entsize: v.u64(off + 56),
      };
    }
    return {
      index, hdrOffset: off,
      name: v.u32(off), type: v.u32(off + 4), flags: BigInt(v.u32(off + 8)), addr: BigInt(v.u32(off + 12)),
      offset: BigInt(v.u32(off + 16)), size: BigInt(v.u32(off + 20)), link: v.u32(off + 24), info: v.u32(off + 28),
      addralign: BigInt(v.u32(off + 32)), entsize: BigInt(v.u32(off + 36)),
    };
  }

  private readPhdr(index: number, off: number): ProgramHeader {
    const v = this.view;
    if (this.header.is64) {
      return {
        index, type: v.u32(off), flags: v.u32(off + 4), offset: v.u64(off + 8), vaddr: v.u64(off + 16),
        paddr: v.u64(off + 24), filesz: v.u64(off + 32), memsz: v.u64(off + 40), align: v.u64(off + 48),
      };
    }
    return {
      index, type: v.u32(off), offset: BigInt(v.u32(off + 4)), vaddr: BigInt(v.u32(off + 8)),
      paddr: BigInt(v.u32(off + 12)), filesz: BigInt(v.u32(off + 16)), memsz: BigInt(v.u32(off + 20)),
      flags: v.u32(off + 24), align: BigInt(v.u32(off + 28)),
    };
  }

  section(index: number, field = 'section index'): SectionHeader {
    const s = this.sections[index];
    if (!s) fail(field, 0, index, `no section ${index} (e_shnum ${this.sections.length})`);
    return s;
  }

  /** File bytes of a section (empty for NOBITS). Bounds-checked. */
  sectionData(index: number): Uint8Array {
    const s = this.section(index);
    if (s.type === SHT_NOBITS) return new Uint8Array(0);
    const off = checkRange(`section[${index}].sh_offset`, s.offset, s.size, this.bytes.length, s.hdrOffset);
    return this.bytes.subarray(off, off + Number(s.size));
  }

  /** NUL-terminated string at `off` inside string-table section `strtab`. */
  stringAt(strtab: number, off: number): string {
    const data = this.sectionData(strtab);
    if (off >= data.length) fail(`section[${strtab}] string`, this.sections[strtab]!.offset + BigInt(off), off, 'string offset past the string table');
    const end = data.indexOf(0, off);
    if (end < 0) fail(`section[${strtab}] string`, this.sections[strtab]!.offset + BigInt(off), off, 'string not NUL-terminated');
    return latin1(data.subarray(off, end));
  }

  sectionName(index: number): string {
    const h = this.header;
    const s = this.section(index);
    if (h.shstrndx === 0 || h.shstrndx >= this.sections.length) return '';
    // stringAt(shstrndx, sh_name), with the name table's bounds checked once per file.
    if (this.shstrtab === undefined) {
      try {
        this.shstrtab = this.sectionData(h.shstrndx);
      } catch {
        this.shstrtab = null;
      }
    }
    const data = this.shstrtab;
    const end = data && s.name < data.length ? data.indexOf(0, s.name) : -1;
    return end < 0 ? `<bad name ${s.name}>` : latin1(data!.subarray(s.name, end));
  }
  private shstrtab: Uint8Array | null | undefined;

  /** Symbols of a symbol-table section; index 0 is kept so that symbols[r_sym] is literal. */
  symbols(symtab: number): ElfSymbol[] {
    const cached = this.symCache.get(symtab);
    if (cached) return cached;
    this.section(symtab, 'symbol table index'); // names the index in the error if it is bad
    const is64 = this.header.is64;
    const ent = SIZES.sym[is64 ? 1 : 0];
    const data = this.sectionData(symtab);
    const n = Math.floor(data.length / ent);
    const v = new ByteView(data, this.endian);
    const out: ElfSymbol[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const o = i * ent;
      const info = is64 ? v.u8(o + 4) : v.u8(o + 12);
      out[i] = {
        index: i,
        name: v.u32(o),
        info,
        other: is64 ? v.u8(o + 5) : v.u8(o + 13),
        shndx: is64 ? v.u16(o + 6) : v.u16(o + 14),
        value: is64 ? v.u64(o + 8) : BigInt(v.u32(o + 4)),
        size: is64 ? v.u64(o + 16) : BigInt(v.u32(o + 8)),
        bind: info >> 4,
        stype: info & 0xf,
      };
    }
    this.symCache.set(symtab, out);
    return out;
  }

  /**
   * Relocations of a SHT_REL/SHT_RELA section. `addendSigned` chooses how an ELF32 r_addend is
   * widened: the ABI sign-extends; kexec-tools stores it in an unsigned long long (zero-extends).
   */
  relocations(relsec: number, addendSigned = true): ElfRelocation[] {
    const s = this.section(relsec, 'relocation section index');
    const isRela = s.type === SHT_RELA;
    if (!isRela && s.type !== SHT_REL) fail(`section[${relsec}].sh_type`, s.hdrOffset + 4, s.type, 'not SHT_REL or SHT_RELA');
    return decodeRelocations(this.sectionData(relsec), this.endian, this.header.is64, isRela, addendSigned);
  }

  /**
   * The checks a loader-grade read leaves out, for callers that take an ELF on trust from
   * untrusted bytes (the corpus tools carving objects out of binaries): EI_VERSION and e_version
   * are EV_CURRENT; e_ehsize is the class's header size; the program header table lies in the
   * file; e_shstrndx is below e_shnum and names a SHT_STRTAB; section 0 is SHT_NULL; every
   * sh_offset, sh_entsize and (except NOBITS) sh_size is at most the file size, and every section
   * with contents lies in the file; every section name is NUL-terminated inside .shstrtab; every
   * REL/RELA table has sh_entsize at least the entry size and a multiple of it as sh_size; the
   * SHT_SYMTAB links a SHT_STRTAB holding every symbol name. The loaders do not call this: the C
   * loaders they model are laxer, and that laxness is part of the model. Returns this; throws the
   * first of defects().
   */
  validate(): this {
    const first = this.defects()[0];
    if (first) throw first;
    return this;
  }

  /**
   * Every defect validate() finds, in its order, instead of the first: a check whose inputs an
   * earlier defect made meaningless is skipped (no section names once e_shstrndx is bad, no
   * symbol names once a symbol table's sh_link is), so each defect is reported once. Every
   * SHT_SYMTAB is checked (elf_rel_find_symbol walks them all). Empty when validate() passes.
   */
  defects(): ElfFormatError[] {
    const out: ElfFormatError[] = [];
    /** Runs one check; an ElfFormatError it throws is collected. True when it passed. */
    const ok = (check: () => unknown): boolean => {
      try {
        check();
        return true;
      } catch (e) {
        if (!isElfFormatError(e)) throw e;
        out.push(e);
        return false;
      }
    };
    const h = this.header;
    const size = this.bytes.length;
    const c = h.is64 ? 1 : 0;
    const bits = h.is64 ? 64 : 32;
    const w = h.is64 ? 8 : 4;
    const o = 24 + 3 * w; // offset of e_flags
    const at = SHDR_FIELDS[c];
    if (h.identVersion !== EV_CURRENT) ok(() => fail('e_ident[EI_VERSION]', 6, h.identVersion, 'not EV_CURRENT'));
    if (h.version !== EV_CURRENT) ok(() => fail('e_version', 20, h.version, 'not EV_CURRENT'));
    if (h.ehsize !== SIZES.ehdr[c]) ok(() => fail('e_ehsize', o + 4, h.ehsize, `not the size of Elf${bits}_Ehdr (${SIZES.ehdr[c]})`));
    if (h.phnum > 0) {
      // The constructor skips a table at e_phoff 0; here it must fit all the same.
      if (h.phentsize < SIZES.phdr[c]) ok(() => fail('e_phentsize', o + 6, h.phentsize, `smaller than Elf${bits}_Phdr`));
      else ok(() => checkRange('e_phoff', h.phoff, BigInt(h.phnum) * BigInt(h.phentsize), size, 24 + w));
    }
    if (h.shnum === 0) return out;
    if (this.sections.length === 0) {
      ok(() => fail('e_shoff', 24 + 2 * w, h.shoff, `e_shnum is ${h.shnum} but e_shoff is 0`));
      return out;
    }
    let names = h.shstrndx < h.shnum || ok(() => fail('e_shstrndx', o + 14, h.shstrndx, `not below e_shnum (${h.shnum})`));
    const limit = BigInt(size);
    /** Sections whose contents lie in the file (or that have none): their data can be read. */
    const inFile = new Set<number>();
    for (const s of this.sections) {
      const f = `section[${s.index}]`;
      let fits = true;
      if (s.offset > limit) fits = ok(() => fail(`${f}.sh_offset`, s.hdrOffset + at.offset, s.offset, `past the end of the file (${size} bytes)`));
      // A NOBITS section's size is memory, not file.
      if (s.type !== SHT_NOBITS && s.size > limit) fits = ok(() => fail(`${f}.sh_size`, s.hdrOffset + at.size, s.size, `larger than the file (${size} bytes)`)) && fits;
      if (s.entsize > limit) ok(() => fail(`${f}.sh_entsize`, s.hdrOffset + at.entsize, s.entsize, `larger than the file (${size} bytes)`));
      if (s.index === 0 && s.type !== SHT_NULL) ok(() => fail(`${f}.sh_type`, s.hdrOffset + 4, s.type, 'section 0 is not SHT_NULL'));
      if (fits && s.type !== SHT_NOBITS && s.type !== SHT_NULL) fits = ok(() => checkRange(`${f}.sh_offset`, s.offset, s.size, size, s.hdrOffset + at.offset));
      if (fits) inFile.add(s.index);
    }
    if (names) {
      names = this.sections[h.shstrndx]!.type === SHT_STRTAB || ok(() => fail('e_shstrndx', o + 14, h.shstrndx, 'does not name a SHT_STRTAB'));
    }
    if (names && inFile.has(h.shstrndx)) for (const s of this.sections) ok(() => this.stringAt(h.shstrndx, s.name));
    for (const s of this.sections) {
      if (s.type !== SHT_REL && s.type !== SHT_RELA) continue;
      const min = BigInt((s.type === SHT_RELA ? SIZES.rela : SIZES.rel)[c]);
      if (s.entsize < min) ok(() => fail(`section[${s.index}].sh_entsize`, s.hdrOffset + at.entsize, s.entsize, `relocation entry size below ${min}`));
      else if (s.size % s.entsize !== 0n) ok(() => fail(`section[${s.index}].sh_size`, s.hdrOffset + at.size, s.size, 'relocation table size is not a multiple of sh_entsize'));
    }
    for (const symtab of this.sections) {
      if (symtab.type !== SHT_SYMTAB) continue;
      const f = `section[${symtab.index}]`;
      let good = symtab.entsize >= BigInt(SIZES.sym[c]) ||
        ok(() => fail(`${f}.sh_entsize`, symtab.hdrOffset + at.entsize, symtab.entsize, `symbol entry size below ${SIZES.sym[c]}`));
      if (this.sections[symtab.link]?.type !== SHT_STRTAB) {
        good = ok(() => fail(`${f}.sh_link`, symtab.hdrOffset + at.link, symtab.link, 'symbol table sh_link is not a SHT_STRTAB')) && good;
      }
      if (good && inFile.has(symtab.index) && inFile.has(symtab.link)) {
        for (const sym of this.symbols(symtab.index)) ok(() => this.stringAt(symtab.link, sym.name));
      }
    }
    return out;
  }

  /**
   * Bytes the object spans from its first byte: the end of the section header table, of the
   * program header table or of the last section with file contents, whichever is furthest. What
   * to cut when the object is embedded in a larger buffer; inside the file once validate() passed.
   */
  extent(): number {
    const h = this.header;
    let end = h.shoff + BigInt(h.shnum) * BigInt(h.shentsize);
    const grow = (x: bigint) => {
      if (x > end) end = x;
    };
    if (h.phnum > 0) grow(h.phoff + BigInt(h.phnum) * BigInt(h.phentsize));
    for (const s of this.sections) if (s.type !== SHT_NOBITS && s.type !== SHT_NULL) grow(s.offset + s.size);
    return Number(end);
  }

  dynamic(): DynamicEntry[] {
    const s = this.sections.find((x) => x.type === SHT_DYNAMIC);
    let data: Uint8Array;
    if (s) data = this.sectionData(s.index);
    else {
      const p = this.programHeaders.find((x) => x.type === 2);
      if (!p) return [];
      const off = checkRange(`phdr[${p.index}].p_offset`, p.offset, p.filesz, this.bytes.length);
      data = this.bytes.subarray(off, off + Number(p.filesz));
    }
    const is64 = this.header.is64;
    const ent = SIZES.dyn[is64 ? 1 : 0];
    const v = new ByteView(data, this.endian);
    const out: DynamicEntry[] = [];
    for (let o = 0; o + ent <= data.length; o += ent) {
      const tag = is64 ? BigInt.asIntN(64, v.u64(o)) : BigInt(v.i32(o));
      out.push({ tag, val: is64 ? v.u64(o + 8) : BigInt(v.u32(o + 4)) });
      if (tag === 0n) break;
    }
    return out;
  }
}

export function decodeRelocations(data: Uint8Array, endian: Endian, is64: boolean, isRela: boolean, addendSigned = true): ElfRelocation[] {
  const c = is64 ? 1 : 0;
  const ent = isRela ? SIZES.rela[c] : SIZES.rel[c];
  const v = new ByteView(data, endian);
  const n = Math.floor(data.length / ent);
  const out: ElfRelocation[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * ent;
    if (is64) {
      const info = v.u64(o + 8);
      out[i] = {
        index: i, offset: v.u64(o), info,
        sym: Number(info >> 32n), type: Number(info & 0xffffffffn),
        addend: isRela ? BigInt.asIntN(64, v.u64(o + 16)) : 0n,
      };
    } else {
      const info = v.u32(o + 4);
      const a = isRela ? v.u32(o + 8) : 0;
      out[i] = {
        index: i, offset: BigInt(v.u32(o)), info: BigInt(info),
        sym: info >>> 8, type: info & 0xff,
        addend: addendSigned ? BigInt(a | 0) : BigInt(a),
      };
    }
  }
  return out;
}

export function latin1(b: Uint8Array): string {
  // One byte per char; apply() takes the typed array as it is (no spread copy), in chunks that stay under the argument limit.
  if (b.length <= 4096) return String.fromCharCode.apply(null, b as unknown as number[]);
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

export function parseElf(bytes: Uint8Array): ElfFile {
  return new ElfFile(bytes);
}
