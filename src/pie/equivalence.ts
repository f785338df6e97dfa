// ET_REL against PIE: the same objects linked both ways (ld -r and ld -pie), loaded at the same
// base (the ET_REL by a kexec-tools profile, the PIE by the PIE profile), and every relocated
// pointer of the ET_REL checked to resolve to the same symbol+offset in the PIE.
//
// The two images have different layouts, so nothing is compared by address. Each ET_REL section
// is *anchored* in the PIE: by the symbols both tables define uniquely (all of them must agree on
// one offset), else by a search for its bytes with the relocated fields masked out. A location or
// a target maps through its section's anchor. Where that is impossible the comparison says why:
// merged strings are compared by content, .eh_frame (rebuilt by the linker) through its FDEs, and
// ppc64 TOC accesses through the .toc entry the linker's TOC optimisation may have removed.
import { hex, u64 } from '../bytes.ts';
import { ElfFile } from '../elf/reader.ts';
import { SHF_ALLOC, SHN_ABS, SHN_COMMON, SHN_UNDEF, SHT_SYMTAB, STT_SECTION } from '../elf/constants.ts';

const STT_FILE = 4;
import { loadKexecTools, myR2 } from '../load/kexec-tools.ts';
import { loadPie, pieToc } from '../load/pie.ts';
import { makeProfile } from '../load/profile.ts';
import type { Arch, Endian, LoadedImage, RelocationLogEntry } from '../types.ts';

const SHF_MERGE = 0x10n;
const SHF_STRINGS = 0x20n;

export type Verdict =
  | 'same' // the pointer resolves to the same symbol+offset
  | 'same-string' // a pointer into merged strings: the same string
  | 'same-fde' // an .eh_frame pc_begin: the PIE has an FDE for the same code address
  | 'same-toc-base' // a TOC pointer (R_PPC64_TOC word, global-entry r2): each image's own TOC base
  | 'same-via-toc-entry' // ET_REL loads the pointer from a .toc entry; the PIE computes it directly (TOC optimisation)
  | 'same-label-difference' // a PC-relative field used as `Y - L` (16/32-bit code with a segment base at L): the same Y - L
  | 'same-content' // the target section has no symbol and no unique place in the PIE: the bytes pointed at are equal
  | 'differs'
  | 'unmapped';

export interface SiteResult {
  relSection: number;
  relIndex: number;
  type: string;
  /** Where the relocated field is: ET_REL address, its mapped PIE address, and a symbolic name. */
  site: bigint;
  pieSite?: bigint;
  where: string;
  /** The resolved target, symbolically (ET_REL side) and what the PIE resolves it to. */
  target: string;
  pieTarget?: string;
  verdict: Verdict;
  reason?: string;
}

export interface SectionAnchor {
  index: number;
  name: string;
  relAddr: bigint;
  size: bigint;
  pieAddr?: bigint;
  pieSection?: string;
  by: 'symbols' | 'search' | 'none';
  /** Unique symbols both tables define in this section, and how many agree on the majority anchor. */
  symbols: number;
  agree: number;
  /**
   * Piecewise mapping: from each shared symbol on, addresses move by `delta` (the PIE link
   * interleaves each object's .rodata and .rodata.str*, which ld -r keeps apart). Before the first
   * symbol, the majority anchor applies.
   */
  pieces: { relAddr: bigint; delta: bigint }[];
  /** Bytes compared outside relocated fields, and the ranges that still differ (with a cause). */
  compared: number;
  diffs: { relAddr: bigint; pieAddr: bigint; bytes: number; why: string }[];
  why?: string;
}

export interface Equivalence {
  target: Arch;
  base: bigint;
  relProfile: string;
  relBase: bigint;
  pieBase: bigint;
  sites: SiteResult[];
  summary: Partial<Record<Verdict, number>>;
  byType: Record<string, Partial<Record<Verdict, number>>>;
  sections: SectionAnchor[];
  /** PIE dynamic relocations whose location is not an ET_REL relocation site. */
  pieOnly: { type: string; pieSite: bigint; where: string }[];
  /** PIE allocated sections with no ET_REL counterpart (dynamic-linking metadata, .got...). */
  pieOnlySections: string[];
}

export interface EquivalenceOptions {
  base: bigint;
  /** The ET_REL loader profile (default kexec-tools-2.0.25). */
  relProfile?: string;
  /** Host address of kexec-tools' buffer (REL32 subtracts it); default the load address, which makes REL32 = S+A-P. */
  hostAddress?: bigint;
}

// ---------------------------------------------------------------------------------------------

interface Img {
  image: LoadedImage;
  endian: Endian;
}

function rd(img: Img, addr: bigint, w: number): bigint | undefined {
  const off = addr - img.image.base;
  if (off < 0n || off + BigInt(w) > BigInt(img.image.bytes.length)) return undefined;
  const dv = new DataView(img.image.bytes.buffer, img.image.bytes.byteOffset, img.image.bytes.byteLength);
  const o = Number(off);
  const le = img.endian === 'little';
  switch (w) {
    case 2: return BigInt(dv.getUint16(o, le));
    case 4: return BigInt(dv.getUint32(o, le));
    case 8: return dv.getBigUint64(o, le);
    default: throw new Error(`internal: width ${w}`);
  }
}

function cstring(img: Img, addr: bigint, max = 256): string | undefined {
  const off = addr - img.image.base;
  if (off < 0n || off >= BigInt(img.image.bytes.length)) return undefined;
  let s = '';
  for (let i = Number(off); i < img.image.bytes.length && s.length < max; i++) {
    if (img.image.bytes[i] === 0) return s;
    s += String.fromCharCode(img.image.bytes[i]!);
  }
  return undefined;
}

interface Sym {
  name: string;
  addr: bigint;
  size: bigint;
  shndx: number;
}

function symbols(elf: ElfFile, addrOf: (s: { shndx: number; value: bigint }) => bigint | undefined): Sym[] {
  const st = elf.sections.find((s) => s.type === SHT_SYMTAB);
  if (!st) return [];
  const out: Sym[] = [];
  for (const s of elf.symbols(st.index)) {
    if (s.index === 0 || s.stype === STT_SECTION || s.stype === STT_FILE) continue;
    if (s.shndx === SHN_UNDEF || s.shndx === SHN_ABS || s.shndx === SHN_COMMON || s.shndx >= elf.sections.length) continue;
    let name: string;
    try {
      name = elf.stringAt(st.link, s.name);
    } catch {
      continue;
    }
    if (!name) continue;
    const addr = addrOf(s);
    if (addr !== undefined) out.push({ name, addr, size: s.size, shndx: s.shndx });
  }
  return out;
}

function unique(list: Sym[]): Map<string, Sym> {
  const count = new Map<string, number>();
  for (const s of list) count.set(s.name, (count.get(s.name) ?? 0) + 1);
  return new Map(list.filter((s) => count.get(s.name) === 1).map((s) => [s.name, s]));
}

/** "name+0xoff" for the nearest preceding symbol (or the section when none). */
function describe(addr: bigint, syms: Sym[], sections: LoadedImage['sections']): string {
  let best: Sym | undefined;
  for (const s of syms) if (s.addr <= addr && (!best || s.addr > best.addr)) best = s;
  const sec = sections.find((s) => s.alloc && s.size > 0n && addr >= s.addr && addr < s.addr + s.size);
  if (best && (!sec || best.addr >= sec.addr)) return addr === best.addr ? best.name : `${best.name}+${hex(addr - best.addr)}`;
  if (sec) return `${sec.name}+${hex(addr - sec.addr)}`;
  return hex(addr);
}

const sext = (v: bigint, bits: number) => BigInt.asIntN(bits, v);

// ---------------------------------------------------------------------------------------------
// .eh_frame: the pc_begin targets of every FDE (pcrel sdata4 or absolute encodings).

export function fdeTargets(img: Img, start: bigint, size: bigint): Set<bigint> {
  const out = new Set<bigint>();
  const enc = new Map<bigint, number>();
  let p = start;
  const end = start + size;
  while (p + 8n <= end) {
    const len = rd(img, p, 4);
    if (len === undefined || len === 0n || len === 0xffffffffn) break;
    const id = rd(img, p + 4n, 4)!;
    if (id === 0n) {
      // CIE: version, augmentation string, code/data alignment, return register, augmentation data.
      let q = p + 9n;
      let aug = '';
      for (let c = rd1(img, q); c !== undefined && c !== 0; c = rd1(img, ++q)) aug += String.fromCharCode(c);
      q++;
      const uleb = () => { let r = 0n, sh = 0n, b: number | undefined; do { b = rd1(img, q++); if (b === undefined) return 0n; r |= BigInt(b & 0x7f) << sh; sh += 7n; } while (b & 0x80); return r; };
      uleb(); uleb(); // code alignment; data alignment (sleb, only skipped)
      if (rd1(img, p + 8n) === 1) q++; else uleb(); // return address register
      let fdeEnc = 0;
      if (aug.startsWith('z')) {
        uleb();
        for (const ch of aug.slice(1)) {
          if (ch === 'R') fdeEnc = rd1(img, q++) ?? 0;
          else if (ch === 'L') q++;
          else if (ch === 'P') { const pe = rd1(img, q++) ?? 0; q += (pe & 0x0f) === 0x0b || (pe & 0x0f) === 0x03 ? 4n : 8n; }
        }
      }
      enc.set(p, fdeEnc);
    } else {
      const cie = p + 4n - id;
      const e = enc.get(cie) ?? 0;
      const at = p + 8n;
      if ((e & 0x0f) === 0x0b && (e & 0x70) === 0x10) out.add(u64(at + sext(rd(img, at, 4)!, 32)));
      else if (e === 0) out.add(rd(img, at, 8)!);
    }
    p += 4n + len;
  }
  return out;
}

function rd1(img: Img, addr: bigint): number | undefined {
  const off = addr - img.image.base;
  if (off < 0n || off >= BigInt(img.image.bytes.length)) return undefined;
  return img.image.bytes[Number(off)];
}

// ---------------------------------------------------------------------------------------------

/** Load both, anchor the sections, judge every ET_REL relocation. Throws (typed) if either load is rejected. */
export function equivalence(rel: Uint8Array, pie: Uint8Array, target: Arch, opts: EquivalenceOptions): Equivalence {
  const relProfile = opts.relProfile ?? 'kexec-tools-2.0.25';
  const rp = makeProfile(relProfile, target);
  const relLoad = loadKexecTools(rel, opts.base, rp, { fill: 0, hostAddress: opts.hostAddress ?? opts.base, log: true });
  // kexec-tools' REL32 subtracts the host pointer of the location: with the buffer's host address
  // equal to its load address (the default) that is S+A-P.
  if (opts.hostAddress === undefined) {
    // Re-run with the host address the layout actually chose, so REL32 = S+A-P exactly.
    const b = relLoad.layout.base;
    if (b !== opts.base) return equivalence(rel, pie, target, { ...opts, hostAddress: b });
  }
  const pieLoad = loadPie(pie, opts.base, makeProfile('pie', target), { log: true });
  const relElf = relLoad.kt.elf;
  const pieElf = pieLoad.state.pie.elf;
  const R: Img = { image: relLoad.image, endian: relElf.endian };
  const P: Img = { image: pieLoad.image, endian: pieElf.endian };
  const bias = pieLoad.state.layout.bias;

  const relSyms = symbols(relElf, (s) => {
    const sec = R.image.sections[s.shndx];
    return sec?.alloc ? sec.addr + s.value : undefined;
  });
  const pieSyms = symbols(pieElf, (s) => ((pieElf.sections[s.shndx]!.flags & SHF_ALLOC) !== 0n ? bias + s.value : undefined));
  const relU = unique(relSyms);
  const pieU = unique(pieSyms);

  // Relocated fields of the ET_REL image (masked when sections are compared).
  const masked = new Uint8Array(R.image.bytes.length);
  for (const e of R.image.relocations) if (e.imageOffset >= 0 && e.width > 0) masked.fill(1, e.imageOffset, e.imageOffset + e.width);

  const sections = anchorSections(R, P, relElf, pieElf, relU, pieU, masked, bias);
  const mapRel = (addr: bigint): bigint | undefined => {
    // The section containing the address; one past the end of a section only when none contains it.
    const a = sections.find((x) => addr >= x.relAddr && addr < x.relAddr + x.size) ?? sections.find((x) => addr === x.relAddr + x.size);
    return a ? mapIn(a, addr) : undefined;
  };
  const secOf = (addr: bigint) => R.image.sections.find((s) => s.alloc && s.size > 0n && addr >= s.addr && addr < s.addr + s.size);
  const relName = (a: bigint) => describe(a, relSyms, R.image.sections);
  const pieName = (a: bigint) => describe(a, pieSyms, P.image.sections);

  // TOC bases (ppc64): kexec-tools' my_r2 (.toc + 0x8000) and the PIE's .TOC.
  let relToc: bigint | undefined;
  let pieTocBase: bigint | undefined;
  if (target !== 'x86_64') {
    try { relToc = myR2(relLoad.kt); } catch { relToc = undefined; }
    try { pieTocBase = pieToc(pieLoad.state.pie, bias); } catch { pieTocBase = undefined; }
  }
  const pieEh = P.image.sections.find((s) => s.name === '.eh_frame' && s.alloc);
  const pieFdes = pieEh ? fdeTargets(P, pieEh.addr, pieEh.size) : new Set<bigint>();
  const relKt = rp.sem;

  const sites: SiteResult[] = [];
  const log = R.image.relocations.filter((e) => e.width > 0);
  const judged = new Map<string, SiteResult>(); // TOC16_LO results by (symbol, addend), for their HA partners
  const tocUsers = new Map<bigint, SiteResult[]>(); // .toc entry address → the accesses that load it

  for (const e of log) {
    const name = e.typeName.replace(/^R_(X86_64|PPC64)_/, '');
    const site = e.address;
    const pieSite = mapRel(site);
    const where = relName(site);
    const base = { relSection: e.relSection, relIndex: e.relIndex, type: e.typeName, site, where };
    const secName = secOf(site)?.name ?? '?';
    const push = (r: Omit<SiteResult, keyof typeof base>) => {
      const out = { ...base, ...(pieSite !== undefined ? { pieSite } : {}), ...r };
      sites.push(out);
      return out;
    };
    // Pointers read back from the ET_REL image (or the loader's S+A for partial fields).
    const compareTarget = (tRel: bigint, tPie: bigint | undefined, pcrel = false) => {
      if (tPie === undefined) return push({ target: relName(tRel), verdict: 'unmapped', reason: 'the PIE field could not be read' });
      const direct = compareDirect(tRel, tPie, pcrel);
      if (direct.verdict.startsWith('same') || !pcrel || pieSite === undefined) return push(direct);
      // The field F = T - P may be a label difference `Y - L` (x86 16/32-bit code addresses data
      // relative to a segment based at a code label L). ld -r folds the input sections, so S + A can
      // name a neighbouring object's data; the PIE link resolves it against the original section.
      // Accept only an L (a symbol at or before the site, in its section) under which both fields
      // denote the same symbol Y (a symbol of that name at both addresses), or the same merged string.
      const fRel = tRel - site;
      const fPie = tPie - pieSite;
      const sec = secOf(site);
      const labels = relSyms.filter((x) => sec && x.addr <= site && x.addr >= sec.addr && relU.get(x.name) === x && pieU.has(x.name)).sort((x, y) => (x.addr > y.addr ? -1 : 1));
      for (const l of labels) {
        const yRel = l.addr + fRel;
        const yPie = pieU.get(l.name)!.addr + fPie;
        // Y may be a local name several objects define: the same name at both computed addresses is the evidence.
        const ySym = relSyms.find((x) => x.addr === yRel && pieSyms.some((q) => q.name === x.name && q.addr === yPie));
        const ySec = secOf(yRel);
        const h = ySec ? relElf.sections[ySec.index] : undefined;
        let ok = false;
        let what = '';
        if (ySym) { ok = true; what = ySym.name; }
        else if (h && (h.flags & (SHF_MERGE | SHF_STRINGS)) === (SHF_MERGE | SHF_STRINGS) && (yRel === ySec!.addr || rd1(R, yRel - 1n) === 0)) {
          const a = cstring(R, yRel);
          const b = cstring(P, yPie);
          ok = !!a && a === b;
          what = JSON.stringify(a);
        }
        if (ok) return push({ target: `${what} - ${l.name}`, pieTarget: `${pieName(yPie)} - ${l.name}`, verdict: 'same-label-difference', reason: `read as a rip-relative pointer the field means ${direct.target} / ${direct.pieTarget ?? '?'}; ld -r re-associated S + A (${relName(e.value)}) with a neighbouring input section` });
      }
      return push(direct);
    };
    const compareDirect = (tRel: bigint, tPie: bigint, pcrel: boolean): Omit<SiteResult, keyof typeof base> => {
      // The CPU's target is T + tail: 0 for an absolute word or a branch, 4 or 8 after an x86
      // rip-relative displacement (the bytes of the instruction that follow the field).
      const tails = pcrel ? [0n, 4n, 8n] : [0n];
      // Merged strings: the tail that lands on a string start in the ET_REL image is the one.
      for (const k of tails) {
        const sec = secOf(tRel + k);
        const h = sec ? relElf.sections[sec.index] : undefined;
        if (!sec || !h || (h.flags & (SHF_MERGE | SHF_STRINGS)) !== (SHF_MERGE | SHF_STRINGS)) continue;
        if (tRel + k !== sec.addr && rd1(R, tRel + k - 1n) !== 0) continue;
        const a = cstring(R, tRel + k);
        const b = cstring(P, tPie + k);
        const ok = a !== undefined && a === b;
        return { target: `${relName(tRel + k)} ${JSON.stringify(a)}`, pieTarget: pieName(tPie + k), verdict: ok ? 'same-string' : 'differs', ...(ok ? {} : { reason: `string ${JSON.stringify(a)} became ${JSON.stringify(b)}` }) };
      }
      // Map T + tail through the piece that holds it. A wrong tail can only agree where the pieces
      // around the target share one offset, so any agreeing tail is the answer.
      const target = relName(tRel);
      let first: Omit<SiteResult, keyof typeof base> | undefined;
      for (const c of [...tails.map((k) => tRel + k), tRel - e.addend]) {
        const sec = secOf(c);
        if (!sec) continue;
        const m = mapRel(c);
        if (m === undefined) {
          // A section with no symbol and no unique place (e.g. 16 zero bytes): compare what is pointed at.
          const n = sec.addr + sec.size - c;
          const same = n > 0n && [...Array(Number(n)).keys()].every((i) => rd1(R, c + BigInt(i)) === rd1(P, tPie + (c - tRel) + BigInt(i)));
          first ??= same
            ? { target, pieTarget: pieName(tPie), verdict: 'same-content', reason: `${sec.name} has no anchor in the PIE (${sections.find((a) => a.index === sec.index)?.why ?? ''}); the ${n} bytes pointed at are equal` }
            : { target, pieTarget: pieName(tPie), verdict: 'unmapped', reason: `target section ${sec.name} has no anchor in the PIE` };
          continue;
        }
        const expected = m - (c - tRel);
        if (expected === tPie) {
          const viaS = c === tRel - e.addend && !tails.some((k) => tRel + k === c);
          return { target, pieTarget: pieName(tPie), verdict: 'same', ...(viaS ? { reason: `same S + A with S = ${relName(c)}: S + A lies past S's input section, which ld -r merged with the next one (the PIE link resolved it against the original section, as the ET_REL loader does against the merged one)` } : {}) };
        }
        first ??= { target, pieTarget: pieName(tPie), verdict: 'differs', reason: `expected ${hex(expected)} (${pieName(expected)}), PIE has ${hex(tPie)}` };
      }
      return first ?? { target, pieTarget: pieName(tPie), verdict: 'unmapped', reason: 'the target is outside every section' };
    };

    if (secName === '.eh_frame') {
      // The linker rebuilds .eh_frame; judge the FDE's code address instead of the location.
      const tRel = u64(site + sext(rd(R, site, 4)!, 32));
      const m = mapRel(tRel);
      push({ target: relName(tRel), ...(m !== undefined ? { pieTarget: pieName(m) } : {}), verdict: m !== undefined && pieFdes.has(m) ? 'same-fde' : 'differs', ...(m !== undefined && pieFdes.has(m) ? {} : { reason: 'no FDE in the PIE covers that code address' }) });
      continue;
    }
    if (pieSite === undefined && !/^TOC16|^REL16/.test(name)) {
      push({ target: relName(e.value), verdict: 'unmapped', reason: `section ${secName} has no anchor in the PIE${sections.find((a) => a.name === secName)?.why ? ` (${sections.find((a) => a.name === secName)!.why})` : ''}` });
      continue;
    }
    switch (name) {
      case '64': case 'ADDR64': case 'UADDR64':
        compareTarget(rd(R, site, 8)!, rd(P, pieSite!, 8));
        break;
      case 'REL64':
        if (relKt.rel64Absolute) compareTarget(rd(R, site, 8)!, rd(P, pieSite!, 8));
        else compareTarget(u64(site + sext(rd(R, site, 8)!, 64)), u64(pieSite! + sext(rd(P, pieSite!, 8)!, 64)));
        break;
      case '32': case 'ADDR32':
        compareTarget(rd(R, site, 4)!, rd(P, pieSite!, 4));
        break;
      case '32S':
        compareTarget(u64(sext(rd(R, site, 4)!, 32)), u64(sext(rd(P, pieSite!, 4)!, 32)));
        break;
      case 'PC32': case 'PLT32': case 'REL32':
        compareTarget(u64(site + sext(rd(R, site, 4)!, 32)), u64(pieSite! + sext(rd(P, pieSite!, 4)!, 32)), true);
        break;
      case 'REL24': {
        const br = (img: Img, at: bigint) => u64(at + sext(rd(img, at, 4)! & 0x03fffffcn, 26));
        compareTarget(br(R, site), br(P, pieSite!));
        break;
      }
      case 'TOC': {
        const a = rd(R, site, 8)!;
        const b = rd(P, pieSite!, 8)!;
        const ok = a === relToc && b === pieTocBase;
        push({ target: `TOC base ${hex(a)}`, pieTarget: `TOC base ${hex(b)}`, verdict: ok ? 'same-toc-base' : 'differs', ...(ok ? {} : { reason: `expected ${hex(relToc ?? 0n)} and ${hex(pieTocBase ?? 0n)}` }) });
        break;
      }
      case 'ADDR16_LO': case 'ADDR16_HI': case 'ADDR16_HA': case 'ADDR16_HIGHER': case 'ADDR16_HIGHEST': {
        // A halfword of S+A: the PIE field must hold the same part of the mapped address.
        const part = (v: bigint) => name === 'ADDR16_LO' ? v & 0xffffn : name === 'ADDR16_HI' ? (v >> 16n) & 0xffffn : name === 'ADDR16_HA' ? ((v + 0x8000n) >> 16n) & 0xffffn
          : name === 'ADDR16_HIGHER' ? (v >> 32n) & 0xffffn : (v >> 48n) & 0xffffn;
        const m = secOf(e.value) ? mapRel(e.value) : (() => { const x = mapRel(e.value - e.addend); return x === undefined ? undefined : x + e.addend; })();
        const relField = rd(R, site, 2)!;
        const pieField = rd(P, pieSite!, 2)!;
        const ok = m !== undefined && relField === part(u64(e.value)) && pieField === part(m);
        push({ target: relName(e.value), ...(m !== undefined ? { pieTarget: pieName(m) } : {}), verdict: m === undefined ? 'unmapped' : ok ? 'same' : 'differs', ...(ok ? {} : { reason: `fields ${hex(relField)} / ${hex(pieField)}, expected ${hex(part(u64(e.value)))} / ${hex(m === undefined ? 0n : part(m))}` }) });
        break;
      }
      case 'TOC16_LO': case 'TOC16_LO_DS': case 'TOC16': case 'TOC16_DS':
      {
        const r = push(tocAccess(e, R, P, mapRel, relName, pieName, relToc, pieTocBase, secOf, relElf));
        judged.set(`${e.symbol}\u0000${e.addend}\u0000${e.relSection}`, r);
        if (r.verdict === 'same-via-toc-entry' || r.target.startsWith('*')) tocUsers.set(e.value, [...(tocUsers.get(e.value) ?? []), r]);
        break;
      }
      case 'TOC16_HA': case 'TOC16_HI':
        break; // judged with its LO partner below
      case 'REL16_HA': case 'REL16_LO': case 'REL16_HI':
        push(globalEntry(e, R, P, mapRel, relToc, pieTocBase));
        break;
      default:
        push({ target: relName(e.value), verdict: 'unmapped', reason: `no decoder for ${e.typeName}` });
    }
  }
  // TOC16_HA/HI: the verdict of the LO access with the same symbol and addend.
  for (const e of log) {
    const name = e.typeName.replace(/^R_PPC64_/, '');
    if (name !== 'TOC16_HA' && name !== 'TOC16_HI') continue;
    const lo = judged.get(`${e.symbol}\u0000${e.addend}\u0000${e.relSection}`);
    const pieSite = mapRel(e.address);
    sites.push({
      relSection: e.relSection, relIndex: e.relIndex, type: e.typeName, site: e.address, ...(pieSite !== undefined ? { pieSite } : {}),
      where: relName(e.address), target: lo?.target ?? relName(e.value), ...(lo?.pieTarget ? { pieTarget: lo.pieTarget } : {}),
      verdict: lo?.verdict ?? 'unmapped', reason: lo ? `the high half of the access at ${lo.where}${lo.reason ? `: ${lo.reason}` : ''}` : 'no TOC16_LO partner with the same symbol and addend',
    });
  }

  // .toc entries the TOC optimisation removed: judged through the accesses that load them.
  for (const r of sites) {
    if (r.verdict !== 'unmapped' || secOf(r.site)?.name !== '.toc') continue;
    const users = tocUsers.get(r.site) ?? [];
    if (users.length && users.every((u) => u.verdict === 'same-via-toc-entry' || u.verdict === 'same')) {
      r.verdict = 'same-via-toc-entry';
      r.reason = `the entry is gone from the PIE (TOC optimisation); its ${users.length} load(s) at ${users.map((u) => u.where).join(', ')} resolve to the same pointer there`;
    }
  }

  // PIE dynamic relocations that are not at an ET_REL relocation site.
  const relSites = new Set(log.map((e) => mapRel(e.address)).filter((x): x is bigint => x !== undefined));
  const pieOnly = pieLoad.image.relocations.filter((r) => r.width > 0 && !relSites.has(r.address)).map((r) => ({ type: r.typeName, pieSite: r.address, where: pieName(r.address) }));
  const anchoredPie = new Set(sections.map((a) => a.pieSection).filter(Boolean));
  const pieOnlySections = P.image.sections.filter((s) => s.alloc && s.size > 0n && !anchoredPie.has(s.name)).map((s) => s.name);

  const summary: Partial<Record<Verdict, number>> = {};
  const byType: Record<string, Partial<Record<Verdict, number>>> = {};
  for (const s of sites) {
    summary[s.verdict] = (summary[s.verdict] ?? 0) + 1;
    const t = (byType[s.type] ??= {});
    t[s.verdict] = (t[s.verdict] ?? 0) + 1;
  }
  return {
    target, base: opts.base, relProfile, relBase: R.image.base, pieBase: P.image.base, sites, summary, byType, sections, pieOnly, pieOnlySections,
  };
}

// ---------------------------------------------------------------------------------------------

function anchorSections(R: Img, P: Img, relElf: ElfFile, pieElf: ElfFile, relU: Map<string, Sym>, pieU: Map<string, Sym>, masked: Uint8Array, bias: bigint): SectionAnchor[] {
  const out: SectionAnchor[] = [];
  const pieSecs = P.image.sections.filter((s) => s.alloc && s.size > 0n);
  for (const s of R.image.sections) {
    if (!s.alloc || s.size === 0n) continue;
    const hdr = relElf.sections[s.index]!;
    const a: SectionAnchor = { index: s.index, name: s.name, relAddr: s.addr, size: s.size, by: 'none', symbols: 0, agree: 0, pieces: [], compared: 0, diffs: [] };
    out.push(a);
    // Symbols both sides define once: each proposes an anchor; all must agree.
    const votes = new Map<bigint, number>();
    for (const [name, rs] of relU) {
      if (rs.shndx !== s.index) continue;
      const ps = pieU.get(name);
      if (!ps) continue;
      a.symbols++;
      const at = ps.addr - (rs.addr - s.addr);
      votes.set(at, (votes.get(at) ?? 0) + 1);
      a.pieces.push({ relAddr: rs.addr, delta: ps.addr - rs.addr });
    }
    a.pieces.sort((x, y) => (x.relAddr < y.relAddr ? -1 : x.relAddr > y.relAddr ? 1 : 0));
    if (votes.size) {
      const [at, n] = [...votes].sort((x, y) => y[1] - x[1])[0]!;
      a.pieAddr = at;
      a.agree = n;
      a.by = 'symbols';
    } else if ((hdr.flags & (SHF_MERGE | SHF_STRINGS)) === (SHF_MERGE | SHF_STRINGS)) {
      a.why = 'merged strings: the linker deduplicates them, so pointers into them are compared by content';
    } else if (s.name === '.eh_frame') {
      a.why = 'rebuilt by the linker (CIEs shared, FDEs rewritten): its relocations are judged through the FDEs';
    } else if (s.nobits) {
      a.why = 'no symbol to anchor a NOBITS section';
    } else {
      const found = searchSection(R, P, s, masked, pieSecs);
      if (found !== undefined) {
        a.pieAddr = found;
        a.by = 'search';
      } else {
        a.why = s.name === '.toc' ? 'the linker\'s TOC optimisation rewrote the code that used these entries and dropped them' : 'no symbol, and its bytes are nowhere in the PIE';
      }
    }
    if (a.pieAddr !== undefined) {
      const ps = pieSecs.find((x) => a.pieAddr! >= x.addr && a.pieAddr! < x.addr + x.size);
      if (ps) a.pieSection = ps.name;
      if (!s.nobits) diffSection(R, P, a, masked, pieElf.header.machine === 21);
    }
  }
  void bias;
  return out;
}

/** An address of an anchored section, through the piece that starts at or before it. */
export function mapIn(a: SectionAnchor, addr: bigint): bigint | undefined {
  if (a.pieAddr === undefined) return undefined;
  let delta = a.pieAddr - a.relAddr;
  for (const p of a.pieces) {
    if (p.relAddr > addr) break;
    delta = p.delta;
  }
  return addr + delta;
}

/** Find the ET_REL section's bytes (relocated fields masked) in the PIE: unique position with ≥ 90% equal bytes. */
function searchSection(R: Img, P: Img, s: LoadedImage['sections'][number], masked: Uint8Array, pieSecs: LoadedImage['sections']): bigint | undefined {
  const off = Number(s.addr - R.image.base);
  const n = Number(s.size);
  const unmasked: number[] = [];
  for (let i = 0; i < n; i++) if (!masked[off + i]) unmasked.push(i);
  if (unmasked.length < 8) return undefined;
  const hits: bigint[] = [];
  const order = [...pieSecs.filter((x) => x.name === s.name), ...pieSecs.filter((x) => x.name !== s.name)];
  for (const ps of order) {
    const po = Number(ps.addr - P.image.base);
    const budget = Math.floor(unmasked.length * 0.1);
    for (let k = 0; k + n <= Number(ps.size); k++) {
      let bad = 0;
      for (const i of unmasked) if (R.image.bytes[off + i] !== P.image.bytes[po + k + i] && ++bad > budget) break;
      if (bad <= budget) hits.push(ps.addr + BigInt(k));
    }
    if (hits.length) break;
  }
  return hits.length === 1 ? hits[0] : undefined;
}

/** Bytes of an anchored section that differ outside relocated fields, grouped, with the likely cause. */
function diffSection(R: Img, P: Img, a: SectionAnchor, masked: Uint8Array, ppc: boolean): void {
  const off = Number(a.relAddr - R.image.base);
  const n = Number(a.size);
  let run: { start: number; len: number } | undefined;
  const flush = () => {
    if (!run) return;
    const relAddr = a.relAddr + BigInt(run.start);
    const pieAddr = mapIn(a, relAddr)!;
    a.diffs.push({ relAddr, pieAddr, bytes: run.len, why: ppc ? ppcWhy(R, P, relAddr, pieAddr) : x86Why(P, pieAddr, run.len) });
    run = undefined;
  };
  for (let i = 0; i < n; i++) {
    const po = Number(mapIn(a, a.relAddr + BigInt(i))! - P.image.base);
    if (po < 0 || po >= P.image.bytes.length) { flush(); continue; }
    if (masked[off + i]) { flush(); continue; }
    a.compared++;
    if (R.image.bytes[off + i] === P.image.bytes[po]) { flush(); continue; }
    if (run && run.start + run.len === i) run.len++;
    else { flush(); run = { start: i, len: 1 }; }
  }
  flush();
}

/** x86: lld pads between input sections of code with int3 (0xcc) where ld -r and GNU ld put NOPs. */
function x86Why(P: Img, pieAddr: bigint, n: number): string {
  for (let i = 0n; i < BigInt(n); i++) if (rd1(P, pieAddr + i) !== 0xcc) return 'changed by the linker';
  return 'padding between input sections: ld.lld fills code gaps with int3 (0xcc), ld -r with NOPs';
}

/** Name the ppc64 linker edit that explains a differing instruction word. */
function ppcWhy(R: Img, P: Img, relAddr: bigint, pieAddr: bigint): string {
  const wr = rd(R, relAddr & ~3n, 4);
  const wp = rd(P, pieAddr & ~3n, 4);
  if (wr === undefined || wp === undefined) return 'changed by the linker';
  const op = (w: bigint) => Number(w >> 26n);
  const rt = (w: bigint) => Number((w >> 21n) & 31n);
  const ra = (w: bigint) => Number((w >> 16n) & 31n);
  if (op(wr) === 58 && op(wp) === 14 && rt(wr) === rt(wp)) return 'TOC optimisation: ld from a .toc entry became addi (address computed directly)';
  if (op(wr) === 15 && ra(wr) === 2 && wp === 0x60000000n) return 'TOC optimisation: addis rX,r2 dropped (nop), the low part addresses r2 directly';
  if (ra(wr) !== ra(wp) && ra(wp) === 2) return 'TOC optimisation: base register changed to r2';
  return `instruction ${hex(wr, 8)} became ${hex(wp, 8)}`;
}

type MapFn = (a: bigint) => bigint | undefined;

/** A TOC-relative access (TOC16_LO*): what the instruction pair addresses, or loads, in both images. */
function tocAccess(e: RelocationLogEntry, R: Img, P: Img, mapRel: MapFn, relName: (a: bigint) => string, pieName: (a: bigint) => string,
  relToc: bigint | undefined, pieToc: bigint | undefined, secOf: (a: bigint) => LoadedImage['sections'][number] | undefined, relElf: ElfFile): Omit<SiteResult, 'relSection' | 'relIndex' | 'type' | 'site' | 'where'> {
  const eRel = e.value; // S + A: the address the access means in the ET_REL image
  const word = (img: Img, at: bigint) => rd(img, at & ~3n, 4);
  const pieSite = mapRel(e.address);
  if (pieSite === undefined || pieToc === undefined) return { target: relName(eRel), verdict: 'unmapped', reason: 'the instruction is not in an anchored section' };
  const wr = word(R, e.address)!;
  const wp = word(P, pieSite)!;
  const op = (w: bigint) => Number(w >> 26n);
  const ra = (w: bigint) => Number((w >> 16n) & 31n);
  const ds = op(wp) === 58 || op(wp) === 62;
  const disp = sext(ds ? wp & 0xfffcn : wp & 0xffffn, 16);
  // The PIE's base register: r2 itself, or the addis rA,r2,hi the linker kept (searched back in the function).
  let basePie: bigint | undefined;
  if (ra(wp) === 2) basePie = pieToc;
  else {
    for (let back = 4n; back <= 64n; back += 4n) {
      const w = word(P, (pieSite & ~3n) - back);
      if (w === undefined) break;
      if (op(w) === 15 && Number((w >> 21n) & 31n) === ra(wp) && ra(w) === 2) {
        basePie = pieToc + (sext(w & 0xffffn, 16) << 16n);
        break;
      }
    }
  }
  if (basePie === undefined) return { target: relName(eRel), verdict: 'unmapped', reason: `no addis r${ra(wp)},r2 before the access in the PIE` };
  const ePie = u64(basePie + disp);
  // ET_REL `ld rX, entry@toc@l(rY)` from a .toc entry: the pointer is the entry's content.
  const relSec = secOf(eRel);
  if (op(wr) === 58 && relSec?.name === '.toc') {
    const ptrRel = rd(R, eRel, 8)!;
    const viaEntry = op(wp) === 58 ? rd(P, ePie, 8) : ePie;
    const mapped = mapRel(ptrRel);
    const ok = mapped !== undefined && viaEntry === mapped;
    return {
      target: `*${relName(eRel)} = ${relName(ptrRel)}`, pieTarget: viaEntry !== undefined ? pieName(viaEntry) : '?',
      verdict: ok ? (op(wp) === 58 ? 'same' : 'same-via-toc-entry') : 'differs',
      ...(ok ? {} : { reason: `the .toc entry points to ${relName(ptrRel)}; the PIE access resolves to ${viaEntry === undefined ? '?' : pieName(viaEntry)}` }),
    };
  }
  const hdr = relSec ? relElf.sections[relSec.index] : undefined;
  if (hdr && (hdr.flags & (SHF_MERGE | SHF_STRINGS)) === (SHF_MERGE | SHF_STRINGS)) {
    const a = cstring(R, eRel);
    const b = cstring(P, ePie);
    return { target: `${relName(eRel)} ${JSON.stringify(a)}`, pieTarget: pieName(ePie), verdict: a !== undefined && a === b ? 'same-string' : 'differs', ...(a === b ? {} : { reason: `string ${JSON.stringify(a)} became ${JSON.stringify(b)}` }) };
  }
  const mapped = mapRel(eRel);
  if (mapped === undefined && relSec) {
    const n = relSec.addr + relSec.size - eRel;
    const same = n > 0n && [...Array(Number(n)).keys()].every((i) => rd1(R, eRel + BigInt(i)) === rd1(P, ePie + BigInt(i)));
    return { target: relName(eRel), pieTarget: pieName(ePie), verdict: same ? 'same-content' : 'unmapped', reason: `${relSec.name} has no anchor in the PIE${same ? `; the ${n} bytes addressed are equal` : ''}` };
  }
  if (mapped === undefined) return { target: relName(eRel), pieTarget: pieName(ePie), verdict: 'unmapped', reason: 'the target is outside every section' };
  void relToc;
  return { target: relName(eRel), pieTarget: pieName(ePie), verdict: mapped === ePie ? 'same' : 'differs', ...(mapped === ePie ? {} : { reason: `expected ${pieName(mapped)}, the PIE addresses ${pieName(ePie)}` }) };
}

/** The ELFv2 global-entry pair (REL16_HA/LO): the r2 each image computes, against its own TOC base. */
function globalEntry(e: RelocationLogEntry, R: Img, P: Img, mapRel: MapFn, relToc: bigint | undefined, pieToc: bigint | undefined): Omit<SiteResult, 'relSection' | 'relIndex' | 'type' | 'site' | 'where'> {
  // The pair starts at the HA word (the function's global entry); for the LO entry, one word earlier.
  const lo = e.typeName.endsWith('_LO');
  const entry = (e.address & ~3n) - (lo ? 4n : 0n);
  const r2 = (img: Img, at: bigint): bigint | undefined => {
    const w0 = rd(img, at, 4);
    const w1 = rd(img, at + 4n, 4);
    if (w0 === undefined || w1 === undefined || (w1 & 0xffff0000n) !== 0x38420000n) return undefined;
    const hi = sext(w0 & 0xffffn, 16) << 16n;
    if ((w0 & 0xffff0000n) === 0x3c4c0000n) return u64(at + hi + sext(w1 & 0xffffn, 16)); // addis 2,12: r12 = the entry
    if ((w0 & 0xffff0000n) === 0x3c400000n) return u64(hi + sext(w1 & 0xffffn, 16)); // lis 2
    return undefined;
  };
  const pieEntry = mapRel(entry);
  const a = r2(R, entry);
  const b = pieEntry === undefined ? undefined : r2(P, pieEntry);
  const ok = a !== undefined && a === relToc && b !== undefined && b === pieToc;
  const diff = a !== undefined && relToc !== undefined ? BigInt.asIntN(64, a - relToc) : undefined;
  return {
    target: `r2 = ${a === undefined ? '?' : hex(a)} (TOC base ${relToc === undefined ? '?' : hex(relToc)})`,
    pieTarget: `r2 = ${b === undefined ? '?' : hex(b)} (.TOC. ${pieToc === undefined ? '?' : hex(pieToc)})`,
    verdict: ok ? 'same-toc-base' : 'differs',
    ...(ok ? {} : {
      reason: diff === -0x10000n
        ? 'kexec-tools rewrites addis 2,12,.TOC.-f@ha into lis 2,.TOC.@h without the @ha carry: r2 is 0x10000 low (registry kt-ppc64-rel16-rewrite)'
        : `r2 is ${diff === undefined ? '?' : hex(diff)} from the ET_REL TOC base; PIE r2 ${b === undefined ? '?' : hex(b)}`,
    }),
  };
}

// ---------------------------------------------------------------------------------------------

export function formatEquivalence(q: Equivalence, verbose = false): string {
  const out: string[] = [];
  out.push(`${q.target} at ${hex(q.base)}: ET_REL (${q.relProfile}) image at ${hex(q.relBase)}, PIE image at ${hex(q.pieBase)}`);
  out.push(`  relocations judged: ${q.sites.length}  ${Object.entries(q.summary).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const [t, v] of Object.entries(q.byType).sort()) out.push(`    ${t.padEnd(24)} ${Object.entries(v).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  for (const s of q.sites.filter((x) => verbose || (x.verdict !== 'same' && !x.verdict.startsWith('same-')))) {
    out.push(`  ${s.verdict.padEnd(18)} ${s.type} at ${s.where}: ${s.target}${s.pieTarget ? ` -> ${s.pieTarget}` : ''}${s.reason ? ` (${s.reason})` : ''}`);
  }
  out.push('  sections:');
  for (const a of q.sections) {
    const diffs = a.diffs.reduce((n, d) => n + d.bytes, 0);
    out.push(`    ${a.name.padEnd(16)} ${a.pieAddr !== undefined ? `-> ${a.pieSection ?? '?'} ${hex(a.pieAddr)} by ${a.by}${a.by === 'symbols' ? ` (${a.agree}/${a.symbols} symbols agree)` : ''}, ${a.compared} bytes compared outside relocated fields, ${diffs} differ` : `not anchored: ${a.why}`}`);
    const whys = new Map<string, number>();
    for (const d of a.diffs) whys.set(d.why, (whys.get(d.why) ?? 0) + d.bytes);
    for (const [w, n] of whys) out.push(`      ${n} bytes: ${w}`);
  }
  if (q.pieOnly.length) out.push(`  PIE dynamic relocations at no ET_REL relocation site: ${q.pieOnly.length} (${q.pieOnly.slice(0, 5).map((p) => `${p.type} at ${p.where}`).join('; ')})`);
  out.push(`  PIE-only sections: ${q.pieOnlySections.join(' ') || '-'}`);
  return out.join('\n') + '\n';
}
