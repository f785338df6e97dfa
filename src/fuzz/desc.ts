// The description of one fuzz case, and how it becomes bytes. A case is a *source* (an object
// synthesized with buildObject, or a corpus purgatory) plus semantic *patches* (header, section
// header, symbol and relocation fields; raw bytes; truncation) applied after building. Patches
// name fields, not file offsets, so the minimizer can drop sections, symbols and relocations
// from the source and the remaining patches still land where they mean to.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { buildObject, type ObjectSpec, type ObjSymbol } from '../elf/writer.ts';
import { ElfFile } from '../elf/reader.ts';
import { SHT_REL, SHT_RELA, SHT_SYMTAB, SIZES } from '../elf/constants.ts';
import { ByteView, hex } from '../bytes.ts';
import type { Arch, LoadRequest, SymbolWrite } from '../types.ts';

export type FuzzMode = 'structured' | 'mutate' | 'malformed';
export const FUZZ_MODES: readonly FuzzMode[] = ['structured', 'mutate', 'malformed'];

/** A value relative to the built file's e_shnum (so "== e_shnum" survives minimization). */
export interface ShnumRel {
  shnum: number;
}
export type FuzzValue = bigint | ShnumRel;

export interface FSymbol extends Omit<ObjSymbol, 'section'> {
  section: string | number | ShnumRel;
}

export interface FObject extends Omit<ObjectSpec, 'symbols'> {
  symbols: FSymbol[];
}

export type EhdrField =
  | 'class' | 'data' | 'identVersion' | 'osabi' | 'type' | 'machine' | 'version' | 'entry' | 'phoff' | 'shoff'
  | 'flags' | 'ehsize' | 'phentsize' | 'phnum' | 'shentsize' | 'shnum' | 'shstrndx';
export type ShdrField = 'name' | 'type' | 'flags' | 'addr' | 'offset' | 'size' | 'link' | 'info' | 'addralign' | 'entsize';
export type SymField = 'name' | 'info' | 'other' | 'shndx' | 'value' | 'size';
export type RelField = 'offset' | 'sym' | 'type' | 'addend';

export type Patch =
  | { k: 'ehdr'; field: EhdrField; value: FuzzValue }
  /** Section by index, or by name (first section with that name in the clean file). */
  | { k: 'shdr'; sec: number | string; field: ShdrField; value: FuzzValue }
  /** Symbol `index` of the first SHT_SYMTAB. */
  | { k: 'sym'; index: number; field: SymField; value: FuzzValue }
  /** Entry `index` of the `relSec`-th SHT_REL/SHT_RELA section (in section order). */
  | { k: 'rel'; relSec: number; index: number; field: RelField; value: FuzzValue }
  /** One raw byte; `at` is taken modulo the file length. */
  | { k: 'byte'; at: number; value: number }
  /** Cut the file to `length` bytes (no-op when the file is not longer). */
  | { k: 'truncate'; length: number };

export type Source = { kind: 'spec'; obj: FObject } | { kind: 'corpus'; id: string; file: string };

export interface CaseDesc {
  mode: FuzzMode;
  arch: Arch;
  source: Source;
  patches: Patch[];
  /** Corpus sources: the relocations kept (`[relSec, index]`); the others are packed out. Undefined: all. */
  keepRelocs?: [number, number][];
  /** Byte ranges [start, end) zeroed after the patches (byte-level minimization). */
  zero?: [number, number][];
  base: bigint;
  fill: number;
  symbols: SymbolWrite[];
  /** TS-only runs: the profile the case is loaded with (oracle runs use the oracle's). */
  profile?: string;
}

// ---------------------------------------------------------------------------------------------
// Building

const isRel = (v: FuzzValue): v is ShnumRel => typeof v === 'object';

/** e_shnum of what buildObject writes: NULL, the sections, one rel section per target, .symtab, .strtab, .shstrtab. */
export function builtShnum(obj: FObject): number {
  return 1 + obj.sections.length + new Set((obj.relocations ?? []).map((r) => r.section)).size + 3;
}

export function buildSource(obj: FObject): Uint8Array {
  const shnum = builtShnum(obj);
  const spec: ObjectSpec = {
    ...obj,
    symbols: obj.symbols.map((s) => ({ ...s, section: typeof s.section === 'object' ? Math.max(0, Math.min(0xffff, shnum + s.section.shnum)) : s.section })),
  };
  return buildObject(spec);
}

const corpusCache = new Map<string, Uint8Array>();
let corpusRoot = resolve(process.cwd());

/** Where corpus-relative paths (`corpus/elf/...`) are resolved: the repository root. */
export function setCorpusRoot(dir: string): void {
  corpusRoot = dir;
}

export function corpusBytes(file: string): Uint8Array {
  const p = isAbsolute(file) ? file : resolve(corpusRoot, file);
  let b = corpusCache.get(p);
  if (!b) corpusCache.set(p, (b = new Uint8Array(readFileSync(p))));
  return b;
}

/** The clean (unpatched) bytes of a source. */
export function sourceBytes(src: Source): Uint8Array {
  return src.kind === 'spec' ? buildSource(src.obj) : corpusBytes(src.file);
}

interface FieldMap {
  is64: boolean;
  little: boolean;
  shnum: number;
  shoff: number;
  shentsize: number;
  sections: { type: number; offset: number; size: number; nameStr: string }[];
  symtab?: { offset: number; size: number };
  relSecs: { index: number; offset: number; size: number; isRela: boolean }[];
}

function fieldMap(bytes: Uint8Array): FieldMap | undefined {
  let elf: ElfFile;
  try {
    elf = new ElfFile(bytes);
  } catch {
    return undefined;
  }
  const h = elf.header;
  const fm: FieldMap = {
    is64: h.is64, little: elf.endian === 'little', shnum: h.shnum, shoff: Number(h.shoff), shentsize: h.shentsize,
    sections: elf.sections.map((s) => ({ type: s.type, offset: Number(s.offset), size: Number(s.size), nameStr: elf.sectionName(s.index) })),
    relSecs: [],
  };
  for (const s of elf.sections) {
    const inFile = s.offset + s.size <= BigInt(bytes.length);
    if (s.type === SHT_SYMTAB && !fm.symtab && inFile) fm.symtab = { offset: Number(s.offset), size: Number(s.size) };
    if ((s.type === SHT_REL || s.type === SHT_RELA) && inFile) fm.relSecs.push({ index: s.index, offset: Number(s.offset), size: Number(s.size), isRela: s.type === SHT_RELA });
  }
  return fm;
}

/** fieldMap() of a corpus file's cached clean bytes (never written: buildCase patches a copy), parsed once. */
const corpusFieldMaps = new WeakMap<Uint8Array, FieldMap | null>();
function corpusFieldMap(clean: Uint8Array): FieldMap | undefined {
  let fm = corpusFieldMaps.get(clean);
  if (fm === undefined) corpusFieldMaps.set(clean, (fm = fieldMap(clean) ?? null));
  return fm ?? undefined;
}

const EHDR: Record<EhdrField, (w: number) => [number, number]> = {
  class: () => [4, 1], data: () => [5, 1], identVersion: () => [6, 1], osabi: () => [7, 1],
  type: () => [16, 2], machine: () => [18, 2], version: () => [20, 4],
  entry: (w) => [24, w], phoff: (w) => [24 + w, w], shoff: (w) => [24 + 2 * w, w],
  flags: (w) => [24 + 3 * w, 4], ehsize: (w) => [28 + 3 * w, 2], phentsize: (w) => [30 + 3 * w, 2],
  phnum: (w) => [32 + 3 * w, 2], shentsize: (w) => [34 + 3 * w, 2], shnum: (w) => [36 + 3 * w, 2],
  shstrndx: (w) => [38 + 3 * w, 2],
};
const SHDR64: Record<ShdrField, [number, number]> = {
  name: [0, 4], type: [4, 4], flags: [8, 8], addr: [16, 8], offset: [24, 8], size: [32, 8], link: [40, 4], info: [44, 4], addralign: [48, 8], entsize: [56, 8],
};
const SHDR32: Record<ShdrField, [number, number]> = {
  name: [0, 4], type: [4, 4], flags: [8, 4], addr: [12, 4], offset: [16, 4], size: [20, 4], link: [24, 4], info: [28, 4], addralign: [32, 4], entsize: [36, 4],
};
const SYM64: Record<SymField, [number, number]> = { name: [0, 4], info: [4, 1], other: [5, 1], shndx: [6, 2], value: [8, 8], size: [16, 8] };
const SYM32: Record<SymField, [number, number]> = { name: [0, 4], value: [4, 4], size: [8, 4], info: [12, 1], other: [13, 1], shndx: [14, 2] };

function put(v: ByteView, off: number, width: number, value: bigint): void {
  if (off < 0 || off + width > v.length) return;
  v.store(off, width, BigInt.asUintN(width * 8, value));
}

/** Pack each rel section down to the kept entries (in their order), shrinking sh_size. */
function prune(bytes: Uint8Array, fm: FieldMap, keep: [number, number][]): void {
  const v = new ByteView(bytes, fm.little ? 'little' : 'big');
  const c = fm.is64 ? 1 : 0;
  fm.relSecs.forEach((rs, n) => {
    const ent = rs.isRela ? SIZES.rela[c] : SIZES.rel[c];
    const count = Math.floor(rs.size / ent);
    const kept = keep.filter(([s, i]) => s === n && i < count).map(([, i]) => i).sort((a, b) => a - b);
    const copy = bytes.slice(rs.offset, rs.offset + count * ent);
    bytes.fill(0, rs.offset, rs.offset + count * ent);
    kept.forEach((i, j) => bytes.set(copy.subarray(i * ent, (i + 1) * ent), rs.offset + j * ent));
    const h = fm.shoff + rs.index * fm.shentsize;
    const [o, w] = (fm.is64 ? SHDR64 : SHDR32).size;
    put(v, h + o, w, BigInt(kept.length * ent));
  });
}

/** The ELF bytes of a case: source, relocation patches, pruning, then the other patches in order. */
export function buildCase(d: Pick<CaseDesc, 'source' | 'patches' | 'keepRelocs' | 'zero'>): Uint8Array {
  const clean = sourceBytes(d.source);
  // a spec source is built afresh for this case, so it is patched in place; a corpus file's
  // cached bytes are copied. The field map is taken before any patch either way.
  let bytes = d.source.kind === 'spec' ? clean : clean.slice();
  const structural = d.keepRelocs !== undefined || d.patches.some((p) => p.k !== 'byte' && p.k !== 'truncate');
  const fm = structural ? (d.source.kind === 'corpus' ? corpusFieldMap(clean) : fieldMap(clean)) : undefined;
  const resolveV = (x: FuzzValue): bigint => (isRel(x) ? BigInt((fm?.shnum ?? 0) + x.shnum) : x);
  const v = () => new ByteView(bytes, fm?.little === false ? 'big' : 'little');
  if (fm) {
    const c = fm.is64 ? 1 : 0;
    const view = v();
    for (const p of d.patches) {
      if (p.k !== 'rel') continue;
      const rs = fm.relSecs[p.relSec];
      if (!rs) continue;
      const ent = rs.isRela ? SIZES.rela[c] : SIZES.rel[c];
      if ((p.index + 1) * ent > rs.size) continue;
      const o = rs.offset + p.index * ent;
      const w = fm.is64 ? 8 : 4;
      const val = resolveV(p.value);
      switch (p.field) {
        case 'offset': put(view, o, w, val); break;
        case 'addend': if (rs.isRela) put(view, o + 2 * w, w, val); break;
        case 'sym':
        case 'type': {
          const info = view.load(o + w, w);
          let next: bigint;
          if (fm.is64) next = p.field === 'sym' ? (BigInt.asUintN(32, val) << 32n) | (info & 0xffffffffn) : (info & ~0xffffffffn) | BigInt.asUintN(32, val);
          else next = p.field === 'sym' ? (BigInt.asUintN(24, val) << 8n) | (info & 0xffn) : (info & ~0xffn) | BigInt.asUintN(8, val);
          put(view, o + w, w, next);
          break;
        }
      }
    }
    if (d.keepRelocs) prune(bytes, fm, d.keepRelocs);
    for (const p of d.patches) {
      switch (p.k) {
        case 'sym': {
          if (!fm.symtab) break;
          const ent = SIZES.sym[c];
          if ((p.index + 1) * ent > fm.symtab.size) break;
          const [o, w] = (fm.is64 ? SYM64 : SYM32)[p.field];
          put(view, fm.symtab.offset + p.index * ent + o, w, resolveV(p.value));
          break;
        }
        case 'shdr': {
          const idx = typeof p.sec === 'number' ? p.sec : fm.sections.findIndex((s) => s.nameStr === p.sec);
          if (idx < 0 || idx >= fm.shnum) break;
          const [o, w] = (fm.is64 ? SHDR64 : SHDR32)[p.field];
          put(view, fm.shoff + idx * fm.shentsize + o, w, resolveV(p.value));
          break;
        }
        case 'ehdr': {
          const [o, w] = EHDR[p.field](fm.is64 ? 8 : 4);
          put(view, o, w, resolveV(p.value));
          break;
        }
        default:
          break;
      }
    }
  }
  for (const p of d.patches) {
    if (p.k === 'byte' && bytes.length) bytes[((p.at % bytes.length) + bytes.length) % bytes.length] = p.value & 0xff;
  }
  for (const [a, b] of d.zero ?? []) bytes.fill(0, Math.max(0, a), Math.min(bytes.length, b));
  for (const p of d.patches) {
    if (p.k === 'truncate' && p.length < bytes.length) bytes = bytes.slice(0, Math.max(0, p.length));
  }
  return bytes;
}

export function requestOf(d: CaseDesc): LoadRequest {
  return { elf: buildCase(d), base: d.base, fill: d.fill, symbols: d.symbols };
}

/** How big a description is, for minimization reports. */
export interface DescSize {
  sections: number;
  symbols: number;
  relocations: number;
  patches: number;
  bytes: number;
  /** Bytes zeroed by byte-level minimization. */
  zeroed: number;
}

export function descSize(d: CaseDesc, elf?: Uint8Array): DescSize {
  const bytes = (elf ?? buildCase(d)).length;
  const zeroed = (d.zero ?? []).reduce((n, [a, b]) => n + Math.max(0, Math.min(b, bytes) - a), 0);
  if (d.source.kind === 'spec') {
    const o = d.source.obj;
    return { sections: o.sections.length, symbols: o.symbols.length, relocations: o.relocations?.length ?? 0, patches: d.patches.length, bytes, zeroed };
  }
  let relocations = 0;
  let sections = 0;
  let symbols = 0;
  try {
    const e = new ElfFile(corpusBytes(d.source.file));
    sections = e.sections.length;
    for (const s of e.sections) {
      if (s.type === SHT_REL || s.type === SHT_RELA) relocations += Number(s.size / (s.entsize || 1n));
      if (s.type === SHT_SYMTAB) symbols += Number(s.size / (s.entsize || 1n));
    }
  } catch {
    /* counts stay 0 */
  }
  return { sections, symbols, relocations: d.keepRelocs ? d.keepRelocs.length : relocations, patches: d.patches.length, bytes, zeroed };
}

// ---------------------------------------------------------------------------------------------
// JSON: bigints as {"$big":"0x..."} (signed values keep a leading '-'), bytes as {"$bytes":"hex"}.

export function toJson(v: unknown): unknown {
  if (typeof v === 'bigint') return { $big: v < 0n ? '-' + hex(-v) : hex(v) };
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') };
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toJson(x);
    return out;
  }
  return v;
}

export function fromJson<T>(v: unknown): T {
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk);
    if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      if (typeof o.$big === 'string' && Object.keys(o).length === 1) {
        const s = o.$big;
        return s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s);
      }
      if (typeof o.$bytes === 'string' && Object.keys(o).length === 1) return Uint8Array.from(Buffer.from(o.$bytes, 'hex'));
      const out: Record<string, unknown> = {};
      for (const [k, y] of Object.entries(o)) out[k] = walk(y);
      return out;
    }
    return x;
  };
  return walk(v) as T;
}
