// The kexec-tools load model: kexec/kexec-elf.c (build_elf_info), kexec/kexec-elf-rel.c
// (build_elf_rel_info, elf_rel_load, elf_rel_set_symbol...) as they behave in 2.0.20–2.0.32,
// quirks included. Stages: parse → layout (pure) → relocate (writes + log) → symbols.
import { Buffer } from 'node:buffer';
import { cAlign, u64 } from '../bytes.ts';
import { LoadError, ElfFormatError, detailError } from '../errors.ts';
import {
  ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, ET_REL, EV_CURRENT, EM_AARCH64, EM_PPC64, EM_RISCV, EM_S390, EM_X86_64, PT_NOTE,
  SHF_ALLOC, SHF_EXECINSTR, SHN_ABS, SHN_COMMON, SHN_UNDEF, SHT_DYNAMIC, SHT_NOBITS, SHT_NOTE, SHT_REL,
  SHT_RELA, SHT_SYMTAB, SIZES, STB_GLOBAL, STT_NOTYPE,
} from '../elf/constants.ts';
import { ElfFile, type SectionHeader, type ElfSymbol } from '../elf/reader.ts';
import { RelocInput, U64, type ArchModule } from '../arch/types.ts';
import { ARCH_MODULES } from '../arch/modules.ts';
import { CMem, offNumber, ptrAdd, ptrOffset, type Ptr } from './cmem.ts';
import type { Profile } from './profile.ts';
import type { Arch, LoadedImage, LoadedSection, RelocationLogEntry, SymbolWrite, Where } from '../types.ts';

export const PARSE_FAILED = 'ELF rel parse failed\n';

export interface KtSection extends SectionHeader {
  /** sh_data: where the C code's pointer for this section points. */
  data: Ptr;
}

export interface KtElf {
  elf: ElfFile;
  is64: boolean;
  shnum: number;
  shstrndx: number;
  entry: bigint;
  eFlags: number;
  shdrs: KtSection[];
  mem: CMem;
  arch: ArchModule;
  profile: Profile;
  /**
   * toc_section() result. The C code rescans by name on every TOC relocation; the answer can only
   * change if a relocation writes into the file buffer (where .shstrtab lives), which clears it.
   */
  tocCache?: { sec: KtSection | undefined };
  /**
   * Symbol names in the file as parsed, by file offset: shared by every load of one parse (the
   * snapshot's bytes never change; a load that writes into its file copy stops using it).
   */
  fileNames: Map<number, string>;
}

function parseFail(code: 'elf-format' | 'not-relocatable' | 'wrong-machine' | 'no-section-headers', detail: string): never {
  throw new LoadError(code, PARSE_FAILED, {}, { cause: detailError(detail) });
}

/** The sh_entsize build_mem_shdrs requires of each table type, per class [ELF32, ELF64]. */
const ENTSIZE_WANT = [0, 1].map((c) => new Map<number, bigint>([
  [SHT_SYMTAB, BigInt(SIZES.sym[c]!)], [SHT_RELA, BigInt(SIZES.rela[c]!)], [SHT_DYNAMIC, BigInt(SIZES.dyn[c]!)], [SHT_REL, BigInt(SIZES.rel[c]!)],
])) as [Map<number, bigint>, Map<number, bigint>];

/** build_elf_rel_info(): every check build_mem_ehdr/phdrs/shdrs/notes and machine_verify_elf_rel make. */
export function parseKexecTools(bytes: Uint8Array, profile: Profile): KtElf {
  const len = BigInt(bytes.length);
  if (bytes.length < 16) parseFail('elf-format', 'shorter than e_ident');
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) parseFail('elf-format', 'no ELF magic');
  const klass = bytes[4]!;
  const data = bytes[5]!;
  if (klass !== ELFCLASS32 && klass !== ELFCLASS64) parseFail('elf-format', `EI_CLASS ${klass}`);
  if (data !== ELFDATA2LSB && data !== ELFDATA2MSB) parseFail('elf-format', `EI_DATA ${data}`);
  const is64 = klass === ELFCLASS64;
  const c = is64 ? 1 : 0;
  if (len < BigInt(SIZES.ehdr[c])) parseFail('elf-format', 'shorter than the ELF header');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = data === ELFDATA2LSB;
  const w = is64 ? 8 : 4;
  const word = (o: number) => (is64 ? dv.getBigUint64(o, le) : BigInt(dv.getUint32(o, le)));
  const fo = 24 + 3 * w;
  const ehsize = dv.getUint16(fo + 4, le);
  const phentsize = dv.getUint16(fo + 6, le);
  const phnum = dv.getUint16(fo + 8, le);
  const shentsize = dv.getUint16(fo + 10, le);
  const shnum = dv.getUint16(fo + 12, le);
  const shstrndx = dv.getUint16(fo + 14, le);
  const phoff = word(24 + w);
  const shoff = word(24 + 2 * w);
  if (ehsize !== SIZES.ehdr[c]) parseFail('elf-format', `e_ehsize ${ehsize}`);
  if (phnum > 0 && phentsize !== SIZES.phdr[c]) parseFail('elf-format', `e_phentsize ${phentsize}`);
  if (shnum > 0 && shentsize !== SIZES.shdr[c]) parseFail('elf-format', `e_shentsize ${shentsize}`);
  if (bytes[6] !== EV_CURRENT || dv.getUint32(20, le) !== EV_CURRENT) parseFail('elf-format', 'EI_VERSION/e_version');

  const oob = (what: string): never => {
    throw new LoadError('out-of-bounds', `C loader would read ${what} outside the file (unsigned wrap-around; undefined behaviour)`);
  };
  // build_mem_phdrs: (e_phoff + size) > len, computed in 64-bit unsigned arithmetic.
  // checkOffsetWrap (ABI): the same comparisons without the wrap-around.
  const wrap = profile.checkOffsetWrap ? (x: bigint) => x : u64;
  if (phoff > 0n && phnum > 0) {
    const end = phoff + BigInt(phnum * SIZES.phdr[c]);
    if (wrap(end) > len) parseFail('elf-format', 'program headers past EOF');
    if (end > len) oob('program headers');
  }
  if (shoff > 0n && shnum > 0) {
    const end = shoff + BigInt(shnum * SIZES.shdr[c]);
    if (wrap(end) > len) parseFail('elf-format', 'section headers past EOF');
    if (end > len) oob('section headers');
  }
  let elf: ElfFile;
  try {
    elf = new ElfFile(bytes);
  } catch (e) {
    if (e instanceof ElfFormatError) parseFail('elf-format', e.message);
    throw e;
  }
  for (const p of elf.programHeaders) {
    const end = p.offset + p.filesz;
    if (wrap(end) > len) parseFail('elf-format', `phdr ${p.index} not in file`);
    if (p.paddr !== u64(-1n) && u64(p.paddr + p.memsz) < p.paddr) parseFail('elf-format', `phdr ${p.index} address wraps`);
  }
  const entsizeWant = ENTSIZE_WANT[c];
  const mem = new CMem(bytes, elf.endian, profile.storeEndian);
  const shdrs: KtSection[] = [];
  for (const s of elf.sections) {
    const want = entsizeWant.get(s.type);
    if (want !== undefined && s.entsize !== want) parseFail('elf-format', `section ${s.index} entsize ${s.entsize}`);
    if (s.type !== SHT_NOBITS && wrap(s.offset + s.size) > len) parseFail('elf-format', `section ${s.index} not in file`);
    if (u64(s.addr + s.size) < s.addr) parseFail('elf-format', `section ${s.index} address wraps`);
    // sh_data = buf + sh_offset (kexec-elf.c:657): the wrapping check above lets sh_offset = 2^64 - 8
    // with sh_size >= 8 through, and the pointer then lies below the file buffer.
    // (Fields listed: an object spread here costs more than the rest of the parse.)
    shdrs.push({
      index: s.index, name: s.name, type: s.type, flags: s.flags, addr: s.addr, offset: s.offset, size: s.size,
      link: s.link, info: s.info, addralign: s.addralign, entsize: s.entsize, hdrOffset: s.hdrOffset,
      data: { buf: 'file', off: ptrOffset(s.offset) },
    });
  }
  const kt: KtElf = {
    elf, is64, shnum: elf.sections.length, shstrndx, entry: elf.header.entry, eFlags: elf.header.flags,
    shdrs, mem, arch: ARCH_MODULES[profile.target], profile, fileNames: new Map(),
  };
  buildMemNotes(kt);
  if (elf.header.type !== ET_REL) parseFail('not-relocatable', `e_type ${elf.header.type}`);
  if (shoff === 0n || shnum === 0) parseFail('no-section-headers', 'no section headers');
  machineVerify(kt, klass, data);
  return kt;
}

/** build_mem_notes(): walks the first PT_NOTE segment (p_offset != 0) or SHT_NOTE section. */
function buildMemNotes(kt: KtElf): void {
  let start: Ptr | undefined;
  let size = 0n;
  const h = kt.elf.header;
  // e_phdr/e_shdr stay NULL when e_phoff/e_shoff is 0, but the loops still run to e_phnum/e_shnum.
  const nullArray = (what: string): never => {
    throw new LoadError('out-of-bounds', `C loader would walk a NULL ${what} array (e_${what === 'e_phdr' ? 'phoff' : 'shoff'} is 0 with a non-zero count; undefined behaviour)`);
  };
  if (h.phnum > 0 && h.phoff === 0n) nullArray('e_phdr');
  for (const p of kt.elf.programHeaders) {
    if (p.type === PT_NOTE && p.offset) { start = { buf: 'file', off: ptrOffset(p.offset) }; size = p.filesz; break; } // p_data = buf + p_offset
  }
  if (!start) {
    if (h.shnum > 0 && h.shoff === 0n) nullArray('e_shdr');
    for (const s of kt.shdrs) {
      if (s.type === SHT_NOTE) { start = s.data; size = s.size; break; }
    }
  }
  if (!start) return;
  // note_end = note_start + size: pointer arithmetic, so a size that wraps puts the end below the start.
  const end = cEnd(start.off, size);
  const a4 = (x: number) => (x + 3) & ~3 & 0xffffffff; // _ALIGN on a 32-bit n_namesz/n_descsz
  const header = (note: bigint) => {
    const { view, off } = kt.mem.view({ buf: start!.buf, off: note }, 12, 'an ELF note header');
    const namesz = view.u32(off);
    return { namesz, size: 12n + BigInt(a4(namesz) >>> 0) + BigInt(a4(view.u32(off + 4)) >>> 0) };
  };
  // Pass 1 (count): reads every header, no checks.
  for (let note = start.off; note < end; note += header(note).size);
  // Pass 2 (normalise): the bounds check, then `name[n_namesz - 1]` is read.
  for (let note = start.off; note < end;) {
    const { namesz, size: noteSize } = header(note);
    if (note + noteSize > end) parseFail('elf-format', 'ELF Note corrupted !');
    if (namesz !== 0) kt.mem.check({ buf: start.buf, off: note + 12n + BigInt(namesz) - 1n }, 1, 'the last byte of an ELF note name');
    note += noteSize;
  }
}

/** machine_verify_elf_rel() of the arch the loader was built for. */
function machineVerify(kt: KtElf, klass: number, data: number): void {
  MACHINE_VERIFY[kt.profile.target](kt, klass, data, kt.elf.header.machine);
}

type MachineVerify = (kt: KtElf, klass: number, data: number, machine: number) => void;
const ppc64Verify: MachineVerify = (kt, klass, _data, m) => {
  if (klass !== ELFCLASS64) parseFail('wrong-machine', 'ppc64 wants ELFCLASS64');
  if (m !== EM_PPC64) parseFail('wrong-machine', `e_machine ${m}`);
  // "Ensure .toc is sufficiently aligned."
  const toc = tocSection(kt);
  if (toc && toc.addralign < 256n) toc.addralign = 256n;
};
/** kexec/arch/<arch>: the checks each machine_verify_elf_rel makes (it returns 0, and the parse fails). */
const MACHINE_VERIFY: Readonly<Record<Arch, MachineVerify>> = {
  x86_64: (kt, klass, data, m) => {
    if (data !== ELFDATA2LSB) parseFail('wrong-machine', 'x86_64 wants ELFDATA2LSB');
    if (klass !== ELFCLASS64 && !(klass === ELFCLASS32 && kt.profile.acceptX32)) parseFail('wrong-machine', 'bad class');
    if (m !== EM_X86_64) parseFail('wrong-machine', `e_machine ${m}`);
  },
  ppc64: ppc64Verify,
  ppc64le: ppc64Verify,
  // kexec-arm64.c: `return (ehdr->e_machine == EM_AARCH64);`: any class, any byte order.
  arm64: (_kt, _klass, _data, m) => {
    if (m !== EM_AARCH64) parseFail('wrong-machine', `e_machine ${m}`);
  },
  s390x: (_kt, klass, data, m) => {
    if (data !== ELFDATA2MSB) parseFail('wrong-machine', 's390 wants ELFDATA2MSB');
    if (klass !== ELFCLASS64) parseFail('wrong-machine', 's390 wants ELFCLASS64');
    if (m !== EM_S390) parseFail('wrong-machine', `e_machine ${m}`);
  },
  // kexec-elf-riscv.c, built for RV64 (__riscv_xlen == 64).
  riscv64: (_kt, klass, data, m) => {
    if (data !== ELFDATA2LSB) parseFail('wrong-machine', 'riscv wants ELFDATA2LSB');
    if (klass !== ELFCLASS64) parseFail('wrong-machine', 'riscv64 wants ELFCLASS64');
    if (m !== EM_RISCV) parseFail('wrong-machine', `e_machine ${m}`);
  },
};

/** C's `end = ptr + size` on a 64-bit host, as a displacement from the buffer (see ptrAdd). */
function cEnd(off: bigint, size: bigint): bigint {
  return ptrAdd(off, size);
}

/**
 * Iterations of `for (p = start; p < start + size; p += ent)`: none when the end pointer wraps below
 * start. A start below the buffer (sh_offset "negative") with an end inside it runs, and its first
 * read is out of bounds.
 */
function cCount(off: bigint, size: bigint, ent: number): number {
  const end = cEnd(off, size);
  return end > off ? Number((end - off + BigInt(ent) - 1n) / BigInt(ent)) : 0;
}

/** Whether [p, p + len) lies inside its buffer (CMem.check without the throw). */
function fits(mem: CMem, p: Ptr, len: number): boolean {
  return p.off >= 0n && p.off + BigInt(len) <= BigInt(mem.bytesOf(p.buf).length);
}

/** A section index the loader refuses: kexec-tools tests `> e_shnum` (off by one: e_shnum itself passes); checkIndexes `>=`. */
function pastShnum(kt: KtElf, i: number): boolean {
  return kt.profile.checkIndexes ? i >= kt.shnum : i > kt.shnum;
}

/** The C code's e_shdr[i]: reading past e_shnum entries is a heap over-read. */
function shdrAt(kt: KtElf, i: number, what: string, where: Where = {}): KtSection {
  const s = kt.shdrs[i];
  if (!s) throw new LoadError('out-of-bounds', `C loader would read e_shdr[${i}] (${what}) past the ${kt.shnum}-entry section array (undefined behaviour)`, where);
  return s;
}

/** toc_section(): the first section named ".toc" with a non-zero size. */
export function tocSection(kt: KtElf): KtSection | undefined {
  if (kt.tocCache) return kt.tocCache.sec;
  const sec = scanTocSection(kt);
  kt.tocCache = { sec };
  return sec;
}

function scanTocSection(kt: KtElf): KtSection | undefined {
  const strtab = shdrAt(kt, kt.shstrndx, 'e_shstrndx');
  for (const s of kt.shdrs) {
    if (s.size && kt.mem.streq({ buf: strtab.data.buf, off: strtab.data.off + BigInt(s.name) }, '.toc', 'a section name')) return s;
  }
  return undefined;
}

export function myR2(kt: KtElf, where?: Where): bigint {
  const toc = tocSection(kt);
  if (!toc) throw new LoadError('no-toc-section', 'TOC reloc without a toc section?', where);
  return u64(toc.addr + 0x8000n);
}

// ---------------------------------------------------------------------------------------------
// Layout: a pure function of the section headers, the entry, the base and the profile.

export interface Layout {
  /** Base after add_buffer's alignment. */
  base: bigint;
  bufsz: bigint;
  bssPad: bigint;
  bsssz: bigint;
  memsz: bigint;
  bufAlign: bigint;
  bssAlign: bigint;
  entry: bigint;
  /** Address per section index (unchanged sh_addr for non-ALLOC sections). */
  addr: bigint[];
  /** Offset of each non-NOBITS ALLOC section in the image, else -1. */
  imageOffset: number[];
}

export interface LayoutSection {
  type: number;
  flags: bigint;
  addr: bigint;
  size: bigint;
  addralign: bigint;
}

export const MAX_IMAGE = 1n << 29n;

export function layoutKexecTools(sections: readonly LayoutSection[], eEntry: bigint, requestedBase: bigint, profile: Profile): Layout {
  const alignOf = (s: LayoutSection) => (profile.alignZeroAsOne && s.addralign === 0n ? 1n : s.addralign);
  const alloc = (s: LayoutSection) => (s.flags & SHF_ALLOC) !== 0n;
  // Find which section the entry is in (first SHF_ALLOC|SHF_EXECINSTR section containing it).
  let entryShdr = -1;
  let entry = eEntry;
  for (let i = 0; i < sections.length; i++) {
    const s = sections[i]!;
    if (!alloc(s) || !(s.flags & SHF_EXECINSTR)) continue;
    if (s.addr <= eEntry && u64(s.addr + s.size) > eEntry) {
      entryShdr = i;
      entry = u64(entry - s.addr);
      break;
    }
  }
  let bufAlign = 1n, bssAlign = 1n, bufsz = 0n, bsssz = 0n;
  for (const s of sections) {
    if (!alloc(s)) continue;
    const a = alignOf(s);
    if (s.type !== SHT_NOBITS) {
      if (bufAlign < a) bufAlign = a;
      bufsz = u64(cAlign(bufsz, a) + s.size);
    } else {
      if (bssAlign < a) bssAlign = a;
      bsssz = u64(cAlign(bsssz, a) + s.size);
    }
  }
  if (bufAlign < bssAlign) bufAlign = bssAlign;
  let bssPad = 0n;
  const m = bufsz & u64(bssAlign - 1n);
  if (m) bssPad = u64(bssAlign - m);
  const holeAlign = bufAlign < profile.pageSize ? profile.pageSize : bufAlign;
  const base = cAlign(requestedBase, holeAlign);
  const addr: bigint[] = [];
  const imageOffset: number[] = [];
  let dataAddr = base;
  let bssAddr = u64(base + bufsz + bssPad);
  for (const s of sections) {
    if (!alloc(s)) { addr.push(s.addr); imageOffset.push(-1); continue; }
    const a = alignOf(s);
    if (s.type !== SHT_NOBITS) {
      dataAddr = cAlign(dataAddr, a);
      addr.push(dataAddr);
      // off = data_addr - buf_addr (unsigned): past 2^53 it is far outside any buffer, never aliased back in.
      const off = u64(dataAddr - base);
      imageOffset.push(off <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(off) : Number.MAX_SAFE_INTEGER);
      dataAddr = u64(dataAddr + s.size);
    } else {
      bssAddr = cAlign(bssAddr, a);
      addr.push(bssAddr);
      imageOffset.push(-1);
      bssAddr = u64(bssAddr + s.size);
    }
  }
  if (entryShdr >= 0) entry = u64(entry + addr[entryShdr]!);
  return { base, bufsz, bssPad, bsssz, memsz: u64(bufsz + bssPad + bsssz), bufAlign, bssAlign, entry, addr, imageOffset };
}

// ---------------------------------------------------------------------------------------------
// Relocate: apply the layout to a KtElf, copy sections into a fresh image, apply relocations.

export interface RelocateOptions {
  fill: number;
  /** Host address of the image buffer (kexec-tools' REL32 subtracts the host pointer). */
  hostAddress: bigint;
  /** Record every relocation applied (on by default; the benchmark turns it off). */
  log?: boolean;
}

export function applyLayout(kt: KtElf, layout: Layout, fill: number): void {
  if (layout.bufsz > MAX_IMAGE) {
    throw new LoadError('unsupported', `image of ${layout.bufsz} bytes exceeds the model's ${MAX_IMAGE}-byte limit (kexec-tools would try to malloc it)`);
  }
  // xmalloc(bufsz): the bytes no section covers are the heap's (the request's fill byte). A small
  // image is allocated uninitialised and filled; a large one zeroed (by the OS, page by page, as
  // it is touched) and filled only with a non-zero byte.
  const n = Number(layout.bufsz);
  const small = n <= 1 << 16;
  const image = small ? uninitialised(n) : new Uint8Array(n);
  const mustFill = small || fill !== 0;
  // Each byte is written once: when the section copies come in ascending, disjoint order (always,
  // unless an alignment wraps dataAddr back), the fill goes only into the gaps between them;
  // otherwise the whole image is filled first and the copies land on it in the C code's order.
  let gaps = mustFill;
  for (let i = 0, end = 0; gaps && i < kt.shdrs.length; i++) {
    const s = kt.shdrs[i]!;
    if (!(s.flags & SHF_ALLOC) || s.type === SHT_NOBITS || !s.size) continue;
    const off = layout.imageOffset[i]!;
    if (off < end) gaps = false;
    end = off + Number(s.size);
  }
  if (mustFill && !gaps) image.fill(fill);
  let filled = 0; // with gaps: image[0, filled) is written
  kt.mem.setImage(image);
  for (let i = 0; i < kt.shdrs.length; i++) {
    const s = kt.shdrs[i]!;
    if (!(s.flags & SHF_ALLOC)) continue;
    s.addr = layout.addr[i]!;
    if (s.type === SHT_NOBITS) continue;
    const off = layout.imageOffset[i]!;
    const size = Number(s.size);
    if (size) {
      const src = kt.mem.check(s.data, size, `section ${i} data`, { section: i });
      if (off + size > image.length) throw new LoadError('out-of-bounds', `section ${i} copy runs past the image (undefined behaviour)`, { section: i });
      if (gaps) {
        image.fill(fill, filled, off);
        filled = off + size;
      }
      image.set(kt.mem.file.subarray(src, src + size), off);
    }
    s.data = { buf: 'image', off: BigInt(off) };
  }
  if (gaps) image.fill(fill, filled, n);
}

function readSym(kt: KtElf, symtab: KtSection, index: number, where: Where): ElfSymbol {
  const ent = SIZES.sym[kt.is64 ? 1 : 0];
  const { view, off } = kt.mem.view({ buf: symtab.data.buf, off: symtab.data.off + BigInt(index) * BigInt(ent) }, ent, 'a symbol', where);
  const info = kt.is64 ? view.u8(off + 4) : view.u8(off + 12);
  return {
    index, name: view.u32(off), info,
    other: kt.is64 ? view.u8(off + 5) : view.u8(off + 13),
    shndx: kt.is64 ? view.u16(off + 6) : view.u16(off + 14),
    value: kt.is64 ? view.u64(off + 8) : BigInt(view.u32(off + 4)),
    size: kt.is64 ? view.u64(off + 16) : BigInt(view.u32(off + 8)),
    bind: info >> 4, stype: info & 0xf,
  };
}

/**
 * The relocation log, kept in flat arrays while relocating (no object per relocation) and turned
 * into RelocationLogEntry objects only when read (entries()). The by-type summary is kept always.
 */
export class RelocationLog {
  /** Per entry, STRIDE numbers: relSection, relIndex, section, type, symIndex, imageOffset, width, bytes at; offset, address, addend, value as hi, lo. */
  private nums: Float64Array;
  private readonly names: string[] = []; // typeName, symbol
  private bytes: Uint8Array;
  private n = 0;
  private used = 0;
  /** The by-type summary, in order of first appearance: type name, count, bytes (a short list, scanned). */
  private readonly typeNames: string[] = [];
  private readonly typeCounts: number[] = [];
  private readonly typeBytes: number[] = [];
  private summary: Map<string, { count: number; bytes: number }> | undefined;
  private lastType = 0;
  private static readonly STRIDE = 16;
  private static readonly NONE = new Float64Array(0);
  /** `capacity`: the entries expected; the arrays are allocated at the first entry (a rejected load never needs them). */
  constructor(readonly keep: boolean, private readonly capacity = 64) {
    this.nums = RelocationLog.NONE;
    this.bytes = new Uint8Array(0);
  }

  /** The relocations applied, summed by type name (count, bytes written). */
  get byType(): Map<string, { count: number; bytes: number }> {
    if (!this.summary) {
      this.summary = new Map();
      for (let j = 0; j < this.typeNames.length; j++) this.summary.set(this.typeNames[j]!, { count: this.typeCounts[j]!, bytes: this.typeBytes[j]! });
    }
    return this.summary;
  }

  /** Count one relocation applied in the by-type summary (every load; add() records it when the log is kept). */
  count(typeName: string, width: number): void {
    const names = this.typeNames;
    // Runs of one type are the rule: the last slot first, then a scan.
    let j = this.lastType;
    if (names[j] !== typeName) {
      j = 0;
      while (j < names.length && names[j] !== typeName) j++;
      this.lastType = j;
    }
    if (j < names.length) {
      this.typeCounts[j] = this.typeCounts[j]! + 1;
      this.typeBytes[j] = this.typeBytes[j]! + width;
    } else {
      names.push(typeName);
      this.typeCounts.push(1);
      this.typeBytes.push(width);
    }
    this.summary = undefined;
  }

  /** Record one relocation (only when the log is kept). */
  add(relSection: number, relIndex: number, section: number, offset: U64, address: U64, type: number, typeName: string,
    symbol: string, symIndex: number, addend: U64, value: U64, imageOffset: number, width: number, from: Uint8Array, at: number): void {
    const S = RelocationLog.STRIDE;
    if (this.nums === RelocationLog.NONE) {
      this.nums = new Float64Array(Math.max(1, this.capacity) * S);
      this.bytes = new Uint8Array(Math.max(1, this.capacity) * 8);
    }
    if ((this.n + 1) * S > this.nums.length) {
      const grown = new Float64Array(this.nums.length * 2 + S);
      grown.set(this.nums);
      this.nums = grown;
    }
    if (this.used + width > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2 + width);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    for (let i = 0; i < width; i++) this.bytes[this.used + i] = from[at + i]!;
    const m = this.nums;
    const i = this.n * S;
    m[i] = relSection; m[i + 1] = relIndex; m[i + 2] = section; m[i + 3] = type;
    m[i + 4] = symIndex; m[i + 5] = imageOffset; m[i + 6] = width; m[i + 7] = this.used;
    m[i + 8] = offset.hi; m[i + 9] = offset.lo; m[i + 10] = address.hi; m[i + 11] = address.lo;
    m[i + 12] = addend.hi; m[i + 13] = addend.lo; m[i + 14] = value.hi; m[i + 15] = value.lo;
    this.names.push(typeName, symbol);
    this.used += width;
    this.n++;
  }

  entries(): RelocationLogEntry[] {
    const out: RelocationLogEntry[] = [];
    const { nums: m, names } = this;
    // hi * 2^32 + lo is an exact double below 2^53: one BigInt instead of three.
    const big = (i: number) => (m[i]! < 0x200000 ? BigInt(m[i]! * 0x100000000 + m[i + 1]!) : (BigInt(m[i]!) << 32n) | BigInt(m[i + 1]!));
    // Each entry's bytes are its own disjoint range of one buffer that only this log's entries
    // share (a typed array with its own buffer costs an ArrayBuffer, and its sweep, per entry).
    const all = this.bytes.buffer;
    const base = this.bytes.byteOffset;
    for (let k = 0; k < this.n; k++) {
      const i = k * RelocationLog.STRIDE;
      const width = m[i + 6]!;
      const bytes = new Uint8Array(all, base + m[i + 7]!, width);
      out.push({
        relSection: m[i]!, relIndex: m[i + 1]!, section: m[i + 2]!, offset: big(i + 8), address: big(i + 10), type: m[i + 3]!,
        typeName: names[2 * k]!, symbol: names[2 * k + 1]!, symIndex: m[i + 4]!, addend: BigInt.asIntN(64, big(i + 12)),
        value: big(i + 14), imageOffset: m[i + 5]!, width, bytes,
      });
    }
    return out;
  }
}

/** The section addresses as U64s, indexed like kt.shdrs (after applyLayout). */
function sectionAddresses(kt: KtElf): U64[] {
  return kt.shdrs.map((s) => U64.of(s.addr));
}

/**
 * elf_rel_load()'s relocation loop and machine_apply_elf_rel(). Every relocation reuses the same
 * few U64s and one RelocInput: nothing is allocated per relocation unless the log keeps it or a
 * rejection is raised. Offsets are numbers where they are exact (CMem.checkN), bigints otherwise.
 */
function relocate(kt: KtElf, opts: RelocateOptions, log: RelocationLog): void {
  const { mem, arch, profile } = kt;
  const sem = profile.sem;
  const preRead = arch.preRead?.(sem) ?? 0; // bytes the hook reads at the location before its switch
  const is64 = kt.is64;
  const le = kt.elf.endian === 'little';
  const symEnt = SIZES.sym[is64 ? 1 : 0];
  const addrs = sectionAddresses(kt);
  const nShdrs = kt.shdrs.length; // e_shdr[i] exists for i < nShdrs (the array is never resized)
  const hostBase = U64.of(opts.hostAddress);
  const zero = new U64();
  const rOffset = new U64();
  const rAddend = new U64();
  const symValue = new U64();
  // The relocation being applied, as symName()/toc()/where() need it.
  let ri = 0, k = 0, rsInfo = 0, relocation: string | undefined;
  let symIndex = 0, symNameOff = 0, symShndx = 0;
  let strtab: KtSection = kt.shdrs[0]!;
  let offsetKnown = false;
  const where = (): Where => ({
    relSection: ri, relIndex: k, section: rsInfo, offset: offsetKnown ? rOffset.big() : undefined, relocation, symbol: undefined,
  });
  const namePtr = (): Ptr | undefined => symNameOff
    ? { buf: strtab.data.buf, off: strtab.data.off + BigInt(symNameOff) }
    : kt.shdrs[kt.shstrndx] && kt.shdrs[symShndx]
      ? { buf: kt.shdrs[kt.shstrndx]!.data.buf, off: kt.shdrs[kt.shstrndx]!.data.off + BigInt(kt.shdrs[symShndx]!.name) }
      : undefined;
  // Names by string-table displacement, as the C code would print them. Symbol names are cached
  // until a write into their buffer; section names (st_name 0) only while .shstrtab is in the file.
  const nameCache = { file: kt.fileNames, image: new Map<number, string>() };
  const secNameCache = new Map<number, string>();
  let strOff = Number.NaN;
  // checkIndexes (the kt-off-by-one-section-index fix) reads `e_shdr[st_shndx].sh_name` only for
  // st_shndx < e_shnum and names any other unnamed symbol "" (the name only goes into messages).
  const guardedName = (): boolean => !symNameOff && profile.checkIndexes && symShndx >= nShdrs;
  const symName = (): string => {
    if (symNameOff) {
      const cache = nameCache[strtab.data.buf];
      const key = strOff + symNameOff;
      if (key !== key) return mem.cstring({ buf: strtab.data.buf, off: strtab.data.off + BigInt(symNameOff) }) ?? `<name@${symNameOff}>`;
      let n = cache.get(key);
      if (n === undefined) cache.set(key, (n = mem.cstringN(strtab.data.buf, key) ?? `<name@${symNameOff}>`));
      return n;
    }
    const shstr = kt.shdrs[kt.shstrndx];
    const sec = kt.shdrs[symShndx];
    if (guardedName()) return '';
    if (!shstr || !sec) return '<?>';
    const inFile = shstr.data.buf === 'file';
    let n = inFile ? secNameCache.get(symShndx) : undefined;
    if (n === undefined) {
      n = mem.cstring({ buf: shstr.data.buf, off: shstr.data.off + BigInt(sec.name) }) ?? `<name@${sec.name}>`;
      if (inFile) secNameCache.set(symShndx, n);
    }
    return n;
  };
  // die("…%s…", name) dereferences the name: a string that runs off its buffer is a C fault.
  const dieName = (): string => {
    const p = namePtr();
    if (guardedName()) return '';
    const n = p ? mem.cstring(p, Number.MAX_SAFE_INTEGER) : undefined;
    if (n === undefined) {
      throw new LoadError('out-of-bounds', `C loader would format the name of symbol ${symIndex} for die() past the end of its buffer (undefined behaviour)`, where());
    }
    return n;
  };
  const r = new RelocInput(mem.imageStore, kt.eFlags, sem, symName, (into) => {
    const w = { ...where(), symbol: symName() };
    return into.setBig(myR2(kt, w));
  });
  r.elfEndian = kt.elf.endian;

  for (ri = 0; ri < kt.shdrs.length; ri++) {
    const rs = kt.shdrs[ri]!;
    if (rs.type !== SHT_RELA && rs.type !== SHT_REL) continue;
    const isRela = rs.type === SHT_RELA;
    k = 0;
    rsInfo = rs.info;
    relocation = undefined;
    offsetKnown = false;
    const relWhere = { relSection: ri };
    // kexec-tools: `(sh_info > e_shnum) || (sh_link > e_shnum)`: off by one, e_shnum itself passes.
    if (pastShnum(kt, rs.info) || pastShnum(kt, rs.link)) {
      throw new LoadError('bad-section-index', 'Invalid section number\n', relWhere);
    }
    const section = shdrAt(kt, rs.info, 'sh_info', relWhere);
    if (!(section.flags & SHF_ALLOC)) continue;
    // C only forms &e_shdr[sh_link] before the SHF_ALLOC test; the first read is symtab->sh_link below.
    const symtab = shdrAt(kt, rs.link, 'sh_link', relWhere);
    if (pastShnum(kt, symtab.link)) continue; // "Invalid section number?" — silently skipped
    strtab = shdrAt(kt, symtab.link, 'symtab sh_link', relWhere);
    strOff = offNumber(strtab.data.off);
    const ent = (isRela ? SIZES.rela : SIZES.rel)[is64 ? 1 : 0];
    const count = cCount(rs.data.off, rs.size, ent); // for (ptr = sh_data; ptr < rel_end; ptr += rel_size)
    // checkIndexes (ABI) bounds r_sym by the symbol table's entries, read once per relocation section.
    const nSyms = profile.checkIndexes ? symtab.size / BigInt(symEnt) : 0n;
    const secSize = U64.of(section.size);
    const secAddr = addrs[rs.info]!;
    const relOff = offNumber(rs.data.off);
    const symOff = offNumber(symtab.data.off);
    const secOff = offNumber(section.data.off);
    // The buffers' lengths are fixed for the loop (the file's copy on write keeps its length); their
    // views change when the file is first written (refreshed after every write into the file).
    const relLen = mem.bytesOf(rs.data.buf).length;
    const symLen = mem.bytesOf(symtab.data.buf).length;
    const locLen = mem.bytesOf(section.data.buf).length;
    let rdv = (rs.data.buf === 'file' ? mem.fileView : mem.imageView).dv;
    let sdv = (symtab.data.buf === 'file' ? mem.fileView : mem.imageView).dv;
    // The hot small steps are written out in the loop (the function is too large for V8 to inline
    // its callees): bounds checks, u64 reads and sums, the classification of the last type seen.
    let lastType = -1;
    let lastSpec: ReturnType<ArchModule['classify']>;
    for (k = 0; k < count; k++) {
      relocation = undefined;
      offsetKnown = false;
      // ---- the entry: r_offset, r_info, r_addend (file byte order, from the file or the image)
      let eo = relOff + k * ent;
      if (!(eo >= 0 && eo + ent <= relLen)) {
        if (relOff === relOff) eo = mem.checkN(rs.data.buf, eo, ent, 'a relocation entry', where);
        else eo = mem.check({ buf: rs.data.buf, off: rs.data.off + BigInt(k * ent) }, ent, 'a relocation entry', where());
      }
      let rSym: number, rType: number;
      if (is64) {
        if (le) {
          rOffset.lo = rdv.getUint32(eo, true);
          rOffset.hi = rdv.getUint32(eo + 4, true);
          rType = rdv.getUint32(eo + 8, true);
          rSym = rdv.getUint32(eo + 12, true);
          if (isRela) {
            rAddend.lo = rdv.getUint32(eo + 16, true);
            rAddend.hi = rdv.getUint32(eo + 20, true);
          } else rAddend.hi = rAddend.lo = 0;
        } else {
          rOffset.hi = rdv.getUint32(eo, false);
          rOffset.lo = rdv.getUint32(eo + 4, false);
          rSym = rdv.getUint32(eo + 8, false);
          rType = rdv.getUint32(eo + 12, false);
          if (isRela) {
            rAddend.hi = rdv.getUint32(eo + 16, false);
            rAddend.lo = rdv.getUint32(eo + 20, false);
          } else rAddend.hi = rAddend.lo = 0;
        }
      } else {
        rOffset.set(0, rdv.getUint32(eo, le));
        const info = rdv.getUint32(eo + 4, le);
        rSym = info >>> 8;
        rType = info & 0xff;
        rAddend.set(0, isRela ? rdv.getUint32(eo + 8, le) : 0); // zero-extended into unsigned long long
      }
      offsetKnown = true;
      // checkIndexes (ABI): r_sym within the symbol table, r_offset within the target section.
      if (profile.checkIndexes) {
        if (BigInt(rSym) >= nSyms) throw new LoadError('bad-relocation', `Invalid relocation symbol: ${rSym}\n`, where());
        if (rOffset.hi > secSize.hi || (rOffset.hi === secSize.hi && rOffset.lo >= secSize.lo)) {
          throw new LoadError('bad-relocation', `Invalid relocation offset: 0x${rOffset.big().toString(16)}\n`, where());
        }
      }
      // location = sh_data + r_offset (C pointer arithmetic, see ptrAdd); P = sh_addr + r_offset.
      const locBuf = section.data.buf;
      let loc: number;
      let locBig: bigint | undefined;
      if (secOff === secOff && rOffset.hi === 0) loc = secOff + rOffset.lo;
      else {
        locBig = ptrAdd(section.data.off, rOffset.big());
        loc = offNumber(locBig);
      }
      {
        // P = sh_addr + r_offset (u64)
        const lo = secAddr.lo + rOffset.lo;
        r.address.lo = lo >>> 0;
        r.address.hi = (secAddr.hi + rOffset.hi + (lo > 0xffffffff ? 1 : 0)) >>> 0;
      }
      // ---- the symbol (file byte order; in the file copy, or in the image when the symtab is SHF_ALLOC)
      symIndex = rSym;
      let so = symOff + rSym * symEnt;
      if (!(so >= 0 && so + symEnt <= symLen)) {
        if (symOff === symOff) so = mem.checkN(symtab.data.buf, so, symEnt, 'a symbol', where);
        else so = mem.check({ buf: symtab.data.buf, off: symtab.data.off + BigInt(rSym) * BigInt(symEnt) }, symEnt, 'a symbol', where());
      }
      let symType: number;
      symNameOff = sdv.getUint32(so, le);
      if (is64) {
        symType = sdv.getUint8(so + 4) & 0xf;
        r.symOther = sdv.getUint8(so + 5);
        symShndx = sdv.getUint16(so + 6, le);
        if (le) {
          symValue.lo = sdv.getUint32(so + 8, true);
          symValue.hi = sdv.getUint32(so + 12, true);
        } else {
          symValue.hi = sdv.getUint32(so + 8, false);
          symValue.lo = sdv.getUint32(so + 12, false);
        }
      } else {
        symType = sdv.getUint8(so + 12) & 0xf;
        r.symOther = sdv.getUint8(so + 13);
        symShndx = sdv.getUint16(so + 14, le);
        symValue.set(0, sdv.getUint32(so + 4, le));
      }
      // `name += e_shdr[st_shndx].sh_name` is an unconditional read of the section array (guarded
      // under checkIndexes: guardedName).
      if (!symNameOff && kt.shstrndx >= nShdrs) shdrAt(kt, kt.shstrndx, 'e_shstrndx', where());
      if (!symNameOff && symShndx >= nShdrs && !guardedName()) shdrAt(kt, symShndx, 'st_shndx (for a section symbol name)', where());
      if (symShndx === SHN_UNDEF && symType !== STT_NOTYPE) {
        const n = dieName();
        throw new LoadError('undefined-symbol', `Undefined symbol: ${n}\n`, { ...where(), symbol: n });
      }
      let secBase = zero;
      if (symShndx === SHN_COMMON) {
        const n = dieName();
        throw new LoadError('common-symbol', `symbol: '${n}' in common section\n`, { ...where(), symbol: n });
      } else if (symShndx === SHN_ABS) {
        secBase = zero;
      } else if (pastShnum(kt, symShndx)) {
        const n = dieName();
        throw new LoadError('bad-section-index', `Invalid section: ${symShndx} for symbol ${n}\n`, { ...where(), symbol: n });
      } else {
        if (symShndx >= nShdrs) shdrAt(kt, symShndx, 'st_shndx', where());
        secBase = addrs[symShndx]!;
      }
      const value = r.value;
      {
        // S + sec_base + A (u64): the low sum is below 3 * 2^32, its carry 0, 1 or 2
        const lo = symValue.lo + secBase.lo + rAddend.lo;
        const carry = lo > 0xffffffff ? (lo > 0x1ffffffff ? 2 : 1) : 0;
        value.lo = lo >>> 0;
        value.hi = (symValue.hi + secBase.hi + rAddend.hi + carry) >>> 0;
      }
      if (sem.resolveDotToc && symShndx === SHN_UNDEF && symNameOff && symName() === '.TOC.') {
        value.setBig(myR2(kt, where())).add(rAddend);
      }
      // arm64 kexec-tools reads `uint64_t data = *location` before its switch, whatever the type.
      // As for the store below: the rejection (and its `where`) is built only when the read is out of bounds.
      if (preRead && !(loc === loc && loc >= 0 && loc + preRead <= locLen)) {
        mem.check({ buf: locBuf, off: locBig ?? BigInt(loc) }, preRead, 'the relocation location (read before the type switch)', { ...where(), relocation: arch.typeName(rType) });
      }
      if (rType !== lastType) {
        lastSpec = arch.classify(rType, sem); // a pure function of (type, sem)
        lastType = rType;
      }
      const spec = lastSpec;
      if (!spec) {
        throw new LoadError('unknown-relocation', arch.unknownMessage(rType, sem, r.address.big()), { ...where(), relocation: arch.typeName(rType), symbol: symName() });
      }
      if (spec.width === 0) {
        log.count(spec.name, 0);
        if (log.keep) log.add(ri, k, rs.info, rOffset, r.address, rType, spec.name, symName(), rSym, rAddend, value, -1, 0, mem.image, 0);
        continue;
      }
      relocation = spec.name;
      // The host address of the location (kexec-tools' REL32): host buffer + displacement for the image.
      const host = locBuf === 'image' ? hostBase : zero;
      if (loc === loc && loc > -0x100000000 && loc < 0x100000000) {
        const lo = host.lo + loc; // in (-2^32, 2^33): a borrow or a carry of one
        r.hostLocation.lo = lo >>> 0;
        r.hostLocation.hi = (host.hi + (lo < 0 ? -1 : lo > 0xffffffff ? 1 : 0)) >>> 0;
      } else r.hostLocation.setBig(host.big() + (locBig ?? BigInt(loc)));
      const fits = loc === loc && loc >= 0 && loc + spec.width <= locLen;
      if (spec.checksFirst && !fits) {
        // The C code may die in its checks before it touches *location; any access compute()
        // makes (REL16's instruction read) raises the same out-of-bounds rejection as the store.
        const location: Ptr = { buf: locBuf, off: locBig ?? BigInt(loc) };
        const w = where();
        r.view = new Proxy(mem.imageStore, {
          get: (t, p) => (typeof Reflect.get(t, p) === 'function' ? () => mem.store(location, spec.width, 'the relocation location', w) : Reflect.get(t, p)),
        });
        r.off = 0;
        spec.compute(r);
      }
      if (!fits) mem.store({ buf: locBuf, off: locBig ?? BigInt(loc) }, spec.width, 'the relocation location', where()); // throws
      if (locBuf === 'file') mem.writable(locBuf);
      const view = locBuf === 'file' ? mem.fileStore : mem.imageStore;
      r.view = view;
      r.off = loc;
      spec.write(view, loc, spec.compute(r));
      if (locBuf === 'file') {
        // A write into the file copy can change names or tables the C code rereads.
        kt.tocCache = undefined;
        nameCache.file = new Map(); // not the parse's shared map: this load's file copy differs from it
        nameCache.image.clear();
        secNameCache.clear();
        rdv = (rs.data.buf === 'file' ? mem.fileView : mem.imageView).dv; // the file's copy (copy on write)
        sdv = (symtab.data.buf === 'file' ? mem.fileView : mem.imageView).dv;
      } else if (nameCache.image.size) {
        nameCache.image.clear(); // a write into the image can change a string table loaded there (SHF_ALLOC)
      }
      log.count(spec.name, spec.width);
      if (log.keep) {
        log.add(ri, k, rs.info, rOffset, r.address, rType, spec.name, symName(), rSym, rAddend, value,
          locBuf === 'image' ? loc : -1, spec.width, mem.bytesOf(locBuf), loc);
      }
    }
  }
}

/** How many relocation entries the tables claim (the log's first capacity; it grows past 4096 as needed). */
function relocationCount(kt: KtElf): number {
  let n = 0;
  for (const s of kt.shdrs) {
    if (s.type === SHT_RELA || s.type === SHT_REL) n += cCount(s.data.off, s.size, (s.type === SHT_RELA ? SIZES.rela : SIZES.rel)[kt.is64 ? 1 : 0]);
  }
  return Math.min(n, 4096);
}

/** Apply every relocation; the log as entries (the public API of the relocate stage). */
export function relocateKexecTools(kt: KtElf, opts: RelocateOptions): RelocationLogEntry[] {
  const log = new RelocationLog(opts.log !== false);
  relocate(kt, opts, log);
  return log.entries();
}

// ---------------------------------------------------------------------------------------------
// elf_rel_find_symbol / elf_rel_set_symbol / elf_rel_get_symbol / elf_rel_get_addr

export function findSymbol(kt: KtElf, name: string): ElfSymbol | undefined {
  const ent = SIZES.sym[kt.is64 ? 1 : 0];
  for (const s of kt.shdrs) {
    if (s.type !== SHT_SYMTAB) continue;
    if (pastShnum(kt, s.link)) continue;
    const strtab = shdrAt(kt, s.link, 'symtab sh_link', { symbol: name });
    const n = cCount(s.data.off, s.size, ent); // for (ptr = sh_data; ptr < sym_end; ptr += sym_size)
    // Most symbols are not global: their st_info is read in place when the whole entry lies in its
    // buffer (readSym would return it, and the loop skip it); readSym decodes the others.
    const bytes = kt.mem.bytesOf(s.data.buf);
    const at = offNumber(s.data.off);
    const infoAt = kt.is64 ? 4 : 12;
    for (let i = 0; i < n; i++) {
      const o = at + i * ent;
      if (o >= 0 && o + ent <= bytes.length && bytes[o + infoAt]! >> 4 !== STB_GLOBAL) continue;
      const sym = readSym(kt, s, i, { symbol: name });
      if (sym.bind !== STB_GLOBAL) continue;
      if (!kt.mem.streq({ buf: strtab.data.buf, off: strtab.data.off + BigInt(sym.name) }, name, 'a symbol name', { symbol: name })) continue;
      if (sym.shndx === SHN_UNDEF || pastShnum(kt, sym.shndx)) {
        throw new LoadError('symbol-bad-section', `Symbol: ${name} has Bad section index ${sym.shndx}\n`, { symbol: name });
      }
      return sym;
    }
  }
  return undefined;
}

function symbolPlace(kt: KtElf, name: string, size: number, verb: 'set' | 'get'): Ptr {
  const sym = findSymbol(kt, name);
  if (!sym) throw new LoadError('symbol-not-found', `Symbol: ${name} not found cannot ${verb}\n`, { symbol: name });
  if (sym.size !== BigInt(size)) {
    throw new LoadError('symbol-size-mismatch', `Symbol: ${name} has size: ${BigInt.asIntN(64, sym.size)} not ${size}\n`, { symbol: name });
  }
  const shdr = shdrAt(kt, sym.shndx, 'st_shndx', { symbol: name });
  if (shdr.type === SHT_NOBITS) throw new LoadError('symbol-in-bss', `Symbol: ${name} is in a bss section cannot set\n`, { symbol: name });
  return { buf: shdr.data.buf, off: ptrAdd(shdr.data.off, sym.value) }; // sh_data + st_value
}

export function setSymbol(kt: KtElf, name: string, bytes: Uint8Array): void {
  const p = symbolPlace(kt, name, bytes.length, 'set');
  const off = kt.mem.check(p, bytes.length, `symbol ${name}`, { symbol: name });
  kt.mem.writable(p.buf).set(bytes, off);
}

export function getSymbol(kt: KtElf, name: string, size: number): Uint8Array {
  const p = symbolPlace(kt, name, size, 'get');
  const off = kt.mem.check(p, size, `symbol ${name}`, { symbol: name });
  return kt.mem.bytesOf(p.buf).slice(off, off + size);
}

export function getAddr(kt: KtElf, name: string): bigint {
  const sym = findSymbol(kt, name);
  if (!sym) throw new LoadError('symbol-not-found', `Symbol: ${name} not found cannot retrive it's address\n`, { symbol: name });
  return u64(shdrAt(kt, sym.shndx, 'st_shndx', { symbol: name }).addr + sym.value);
}

// ---------------------------------------------------------------------------------------------

export interface KexecToolsLoad {
  kt: KtElf;
  layout: Layout;
  image: LoadedImage;
}

const typeSummaries = new WeakMap<LoadedImage, RelocationLog>();

/**
 * The relocations a kexec-tools load applied, summed by type name (count, bytes written): what its
 * log summed by typeName gives, without building the log's entries. Undefined for other images.
 */
export function relocationTypesOf(img: LoadedImage): ReadonlyMap<string, { count: number; bytes: number }> | undefined {
  return typeSummaries.get(img)?.byType;
}

// ---------------------------------------------------------------------------------------------
// One parse per input: loads of one ELF at many bases (validate, fuzz memo, bench) share it.

/** A successful parse of a snapshot under one profile, kept as a template each load copies. */
interface Parsed {
  kt: KtElf;
  /** Section names (from the file as given: the names a LoadedSection reports). */
  names: string[];
  /** relocationCount() of the file as parsed. */
  relocations: number;
}

/** What this model keeps per caller's array: a private copy of its bytes, and the parses of that copy. */
interface Snapshot {
  bytes: Uint8Array;
  parses: Map<Profile, Parsed>;
}
/** Arrays loaded more than once (validate, the fuzz memo, the bench): their snapshots, for as long as the array lives. */
const snapshots = new WeakMap<Uint8Array, Snapshot>();
/**
 * The array loaded last, if it was new, and its snapshot: an array enters `snapshots` when it is
 * loaded a second time in a row (validate loads each file at several bases in a row, a fuzz
 * confirmation loads its case again under another profile). A fuzz campaign loads each generated
 * array once: a WeakMap entry per array kept its snapshot and whole parse alive through the
 * young-generation collections, which copied and promoted them at more than the parse's cost
 * (x86_64, seed 1, a fresh load 50-55 -> 25-30 us). Two plain variables, not an object holding
 * both: with a { array, snap } object per load the parses were promoted as before (10 full
 * collections instead of 2 in 30,000 cases).
 */
let lastArray: Uint8Array | undefined;
let lastSnap: Snapshot | undefined;

/**
 * The caller's bytes as this model reads them: a private copy, reused for as long as the caller's
 * array holds the same bytes (compared in full on every load), so no load ever sees a stale parse
 * and the lazy relocation log replays over exactly the bytes that were loaded.
 */
function snapshotOf(bytes: Uint8Array): Snapshot {
  const kept = snapshots.get(bytes);
  if (kept && unchanged(kept, bytes)) return kept;
  if (lastArray === bytes) {
    const snap = lastSnap!;
    lastArray = lastSnap = undefined;
    if (unchanged(snap, bytes)) {
      snapshots.set(bytes, snap); // loaded again: kept from now on
      return snap;
    }
  }
  const fresh: Snapshot = { bytes: privateCopy(bytes), parses: new Map() };
  if (kept) snapshots.set(bytes, fresh); // changed in place: its new bytes replace the old
  else {
    lastArray = bytes;
    lastSnap = fresh;
  }
  return fresh;
}

/**
 * A copy of the caller's bytes, never written (a load that writes into its file copies it again:
 * CMem.writable). A small one is carved from Node's shared allocation pool (Buffer.allocUnsafe),
 * as a plain Uint8Array view (a Buffer's slice() would be a view, not a copy): most generated fuzz
 * cases are under 4 KiB, and a buffer of their own each cost an allocation and its sweep.
 */
function privateCopy(bytes: Uint8Array): Uint8Array {
  const b = Buffer.allocUnsafe(bytes.length);
  const copy = new Uint8Array(b.buffer, b.byteOffset, bytes.length);
  copy.set(bytes);
  return copy;
}

function unchanged(s: Snapshot, bytes: Uint8Array): boolean {
  return s.bytes.length === bytes.length && Buffer.compare(s.bytes, bytes) === 0;
}

/** A new array whose every byte the caller writes before it is read (cheaper than a zeroed one). */
function uninitialised(n: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
}

/** parseKexecTools() of a snapshot, once per profile (a parse that fails is not kept: it throws again). */
function parsedOf(snap: Snapshot, profile: Profile): Parsed {
  let p = snap.parses.get(profile);
  if (!p) {
    const kt = parseKexecTools(snap.bytes, profile);
    p = { kt, names: kt.shdrs.map((_, i) => kt.elf.sectionName(i)), relocations: relocationCount(kt) };
    if (snap.parses.size >= 8) snap.parses.clear(); // callers that build a new Profile per load
    snap.parses.set(profile, p);
  }
  return p;
}

/** A load's own KtElf: the template's section headers copied, a fresh memory over the snapshot. */
function instantiate(t: KtElf): KtElf {
  const shdrs = t.shdrs.map((s): KtSection => ({
    index: s.index, name: s.name, type: s.type, flags: s.flags, addr: s.addr, offset: s.offset, size: s.size,
    link: s.link, info: s.info, addralign: s.addralign, entsize: s.entsize, hdrOffset: s.hdrOffset, data: s.data,
  }));
  return {
    elf: t.elf, is64: t.is64, shnum: t.shnum, shstrndx: t.shstrndx, entry: t.entry, eFlags: t.eFlags, shdrs,
    mem: t.mem.fresh(), arch: t.arch, profile: t.profile, fileNames: t.fileNames,
  };
}

/** Layout, the image and the relocation loop of elf_rel_load() on a fresh copy of a parse. */
function relocateFresh(p: Parsed, base: bigint, opts: RelocateOptions, log: RelocationLog): { kt: KtElf; layout: Layout } {
  const kt = instantiate(p.kt);
  const layout = layoutKexecTools(kt.shdrs, kt.entry, base, kt.profile);
  applyLayout(kt, layout, opts.fill);
  relocate(kt, opts, log);
  return { kt, layout };
}

/**
 * elf_rel_build_load() followed by the symbol writes. Throws LoadError; never exits.
 * The relocation log: `log: true` records it while relocating; by default (log unset) the load
 * records nothing and reading `image.relocations` replays the same load, over the same private
 * bytes, with the log on (deterministic: the same parse, base, fill and host address).
 */
export function loadKexecTools(bytes: Uint8Array, base: bigint, profile: Profile, opts: RelocateOptions & { symbols?: SymbolWrite[] }): KexecToolsLoad {
  const parsed = parsedOf(snapshotOf(bytes), profile);
  const log = new RelocationLog(opts.log === true, parsed.relocations);
  const { kt, layout } = relocateFresh(parsed, base, opts, log);
  for (const s of opts.symbols ?? []) setSymbol(kt, s.name, s.bytes);
  const sections: LoadedSection[] = kt.shdrs.map((s, i) => ({
    index: i, name: parsed.names[i]!, addr: s.addr, size: s.size,
    alloc: (s.flags & SHF_ALLOC) !== 0n, nobits: s.type === SHT_NOBITS,
  }));
  const { base: b, memsz, entry } = layout;
  const imageBytes = kt.mem.image;
  let image: LoadedImage;
  if (opts.log !== false) {
    // The log's entries are built when first read: an enumerable own accessor, so spreads and
    // JSON see `relocations` like any other field.
    const replay = { fill: opts.fill, hostAddress: opts.hostAddress };
    const read = log.keep ? () => log.entries() : () => {
      const replayed = new RelocationLog(true, parsed.relocations);
      relocateFresh(parsed, base, replay, replayed);
      return replayed.entries();
    };
    let entries: RelocationLogEntry[] | undefined;
    image = {
      base: b, bytes: imageBytes, memsz, entry, sections,
      get relocations(): RelocationLogEntry[] {
        return (entries ??= read());
      },
      set relocations(v: RelocationLogEntry[]) {
        entries = v;
      },
    };
  } else {
    image = { base: b, bytes: imageBytes, memsz, entry, sections, relocations: [], relocationTypes: log.byType };
  }
  typeSummaries.set(image, log);
  return { kt, layout, image };
}
