// A minimal, validating ELF64 reader for the corpus tools: header, section headers, section
// names and relocation tables. It exists so the corpus can be described (and embedded objects
// found) without the engine in src/elf; the engine owns the loader-grade parser.

import { CorpusFormatError } from './errors.ts';
import { relocationName } from './reloc-names.ts';
import type { Endian } from '../types.ts';

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const EM_PPC64 = 21;
export const EM_X86_64 = 62;

export const SHT_NULL = 0;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_DYNAMIC = 6;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;

const EHDR64_SIZE = 64;
const SHDR64_SIZE = 64;
const PHDR64_SIZE = 56;
const RELA64_SIZE = 24;
const REL64_SIZE = 16;
const SYM64_SIZE = 24;

export interface Elf64Header {
  endian: Endian;
  type: number;
  machine: number;
  version: number;
  entry: bigint;
  phoff: number;
  shoff: number;
  flags: number;
  ehsize: number;
  phentsize: number;
  phnum: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

export interface Elf64Section {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: bigint;
  entsize: number;
}

export interface Elf64Relocation {
  offset: bigint;
  type: number;
  sym: number;
  addend: bigint;
}

export interface Elf64RelocationSection {
  section: number;
  name: string;
  rela: boolean;
  /** sh_info: the section the relocations apply to (0 for dynamic relocations). */
  target: number;
  entries: Elf64Relocation[];
}

export interface Elf64Symbol {
  name: string;
  value: bigint;
  size: bigint;
  /** STB_* (st_info >> 4). */
  bind: number;
  /** STT_* (st_info & 0xf). */
  type: number;
  shndx: number;
}

export interface ParsedElf64 {
  header: Elf64Header;
  sections: Elf64Section[];
  relocations: Elf64RelocationSection[];
  /** The SHT_SYMTAB (index 0 kept, so symbols[r_sym] is literal); empty when there is none. */
  symbols: Elf64Symbol[];
  /** Bytes the object spans: end of the section header table or of the last section, whichever is later. */
  extent: number;
}

/** Reads through one DataView bound to the buffer and its byte order. */
class Reader {
  private readonly dv: DataView;
  readonly le: boolean;
  constructor(
    readonly buf: Uint8Array,
    endian: Endian,
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.le = endian === 'little';
  }
  u8(off: number): number {
    return this.dv.getUint8(off);
  }
  u16(off: number): number {
    return this.dv.getUint16(off, this.le);
  }
  u32(off: number): number {
    return this.dv.getUint32(off, this.le);
  }
  u64(off: number): bigint {
    return this.dv.getBigUint64(off, this.le);
  }
  i64(off: number): bigint {
    return this.dv.getBigInt64(off, this.le);
  }
}

/** A u64 file offset or size as a number, rejected if it cannot be an offset into `limit` bytes. */
function offsetField(v: bigint, at: number, field: string, limit: number): number {
  if (v > BigInt(limit)) throw new CorpusFormatError(at, field, v, `${field} lies beyond the ${limit}-byte buffer`);
  return Number(v);
}

function checkRange(off: number, len: number, limit: number, at: number, field: string): void {
  // off and len are both ≤ limit < 2^53, so the sum cannot lose precision.
  if (off + len > limit) {
    throw new CorpusFormatError(at, field, off, `${field} range [0x${off.toString(16)}, +0x${len.toString(16)}) exceeds the ${limit}-byte buffer`);
  }
}

/**
 * Reads and checks the ELF64 header at the start of `buf`. Only ELFCLASS64 is accepted: every
 * purgatory this project handles is 64-bit.
 */
export function parseElf64Header(buf: Uint8Array): Elf64Header {
  if (buf.length < EHDR64_SIZE) throw new CorpusFormatError(0, 'length', buf.length, 'buffer is shorter than an ELF64 header');
  if (buf[0] !== 0x7f || buf[1] !== 0x45 || buf[2] !== 0x4c || buf[3] !== 0x46) {
    throw new CorpusFormatError(0, 'e_ident[EI_MAG]', Array.from(buf.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' '), 'bad ELF magic');
  }
  if (buf[4] !== 2) throw new CorpusFormatError(4, 'e_ident[EI_CLASS]', buf[4] ?? 0, 'not ELFCLASS64');
  const data = buf[5];
  if (data !== 1 && data !== 2) throw new CorpusFormatError(5, 'e_ident[EI_DATA]', data ?? 0, 'bad byte order');
  if (buf[6] !== 1) throw new CorpusFormatError(6, 'e_ident[EI_VERSION]', buf[6] ?? 0, 'bad ELF version');
  const endian: Endian = data === 1 ? 'little' : 'big';
  const r = new Reader(buf, endian);
  const h: Elf64Header = {
    endian,
    type: r.u16(16),
    machine: r.u16(18),
    version: r.u32(20),
    entry: r.u64(24),
    phoff: offsetField(r.u64(32), 32, 'e_phoff', buf.length),
    shoff: offsetField(r.u64(40), 40, 'e_shoff', buf.length),
    flags: r.u32(48),
    ehsize: r.u16(52),
    phentsize: r.u16(54),
    phnum: r.u16(56),
    shentsize: r.u16(58),
    shnum: r.u16(60),
    shstrndx: r.u16(62),
  };
  if (h.version !== 1) throw new CorpusFormatError(20, 'e_version', h.version, 'bad ELF version');
  if (h.ehsize !== EHDR64_SIZE) throw new CorpusFormatError(52, 'e_ehsize', h.ehsize, 'e_ehsize is not 64');
  if (h.phnum > 0 && h.phentsize < PHDR64_SIZE) throw new CorpusFormatError(54, 'e_phentsize', h.phentsize, 'e_phentsize below 56');
  if (h.phnum > 0) checkRange(h.phoff, h.phnum * h.phentsize, buf.length, 32, 'program header table');
  return h;
}

/** End of the section header table, from the header alone (e_shoff + e_shnum·e_shentsize). */
export function sectionHeaderTableEnd(h: Elf64Header): number {
  return h.shoff + h.shnum * h.shentsize;
}

function readString(buf: Uint8Array, tableOff: number, tableSize: number, index: number, at: number, field: string): string {
  if (index >= tableSize) throw new CorpusFormatError(at, field, index, `string index beyond its ${tableSize}-byte table`);
  const start = tableOff + index;
  const end = buf.indexOf(0, start);
  if (end < 0 || end >= tableOff + tableSize) throw new CorpusFormatError(at, field, index, 'string is not NUL-terminated inside its table');
  return new TextDecoder('latin1').decode(buf.subarray(start, end));
}

/**
 * Parses an ELF64 object: header, section headers (index 0 kept, so sections[i] is literal),
 * names, and every SHT_REL/SHT_RELA table. Every offset is checked against the buffer.
 */
export function parseElf64(buf: Uint8Array): ParsedElf64 {
  const h = parseElf64Header(buf);
  if (h.shnum === 0) throw new CorpusFormatError(60, 'e_shnum', 0, 'no section headers');
  if (h.shentsize < SHDR64_SIZE) throw new CorpusFormatError(58, 'e_shentsize', h.shentsize, 'e_shentsize below 64');
  if (h.shstrndx >= h.shnum) throw new CorpusFormatError(62, 'e_shstrndx', h.shstrndx, `e_shstrndx not below e_shnum (${h.shnum})`);
  checkRange(h.shoff, h.shnum * h.shentsize, buf.length, 40, 'section header table');
  const r = new Reader(buf, h.endian);

  const raw: Omit<Elf64Section, 'name'>[] = [];
  const nameIdx: number[] = [];
  let extent = sectionHeaderTableEnd(h);
  if (h.phnum > 0) extent = Math.max(extent, h.phoff + h.phnum * h.phentsize);
  for (let i = 0; i < h.shnum; i++) {
    const at = h.shoff + i * h.shentsize;
    const type = r.u32(at + 4);
    const offset = offsetField(r.u64(at + 24), at + 24, `section ${i} sh_offset`, buf.length);
    const sizeBig = r.u64(at + 32);
    // A NOBITS section's size is memory, not file: do not bound it by the buffer.
    const size = type === SHT_NOBITS ? Number(BigInt.asUintN(53, sizeBig)) : offsetField(sizeBig, at + 32, `section ${i} sh_size`, buf.length);
    const entBig = r.u64(at + 56);
    const entsize = offsetField(entBig, at + 56, `section ${i} sh_entsize`, buf.length);
    if (i === 0 && type !== SHT_NULL) throw new CorpusFormatError(at + 4, 'section 0 sh_type', type, 'section 0 is not SHT_NULL');
    if (type !== SHT_NOBITS && type !== SHT_NULL) {
      checkRange(offset, size, buf.length, at + 24, `section ${i} contents`);
      extent = Math.max(extent, offset + size);
    }
    nameIdx.push(r.u32(at));
    raw.push({
      index: i,
      type,
      flags: r.u64(at + 8),
      addr: r.u64(at + 16),
      offset,
      size,
      link: r.u32(at + 40),
      info: r.u32(at + 44),
      addralign: r.u64(at + 48),
      entsize,
    });
  }
  const shstr = raw[h.shstrndx];
  if (!shstr || shstr.type !== SHT_STRTAB) throw new CorpusFormatError(62, 'e_shstrndx', h.shstrndx, 'e_shstrndx does not name a SHT_STRTAB');
  const sections: Elf64Section[] = raw.map((s, i) => ({
    ...s,
    name: readString(buf, shstr.offset, shstr.size, nameIdx[i] ?? 0, h.shoff + i * h.shentsize, `section ${i} sh_name`),
  }));

  const relocations: Elf64RelocationSection[] = [];
  for (const s of sections) {
    if (s.type !== SHT_RELA && s.type !== SHT_REL) continue;
    const rela = s.type === SHT_RELA;
    const min = rela ? RELA64_SIZE : REL64_SIZE;
    const shAt = h.shoff + s.index * h.shentsize;
    if (s.entsize < min) throw new CorpusFormatError(shAt + 56, `section ${s.index} sh_entsize`, s.entsize, `relocation entry size below ${min}`);
    if (s.size % s.entsize !== 0) throw new CorpusFormatError(shAt + 32, `section ${s.index} sh_size`, s.size, 'relocation table size is not a multiple of sh_entsize');
    const entries: Elf64Relocation[] = [];
    for (let off = s.offset; off < s.offset + s.size; off += s.entsize) {
      const info = r.u64(off + 8);
      entries.push({
        offset: r.u64(off),
        type: Number(info & 0xffffffffn),
        sym: Number(info >> 32n),
        addend: rela ? r.i64(off + 16) : 0n,
      });
    }
    relocations.push({ section: s.index, name: s.name, rela, target: s.info, entries });
  }
  const symbols: Elf64Symbol[] = [];
  const symtab = sections.find((x) => x.type === SHT_SYMTAB);
  if (symtab) {
    const shAt = h.shoff + symtab.index * h.shentsize;
    if (symtab.entsize < SYM64_SIZE) throw new CorpusFormatError(shAt + 56, `section ${symtab.index} sh_entsize`, symtab.entsize, 'symbol entry size below 24');
    const strtab = sections[symtab.link];
    if (!strtab || strtab.type !== SHT_STRTAB) throw new CorpusFormatError(shAt + 40, `section ${symtab.index} sh_link`, symtab.link, 'symbol table sh_link is not a SHT_STRTAB');
    for (let off = symtab.offset; off + SYM64_SIZE <= symtab.offset + symtab.size; off += symtab.entsize) {
      const info = r.u8(off + 4);
      symbols.push({
        name: readString(buf, strtab.offset, strtab.size, r.u32(off), off, 'st_name'),
        bind: info >> 4,
        type: info & 0xf,
        shndx: r.u16(off + 6),
        value: r.u64(off + 8),
        size: r.u64(off + 16),
      });
    }
  }
  return { header: h, sections, relocations, symbols, extent };
}

/** Relocation-type histogram by name, over every SHT_REL/SHT_RELA table; keys sorted. */
export function relocationHistogram(elf: ParsedElf64): Record<string, number> {
  const counts = new Map<string, number>();
  for (const rs of elf.relocations) {
    for (const e of rs.entries) {
      const n = relocationName(elf.header.machine, e.type);
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
  }
  return Object.fromEntries([...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
