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
import { RelocInput, applySpec, type ArchModule, type RelocSpec, type Semantics } from '../arch/types.ts';
import { ARCH_MODULES } from '../arch/modules.ts';
import { R_X86_64, x86_64 } from '../arch/x86_64.ts';
import { R_PPC64, ppc64 } from '../arch/ppc64.ts';
import type { Profile } from './profile.ts';
import { MAX_IMAGE } from './kexec-tools.ts';
import { RelocationLog } from './relocation-log.ts';
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
  // [p_filesz, p_memsz) is zero-filled, as the ELF gABI requires.
  if (fill) image.fill(fill);
  for (const s of layout.segments) {
    const p = pie.loads.find((x) => x.index === s.index)!;
    const src = Number(p.offset);
    image.set(pie.elf.bytes.subarray(src, src + Number(p.filesz)), s.imageOffset);
    image.fill(0, s.imageOffset + Number(p.filesz), s.imageOffset + Number(p.memsz));
  }
  return { pie, layout, image, view: new ByteView(image, pie.profile.storeEndian) };
}

const NO_SYMBOL: ElfSymbol = { index: 0, name: 0, info: 0, other: 0, shndx: SHN_UNDEF, value: 0n, size: 0n, bind: 0, stype: 0 };

/** Dynamic symbol `index` through DT_SYMTAB (bounded by DT_HASH's nchain when present). */
function dynSymbol(st: PieState, index: number, where: Where): ElfSymbol {
  if (index === 0) return NO_SYMBOL;
  const { pie } = st;
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

function dynName(st: PieState, sym: ElfSymbol): string {
  const { dyn, elf } = { dyn: st.pie.dyn, elf: st.pie.elf };
  if (sym.index === 0) return '';
  if (dyn.strtab === undefined || (dyn.strsz !== undefined && BigInt(sym.name) >= dyn.strsz)) return `<name@${sym.name}>`;
  try {
    const o = fileAt(st.pie, u64(dyn.strtab + BigInt(sym.name)), 1n, 'a dynamic symbol name');
    const end = elf.bytes.indexOf(0, o);
    if (end < 0) return `<name@${sym.name}>`;
    let s = '';
    for (let i = o; i < end; i++) s += String.fromCharCode(elf.bytes[i]!);
    if (s === '' && sym.stype === 3) return sectionNameAt(st, sym.value) ?? '<section>';
    return s;
  } catch {
    return `<name@${sym.name}>`;
  }
}

/** The name of the allocated section starting at link-time address `addr` (section symbols have no name). */
function sectionNameAt(st: PieState, addr: bigint): string | undefined {
  const s = st.pie.elf.sections.find((x) => (x.flags & SHF_ALLOC) !== 0n && x.addr === addr && x.size > 0n);
  return s ? st.pie.elf.sectionName(s.index) : undefined;
}

/** The module's TOC pointer (ppc64): .TOC. from .symtab, else .got + 0x8000 (the ld convention). */
export function pieToc(pie: PieElf, bias: bigint, where: Where = {}): bigint {
  const elf = pie.elf;
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  if (symtab && symtab.link < elf.sections.length) {
    for (const s of elf.symbols(symtab.index)) {
      if (s.index > 0 && s.shndx !== SHN_UNDEF && safeName(elf, symtab.link, s.name) === '.TOC.') return u64(bias + s.value);
    }
  }
  const got = elf.sections.find((s, i) => elf.sectionName(i) === '.got');
  if (got) return u64(bias + got.addr + 0x8000n);
  throw new LoadError('no-toc-section', 'TOC relocation but no .TOC. symbol and no .got section\n', where);
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

/** Apply every dynamic relocation, tables in DT_RELA, DT_REL, DT_JMPREL order. */
export function relocatePie(st: PieState, opts: RelocatePieOptions = {}): RelocationLogEntry[] {
  const { pie, layout, view } = st;
  const { arch, profile, elf } = pie;
  const sem = profile.sem;
  const log = new RelocationLog(opts.log !== false);
  const bias = layout.bias;
  const relSectionOf = (vaddr: bigint) => elf.sections.findIndex((s) => (s.flags & SHF_ALLOC) !== 0n && s.addr === vaddr && s.size > 0n && (s.type === 4 || s.type === 9));
  for (const t of pie.dyn.tables) {
    const ent = BigInt(t.rela ? SIZES.rela[1] : SIZES.rel[1]);
    const base = fileAt(pie, t.vaddr, t.size, t.name);
    const v = new ByteView(elf.bytes, elf.endian);
    const relSection = relSectionOf(t.vaddr);
    const n = Number(t.size / ent);
    for (let k = 0; k < n; k++) {
      const o = base + k * Number(ent);
      const rOffset = v.u64(o);
      const info = v.u64(o + 8);
      const symIndex = Number(info >> 32n);
      const type = Number(info & 0xffffffffn);
      const where: Where = { relSection, relIndex: k, offset: rOffset, relocation: arch.typeName(type) };
      const c = classifyPie(arch, type, sem);
      const sym = dynSymbol(st, symIndex, where);
      const symName = () => dynName(st, sym);
      if (!c) {
        throw new LoadError('unknown-relocation', `Unknown dynamic relocation: ${arch.typeName(type)} (${type >>> 0}) in ${t.name}\n`, { ...where, symbol: symName() });
      }
      // The location: inside a segment's memory image, and writable unless text relocations are declared.
      const address = u64(bias + rOffset);
      const seg = layout.segments.find((s) => address >= s.addr && address + BigInt(c.width) <= s.addr + s.memsz);
      if (c.width > 0 && !seg) {
        throw new LoadError('out-of-bounds', `${c.name} at ${hex(rOffset)} (+${c.width}) is outside every PT_LOAD segment\n`, { ...where, symbol: symName() });
      }
      if (c.width > 0 && !seg!.writable && !pie.dyn.textrel) {
        throw new LoadError('textrel-undeclared', `${c.name} at ${hex(rOffset)} writes a read-only segment (phdr[${seg!.index}]) and neither DT_TEXTREL nor DF_TEXTREL is set\n`, { ...where, symbol: symName() });
      }
      const imageOffset = c.width > 0 ? seg!.imageOffset + Number(address - seg!.addr) : -1;
      let addend = t.rela ? BigInt.asIntN(64, v.u64(o + 16)) : 0n;
      if (!t.rela && c.width > 0) addend = implicitAddend(view, imageOffset, c, where);
      // S: the symbol's address after load. Undefined weak symbols resolve to 0; others reject.
      let s = 0n;
      if (c.kind.expr === 'symbol' || c.kind.expr === 'symbolic') {
        if (symIndex !== 0 && sym.shndx === SHN_UNDEF) {
          if (sym.bind !== STB_WEAK) throw new LoadError('undefined-symbol', `Undefined symbol: ${symName()}\n`, { ...where, symbol: symName() });
        } else if (symIndex !== 0) {
          s = sym.shndx === SHN_ABS ? sym.value : u64(bias + sym.value);
        }
      }
      const value = c.kind.expr === 'relative' ? u64(bias + addend) : c.kind.expr === 'symbol' ? s : u64(s + addend);
      if (c.width === 0) {
        if (log.keep) log.addBig(relSection, k, -1, rOffset, address, type, c.name, symName(), symIndex, addend, value, -1, 0, st.image, 0);
        continue;
      }
      const input = new RelocInput(view, elf.header.flags, sem, symName, (into) => into.setBig(pieToc(pie, bias, { ...where, symbol: symName() })));
      input.off = imageOffset;
      input.value.setBig(value);
      input.address.setBig(address);
      input.symOther = sym.other;
      applySpec(c.spec!, input, view, imageOffset);
      if (log.keep) {
        const sec = sectionContaining(elf, rOffset);
        log.addBig(relSection, k, sec?.index ?? -1, sec ? rOffset - sec.addr : rOffset, address, type, c.name, symName(), symIndex, addend, value,
          imageOffset, c.width, st.image, imageOffset);
      }
    }
  }
  return log.entries();
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
      const s = dynSymbol(st, i, { symbol: name });
      if ((s.bind === STB_GLOBAL || s.bind === STB_WEAK) && s.shndx !== SHN_UNDEF && dynName(st, s) === name) {
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

/** Parse, lay out, copy, relocate, then the symbol writes. Throws LoadError/ElfFormatError; never exits. */
export function loadPie(bytes: Uint8Array, base: bigint, profile: Profile, opts: PieLoadOptions = {}): PieLoad {
  const pie = parsePie(bytes, profile);
  const layout = layoutPie(pie.loads, pie.elf.header.entry, base);
  const state = copySegments(pie, layout, opts.fill ?? 0);
  const relocations = relocatePie(state, opts);
  for (const s of opts.symbols ?? []) setPieSymbol(state, s.name, s.bytes);
  const elf = pie.elf;
  const sections: LoadedSection[] = elf.sections.map((s, i) => {
    const alloc = (s.flags & SHF_ALLOC) !== 0n;
    return { index: i, name: elf.sectionName(i), addr: alloc ? u64(layout.bias + s.addr) : s.addr, size: s.size, alloc, nobits: s.type === SHT_NOBITS };
  });
  return {
    state,
    image: { base: layout.start, bytes: state.image, memsz: layout.size, entry: layout.entry, sections, relocations },
  };
}
