// A small PIE writer, for tests and the census: ELF64 ET_DYN images with PT_LOAD segments placed
// exactly where they are told, and the dynamic metadata a static `-pie` link produces (.dynsym,
// .dynstr, .hash, .rela.dyn or .rel.dyn, .dynamic) in one extra read-only PT_LOAD after them.
// It writes what it is told, malformed values included (wrong DT_RELAENT, no DT_NULL...).
import { ByteView } from '../bytes.ts';
import type { Endian } from '../types.ts';
import {
  DF_TEXTREL, DT_FLAGS, DT_HASH, DT_NULL, DT_REL, DT_RELA, DT_RELAENT, DT_RELASZ, DT_RELENT, DT_RELSZ, DT_STRSZ,
  DT_STRTAB, DT_SYMENT, DT_SYMTAB, DT_TEXTREL, ET_DYN, PF_R, PF_W, PF_X, PT_DYNAMIC, PT_LOAD, SHF_ALLOC,
  SHF_EXECINSTR, SHF_WRITE, SHN_ABS, SHT_DYNAMIC, SHT_DYNSYM, SHT_HASH, SHT_NOBITS, SHT_NULL, SHT_PROGBITS, SHT_REL,
  SHT_RELA, SHT_STRTAB, SHT_SYMTAB, SIZES, STB_GLOBAL, STB_LOCAL, STT_NOTYPE,
} from './constants.ts';
import { StringTable } from './writer.ts';

export interface PieSegmentSpec {
  /** Name of the section that covers the segment's file bytes (default `.seg<i>`). */
  name?: string;
  vaddr: bigint;
  data: Uint8Array;
  /** Default data.length; the rest is covered by a NOBITS section `<name>.bss`. */
  memsz?: bigint;
  /** PF_R | PF_W | PF_X (default PF_R | PF_W). */
  flags?: number;
  align?: bigint;
}

export interface PieSymbolSpec {
  name: string;
  value: bigint;
  size?: bigint;
  bind?: number;
  type?: number;
  other?: number;
  /** A segment name, 'abs', 'undef', or a raw st_shndx. Default: the segment containing value, else SHN_ABS. */
  section?: string | 'abs' | 'undef' | number;
}

export interface PieRelocationSpec {
  /** r_offset: a link-time address. */
  offset: bigint;
  type: number;
  /** A dynamic symbol name, or a raw symbol index (default 0). */
  symbol?: string | number;
  addend?: bigint;
}

export interface PieSpec {
  endian: Endian;
  machine: number;
  entry?: bigint;
  eFlags?: number;
  /** e_type override (default ET_DYN). */
  type?: number;
  segments: PieSegmentSpec[];
  relocations?: PieRelocationSpec[];
  /** Emit DT_REL/.rel.dyn instead of DT_RELA/.rela.dyn. */
  rel?: boolean;
  /** Dynamic symbols (index 1 onwards, in this order). */
  dynsyms?: PieSymbolSpec[];
  /** .symtab symbols (index 1 onwards, in this order; no .symtab when undefined). */
  symbols?: PieSymbolSpec[];
  /** Declare text relocations: DT_TEXTREL, DF_TEXTREL in DT_FLAGS, or not at all (default). */
  textrel?: 'DT_TEXTREL' | 'DF_TEXTREL';
  /** Extra dynamic entries, appended before DT_NULL. */
  extraDynamic?: { tag: bigint; val: bigint }[];
  /** Rewrite the dynamic entries before they are encoded (to write malformed tables). */
  editDynamic?: (entries: { tag: bigint; val: bigint }[]) => { tag: bigint; val: bigint }[];
  /** No PT_DYNAMIC program header. */
  omitPtDynamic?: boolean;
  /** No section headers at all (a stripped-to-the-bone PIE). */
  noSectionHeaders?: boolean;
}

const PAGE = 0x1000n;
const alignUp = (x: bigint, a: bigint) => (x + a - 1n) & ~(a - 1n);

interface Sec {
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: bigint;
  size: bigint;
  link?: number;
  info?: number;
  addralign: bigint;
  entsize?: bigint;
}

/** Build a PIE. Returns the file bytes; the metadata segment's address is after the last user segment. */
export function buildPie(spec: PieSpec): Uint8Array {
  const { endian } = spec;
  const SYM = SIZES.sym[1];
  const segs = spec.segments;
  const segName = (i: number) => segs[i]!.name ?? `.seg${i}`;
  const segOf = (value: bigint) => segs.findIndex((s) => value >= s.vaddr && value < s.vaddr + (s.memsz ?? BigInt(s.data.length)));

  // Section indexes: 0, one PROGBITS per segment (+ one NOBITS per segment with memsz > filesz), then metadata.
  const secs: Sec[] = [{ name: '', type: SHT_NULL, flags: 0n, addr: 0n, offset: 0n, size: 0n, addralign: 0n }];
  const segSection: number[] = [];
  // Filled in once offsets are known.
  const fileOff: bigint[] = [];

  // ---- dynamic metadata contents
  const dynstr = new StringTable();
  const dynsyms = spec.dynsyms ?? [];
  const dynIndex = new Map<string, number>();
  dynsyms.forEach((s, i) => dynIndex.set(s.name, i + 1));
  const shndxOf = (s: PieSymbolSpec): number => {
    if (typeof s.section === 'number') return s.section;
    if (s.section === 'abs') return SHN_ABS;
    if (s.section === 'undef') return 0;
    const i = s.section !== undefined ? segs.findIndex((_, k) => segName(k) === s.section) : segOf(s.value);
    return i < 0 ? SHN_ABS : segSection[i]!;
  };
  const encodeSyms = (list: PieSymbolSpec[], strs: StringTable): Uint8Array => {
    const out = new Uint8Array(SYM * (list.length + 1));
    const v = new ByteView(out, endian);
    list.forEach((s, k) => {
      const o = (k + 1) * SYM;
      v.setU32(o, s.name ? strs.add(s.name) : 0);
      v.setU8(o + 4, ((s.bind ?? STB_GLOBAL) << 4) | (s.type ?? STT_NOTYPE));
      v.setU8(o + 5, s.other ?? 0);
      v.setU16(o + 6, shndxOf(s));
      v.setU64(o + 8, s.value);
      v.setU64(o + 16, s.size ?? 0n);
    });
    return out;
  };

  // User sections first, so symbol st_shndx values can name them.
  segs.forEach((s, i) => {
    const pf = s.flags ?? PF_R | PF_W;
    const flags = SHF_ALLOC | (pf & PF_W ? SHF_WRITE : 0n) | (pf & PF_X ? SHF_EXECINSTR : 0n);
    segSection.push(secs.length);
    secs.push({ name: segName(i), type: SHT_PROGBITS, flags, addr: s.vaddr, offset: 0n, size: BigInt(s.data.length), addralign: 1n });
    const memsz = s.memsz ?? BigInt(s.data.length);
    if (memsz > BigInt(s.data.length)) {
      secs.push({ name: `${segName(i)}.bss`, type: SHT_NOBITS, flags, addr: s.vaddr + BigInt(s.data.length), offset: 0n, size: memsz - BigInt(s.data.length), addralign: 1n });
    }
  });

  const dynsymData = encodeSyms(dynsyms, dynstr);
  const relaEnt = spec.rel ? SIZES.rel[1] : SIZES.rela[1];
  const rels = spec.relocations ?? [];
  const relData = new Uint8Array(relaEnt * rels.length);
  const rv = new ByteView(relData, endian);
  rels.forEach((r, k) => {
    const o = k * relaEnt;
    const sym = typeof r.symbol === 'number' ? r.symbol : r.symbol === undefined ? 0 : dynIndex.get(r.symbol);
    if (sym === undefined) throw new Error(`buildPie: no dynamic symbol named ${String(r.symbol)}`);
    rv.setU64(o, r.offset);
    rv.setU64(o + 8, (BigInt(sym) << 32n) | BigInt(r.type >>> 0));
    if (!spec.rel) rv.setU64(o + 16, r.addend ?? 0n);
  });
  const nsyms = dynsyms.length + 1;
  const hashData = new Uint8Array(4 * (2 + 1 + nsyms));
  const hv = new ByteView(hashData, endian);
  hv.setU32(0, 1); // nbucket
  hv.setU32(4, nsyms); // nchain
  const dynstrData = dynstr.bytes();

  // Metadata segment layout (addresses), 8-aligned pieces.
  const userEnd = segs.reduce((m, s) => {
    const e = s.vaddr + (s.memsz ?? BigInt(s.data.length));
    return e > m ? e : m;
  }, 0n);
  const meta = alignUp(userEnd, PAGE);
  let cur = meta;
  const place = (len: number) => {
    const at = alignUp(cur, 8n);
    cur = at + BigInt(len);
    return at;
  };
  const aDynsym = place(dynsymData.length);
  const aDynstr = place(dynstrData.length);
  const aHash = place(hashData.length);
  const aRel = place(relData.length);
  let dynEntries: { tag: bigint; val: bigint }[] = [
    { tag: DT_HASH, val: aHash },
    { tag: DT_STRTAB, val: aDynstr },
    { tag: DT_SYMTAB, val: aDynsym },
    { tag: DT_STRSZ, val: BigInt(dynstrData.length) },
    { tag: DT_SYMENT, val: BigInt(SYM) },
    ...(spec.rel
      ? [{ tag: DT_REL, val: aRel }, { tag: DT_RELSZ, val: BigInt(relData.length) }, { tag: DT_RELENT, val: BigInt(relaEnt) }]
      : [{ tag: DT_RELA, val: aRel }, { tag: DT_RELASZ, val: BigInt(relData.length) }, { tag: DT_RELAENT, val: BigInt(relaEnt) }]),
    ...(spec.textrel === 'DT_TEXTREL' ? [{ tag: DT_TEXTREL, val: 0n }] : []),
    ...(spec.textrel === 'DF_TEXTREL' ? [{ tag: DT_FLAGS, val: DF_TEXTREL }] : []),
    ...(spec.extraDynamic ?? []),
    { tag: DT_NULL, val: 0n },
  ];
  if (spec.editDynamic) dynEntries = spec.editDynamic(dynEntries);
  const dynData = new Uint8Array(16 * dynEntries.length);
  const dv = new ByteView(dynData, endian);
  dynEntries.forEach((e, k) => {
    dv.setU64(k * 16, BigInt.asUintN(64, e.tag));
    dv.setU64(k * 16 + 8, e.val);
  });
  const aDyn = place(dynData.length);
  const metaData = new Uint8Array(Number(cur - meta));
  metaData.set(dynsymData, Number(aDynsym - meta));
  metaData.set(dynstrData, Number(aDynstr - meta));
  metaData.set(hashData, Number(aHash - meta));
  metaData.set(relData, Number(aRel - meta));
  metaData.set(dynData, Number(aDyn - meta));

  const idx = {
    dynsym: secs.length, dynstr: secs.length + 1, hash: secs.length + 2, rel: secs.length + 3, dynamic: secs.length + 4,
  };
  secs.push({ name: '.dynsym', type: SHT_DYNSYM, flags: SHF_ALLOC, addr: aDynsym, offset: 0n, size: BigInt(dynsymData.length), link: idx.dynstr, info: 1, addralign: 8n, entsize: BigInt(SYM) });
  secs.push({ name: '.dynstr', type: SHT_STRTAB, flags: SHF_ALLOC, addr: aDynstr, offset: 0n, size: BigInt(dynstrData.length), addralign: 1n });
  secs.push({ name: '.hash', type: SHT_HASH, flags: SHF_ALLOC, addr: aHash, offset: 0n, size: BigInt(hashData.length), link: idx.dynsym, addralign: 8n, entsize: 4n });
  secs.push({ name: spec.rel ? '.rel.dyn' : '.rela.dyn', type: spec.rel ? SHT_REL : SHT_RELA, flags: SHF_ALLOC, addr: aRel, offset: 0n, size: BigInt(relData.length), link: idx.dynsym, addralign: 8n, entsize: BigInt(relaEnt) });
  secs.push({ name: '.dynamic', type: SHT_DYNAMIC, flags: SHF_ALLOC | SHF_WRITE, addr: aDyn, offset: 0n, size: BigInt(dynData.length), link: idx.dynstr, addralign: 8n, entsize: 16n });

  // .symtab, .strtab, .shstrtab (not loaded).
  const strtab = new StringTable();
  // Locals first, as sh_info (one past the last local) requires.
  const ordered = spec.symbols ? [...spec.symbols].sort((a, b) => Number((a.bind ?? STB_GLOBAL) !== STB_LOCAL) - Number((b.bind ?? STB_GLOBAL) !== STB_LOCAL)) : undefined;
  const symtabData = ordered ? encodeSyms(ordered, strtab) : undefined;
  const strtabData = strtab.bytes();
  if (symtabData) {
    const firstGlobal = 1 + (spec.symbols ?? []).filter((s) => (s.bind ?? STB_GLOBAL) === STB_LOCAL).length;
    secs.push({ name: '.symtab', type: SHT_SYMTAB, flags: 0n, addr: 0n, offset: 0n, size: BigInt(symtabData.length), link: secs.length + 1, info: firstGlobal, addralign: 8n, entsize: BigInt(SYM) });
    secs.push({ name: '.strtab', type: SHT_STRTAB, flags: 0n, addr: 0n, offset: 0n, size: BigInt(strtabData.length), addralign: 1n });
  }
  const shstr = new StringTable();
  const shstrIndex = secs.length;
  secs.push({ name: '.shstrtab', type: SHT_STRTAB, flags: 0n, addr: 0n, offset: 0n, size: 0n, addralign: 1n });
  const names = secs.map((s) => shstr.add(s.name));
  const shstrData = shstr.bytes();
  secs[shstrIndex]!.size = BigInt(shstrData.length);

  // ---- file layout: ehdr, phdrs, segments (offset ≡ vaddr mod page), metadata, symtab, shdrs.
  const phnum = segs.length + 1 + (spec.omitPtDynamic ? 0 : 1);
  let off = BigInt(SIZES.ehdr[1] + phnum * SIZES.phdr[1]);
  const congruent = (vaddr: bigint) => {
    const want = vaddr % PAGE;
    let o = alignUp(off, 8n);
    if (o % PAGE !== want) o = o - (o % PAGE) + want + (o % PAGE > want ? PAGE : 0n);
    return o;
  };
  segs.forEach((s, i) => {
    fileOff[i] = congruent(s.vaddr);
    off = fileOff[i]! + BigInt(s.data.length);
  });
  const metaOff = congruent(meta);
  off = metaOff + BigInt(metaData.length);
  const symtabOff = alignUp(off, 8n);
  off = symtabOff + BigInt(symtabData?.length ?? 0);
  const strtabOff = off;
  off += BigInt(strtabData.length);
  const shstrOff = off;
  off += BigInt(shstrData.length);
  const shoff = alignUp(off, 8n);
  const total = spec.noSectionHeaders ? Number(off) : Number(shoff) + SIZES.shdr[1] * secs.length;
  const out = new Uint8Array(total);
  const v = new ByteView(out, endian);

  // Section file offsets.
  segs.forEach((s, i) => {
    const si = segSection[i]!;
    secs[si]!.offset = fileOff[i]!;
    const bss = secs[si + 1];
    if (bss && bss.type === SHT_NOBITS && bss.name === `${segName(i)}.bss`) bss.offset = fileOff[i]! + BigInt(s.data.length);
  });
  for (const k of ['dynsym', 'dynstr', 'hash', 'rel', 'dynamic'] as const) secs[idx[k]]!.offset = metaOff + (secs[idx[k]]!.addr - meta);
  if (symtabData) {
    secs[shstrIndex - 2]!.offset = symtabOff;
    secs[shstrIndex - 1]!.offset = strtabOff;
  }
  secs[shstrIndex]!.offset = shstrOff;

  // Contents.
  segs.forEach((s, i) => out.set(s.data, Number(fileOff[i]!)));
  out.set(metaData, Number(metaOff));
  if (symtabData) out.set(symtabData, Number(symtabOff));
  out.set(strtabData, Number(strtabOff));
  out.set(shstrData, Number(shstrOff));

  // ELF header.
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, endian === 'little' ? 1 : 2, 1, 0]);
  v.setU16(16, spec.type ?? ET_DYN);
  v.setU16(18, spec.machine);
  v.setU32(20, 1);
  v.setU64(24, spec.entry ?? 0n);
  v.setU64(32, BigInt(SIZES.ehdr[1]));
  v.setU64(40, spec.noSectionHeaders ? 0n : shoff);
  v.setU32(48, spec.eFlags ?? 0);
  v.setU16(52, SIZES.ehdr[1]);
  v.setU16(54, SIZES.phdr[1]);
  v.setU16(56, phnum);
  v.setU16(58, SIZES.shdr[1]);
  v.setU16(60, spec.noSectionHeaders ? 0 : secs.length);
  v.setU16(62, spec.noSectionHeaders ? 0 : shstrIndex);

  // Program headers.
  let ph = SIZES.ehdr[1];
  const phdr = (type: number, flags: number, offset: bigint, vaddr: bigint, filesz: bigint, memsz: bigint, align: bigint) => {
    v.setU32(ph, type); v.setU32(ph + 4, flags); v.setU64(ph + 8, offset); v.setU64(ph + 16, vaddr); v.setU64(ph + 24, vaddr);
    v.setU64(ph + 32, filesz); v.setU64(ph + 40, memsz); v.setU64(ph + 48, align);
    ph += SIZES.phdr[1];
  };
  segs.forEach((s, i) => phdr(PT_LOAD, s.flags ?? PF_R | PF_W, fileOff[i]!, s.vaddr, BigInt(s.data.length), s.memsz ?? BigInt(s.data.length), s.align ?? PAGE));
  phdr(PT_LOAD, PF_R, metaOff, meta, BigInt(metaData.length), BigInt(metaData.length), PAGE);
  if (!spec.omitPtDynamic) phdr(PT_DYNAMIC, PF_R | PF_W, metaOff + (aDyn - meta), aDyn, BigInt(dynData.length), BigInt(dynData.length), 8n);

  // Section headers.
  if (!spec.noSectionHeaders) {
    secs.forEach((s, i) => {
      const h = Number(shoff) + i * SIZES.shdr[1];
      v.setU32(h, names[i]!); v.setU32(h + 4, s.type); v.setU64(h + 8, s.flags); v.setU64(h + 16, s.addr);
      v.setU64(h + 24, s.offset); v.setU64(h + 32, s.size); v.setU32(h + 40, s.link ?? 0); v.setU32(h + 44, s.info ?? 0);
      v.setU64(h + 48, s.addralign); v.setU64(h + 56, s.entsize ?? 0n);
    });
  }
  return out;
}

/** Where buildPie puts the dynamic metadata segment: the first page boundary after the user segments. */
export function pieMetadataAddress(spec: Pick<PieSpec, 'segments'>): bigint {
  const end = spec.segments.reduce((m, s) => {
    const e = s.vaddr + (s.memsz ?? BigInt(s.data.length));
    return e > m ? e : m;
  }, 0n);
  return alignUp(end, PAGE);
}
