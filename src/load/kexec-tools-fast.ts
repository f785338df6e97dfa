// The fast path of the kexec-tools load model (issue #9): the same parse → layout → copy →
// relocate → symbol writes as src/load/kexec-tools.ts, in plain numbers over one DataView, with
// no per-relocation allocation and no copy of the file.
//
// Contract: for a request it handles, the result equals the faithful model's image (bytes, base,
// memsz, entry, sections). Everything else returns undefined and the faithful model runs: every
// condition under which the model rejects, and every C quirk zone the model reproduces (64-bit
// wrap-around, values of 2^48 or more, non-power-of-two, zero (before 2.0.24) or huge alignments,
// index checks near their off-by-one boundary, writes into the file copy, relocation or symbol
// tables placed in the image, ELF32, program headers, relocation types outside the table below).
// It never rejects by itself. Each load decodes the ELF afresh, as the C code does: nothing is
// cached across loads.
import { SHN_ABS, SHN_COMMON, SHN_UNDEF, SHT_DYNAMIC, SHT_NOBITS, SHT_NOTE, SHT_REL, SHT_RELA, SHT_SYMTAB, STB_GLOBAL, STT_NOTYPE } from '../elf/constants.ts';
import { MAX_IMAGE } from './kexec-tools.ts';
import type { Profile } from './profile.ts';
import { x86_64 } from '../arch/x86_64.ts';
import { ppc64 } from '../arch/ppc64.ts';
import type { LoadedImage, LoadedSection, SymbolWrite } from '../types.ts';

/** Every address, size, offset, value and addend handled is below this; sums of a few stay exact. */
const LIMIT = 2 ** 48;
const MAX_ALIGN = 2 ** 20;
const IMAGE_MAX = Number(MAX_IMAGE);
const TWO32 = 2 ** 32;

// Section table: STRIDE numbers per section in one Float64Array.
const NAME = 0, TYPE = 1, FLAGS = 2, ADDR = 3, OFF = 4, SIZE = 5, LINK = 6, INFO = 7, ALIGN = 8, LADDR = 9, IMG = 10;
const STRIDE = 11;
const ALLOC = 2, EXEC = 4; // low bits of sh_flags
/** Scratch space for the section table, reused by every load (synchronous, so never shared). */
let scratch = new Float64Array(64 * STRIDE);

/** A u64 field as a number, or -1 when it is 2^48 or more. */
function u48(dv: DataView, o: number, le: boolean): number {
  const lo = dv.getUint32(le ? o : o + 4, le);
  const hi = dv.getUint32(le ? o + 4 : o, le);
  return hi < 0x10000 ? hi * TWO32 + lo : -1;
}

/** Store the u64 two's complement of v (a safe integer) in the loader's store byte order. */
function store64(dv: DataView, o: number, v: number, le: boolean): void {
  const hi = Math.floor(v / TWO32);
  const lo = v - hi * TWO32;
  dv.setUint32(le ? o : o + 4, lo, le);
  dv.setUint32(le ? o + 4 : o, hi >>> 0, le);
}

/** _ALIGN(x, a) for a power of two a (x + a stays exact below 2^53). */
const alignUp = (x: number, a: number): number => Math.ceil(x / a) * a;

/** strcmp(bytes + p, name) == 0 reading only as far as strcmp would: 1, 0, or -1 when that runs off the file. */
function streq(bytes: Uint8Array, p: number, name: string): number {
  for (let i = 0; i <= name.length; i++) {
    if (p + i >= bytes.length) return -1;
    if (bytes[p + i] !== (i < name.length ? name.charCodeAt(i) : 0)) return 0;
  }
  return 1;
}

/** ElfFile.sectionName(): NUL-terminated inside the name table, one char per byte (its latin1()). */
function sectionName(bytes: Uint8Array, sh: Float64Array, shnum: number, shstrndx: number, i: number): string {
  if (shstrndx === 0 || shstrndx >= shnum) return '';
  const b = shstrndx * STRIDE;
  const name = sh[i * STRIDE + NAME]!;
  if (sh[b + TYPE] === SHT_NOBITS) return `<bad name ${name}>`;
  const end = sh[b + OFF]! + sh[b + SIZE]!;
  let str = '';
  for (let p = sh[b + OFF]! + name; p < end; p++) {
    const c = bytes[p]!;
    if (c === 0) return str;
    str += String.fromCharCode(c);
  }
  return `<bad name ${name}>`;
}

/**
 * elf_rel_build_load() + elf_rel_set_symbol() for ELF64 x86_64 (kexec-tools and abi profiles) and
 * ppc64/ppc64le (kexec-tools profiles). Undefined: not handled here, run the faithful model.
 */
export function loadKexecToolsFast(
  bytes: Uint8Array, requestedBase: bigint, profile: Profile, fill: number, hostAddress: bigint, symbols: readonly SymbolWrite[],
): LoadedImage | undefined {
  const x86 = profile.target === 'x86_64';
  if (!x86 && profile.target !== 'ppc64' && profile.target !== 'ppc64le') return undefined; // the other arches: the model
  if (profile.loader !== 'kexec-tools' && !(profile.loader === 'abi' && x86)) return undefined;
  // A profile with a fixed quirk: the model decides.
  if (profile.fixes.length) return undefined;
  const checkIndexes = profile.checkIndexes;
  const abi = profile.loader === 'abi';
  const len = bytes.length;
  // ---- build_elf_rel_info(): ELF64 with section headers and no program headers.
  if (len < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) return undefined;
  if (bytes[4] !== 2 || bytes[6] !== 1 || (bytes[5] !== 1 && bytes[5] !== 2)) return undefined;
  const le = bytes[5] === 1;
  const L = le ? 0 : 4, H = 4 - L; // offsets of the low and high words of a 64-bit field
  const dv = new DataView(bytes.buffer, bytes.byteOffset, len);
  if (dv.getUint16(16, le) !== 1 || dv.getUint32(20, le) !== 1) return undefined; // ET_REL, EV_CURRENT
  const machine = dv.getUint16(18, le);
  if (x86 ? !le || machine !== 62 : machine !== 21) return undefined;
  const eEntry = u48(dv, 24, le);
  const shoff = u48(dv, 40, le);
  if (eEntry < 0 || dv.getUint16(52, le) !== 64 || dv.getUint16(56, le) !== 0) return undefined; // e_ehsize, e_phnum
  const shnum = dv.getUint16(60, le);
  const shstrndx = dv.getUint16(62, le);
  if (shnum === 0 || shoff <= 0 || dv.getUint16(58, le) !== 64 || shoff + shnum * 64 > len) return undefined;

  if (scratch.length < shnum * STRIDE) scratch = new Float64Array(shnum * STRIDE);
  const sh = scratch; // every field of every section is written below before it is read
  typeCount.fill(0);
  let note = -1;
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * 64;
    const b = i * STRIDE;
    const type = dv.getUint32(o + 4, le);
    const addr = u48(dv, o + 16, le);
    const off = u48(dv, o + 24, le);
    const size = u48(dv, o + 32, le);
    const align = u48(dv, o + 48, le);
    if (addr < 0 || off < 0 || size < 0 || align < 0) return undefined;
    const want = type === SHT_SYMTAB || type === SHT_RELA ? 24 : type === SHT_REL || type === SHT_DYNAMIC ? 16 : 0;
    if (want && u48(dv, o + 56, le) !== want) return undefined;
    if (type !== SHT_NOBITS && off + size > len) return undefined;
    if (type === SHT_NOTE && note < 0) note = i;
    sh[b + NAME] = dv.getUint32(o, le);
    sh[b + TYPE] = type;
    sh[b + FLAGS] = dv.getUint32(le ? o + 8 : o + 12, le) & (ALLOC | EXEC);
    sh[b + ADDR] = addr;
    sh[b + OFF] = off;
    sh[b + SIZE] = size;
    sh[b + LINK] = dv.getUint32(o + 40, le);
    sh[b + INFO] = dv.getUint32(o + 44, le);
    sh[b + ALIGN] = align;
  }
  // build_mem_notes(): the first SHT_NOTE section is walked; any irregularity is the model's business.
  if (note >= 0) {
    const start = sh[note * STRIDE + OFF]!;
    const end = start + sh[note * STRIDE + SIZE]!;
    for (let p = start; p < end;) {
      if (p + 12 > len) return undefined;
      const namesz = dv.getUint32(p, le);
      const size = 12 + ((((namesz + 3) & ~3) & 0xffffffff) >>> 0) + ((((dv.getUint32(p + 4, le) + 3) & ~3) & 0xffffffff) >>> 0);
      if (p + size > end || (namesz !== 0 && p + 12 + namesz > len)) return undefined;
      p += size;
    }
  }
  // machine_verify_elf_rel() on ppc64: .toc (first non-empty section of that name) aligned to >= 256.
  let toc = -1;
  if (!x86) {
    if (shstrndx >= shnum) return undefined;
    const strtab = sh[shstrndx * STRIDE + OFF]!;
    for (let i = 0; i < shnum; i++) {
      if (!sh[i * STRIDE + SIZE]) continue;
      const is = streq(bytes, strtab + sh[i * STRIDE + NAME]!, '.toc');
      if (is < 0) return undefined;
      if (is) { toc = i; break; }
    }
    if (toc >= 0 && sh[toc * STRIDE + ALIGN]! < 256) sh[toc * STRIDE + ALIGN] = 256;
  }

  // ---- layout (layoutKexecTools): power-of-two alignments only.
  let entryShdr = -1;
  let entry = eEntry;
  for (let i = 0; i < shnum; i++) {
    const b = i * STRIDE;
    if (sh[b + FLAGS] !== (ALLOC | EXEC)) continue;
    if (sh[b + ADDR]! <= eEntry && sh[b + ADDR]! + sh[b + SIZE]! > eEntry) {
      entryShdr = i;
      entry = eEntry - sh[b + ADDR]!;
      break;
    }
  }
  let bufAlign = 1, bssAlign = 1, bufsz = 0, bsssz = 0;
  for (let i = 0; i < shnum; i++) {
    const b = i * STRIDE;
    if (!(sh[b + FLAGS]! & ALLOC)) continue;
    let a = sh[b + ALIGN]!;
    if (a === 0) {
      if (!profile.alignZeroAsOne) return undefined; // _ALIGN(x, 0) == 0
      a = sh[b + ALIGN] = 1;
    }
    if (a > MAX_ALIGN || (a & (a - 1)) !== 0) return undefined;
    if (sh[b + TYPE] !== SHT_NOBITS) {
      if (bufAlign < a) bufAlign = a;
      bufsz = alignUp(bufsz, a) + sh[b + SIZE]!;
      if (bufsz > IMAGE_MAX) return undefined;
    } else {
      if (bssAlign < a) bssAlign = a;
      bsssz = alignUp(bsssz, a) + sh[b + SIZE]!;
      if (bsssz >= LIMIT) return undefined;
    }
  }
  if (bufAlign < bssAlign) bufAlign = bssAlign;
  const m = bufsz & (bssAlign - 1);
  const bssPad = m ? bssAlign - m : 0;
  if (requestedBase < 0n || requestedBase >= BigInt(LIMIT)) return undefined;
  const pageSize = Number(profile.pageSize);
  const base = alignUp(Number(requestedBase), bufAlign < pageSize ? pageSize : bufAlign);
  let dataAddr = base;
  let bssAddr = base + bufsz + bssPad;
  for (let i = 0; i < shnum; i++) {
    const b = i * STRIDE;
    sh[b + IMG] = -1;
    if (!(sh[b + FLAGS]! & ALLOC)) { sh[b + LADDR] = sh[b + ADDR]!; continue; }
    if (sh[b + TYPE] !== SHT_NOBITS) {
      dataAddr = alignUp(dataAddr, sh[b + ALIGN]!);
      sh[b + LADDR] = dataAddr;
      sh[b + IMG] = dataAddr - base;
      dataAddr += sh[b + SIZE]!;
    } else {
      bssAddr = alignUp(bssAddr, sh[b + ALIGN]!);
      sh[b + LADDR] = bssAddr;
      bssAddr += sh[b + SIZE]!;
    }
  }
  if (entryShdr >= 0) entry += sh[entryShdr * STRIDE + LADDR]!;

  // ---- the image: section data copied from the (unmodified) input.
  const image = new Uint8Array(bufsz);
  if (fill) image.fill(fill);
  for (let i = 0; i < shnum; i++) {
    const b = i * STRIDE;
    const img = sh[b + IMG]!;
    if (img < 0 || !sh[b + SIZE]) continue;
    if (img + sh[b + SIZE]! > bufsz) return undefined;
    image.set(bytes.subarray(sh[b + OFF]!, sh[b + OFF]! + sh[b + SIZE]!), img);
  }
  const out = new DataView(image.buffer, image.byteOffset, bufsz);
  const sle = profile.storeEndian === 'little';
  const SL = sle ? 0 : 4; // store offset of the low word

  // ---- relocate (relocateKexecTools)
  const r2 = toc >= 0 ? sh[toc * STRIDE + LADDR]! + 0x8000 : NaN;
  const hostLo = Number(BigInt.asUintN(32, hostAddress));
  const localEntry = profile.sem.localEntry === 'elfv2';
  for (let ri = 0; ri < shnum; ri++) {
    const rb = ri * STRIDE;
    const rtype = sh[rb + TYPE];
    if (rtype !== SHT_RELA && rtype !== SHT_REL) continue;
    const info = sh[rb + INFO]!;
    const link = sh[rb + LINK]!;
    if (info >= shnum || link > shnum) return undefined; // "Invalid section number" / e_shdr[e_shnum]
    const tb = info * STRIDE;
    if (!(sh[tb + FLAGS]! & ALLOC)) continue;
    if (link === shnum || sh[rb + FLAGS]! & ALLOC || sh[link * STRIDE + FLAGS]! & ALLOC) return undefined;
    const strLink = sh[link * STRIDE + LINK]!;
    if (strLink > shnum) continue; // "Invalid section number?": skipped
    if (strLink === shnum) return undefined;
    const ent = rtype === SHT_RELA ? 24 : 16;
    const count = Math.ceil(sh[rb + SIZE]! / ent);
    if (!count) continue;
    const rOff = sh[rb + OFF]!;
    if (rOff + count * ent > len) return undefined;
    const img = sh[tb + IMG]!;
    if (img < 0) return undefined; // SHT_NOBITS target: the location is in the file copy
    const saddr = sh[tb + LADDR]!;
    const symOff = sh[link * STRIDE + OFF]!;
    for (let k = 0; k < count; k++) {
      // The hot loop reads 64-bit fields inline (as u48() would; r_addend signed): calls here are
      // not reliably inlined into this large function.
      const p = rOff + k * ent;
      const offHi = dv.getUint32(p + H, le);
      const rType = dv.getUint32(p + 8 + L, le); // r_info: type in the low word, symbol in the high
      const rSym = dv.getUint32(p + 8 + H, le);
      const addHi = ent === 24 ? dv.getInt32(p + 16 + H, le) : 0;
      if (offHi >= 0x10000 || addHi < -0x10000 || addHi >= 0x10000) return undefined;
      const rOffset = offHi * TWO32 + dv.getUint32(p + L, le);
      const addend = ent === 24 ? addHi * TWO32 + dv.getUint32(p + 16 + L, le) : 0;
      const so = symOff + rSym * 24;
      if (so + 24 > len) return undefined;
      // The ABI's checks (checkIndexes): r_sym within the symbol table, r_offset within the section.
      if (checkIndexes && (rSym * 24 >= sh[link * STRIDE + SIZE]! || rOffset >= sh[tb + SIZE]!)) return undefined;
      const stName = dv.getUint32(so, le);
      const shndx = dv.getUint16(so + 6, le);
      const valHi = dv.getUint32(so + 8 + H, le);
      if (valHi >= 0x10000 || (stName === 0 && (shstrndx >= shnum || shndx >= shnum))) return undefined;
      const stValue = valHi * TWO32 + dv.getUint32(so + 8 + L, le);
      let secBase: number;
      if (shndx === SHN_COMMON) return undefined;
      if (shndx === SHN_ABS) secBase = 0;
      else if (shndx >= shnum) return undefined;
      else if (shndx === SHN_UNDEF && ((bytes[so + 4]! & 0xf) !== STT_NOTYPE || (abi && stName !== 0))) return undefined; // undefined symbol; abi: maybe .TOC.
      else secBase = sh[shndx * STRIDE + LADDR]!;
      const value = stValue + secBase + addend;
      const address = saddr + rOffset;
      const loc = img + rOffset;
      if (rType < 256) typeCount[rType]!++; // any other type bails below
      if (x86) {
        switch (rType) {
          case 0 /* R_X86_64_NONE */:
            continue;
          case 1 /* R_X86_64_64 */: {
            if (loc + 8 > bufsz) return undefined;
            const hi = Math.floor(value / TWO32); // store64() inline
            out.setUint32(loc + SL, value - hi * TWO32, sle);
            out.setUint32(loc + 4 - SL, hi >>> 0, sle);
            continue;
          }
          case 10 /* R_X86_64_32 */:
            if (loc + 4 > bufsz || value < 0 || value >= TWO32) return undefined;
            out.setUint32(loc, value, sle);
            continue;
          case 11 /* R_X86_64_32S */:
            if (loc + 4 > bufsz || value < -0x80000000 || value > 0x7fffffff) return undefined;
            out.setInt32(loc, value, sle);
            continue;
          case 2 /* R_X86_64_PC32 */:
          case 4 /* R_X86_64_PLT32 */: {
            const d = value - address;
            if (loc + 4 > bufsz || (abi && (d < -0x80000000 || d > 0x7fffffff))) return undefined;
            out.setUint32(loc, d >>> 0, sle);
            continue;
          }
          default:
            return undefined;
        }
      }
      // ppc64, kexec-tools semantics (rel32HostPointer, rel64Absolute, rel16Rewrite; no ABI range checks).
      switch (rType) {
        case 38 /* R_PPC64_ADDR64 */:
        case 44 /* R_PPC64_REL64: S+A, as ADDR64 */:
          if (loc + 8 > bufsz) return undefined;
          store64(out, loc, value, sle);
          continue;
        case 51 /* R_PPC64_TOC */:
          if (loc + 8 > bufsz || toc < 0) return undefined;
          store64(out, loc, r2, sle);
          continue;
        case 1 /* R_PPC64_ADDR32 */:
          if (loc + 4 > bufsz) return undefined;
          out.setUint32(loc, value >>> 0, sle);
          continue;
        case 26 /* R_PPC64_REL32: value - (uintptr_t)location, the host pointer */:
          if (loc + 4 > bufsz) return undefined;
          out.setUint32(loc, (value - hostLo - loc) >>> 0, sle);
          continue;
        case 10 /* R_PPC64_REL24 */: {
          const d = value + (localEntry ? ((1 << ((bytes[so + 5]! & 0xe0) >> 5)) >> 2) << 2 : 0) - address;
          if (loc + 4 > bufsz || d < -0x2000000 || d > 0x1ffffff || (d & 3) !== 0) return undefined;
          out.setUint32(loc, ((out.getUint32(loc, sle) & ~0x03fffffc) | (d & 0x03fffffc)) >>> 0, sle);
          continue;
        }
        // #lo, #hi, #ha, #higher, #highest of S+A (u64 shifts of a two's complement value are floor divisions).
        case 4 /* R_PPC64_ADDR16_LO */:
          if (loc + 2 > bufsz) return undefined;
          out.setUint16(loc, value & 0xffff, sle);
          continue;
        case 5 /* R_PPC64_ADDR16_HI */:
          if (loc + 2 > bufsz) return undefined;
          out.setUint16(loc, Math.floor(value / 0x10000) & 0xffff, sle);
          continue;
        case 6 /* R_PPC64_ADDR16_HA */:
          if (loc + 2 > bufsz) return undefined;
          out.setUint16(loc, Math.floor((value + 0x8000) / 0x10000) & 0xffff, sle);
          continue;
        case 39 /* R_PPC64_ADDR16_HIGHER */:
          if (loc + 2 > bufsz) return undefined;
          out.setUint16(loc, Math.floor(value / TWO32) & 0xffff, sle);
          continue;
        case 41 /* R_PPC64_ADDR16_HIGHEST */:
          if (loc + 2 > bufsz) return undefined;
          out.setUint16(loc, Math.floor(value / 2 ** 48) & 0xffff, sle);
          continue;
        // do_relative_toc(): value - my_r2; TOC16 and TOC16_DS check the signed 16-bit range, the _DS
        // forms the alignment, and the _DS forms keep the low two bits of the instruction.
        case 47 /* R_PPC64_TOC16 */:
        case 48 /* R_PPC64_TOC16_LO */: {
          const t = value - r2;
          if (loc + 2 > bufsz || toc < 0 || (rType === 47 && (t < -0x8000 || t > 0x7fff))) return undefined;
          out.setUint16(loc, t & 0xffff, sle);
          continue;
        }
        case 63 /* R_PPC64_TOC16_DS */:
        case 64 /* R_PPC64_TOC16_LO_DS */: {
          const t = value - r2;
          if (loc + 2 > bufsz || toc < 0 || (rType === 63 && (t < -0x8000 || t > 0x7fff)) || (t & 3) !== 0) return undefined;
          out.setUint16(loc, (out.getUint16(loc, sle) & 3) | (t & 0xfffc), sle);
          continue;
        }
        case 49 /* R_PPC64_TOC16_HI */:
          if (loc + 2 > bufsz || toc < 0) return undefined;
          out.setUint16(loc, Math.floor((value - r2) / 0x10000) & 0xffff, sle);
          continue;
        case 50 /* R_PPC64_TOC16_HA */:
          if (loc + 2 > bufsz || toc < 0) return undefined;
          out.setUint16(loc, Math.floor((value - r2 + 0x8000) / 0x10000) & 0xffff, sle);
          continue;
        case 252 /* R_PPC64_REL16_HA: `addis 2,12,.TOC.-0b@ha` becomes `lis 2,.TOC.@h` (no @ha carry) */:
          if (loc + 4 > bufsz || toc < 0 || ((out.getUint32(loc, sle) & 0xffff0000) >>> 0) !== 0x3c4c0000) return undefined;
          out.setUint32(loc, 0x3c400000 + (Math.floor((value + r2) / 0x10000) & 0xffff), sle);
          continue;
        case 250 /* R_PPC64_REL16_LO: reads the whole `addi 2,2,…` word, writes its low halfword */:
          if (loc + 4 > bufsz || toc < 0 || ((out.getUint32(loc, sle) & 0xffff0000) >>> 0) !== 0x38420000) return undefined;
          out.setUint16(loc, (value + r2 - 4) & 0xffff, sle);
          continue;
        default:
          return undefined;
      }
    }
  }

  // ---- elf_rel_set_symbol(): only into the image.
  for (const s of symbols) {
    const place = symbolPlace(bytes, dv, le, sh, shnum, s.name, s.bytes.length);
    if (place < 0 || place + s.bytes.length > bufsz) return undefined;
    image.set(s.bytes, place);
  }

  const sections: LoadedSection[] = new Array(shnum);
  for (let i = 0; i < shnum; i++) {
    const b = i * STRIDE;
    sections[i] = {
      index: i, name: sectionName(bytes, sh, shnum, shstrndx, i), addr: BigInt(sh[b + LADDR]!), size: BigInt(sh[b + SIZE]!),
      alloc: (sh[b + FLAGS]! & ALLOC) !== 0, nobits: sh[b + TYPE] === SHT_NOBITS,
    };
  }
  return {
    base: BigInt(base), bytes: image, memsz: BigInt(bufsz + bssPad + bsssz), entry: BigInt(entry), sections, relocations: [],
    relocationTypes: typeSummary(profile),
  };
}

/** Relocations applied in this load, by type; reset at the start of every load. */
const typeCount = new Uint32Array(256);

/** typeCount as the log would sum it: by the table's type name, bytes = count × width. */
function typeSummary(profile: Profile): Map<string, { count: number; bytes: number }> {
  const arch = profile.target === 'x86_64' ? x86_64 : ppc64;
  const m = new Map<string, { count: number; bytes: number }>();
  for (let t = 0; t < 256; t++) {
    const count = typeCount[t]!;
    if (!count) continue;
    const spec = arch.classify(t, profile.sem)!; // only table types get here (others bail)
    m.set(spec.name, { count, bytes: count * spec.width });
  }
  return m;
}

/** findSymbol() + symbolPlace(): image offset of a global symbol's bytes, or -1 (the model decides). */
function symbolPlace(bytes: Uint8Array, dv: DataView, le: boolean, sh: Float64Array, shnum: number, name: string, size: number): number {
  for (let i = 0; i < shnum; i++) {
    const b = i * STRIDE;
    if (sh[b + TYPE] !== SHT_SYMTAB) continue;
    const link = sh[b + LINK]!;
    if (link > shnum) continue;
    if (link === shnum || sh[b + FLAGS]! & ALLOC || sh[link * STRIDE + FLAGS]! & ALLOC) return -1;
    const strOff = sh[link * STRIDE + OFF]!;
    const n = Math.ceil(sh[b + SIZE]! / 24);
    for (let k = 0; k < n; k++) {
      const so = sh[b + OFF]! + k * 24;
      if (so + 24 > bytes.length) return -1;
      if (bytes[so + 4]! >> 4 !== STB_GLOBAL) continue;
      const is = streq(bytes, strOff + dv.getUint32(so, le), name);
      if (is < 0) return -1;
      if (!is) continue;
      const shndx = dv.getUint16(so + 6, le);
      const value = u48(dv, so + 8, le);
      if (shndx === SHN_UNDEF || shndx >= shnum || value < 0 || u48(dv, so + 16, le) !== size) return -1;
      const img = sh[shndx * STRIDE + IMG]!;
      return img < 0 ? -1 : img + value; // NOBITS, or not ALLOC (the file copy)
    }
  }
  return -1;
}
