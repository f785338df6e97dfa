// A small ELF writer, for tests and the fuzzer: builds relocatable objects (and raw layouts)
// in either class and byte order. It writes exactly what it is told, malformed values included.
import { ByteView } from '../bytes.ts';
import type { Endian } from '../types.ts';
import {
  ET_REL, SHT_NULL, SHT_RELA, SHT_REL, SHT_STRTAB, SHT_SYMTAB, SHT_NOBITS, SIZES, STB_GLOBAL, STB_LOCAL, STT_NOTYPE,
} from './constants.ts';

export interface RawSection {
  name: string;
  type: number;
  flags?: bigint;
  addr?: bigint;
  data?: Uint8Array;
  /** Size for NOBITS, or an override of data.length (to write malformed headers). */
  size?: bigint;
  /** Override of the file offset (malformed headers). */
  offset?: bigint;
  link?: number;
  info?: number;
  addralign?: bigint;
  entsize?: bigint;
}

export interface RawElf {
  is64: boolean;
  endian: Endian;
  type?: number;
  machine: number;
  entry?: bigint;
  flags?: number;
  /** Section 0 (SHT_NULL) is added automatically; indexes in link/info count it. */
  sections: RawSection[];
  /** Section 0's header and contents instead of SHT_NULL's zeros (malformed objects); `name` sets its sh_name. */
  section0?: Omit<RawSection, 'name'> & { name?: string };
  /** Bytes after the section header table (what a read of header e_shnum and beyond finds). */
  tail?: Uint8Array;
  /** Overrides for malformed headers. */
  shstrndx?: number;
  shentsize?: number;
  ehsize?: number;
  version?: number;
}

/** Lay out and encode an ELF file from raw section descriptions (section 0 added, .shstrtab appended). */
export function writeElf(spec: RawElf): Uint8Array {
  const c = spec.is64 ? 1 : 0;
  const shstr = new StringTable();
  const secs: RawSection[] = [{ name: '', type: SHT_NULL, ...spec.section0 }, ...spec.sections];
  const nameOffs = secs.map((s) => shstr.add(s.name));
  const shstrIndex = secs.length;
  const shstrName = shstr.add('.shstrtab');
  const shstrData = shstr.bytes();
  const all: RawSection[] = [...secs, { name: '.shstrtab', type: SHT_STRTAB, data: shstrData, addralign: 1n }];
  nameOffs.push(shstrName);

  const ehsize = SIZES.ehdr[c];
  let off = ehsize;
  const offsets: bigint[] = [];
  for (const s of all) {
    const align = Number(s.addralign && s.addralign > 0n && s.addralign <= 4096n ? s.addralign : 1n);
    off = Math.ceil(off / align) * align;
    offsets.push(BigInt(off));
    if (s.type !== SHT_NOBITS && s.data) off += s.data.length;
  }
  off = Math.ceil(off / 8) * 8;
  const shoff = off;
  const shentsize = SIZES.shdr[c];
  const total = shoff + shentsize * all.length;
  const out = new Uint8Array(total + (spec.tail?.length ?? 0));
  if (spec.tail) out.set(spec.tail, total);
  const v = new ByteView(out, spec.endian);
  // e_ident
  out.set([0x7f, 0x45, 0x4c, 0x46, spec.is64 ? 2 : 1, spec.endian === 'little' ? 1 : 2, 1, 0]);
  v.setU16(16, spec.type ?? ET_REL);
  v.setU16(18, spec.machine);
  v.setU32(20, spec.version ?? 1);
  const w = spec.is64 ? 8 : 4;
  const put = (o: number, x: bigint) => (spec.is64 ? v.setU64(o, x) : v.setU32(o, Number(BigInt.asUintN(32, x))));
  put(24, spec.entry ?? 0n);
  put(24 + w, 0n);
  put(24 + 2 * w, BigInt(shoff));
  const o = 24 + 3 * w;
  v.setU32(o, spec.flags ?? 0);
  v.setU16(o + 4, spec.ehsize ?? ehsize);
  v.setU16(o + 6, 0);
  v.setU16(o + 8, 0);
  v.setU16(o + 10, spec.shentsize ?? shentsize);
  v.setU16(o + 12, all.length);
  v.setU16(o + 14, spec.shstrndx ?? shstrIndex);

  all.forEach((s, i) => {
    if (s.type !== SHT_NOBITS && s.data) out.set(s.data, Number(offsets[i]));
    const h = shoff + i * shentsize;
    const size = s.size ?? BigInt(s.data?.length ?? 0);
    const fileOff = s.offset ?? (i === 0 && !s.data ? 0n : offsets[i]!);
    v.setU32(h, nameOffs[i]!);
    v.setU32(h + 4, s.type);
    if (spec.is64) {
      v.setU64(h + 8, s.flags ?? 0n); v.setU64(h + 16, s.addr ?? 0n); v.setU64(h + 24, fileOff);
      v.setU64(h + 32, size); v.setU32(h + 40, s.link ?? 0); v.setU32(h + 44, s.info ?? 0);
      v.setU64(h + 48, s.addralign ?? (i === 0 ? 0n : 1n)); v.setU64(h + 56, s.entsize ?? 0n);
    } else {
      const n = (x: bigint) => Number(BigInt.asUintN(32, x));
      v.setU32(h + 8, n(s.flags ?? 0n)); v.setU32(h + 12, n(s.addr ?? 0n)); v.setU32(h + 16, n(fileOff));
      v.setU32(h + 20, n(size)); v.setU32(h + 24, s.link ?? 0); v.setU32(h + 28, s.info ?? 0);
      v.setU32(h + 32, n(s.addralign ?? (i === 0 ? 0n : 1n))); v.setU32(h + 36, n(s.entsize ?? 0n));
    }
  });
  return out;
}

export class StringTable {
  private parts: number[] = [0];
  private index = new Map<string, number>([['', 0]]);
  add(s: string): number {
    const hit = this.index.get(s);
    if (hit !== undefined) return hit;
    const off = this.parts.length;
    for (let i = 0; i < s.length; i++) this.parts.push(s.charCodeAt(i) & 0xff);
    this.parts.push(0);
    this.index.set(s, off);
    return off;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

// ---------------------------------------------------------------------------------------------
// Object builder: named sections, symbols and relocations, as a compiler would emit them.

export interface ObjSection {
  name: string;
  type?: number; // default PROGBITS
  flags: bigint;
  data?: Uint8Array;
  size?: bigint; // NOBITS
  addralign?: bigint;
  addr?: bigint;
  /** sh_link (default 0). */
  link?: number;
  /** sh_entsize (default 0): e.g. for a second SHT_SYMTAB declared as a section. */
  entsize?: bigint;
}

export interface ObjSymbol {
  name: string;
  /** Section name, or a raw shndx number (SHN_ABS, SHN_COMMON, SHN_UNDEF, out of range...). */
  section: string | number;
  value?: bigint;
  size?: bigint;
  bind?: number;
  type?: number;
  other?: number;
}

export interface ObjRelocation {
  /** Target section name. */
  section: string;
  offset: bigint;
  type: number;
  /** Symbol name, or a raw symbol index. */
  symbol: string | number;
  addend?: bigint;
}

export interface ObjectSpec {
  is64?: boolean;
  endian: Endian;
  machine: number;
  entry?: bigint;
  flags?: number;
  sections: ObjSection[];
  symbols?: ObjSymbol[];
  relocations?: ObjRelocation[];
  /** Emit SHT_REL instead of SHT_RELA. */
  rel?: boolean;
  /** Target sections whose relocations go to an SHT_REL section (the others: SHT_RELA unless `rel`). */
  relSections?: string[];
  /**
   * Header fields of the relocation section for a target, written instead of the right ones
   * (malformed objects): sh_info as a number, sh_link as a number or a section name.
   */
  relOverrides?: Record<string, { info?: number; link?: number | string }>;
  /** Emit one STT_SECTION symbol per section (as assemblers do). Default false. */
  sectionSymbols?: boolean;
  /**
   * Section 0's header and contents instead of SHT_NULL's zeros (malformed objects): sh_link and
   * sh_info as a number or a section name ('.symtab' and '.strtab' included); `name`: its sh_name.
   */
  section0?: Omit<ObjSection, 'name' | 'link' | 'type'> & { type: number; name?: string; link?: number | string; info?: number | string; entsize?: bigint };
  /** Symbol 0 instead of the null symbol (a malformed table). */
  nullSymbol?: ObjSymbol;
  /** Bytes after the section header table (what a read of header e_shnum and beyond finds). */
  tail?: Uint8Array;
  /** Symbols written in .symtab's bytes right after its sh_size: in the file, outside the table. */
  hiddenSymbols?: ObjSymbol[];
}

/** One symbol table entry's fields, as Elf32_Sym/Elf64_Sym hold them. */
export interface RawSymbol { name: number; info: number; other: number; shndx: number; value: bigint; size: bigint }

/** The bytes of a symbol table (Elf64_Sym or Elf32_Sym entries, in the given byte order). */
export function symbolTableBytes(syms: readonly RawSymbol[], endian: Endian, is64: boolean): Uint8Array {
  const ent = SIZES.sym[is64 ? 1 : 0];
  const out = new Uint8Array(ent * syms.length);
  const v = new ByteView(out, endian);
  syms.forEach((s, i) => {
    const o = i * ent;
    v.setU32(o, s.name);
    if (is64) {
      v.setU8(o + 4, s.info); v.setU8(o + 5, s.other); v.setU16(o + 6, s.shndx);
      v.setU64(o + 8, s.value); v.setU64(o + 16, s.size);
    } else {
      v.setU32(o + 4, Number(BigInt.asUintN(32, s.value))); v.setU32(o + 8, Number(BigInt.asUintN(32, s.size)));
      v.setU8(o + 12, s.info); v.setU8(o + 13, s.other); v.setU16(o + 14, s.shndx);
    }
  });
  return out;
}

/** One relocation entry: r_offset, the symbol index and type of r_info, r_addend (RELA only). */
export interface RawRelocation { offset: bigint; sym: number; type: number; addend?: bigint }

/** The bytes of a relocation section (Elf64/Elf32 Rel or Rela entries, in the given byte order). */
export function relocationBytes(rels: readonly RawRelocation[], endian: Endian, is64: boolean, isRel: boolean): Uint8Array {
  const ent = (isRel ? SIZES.rel : SIZES.rela)[is64 ? 1 : 0];
  const out = new Uint8Array(ent * rels.length);
  const v = new ByteView(out, endian);
  rels.forEach((r, i) => {
    const o = i * ent;
    if (is64) {
      v.setU64(o, r.offset);
      v.setU64(o + 8, (BigInt(r.sym) << 32n) | BigInt(r.type >>> 0));
      if (!isRel) v.setU64(o + 16, r.addend ?? 0n);
    } else {
      v.setU32(o, Number(BigInt.asUintN(32, r.offset)));
      v.setU32(o + 4, ((r.sym << 8) | (r.type & 0xff)) >>> 0);
      if (!isRel) v.setU32(o + 8, Number(BigInt.asUintN(32, r.addend ?? 0n)));
    }
  });
  return out;
}

/** Build a relocatable object: sections, then .rela.<sec> per target, then .symtab and .strtab. */
export function buildObject(spec: ObjectSpec): Uint8Array {
  const is64 = spec.is64 ?? true;
  const c = is64 ? 1 : 0;
  const secIndex = new Map<string, number>();
  spec.sections.forEach((s, i) => secIndex.set(s.name, i + 1));
  const targets = [...new Set((spec.relocations ?? []).map((r) => r.section))];
  const firstRel = spec.sections.length + 1;
  const symtabIndex = firstRel + targets.length;
  const strtabIndex = symtabIndex + 1;

  const strtab = new StringTable();
  const syms: RawSymbol[] = [
    { name: 0, info: 0, other: 0, shndx: 0, value: 0n, size: 0n },
  ];
  const symIndex = new Map<string, number>();
  const shndxOf = (s: string | number): number => {
    if (typeof s === 'number') return s;
    if (s === '.symtab') return symtabIndex;
    if (s === '.strtab') return strtabIndex;
    const i = secIndex.get(s);
    if (i === undefined) throw new Error(`buildObject: no section named ${s}`);
    return i;
  };
  if (spec.sectionSymbols) {
    spec.sections.forEach((s, i) => syms.push({ name: 0, info: (STB_LOCAL << 4) | 3, other: 0, shndx: i + 1, value: 0n, size: 0n }));
  }
  const symOf = (s: ObjSymbol) => ({
    name: strtab.add(s.name), info: ((s.bind ?? STB_GLOBAL) << 4) | (s.type ?? STT_NOTYPE), other: s.other ?? 0,
    shndx: shndxOf(s.section), value: s.value ?? 0n, size: s.size ?? 0n,
  });
  const ordered = [...(spec.symbols ?? [])].sort((a, b) => Number((a.bind ?? STB_GLOBAL) !== STB_LOCAL) - Number((b.bind ?? STB_GLOBAL) !== STB_LOCAL));
  let firstGlobal = -1;
  for (const s of ordered) {
    const bind = s.bind ?? STB_GLOBAL;
    if (bind !== STB_LOCAL && firstGlobal < 0) firstGlobal = syms.length;
    symIndex.set(s.name, syms.length);
    syms.push(symOf(s));
  }
  if (firstGlobal < 0) firstGlobal = syms.length;
  if (spec.nullSymbol) syms[0] = symOf(spec.nullSymbol);
  const tableLength = syms.length;
  for (const h of spec.hiddenSymbols ?? []) syms.push(symOf(h));

  const symEnt = SIZES.sym[c];
  const symData = symbolTableBytes(syms, spec.endian, is64);

  const relSections: RawSection[] = targets.map((t) => {
    const rs = (spec.relocations ?? []).filter((r) => r.section === t);
    const isRel = !!spec.rel || !!spec.relSections?.includes(t);
    const ent = isRel ? SIZES.rel[c] : SIZES.rela[c];
    const data = relocationBytes(rs.map((r) => {
      const sym = typeof r.symbol === 'number' ? r.symbol : symIndex.get(r.symbol);
      if (sym === undefined) throw new Error(`buildObject: no symbol named ${String(r.symbol)}`);
      return { offset: r.offset, sym, type: r.type, addend: r.addend };
    }), spec.endian, is64, isRel);
    const ov = spec.relOverrides?.[t];
    return {
      name: (isRel ? '.rel' : '.rela') + t, type: isRel ? SHT_REL : SHT_RELA, flags: 0x40n /* INFO_LINK */,
      data, link: ov?.link !== undefined ? shndxOf(ov.link) : symtabIndex, info: ov?.info ?? shndxOf(t), addralign: 8n, entsize: BigInt(ent),
    };
  });

  const s0 = spec.section0;
  return writeElf({
    is64, endian: spec.endian, machine: spec.machine, entry: spec.entry, flags: spec.flags,
    ...(s0 ? { section0: { ...s0, link: s0.link === undefined ? undefined : shndxOf(s0.link), info: s0.info === undefined ? undefined : shndxOf(s0.info) } } : {}),
    ...(spec.tail ? { tail: spec.tail } : {}),
    sections: [
      ...spec.sections.map((s) => ({
        name: s.name, type: s.type ?? 1, flags: s.flags, data: s.data, size: s.size,
        addralign: s.addralign ?? 1n, addr: s.addr, link: s.link, entsize: s.entsize,
      })),
      ...relSections,
      { name: '.symtab', type: SHT_SYMTAB, data: symData, size: BigInt(symEnt * tableLength), link: strtabIndex, info: firstGlobal, addralign: 8n, entsize: BigInt(symEnt) },
      { name: '.strtab', type: SHT_STRTAB, data: strtab.bytes(), addralign: 1n },
    ],
  });
}
