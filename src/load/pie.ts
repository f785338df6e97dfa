// The PIE load model: a purgatory linked with `-pie` and loaded from its program headers, as the
// 2016 kexec_file proposal ("kexec_file: Add support for purgatory built as PIE", v10 04/10) would
// have done. Neither kexec-tools nor the kernel merged such a loader; this is the loader the
// compatibility question is asked about. Stages, as in the ET_REL models:
//   parse (header, PT_LOAD, PT_DYNAMIC) → layout (pure: base, span, entry) → copy (segments,
//   zero-fill to p_memsz) → relocate (dynamic relocations; writes + log) → symbols.
// Dynamic relocation types are classified here (which value: B+A, S+A, S, .TOC.), and the bits are
// written by the arch module's spec for the static type with the same field (lld's split of
// getRelExpr and relocate): RELATIVE is an ADDR64/R_X86_64_64 write of B+A, and so on.
import { cAlign, hex, u64, ByteView } from '../bytes.ts';
import { LoadError } from '../errors.ts';
import {
  DF_TEXTREL, DT_FLAGS, DT_HASH, DT_JMPREL, DT_NEEDED, DT_NULL, DT_PLTREL, DT_PLTRELSZ, DT_REL, DT_RELA, DT_RELAENT,
  DT_RELASZ, DT_RELENT, DT_RELR, DT_RELSZ, DT_STRSZ, DT_STRTAB, DT_SYMENT, DT_SYMTAB, DT_TEXTREL, ELFCLASS64, EM_PPC64,
  EM_X86_64, ET_DYN, PF_W, PT_DYNAMIC, PT_LOAD, SHF_ALLOC, SHN_ABS, SHN_UNDEF, SHT_DYNSYM, SHT_NOBITS, SHT_SYMTAB, SIZES,
  STB_GLOBAL, STB_WEAK,
} from '../elf/constants.ts';
import { ElfFile, checkRange, type ElfSymbol, type ProgramHeader } from '../elf/reader.ts';
import { RelocInput, U64, applySpec, type ArchModule, type RelocSpec, type Semantics } from '../arch/types.ts';
import { ARCH_MODULES } from '../arch/modules.ts';
import { R_X86_64, x86_64 } from '../arch/x86_64.ts';
import { R_PPC64, ppc64 } from '../arch/ppc64.ts';
import type { Profile } from './profile.ts';
import { MAX_IMAGE } from './kexec-tools.ts';
import { RelocationLog } from './relocation-log.ts';
import { parseOf, snapshotOf } from './snapshot.ts';
import { lazyArray } from '../lazy-array.ts';
import type { Arch, LoadedImage, LoadedSection, RelocationLogEntry, SymbolWrite, Where } from '../types.ts';

// ---------------------------------------------------------------------------------------------
// Classification of dynamic relocations.

/**
 * How a dynamic relocation's value is computed (B: load bias, S: symbol address after load, A: addend):
 * - 'none': nothing is written;
 * - 'relative': B + A (the symbol index is ignored);
 * - 'symbol': S (x86_64 GLOB_DAT: the psABI ignores the addend);
 * - 'symbolic': S + A (a PC-relative `via` type subtracts P itself);
 * - 'toc': the module's TOC pointer (.TOC.), as R_PPC64_TOC defines it.
 */
export type DynExpr = 'none' | 'relative' | 'symbol' | 'symbolic' | 'toc';

export interface PieRelocKind {
  expr: DynExpr;
  /** The static type whose compute/write (range checks, field bits) the arch module provides. */
  via: number;
}

const X = R_X86_64;
const P = R_PPC64;

/**
 * The dynamic relocations a PIE loader applies: what GNU ld and lld emit for a static,
 * `--no-dynamic-linker` PIE without PLT or TLS (RELATIVE; symbolic words; ppc64 text relocations
 * for @highest/@higher/@h/@l), and the same list glibc's rtld handles for those types. One line per type.
 */
export const PIE_DYNAMIC: Readonly<Record<'x86_64' | 'ppc64', ReadonlyMap<number, PieRelocKind>>> = {
  x86_64: new Map<number, PieRelocKind>([
    [X.NONE, { expr: 'none', via: X.NONE }],
    [X.RELATIVE, { expr: 'relative', via: X['64'] }],
    [X['64'], { expr: 'symbolic', via: X['64'] }],
    [X.GLOB_DAT, { expr: 'symbol', via: X['64'] }],
    [X['32'], { expr: 'symbolic', via: X['32'] }],
    [X.PC32, { expr: 'symbolic', via: X.PC32 }],
  ]),
  ppc64: new Map<number, PieRelocKind>([
    [P.NONE, { expr: 'none', via: P.NONE }],
    [P.RELATIVE, { expr: 'relative', via: P.ADDR64 }],
    [P.ADDR64, { expr: 'symbolic', via: P.ADDR64 }],
    [P.UADDR64, { expr: 'symbolic', via: P.ADDR64 }],
    [P.GLOB_DAT, { expr: 'symbolic', via: P.ADDR64 }],
    [P.ADDR32, { expr: 'symbolic', via: P.ADDR32 }],
    [P.ADDR16_LO, { expr: 'symbolic', via: P.ADDR16_LO }],
    [P.ADDR16_HI, { expr: 'symbolic', via: P.ADDR16_HI }],
    [P.ADDR16_HA, { expr: 'symbolic', via: P.ADDR16_HA }],
    [P.ADDR16_HIGHER, { expr: 'symbolic', via: P.ADDR16_HIGHER }],
    [P.ADDR16_HIGHEST, { expr: 'symbolic', via: P.ADDR16_HIGHEST }],
    [P.TOC, { expr: 'toc', via: P.TOC }],
  ]),
};

export interface PieRelocSpec {
  type: number;
  name: string;
  kind: PieRelocKind;
  /** The arch module's spec for kind.via (undefined for 'none'). */
  spec: RelocSpec | undefined;
  width: number;
}

export function archModuleOf(target: Arch): ArchModule {
  return ARCH_MODULES[target];
}

/** Classification for the PIE profile: undefined when the type is not a dynamic type we apply. */
export function classifyPie(arch: ArchModule, type: number, sem: Semantics): PieRelocSpec | undefined {
  const kind = (PIE_DYNAMIC as Partial<Record<ArchModule['arch'], ReadonlyMap<number, PieRelocKind>>>)[arch.arch]?.get(type);
  if (!kind) return undefined;
  if (kind.expr === 'none') return { type, name: arch.typeName(type), kind, spec: undefined, width: 0 };
  const spec = arch.classify(kind.via, sem);
  if (!spec) throw new Error(`internal: PIE type ${arch.typeName(type)} writes via ${arch.typeName(kind.via)}, which the arch module does not classify`);
  return { type, name: arch.typeName(type), kind, spec, width: spec.width };
}

// ---------------------------------------------------------------------------------------------
// Parse: header, segments, dynamic table.

export interface DynamicInfo {
  entries: { tag: bigint; val: bigint }[];
  /** Relocation tables (DT_RELA/DT_REL and DT_JMPREL), as link-time addresses. */
  tables: { name: 'DT_RELA' | 'DT_REL' | 'DT_JMPREL'; vaddr: bigint; size: bigint; rela: boolean }[];
  symtab?: bigint;
  strtab?: bigint;
  strsz?: bigint;
  /** Number of dynamic symbols when DT_HASH says (nchain). */
  nsyms?: number;
  /** DT_TEXTREL present or DF_TEXTREL set in DT_FLAGS. */
  textrel: boolean;
  flags: bigint;
}

export interface PieElf {
  elf: ElfFile;
  profile: Profile;
  arch: ArchModule;
  loads: ProgramHeader[];
  dyn: DynamicInfo;
  /** Link-time span of the PT_LOAD segments: [lo, hi). */
  lo: bigint;
  hi: bigint;
  maxAlign: bigint;
}

function reject(code: 'elf-format' | 'not-pie' | 'wrong-machine' | 'unsupported', message: string, where: Where = {}): never {
  throw new LoadError(code, message, where);
}

const isPow2 = (a: bigint) => a > 0n && (a & (a - 1n)) === 0n;

export function parsePie(bytes: Uint8Array, profile: Profile): PieElf {
  const elf = new ElfFile(bytes); // ElfFormatError → 'elf-format' at the engine's front door
  const h = elf.header;
  const arch = archModuleOf(profile.target);
  if (h.type !== ET_DYN) reject('not-pie', `not a PIE: e_type ${h.type} (ET_DYN is ${ET_DYN})\n`);
  if (h.klass !== ELFCLASS64) reject('wrong-machine', `ELFCLASS${h.klass === 1 ? 32 : h.klass}: the ${profile.target} PIE loader takes ELFCLASS64\n`);
  const machine = profile.target === 'x86_64' ? EM_X86_64 : EM_PPC64;
  if (h.machine !== machine) reject('wrong-machine', `e_machine ${h.machine}: the ${profile.target} PIE loader takes ${machine}\n`);
  if (elf.endian !== profile.storeEndian) reject('wrong-machine', `${elf.endian}-endian file: the ${profile.target} PIE loader reads ${profile.storeEndian}-endian structures\n`);

  const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD);
  if (loads.length === 0) reject('not-pie', 'no PT_LOAD program header\n');
  let lo = -1n;
  let hi = 0n;
  let maxAlign = 1n;
  const size = bytes.length;
  for (const p of loads) {
    const where = `phdr[${p.index}]`;
    checkRange(`${where}.p_offset`, p.offset, p.filesz, size);
    if (p.filesz > p.memsz) reject('elf-format', `${where}: p_filesz ${hex(p.filesz)} > p_memsz ${hex(p.memsz)}\n`);
    if (p.vaddr + p.memsz > u64(-1n)) reject('elf-format', `${where}: p_vaddr + p_memsz wraps past 2^64\n`);
    if (p.align > 1n && !isPow2(p.align)) reject('elf-format', `${where}: p_align ${hex(p.align)} is not a power of two\n`);
    if (p.align > maxAlign) maxAlign = p.align;
    if (lo < 0n || p.vaddr < lo) lo = p.vaddr;
    if (p.vaddr + p.memsz > hi) hi = p.vaddr + p.memsz;
  }
  const sorted = [...loads].sort((a, b) => (a.vaddr < b.vaddr ? -1 : a.vaddr > b.vaddr ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (a.vaddr + a.memsz > b.vaddr) reject('elf-format', `PT_LOAD phdr[${a.index}] and phdr[${b.index}] overlap\n`);
  }
  const dynPh = elf.programHeaders.filter((p) => p.type === PT_DYNAMIC);
  if (dynPh.length === 0) reject('not-pie', 'no PT_DYNAMIC program header: nothing says how to relocate the image\n');
  if (dynPh.length > 1) reject('elf-format', `${dynPh.length} PT_DYNAMIC program headers\n`);
  const pie: PieElf = { elf, profile, arch, loads: sorted, dyn: undefined as unknown as DynamicInfo, lo, hi, maxAlign };
  pie.dyn = parseDynamic(pie, dynPh[0]!);
  return pie;
}

/** File bytes at link-time address [vaddr, vaddr+len): inside one PT_LOAD's file image, or an elf-format rejection. */
export function fileAt(pie: PieElf, vaddr: bigint, len: bigint, what: string): number {
  for (const p of pie.loads) {
    if (vaddr >= p.vaddr && vaddr + len <= p.vaddr + p.filesz) return Number(p.offset + (vaddr - p.vaddr));
  }
  return reject('elf-format', `${what} at ${hex(vaddr)} (+${hex(len)}) is not inside the file image of a PT_LOAD segment\n`);
}

function parseDynamic(pie: PieElf, ph: ProgramHeader): DynamicInfo {
  const { elf } = pie;
  const off = checkRange(`phdr[${ph.index}].p_offset (PT_DYNAMIC)`, ph.offset, ph.filesz, elf.bytes.length);
  const v = new ByteView(elf.bytes.subarray(off, off + Number(ph.filesz)), elf.endian);
  const ent = SIZES.dyn[1];
  const entries: { tag: bigint; val: bigint }[] = [];
  let terminated = false;
  for (let o = 0; o + ent <= v.length; o += ent) {
    const tag = BigInt.asIntN(64, v.u64(o));
    const val = v.u64(o + 8);
    if (tag === DT_NULL) { terminated = true; break; }
    entries.push({ tag, val });
  }
  if (!terminated) reject('elf-format', 'PT_DYNAMIC has no DT_NULL terminator inside p_filesz\n');
  const one = (tag: bigint, name: string): bigint | undefined => {
    const hits = entries.filter((e) => e.tag === tag);
    if (hits.length > 1) reject('elf-format', `${name} appears ${hits.length} times in PT_DYNAMIC\n`);
    return hits[0]?.val;
  };
  if (entries.some((e) => e.tag === DT_NEEDED)) reject('unsupported', 'DT_NEEDED: the PIE needs shared libraries; a purgatory loader links nothing in\n');
  if (one(DT_RELR, 'DT_RELR') !== undefined) reject('unsupported', 'DT_RELR (packed relative relocations) is not supported by this loader model\n');
  const tables: DynamicInfo['tables'] = [];
  const table = (name: 'DT_RELA' | 'DT_REL', addrTag: bigint, szTag: bigint, entTag: bigint, rela: boolean) => {
    const vaddr = one(addrTag, name);
    const sz = one(szTag, `${name}SZ`);
    const entsz = one(entTag, `${name}ENT`);
    if (vaddr === undefined) {
      if (sz !== undefined && sz !== 0n) reject('elf-format', `${name}SZ ${hex(sz)} without ${name}\n`);
      return;
    }
    const want = BigInt(rela ? SIZES.rela[1] : SIZES.rel[1]);
    if (sz === undefined) reject('elf-format', `${name} without ${name}SZ\n`);
    if (entsz !== want) reject('elf-format', `${name}ENT ${entsz === undefined ? 'missing' : hex(entsz)}; Elf64_${rela ? 'Rela' : 'Rel'} is ${want} bytes\n`);
    if (sz % want !== 0n) reject('elf-format', `${name}SZ ${hex(sz)} is not a multiple of ${want}\n`);
    tables.push({ name, vaddr, size: sz, rela });
  };
  table('DT_RELA', DT_RELA, DT_RELASZ, DT_RELAENT, true);
  table('DT_REL', DT_REL, DT_RELSZ, DT_RELENT, false);
  const jmprel = one(DT_JMPREL, 'DT_JMPREL');
  if (jmprel !== undefined) {
    const sz = one(DT_PLTRELSZ, 'DT_PLTRELSZ');
    const kind = one(DT_PLTREL, 'DT_PLTREL');
    if (sz === undefined || (kind !== DT_RELA && kind !== DT_REL)) reject('elf-format', 'DT_JMPREL without DT_PLTRELSZ or a DT_PLTREL of DT_RELA/DT_REL\n');
    const rela = kind === DT_RELA;
    const want = BigInt(rela ? SIZES.rela[1] : SIZES.rel[1]);
    if (sz % want !== 0n) reject('elf-format', `DT_PLTRELSZ ${hex(sz)} is not a multiple of ${want}\n`);
    tables.push({ name: 'DT_JMPREL', vaddr: jmprel, size: sz, rela });
  }
  const syment = one(DT_SYMENT, 'DT_SYMENT');
  if (syment !== undefined && syment !== BigInt(SIZES.sym[1])) reject('elf-format', `DT_SYMENT ${hex(syment)}; Elf64_Sym is ${SIZES.sym[1]} bytes\n`);
  const flags = one(DT_FLAGS, 'DT_FLAGS') ?? 0n;
  const info: DynamicInfo = {
    entries, tables, flags,
    symtab: one(DT_SYMTAB, 'DT_SYMTAB'),
    strtab: one(DT_STRTAB, 'DT_STRTAB'),
    strsz: one(DT_STRSZ, 'DT_STRSZ'),
    textrel: entries.some((e) => e.tag === DT_TEXTREL) || (flags & DF_TEXTREL) !== 0n,
  };
  const hash = one(DT_HASH, 'DT_HASH');
  if (hash !== undefined) {
    const o = fileAt(pie, hash, 8n, 'DT_HASH header');
    info.nsyms = new ByteView(elf.bytes, elf.endian).u32(o + 4); // nchain: one chain per symbol
  }
  return info;
}

// ---------------------------------------------------------------------------------------------
// Layout (pure): the base honours the largest p_align; every segment lands at bias + p_vaddr.

export interface PieLayout {
  /** Load bias B: the requested base aligned up to the largest p_align of the PT_LOAD segments. */
  bias: bigint;
  /** Address of the first byte of the image: B + min p_vaddr. */
  start: bigint;
  /** Bytes in the image: max(p_vaddr + p_memsz) - min p_vaddr. */
  size: bigint;
  entry: bigint;
  segments: { index: number; addr: bigint; imageOffset: number; filesz: bigint; memsz: bigint; writable: boolean }[];
}

export function layoutPie(loads: readonly Pick<ProgramHeader, 'index' | 'vaddr' | 'filesz' | 'memsz' | 'align' | 'flags'>[], eEntry: bigint, requestedBase: bigint): PieLayout {
  let lo = -1n;
  let hi = 0n;
  let align = 1n;
  for (const p of loads) {
    if (lo < 0n || p.vaddr < lo) lo = p.vaddr;
    if (p.vaddr + p.memsz > hi) hi = p.vaddr + p.memsz;
    if (p.align > align) align = p.align;
  }
  if (lo < 0n) lo = 0n;
  const bias = cAlign(requestedBase, align);
  return {
    bias,
    start: u64(bias + lo),
    size: hi - lo,
    entry: u64(bias + eEntry),
    segments: loads.map((p) => ({
      index: p.index, addr: u64(bias + p.vaddr), imageOffset: Number(p.vaddr - lo), filesz: p.filesz, memsz: p.memsz,
      writable: (p.flags & PF_W) !== 0,
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Copy and relocate.

export interface PieState {
  pie: PieElf;
  layout: PieLayout;
  image: Uint8Array;
  /** The image in the target's byte order. */
  view: ByteView;
}

export function copySegments(pie: PieElf, layout: PieLayout, fill: number): PieState {
  if (layout.size > MAX_IMAGE) reject('unsupported', `image of ${layout.size} bytes exceeds the model's ${MAX_IMAGE}-byte limit\n`);
  const image = new Uint8Array(Number(layout.size));
  // Bytes between segments belong to no segment: they keep the fill byte. Inside a segment,
  // [p_filesz, p_memsz) is zero-filled, as the ELF gABI requires (already zero without a fill byte).
  if (fill) image.fill(fill);
  for (const s of layout.segments) {
    const p = pie.loads.find((x) => x.index === s.index)!;
    const src = Number(p.offset);
    image.set(pie.elf.bytes.subarray(src, src + Number(p.filesz)), s.imageOffset);
    if (fill) image.fill(0, s.imageOffset + Number(p.filesz), s.imageOffset + Number(p.memsz));
  }
  return { pie, layout, image, view: new ByteView(image, pie.profile.storeEndian) };
}

const NO_SYMBOL: ElfSymbol = { index: 0, name: 0, info: 0, other: 0, shndx: SHN_UNDEF, value: 0n, size: 0n, bind: 0, stype: 0 };

/** Dynamic symbol `index` through DT_SYMTAB (bounded by DT_HASH's nchain when present). */
function dynSymbol(pie: PieElf, index: number, where: Where): ElfSymbol {
  if (index === 0) return NO_SYMBOL;
  const { dyn } = pie;
  if (dyn.symtab === undefined) throw new LoadError('elf-format', `relocation names symbol ${index} but there is no DT_SYMTAB\n`, where);
  if (dyn.nsyms !== undefined && index >= dyn.nsyms) throw new LoadError('bad-section-index', `symbol index ${index} >= ${dyn.nsyms} dynamic symbols (DT_HASH nchain)\n`, where);
  const ent = BigInt(SIZES.sym[1]);
  const o = fileAt(pie, u64(dyn.symtab + BigInt(index) * ent), ent, `dynamic symbol ${index}`);
  const v = new ByteView(pie.elf.bytes, pie.elf.endian);
  const info = v.u8(o + 4);
  return {
    index, name: v.u32(o), info, other: v.u8(o + 5), shndx: v.u16(o + 6), value: v.u64(o + 8), size: v.u64(o + 16),
    bind: info >> 4, stype: info & 0xf,
  };
}

function dynName(pie: PieElf, sym: ElfSymbol): string {
  const { dyn, elf } = pie;
  if (sym.index === 0) return '';
  if (dyn.strtab === undefined || (dyn.strsz !== undefined && BigInt(sym.name) >= dyn.strsz)) return `<name@${sym.name}>`;
  try {
    const o = fileAt(pie, u64(dyn.strtab + BigInt(sym.name)), 1n, 'a dynamic symbol name');
    const end = elf.bytes.indexOf(0, o);
    if (end < 0) return `<name@${sym.name}>`;
    let s = '';
    for (let i = o; i < end; i++) s += String.fromCharCode(elf.bytes[i]!);
    if (s === '' && sym.stype === 3) return sectionNameAt(pie, sym.value) ?? '<section>';
    return s;
  } catch {
    return `<name@${sym.name}>`;
  }
}

/** The name of the allocated section starting at link-time address `addr` (section symbols have no name). */
function sectionNameAt(pie: PieElf, addr: bigint): string | undefined {
  const s = pie.elf.sections.find((x) => (x.flags & SHF_ALLOC) !== 0n && x.addr === addr && x.size > 0n);
  return s ? pie.elf.sectionName(s.index) : undefined;
}

/** The TOC pointer's link-time address (ppc64): .TOC. from .symtab, else .got + 0x8000 (the ld convention); undefined when neither exists. */
function linkToc(pie: PieElf): bigint | undefined {
  const elf = pie.elf;
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  if (symtab && symtab.link < elf.sections.length) {
    for (const s of elf.symbols(symtab.index)) {
      if (s.index > 0 && s.shndx !== SHN_UNDEF && safeName(elf, symtab.link, s.name) === '.TOC.') return s.value;
    }
  }
  const got = elf.sections.find((s, i) => elf.sectionName(i) === '.got');
  return got ? got.addr + 0x8000n : undefined;
}

/** The module's TOC pointer (ppc64) after load at `bias` (linkToc moved by the bias). */
export function pieToc(pie: PieElf, bias: bigint, where: Where = {}): bigint {
  const toc = linkToc(pie);
  if (toc === undefined) throw new LoadError('no-toc-section', 'TOC relocation but no .TOC. symbol and no .got section\n', where);
  return u64(bias + toc);
}

function safeName(elf: ElfFile, strtab: number, off: number): string | undefined {
  try {
    return elf.stringAt(strtab, off);
  } catch {
    return undefined;
  }
}

export interface RelocatePieOptions {
  log?: boolean;
}

/**
 * A dynamic relocation as its table gives it, with everything about it that does not depend on
 * the base: read once per parse (decodeRel), then applied by every load of that parse.
 */
interface PieRel {
  /** Index in its table. */
  k: number;
  rOffset: bigint;
  /** r_offset as a U64 (the log's offset when no section holds it). */
  offset: U64;
  type: number;
  symIndex: number;
  c: PieRelocSpec;
  sym: ElfSymbol;
  /** dynName(sym), read at the first message or log entry that needs it. */
  name: string | undefined;
  /** RELA: r_addend (its 64 bits); REL: unused (the addend is read from the image at each load). */
  addend: U64;
  /** The segment holding [r_offset, r_offset + width) at bias 0 (an index into the layout's segments), or -1. */
  seg0: number;
  /** Its image offset at bias 0 (-1 without a segment). */
  off0: number;
  /** S: 0 none (no symbol, or an undefined weak one), 1 st_value (SHN_ABS), 2 bias + st_value, 3 undefined (rejects where S is used). */
  sKind: 0 | 1 | 2 | 3;
  sValue: U64;
  /** For the log: the allocated section holding r_offset (-1: none) and r_offset from its start (else r_offset). */
  section: number;
  secOffset: U64;
}

/** One relocation table of a parse: where its entries are, and the entries decoded so far. */
interface PieTable {
  name: DynamicInfo['tables'][number]['name'];
  rela: boolean;
  /** File offset of entry 0. */
  base: number;
  relSection: number;
  n: number;
  rels: PieRel[];
}

/** What the relocation loop keeps per parse (its input bytes are never written: all of it holds at every base). */
interface PieRelocCache {
  /** The layout at bias 0 (the segments at their link-time addresses). */
  layout0: PieLayout;
  /** The tables, in the order they are applied, once each was found in the file. */
  tables: PieTable[];
  /** The file in its own byte order. */
  file: ByteView;
  /** How many entries the tables claim, at most 4096 (a log's first capacity; it grows as needed). */
  count: number;
}

function relocCache(pie: PieElf): PieRelocCache {
  let count = 0;
  for (const t of pie.dyn.tables) count += Number(t.size / BigInt(t.rela ? SIZES.rela[1] : SIZES.rel[1]));
  return { layout0: layoutPie(pie.loads, pie.elf.header.entry, 0n), tables: [], file: new ByteView(pie.elf.bytes, pie.elf.endian), count: Math.min(count, 4096) };
}

/** The segment of `segments` that holds [address, address + width) (u64 addresses compared as integers), or -1. */
function segmentAt(segments: PieLayout['segments'], address: bigint, width: number): number {
  return segments.findIndex((s) => address >= s.addr && address + BigInt(width) <= s.addr + s.memsz);
}

function whereOf(t: PieTable, r: PieRel, pie: PieElf, symbol?: string): Where {
  const where: Where = { relSection: t.relSection, relIndex: r.k, offset: r.rOffset, relocation: pie.arch.typeName(r.type) };
  if (symbol !== undefined) where.symbol = symbol;
  return where;
}

const nameOf = (pie: PieElf, r: PieRel): string => (r.name ??= dynName(pie, r.sym));

/** Table `i` of the parse (its place in the file checked), or undefined past the last. */
function tableOf(pie: PieElf, cache: PieRelocCache, i: number): PieTable | undefined {
  let t = cache.tables[i];
  if (t) return t;
  const d = pie.dyn.tables[i];
  if (!d) return undefined;
  const elf = pie.elf;
  const ent = BigInt(d.rela ? SIZES.rela[1] : SIZES.rel[1]);
  const base = fileAt(pie, d.vaddr, d.size, d.name);
  const relSection = elf.sections.findIndex((s) => (s.flags & SHF_ALLOC) !== 0n && s.addr === d.vaddr && s.size > 0n && (s.type === 4 || s.type === 9));
  t = { name: d.name, rela: d.rela, base, relSection, n: Number(d.size / ent), rels: [] };
  cache.tables[i] = t;
  return t;
}

/** Entry k of table t: every check that does not depend on the base, in the loader's order (symbol, then the type). */
function decodeRel(pie: PieElf, cache: PieRelocCache, t: PieTable, k: number): PieRel {
  const { arch, profile, elf } = pie;
  const v = cache.file;
  const o = t.base + k * (t.rela ? SIZES.rela[1] : SIZES.rel[1]);
  const rOffset = v.u64(o);
  const info = v.u64(o + 8);
  const symIndex = Number(info >> 32n);
  const type = Number(info & 0xffffffffn);
  const where: Where = { relSection: t.relSection, relIndex: k, offset: rOffset, relocation: arch.typeName(type) };
  const c = classifyPie(arch, type, profile.sem);
  const sym = dynSymbol(pie, symIndex, where);
  if (!c) {
    throw new LoadError('unknown-relocation', `Unknown dynamic relocation: ${arch.typeName(type)} (${type >>> 0}) in ${t.name}\n`, { ...where, symbol: dynName(pie, sym) });
  }
  const segments = cache.layout0.segments;
  const seg0 = segmentAt(segments, rOffset, c.width);
  const s0 = segments[seg0];
  // S: the symbol's address after load. Undefined weak symbols resolve to 0; others reject.
  let sKind: PieRel['sKind'] = 0;
  if (symIndex !== 0 && sym.shndx === SHN_UNDEF) sKind = sym.bind === STB_WEAK ? 0 : 3;
  else if (symIndex !== 0) sKind = sym.shndx === SHN_ABS ? 1 : 2;
  const sec = sectionContaining(elf, rOffset);
  return {
    k, rOffset, offset: U64.of(rOffset), type, symIndex, c, sym, name: undefined,
    addend: t.rela ? U64.of(v.u64(o + 16)) : new U64(),
    seg0, off0: s0 ? s0.imageOffset + Number(rOffset - s0.addr) : -1,
    sKind, sValue: U64.of(sym.value),
    section: sec?.index ?? -1, secOffset: U64.of(sec ? rOffset - sec.addr : rOffset),
  };
}

/** Apply every dynamic relocation, tables in DT_RELA, DT_REL, DT_JMPREL order. */
export function relocatePie(st: PieState, opts: RelocatePieOptions = {}): RelocationLogEntry[] {
  const cache = relocCache(st.pie);
  const log = opts.log === false ? undefined : new RelocationLog(true, cache.count);
  applyDynamic(st, cache, log);
  return log?.entries() ?? [];
}

/**
 * relocatePie() with the parse's cache of decoded entries, recording into `log` (nothing when
 * undefined). The arithmetic is on U64s; an entry's segment is the one it has at bias 0 whenever
 * no address of the image wraps past 2^64 at this bias (bias + the span's end < 2^64): then every
 * segment and the location move by the same bias, and containment does not change. Otherwise the
 * segment is looked up at this bias.
 */
function applyDynamic(st: PieState, cache: PieRelocCache, log: RelocationLog | undefined): void {
  const { pie, layout, view, image } = st;
  const { elf, profile } = pie;
  const bias = layout.bias;
  const shifted = bias + pie.hi <= 0xffffffffffffffffn;
  const B = U64.of(bias);
  let t: PieTable | undefined;
  let r: PieRel | undefined;
  const input = new RelocInput(view, elf.header.flags, profile.sem, () => nameOf(pie, r!),
    (into) => into.setBig(pieToc(pie, bias, whereOf(t!, r!, pie, nameOf(pie, r!)))));
  const address = new U64();
  const value = input.value;
  const implicit = new U64();
  for (let ti = 0; (t = tableOf(pie, cache, ti)); ti++) {
    const rels = t.rels;
    for (let k = 0; k < t.n; k++) {
      r = rels[k] ??= decodeRel(pie, cache, t, k);
      const c = r.c;
      const w = c.width;
      address.from(B).add(r.offset);
      // The location: inside a segment's memory image, and writable unless text relocations are declared.
      let seg = layout.segments[r.seg0];
      let imageOffset = r.off0;
      if (!shifted) {
        seg = layout.segments[segmentAt(layout.segments, address.big(), w)];
        imageOffset = seg && w > 0 ? seg.imageOffset + Number(address.big() - seg.addr) : -1;
      }
      if (w > 0 && !seg) {
        throw new LoadError('out-of-bounds', `${c.name} at ${hex(r.rOffset)} (+${w}) is outside every PT_LOAD segment\n`, whereOf(t, r, pie, nameOf(pie, r)));
      }
      if (w > 0 && !seg!.writable && !pie.dyn.textrel) {
        throw new LoadError('textrel-undeclared', `${c.name} at ${hex(r.rOffset)} writes a read-only segment (phdr[${seg!.index}]) and neither DT_TEXTREL nor DF_TEXTREL is set\n`, whereOf(t, r, pie, nameOf(pie, r)));
      }
      if (w === 0) imageOffset = -1;
      let addend = r.addend;
      if (!t.rela && w > 0) addend = implicit.setBig(implicitAddend(view, imageOffset, c, whereOf(t, r, pie)));
      const expr = c.kind.expr;
      if (expr === 'relative') value.from(B).add(addend);
      else {
        // S + A ('symbol': S): S is 0 without a symbol; an undefined symbol that is not weak rejects.
        if (r.sKind === 3 && (expr === 'symbol' || expr === 'symbolic')) {
          throw new LoadError('undefined-symbol', `Undefined symbol: ${nameOf(pie, r)}\n`, whereOf(t, r, pie, nameOf(pie, r)));
        }
        const sKind = expr === 'symbol' || expr === 'symbolic' ? r.sKind : 0;
        if (sKind === 1) value.from(r.sValue);
        else if (sKind === 2) value.from(B).add(r.sValue);
        else value.set(0, 0);
        if (expr !== 'symbol') value.add(addend);
      }
      if (w === 0) {
        if (log) log.add(t.relSection, k, -1, r.offset, address, r.type, c.name, nameOf(pie, r), r.symIndex, addend, value, -1, 0, image, 0);
        continue;
      }
      input.off = imageOffset;
      input.address.from(address);
      input.symOther = r.sym.other;
      applySpec(c.spec!, input, view, imageOffset);
      if (log) {
        log.add(t.relSection, k, r.section, r.secOffset, address, r.type, c.name, nameOf(pie, r), r.symIndex, addend, value,
          imageOffset, w, image, imageOffset);
      }
    }
  }
}

/** SHT_REL: the addend is what the location holds (only for whole-word fields). */
function implicitAddend(view: ByteView, off: number, c: PieRelocSpec, where: Where): bigint {
  const w = c.width;
  const whole = c.kind.via === X['64'] || c.kind.via === X['32'] || c.kind.via === X.PC32 || c.kind.via === P.ADDR64 || c.kind.via === P.ADDR32;
  if (!whole) throw new LoadError('unsupported', `${c.name} in a REL table: a ${w}-byte instruction field holds no implicit addend\n`, where);
  const raw = view.load(off, w);
  return w === 4 ? BigInt.asIntN(32, raw) : BigInt.asIntN(64, raw);
}

function sectionContaining(elf: ElfFile, vaddr: bigint) {
  return elf.sections.find((s) => (s.flags & SHF_ALLOC) !== 0n && s.type !== SHT_NOBITS && vaddr >= s.addr && vaddr < s.addr + s.size);
}

// ---------------------------------------------------------------------------------------------
// Symbols by name: .symtab first (the full table), else the dynamic symbols.

export interface PieSymbol {
  name: string;
  sym: ElfSymbol;
  /** Address after load (SHN_ABS: the value itself). */
  addr: bigint;
  table: '.symtab' | '.dynsym';
}

export function findPieSymbol(st: PieState, name: string): PieSymbol | undefined {
  const elf = st.pie.elf;
  const tables = [
    ...elf.sections.filter((s) => s.type === SHT_SYMTAB),
    ...elf.sections.filter((s) => s.type === SHT_DYNSYM),
  ];
  for (const t of tables) {
    if (t.link >= elf.sections.length) continue;
    for (const s of elf.symbols(t.index)) {
      if (s.index === 0 || (s.bind !== STB_GLOBAL && s.bind !== STB_WEAK)) continue;
      if (safeName(elf, t.link, s.name) !== name) continue;
      if (s.shndx === SHN_UNDEF) throw new LoadError('symbol-bad-section', `Symbol: ${name} is undefined\n`, { symbol: name });
      return { name, sym: s, addr: s.shndx === SHN_ABS ? s.value : u64(st.layout.bias + s.value), table: t.type === SHT_SYMTAB ? '.symtab' : '.dynsym' };
    }
  }
  if (tables.length === 0 && st.pie.dyn.symtab !== undefined) {
    // No section headers: walk DT_SYMTAB as far as DT_HASH says.
    for (let i = 1; i < (st.pie.dyn.nsyms ?? 0); i++) {
      const s = dynSymbol(st.pie, i, { symbol: name });
      if ((s.bind === STB_GLOBAL || s.bind === STB_WEAK) && s.shndx !== SHN_UNDEF && dynName(st.pie, s) === name) {
        return { name, sym: s, addr: s.shndx === SHN_ABS ? s.value : u64(st.layout.bias + s.value), table: '.dynsym' };
      }
    }
  }
  return undefined;
}

function symbolPlace(st: PieState, name: string, size: number, verb: 'set' | 'get'): number {
  const s = findPieSymbol(st, name);
  if (!s) throw new LoadError('symbol-not-found', `Symbol: ${name} not found cannot ${verb}\n`, { symbol: name });
  if (s.sym.size !== BigInt(size)) throw new LoadError('symbol-size-mismatch', `Symbol: ${name} has size: ${BigInt.asIntN(64, s.sym.size)} not ${size}\n`, { symbol: name });
  const off = s.addr - st.layout.start;
  const seg = st.layout.segments.find((g) => s.addr >= g.addr && s.addr + BigInt(size) <= g.addr + g.memsz);
  if (s.sym.shndx === SHN_ABS || !seg || off < 0n) {
    throw new LoadError('symbol-bad-section', `Symbol: ${name} at ${hex(s.addr)} (+${size}) is not inside a loaded segment\n`, { symbol: name });
  }
  return Number(off);
}

export function setPieSymbol(st: PieState, name: string, bytes: Uint8Array): void {
  st.image.set(bytes, symbolPlace(st, name, bytes.length, 'set'));
}

export function getPieSymbol(st: PieState, name: string, size: number): Uint8Array {
  const off = symbolPlace(st, name, size, 'get');
  return st.image.slice(off, off + size);
}

export function getPieAddr(st: PieState, name: string): bigint {
  const s = findPieSymbol(st, name);
  if (!s) throw new LoadError('symbol-not-found', `Symbol: ${name} not found cannot retrive it's address\n`, { symbol: name });
  return s.addr;
}

// ---------------------------------------------------------------------------------------------

export interface PieLoadOptions extends RelocatePieOptions {
  fill?: number;
  symbols?: SymbolWrite[];
}

export interface PieLoad {
  state: PieState;
  image: LoadedImage;
}

/**
 * One parse of a snapshot under the PIE profile, shared by its loads: the loader never writes its
 * input, so the parse and the decoded relocations hold at every base. (The image before relocation
 * is not kept: a new zeroed array and the segment copies cost less than copying a kept image into
 * a new uninitialised one, 131 KB: 9.3 against 12.6 µs.)
 */
interface PieParsed {
  pie: PieElf;
  reloc: PieRelocCache;
  /** Section names for the reports, read at the first look at a load's sections. */
  names?: string[];
}

/**
 * Parse, lay out, copy, relocate, then the symbol writes. Throws LoadError/ElfFormatError; never exits.
 * The relocation log: `log: true` records it while relocating; by default (log unset) the load
 * records nothing and the first read of `image.relocations` replays the relocations (the same parse
 * of the same private bytes, the same base and fill) with the log on. `image.sections` is computed
 * when first read too.
 */
export function loadPie(bytes: Uint8Array, base: bigint, profile: Profile, opts: PieLoadOptions = {}): PieLoad {
  const p = parseOf(snapshotOf(bytes), profile, (b): PieParsed => {
    const pie = parsePie(b, profile);
    return { pie, reloc: relocCache(pie) };
  });
  const { pie } = p;
  const layout = layoutPie(pie.loads, pie.elf.header.entry, base);
  const fill = opts.fill ?? 0;
  const state = copySegments(pie, layout, fill);
  const log = opts.log === true ? new RelocationLog(true, p.reloc.count) : undefined;
  applyDynamic(state, p.reloc, log);
  if (opts.symbols) for (const s of opts.symbols) setPieSymbol(state, s.name, s.bytes);
  const elf = pie.elf;
  const sections = lazyArray((): LoadedSection[] => {
    const names = (p.names ??= elf.sections.map((_, i) => elf.sectionName(i)));
    return elf.sections.map((s, i) => {
      const alloc = (s.flags & SHF_ALLOC) !== 0n;
      return { index: i, name: names[i]!, addr: alloc ? u64(layout.bias + s.addr) : s.addr, size: s.size, alloc, nobits: s.type === SHT_NOBITS };
    });
  });
  const relocations = opts.log === false ? [] : lazyArray(log ? () => log.entries() : () => {
    const replayed = new RelocationLog(true, p.reloc.count);
    applyDynamic(copySegments(pie, layout, fill), p.reloc, replayed);
    return replayed.entries();
  });
  return {
    state,
    image: { base: layout.start, bytes: state.image, memsz: layout.size, entry: layout.entry, sections, relocations },
  };
}
