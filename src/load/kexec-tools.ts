// The kexec-tools load model: kexec/kexec-elf.c (build_elf_info), kexec/kexec-elf-rel.c
// (build_elf_rel_info, elf_rel_load, elf_rel_set_symbol...) as they behave in 2.0.20–2.0.32,
// quirks included. Stages: parse → layout (pure) → relocate (writes + log) → symbols.
import { cAlign, u64 } from '../bytes.ts';
import { LoadError, ElfFormatError, detailError } from '../errors.ts';
import {
  ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, ET_REL, EV_CURRENT, EM_AARCH64, EM_PPC64, EM_RISCV, EM_S390, EM_X86_64, PT_NOTE,
  SHF_ALLOC, SHF_EXECINSTR, SHN_ABS, SHN_COMMON, SHN_UNDEF, SHT_DYNAMIC, SHT_NOBITS, SHT_NOTE, SHT_REL,
  SHT_RELA, SHT_SYMTAB, SIZES, STB_GLOBAL, STT_NOTYPE,
} from '../elf/constants.ts';
import { ElfFile, type SectionHeader, type ElfSymbol } from '../elf/reader.ts';
import { RelocInput, U64, addToField, applySpec, baseInvariant, baseLinear, bigOfHalves, type ArchModule, type RelocSpec, type Semantics } from '../arch/types.ts';
import { ARCH_MODULES } from '../arch/modules.ts';
import { lazyArray, lazyMeta } from '../lazy-array.ts';
import { CMem, offNumber, ptrAdd, ptrOffset, type BufId, type Ptr } from './cmem.ts';
import { parseOf, snapshotOf, type Snapshot } from './snapshot.ts';
import type { Profile } from './profile.ts';
import { type LoggedRelocation, RelocationLog } from './relocation-log.ts';
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
  /** The section holding e_entry (the first SHF_ALLOC|SHF_EXECINSTR one containing it; the entry moves with it), else -1. */
  entrySection: number;
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

/** The alignment add_buffer gives the image: the larger of buf_align and the page size. */
function holeAlign(bufAlign: bigint, profile: Profile): bigint {
  return bufAlign < profile.pageSize ? profile.pageSize : bufAlign;
}

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
  const base = cAlign(requestedBase, holeAlign(bufAlign, profile));
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
  return { base, bufsz, bssPad, bsssz, memsz: u64(bufsz + bssPad + bsssz), bufAlign, bssAlign, entry, entrySection: entryShdr, addr, imageOffset };
}

// ---------------------------------------------------------------------------------------------
// Relocate: apply the layout to a KtElf, copy sections into a fresh image, apply relocations.

export interface RelocateOptions {
  fill: number;
  /** Host address of the image buffer (kexec-tools' REL32 subtracts the host pointer). */
  hostAddress: bigint;
  /**
   * The relocation log: true records it while relocating; unset (the default) records nothing and
   * replays the load when image.relocations is first read; false gives [] and relocationTypes.
   */
  log?: boolean;
}

export function applyLayout(kt: KtElf, layout: Layout, fill: number): void {
  if (layout.bufsz > MAX_IMAGE) {
    throw new LoadError('unsupported', `image of ${layout.bufsz} bytes exceeds the model's ${MAX_IMAGE}-byte limit (kexec-tools would try to malloc it)`);
  }
  // xmalloc(bufsz): the bytes no section covers are the heap's (the request's fill byte). The image
  // is allocated zeroed and filled only with a non-zero byte (an uninitialised one, filled, cost more: measured).
  const n = Number(layout.bufsz);
  const image = new Uint8Array(n);
  const mustFill = fill !== 0;
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

// ---------------------------------------------------------------------------------------------
// The relocation loop of elf_rel_load() and machine_apply_elf_rel(), in two steps per relocation:
// decode (read the entry and its symbol, make every check that depends on the file alone) and
// apply (P, S + sec_base + A, compute, write). A load decodes and applies each entry in turn. When
// no relocation can change what a later one reads (isStatic: the tables lie in the file's copy,
// every location in the image) and the layout at any base is the layout at base 0 moved (shiftable),
// the parse decodes every entry once (a RelocPlan) and its later loads only apply them. The C
// code's order of effects holds either way: decode's rejection at entry j is raised only once
// entries [0, j) are applied.

/**
 * The fields of one decoded relocation: STRIDE numbers in RelocPlan.nums. P and the value are kept
 * as decoded, without the load's shift B (see Relocator: 0 unless the plan serves a shifted layout):
 * P = P0 + B, value = V0 + B when the symbol's section moves with the base (F_VSHIFT), else V0.
 */
const D_RI = 0, D_K = 1, D_TYPE = 2, D_SYM = 3, D_OFF_HI = 4, D_OFF_LO = 5, D_ADD_HI = 6, D_ADD_LO = 7,
  D_P_HI = 8, D_P_LO = 9, D_V_HI = 10, D_V_LO = 11, D_OTHER = 12, D_FLAGS = 13, D_NAME = 14, D_SHNDX = 15;
// u32 fields; the location's displacement is RelocPlan.locs[entry]. The target section and the
// string table follow from the relocation section's header (D_RI): Relocator.relSection/strtab.
const STRIDE = 16;
/** D_FLAGS bits. */
const F_FILE = 1; // the location lies in the file's copy (an SHF_ALLOC SHT_NOBITS section keeps sh_data = buf + sh_offset)
const F_FITS = 2; // [location, location + width) lies inside its buffer
const F_VSHIFT = 4; // the value moves with the base: sec_base (or .toc, for `.TOC.`) is an SHF_ALLOC section
const F_PLAIN = 8; // a handled type that writes (width > 0) at an exact in-bounds displacement in the image

/**
 * The decoded relocations of every load of a parse (static and shiftable), or, streamed, the one
 * entry a load is decoding and applying (entry 0, reused: a plan that is not kept stores nothing).
 */
export class RelocPlan {
  nums: Uint32Array;
  /** Each entry's location: its displacement in its buffer when exact (|x| <= 2^52), else NaN (see locBig). */
  locs: Float64Array;
  /** Entries decoded. */
  n = 0;
  /** Each entry's classification; undefined: an unhandled type (apply raises it, with P in the message). */
  readonly specs: (RelocSpec | undefined)[] = [];
  /** Displacements of locations that are not exact numbers (locs[j] is NaN), by entry. */
  readonly locBig = new Map<number, bigint>();
  /** Each entry's symbol name as the log reports it, once asked for (a kept plan only). */
  readonly names: (string | undefined)[] = [];
  /** The log its loads' kept logs derive from (Relocator.logTemplate), once a load keeps one. */
  template: RelocationLog | undefined;
  /**
   * The entries written once into the template's image (Relocator.preApply), by entry: 1,
   * and the bytes they wrote (8 per entry; kept here: a change of fill makes a new template image).
   */
  invariant: { entries: Uint8Array; bytes: Uint8Array } | undefined;
  /** Decode stopped at entry n with this rejection: raised once entries [0, n) are applied. */
  failed = false;
  error: unknown;
  private summary: RelocationLog | undefined;
  /** `stream`: apply each entry as it is decoded, in one reused slot. */
  constructor(capacity: number, readonly stream = false) {
    const n = stream ? 1 : Math.max(1, capacity);
    this.nums = new Uint32Array(n * STRIDE);
    this.locs = new Float64Array(n);
  }

  /**
   * What a load that applies every entry counts in its log's by-type summary (a static plan's
   * loads apply all of them, or raise a rejection and return no image).
   */
  counted(): RelocationLog {
    if (!this.summary) {
      const log = new RelocationLog(false);
      for (let j = 0; j < this.n; j++) {
        const spec = this.specs[j];
        if (spec) log.count(spec.name, spec.width);
      }
      this.summary = log;
    }
    return this.summary;
  }

  /** The offset of a new entry's fields (the arrays grow as needed). */
  slot(): number {
    const d = this.n * STRIDE;
    if (d + STRIDE > this.nums.length) {
      const nums = new Uint32Array(this.nums.length * 2 + STRIDE);
      nums.set(this.nums);
      this.nums = nums;
      const locs = new Float64Array(this.locs.length * 2 + 1);
      locs.set(this.locs);
      this.locs = locs;
    }
    return d;
  }
}

/** Section addresses of one load (after the layout) as u64 halves, indexed like kt.shdrs. */
export interface SectionAddresses {
  hi: Float64Array;
  lo: Float64Array;
}

function addressesOf(kt: KtElf): SectionAddresses {
  const n = kt.shdrs.length;
  const a: SectionAddresses = { hi: new Float64Array(n), lo: new Float64Array(n) };
  const u = new U64();
  for (let i = 0; i < n; i++) {
    u.setBig(kt.shdrs[i]!.addr);
    a.hi[i] = u.hi;
    a.lo[i] = u.lo;
  }
  return a;
}

/**
 * Whether no relocation can change what the loop reads for a later one: every relocation table
 * the loop reads, their symbol and string tables, and .shstrtab (section symbols' names, toc_section)
 * lie in the file's copy, and every relocated section in the image (no write reaches the file).
 */
function isStatic(kt: KtElf): boolean {
  const sh = kt.shdrs;
  const inFile = (i: number) => sh[i] === undefined || sh[i]!.data.buf === 'file';
  if (!inFile(kt.shstrndx)) return false;
  for (const rs of sh) {
    if (rs.type !== SHT_RELA && rs.type !== SHT_REL) continue;
    if (rs.data.buf !== 'file') return false;
    const sec = sh[rs.info];
    if (!sec || !(sec.flags & SHF_ALLOC)) continue;
    if (sec.data.buf !== 'image') return false;
    const symtab = sh[rs.link];
    if (symtab && (symtab.data.buf !== 'file' || !inFile(symtab.link))) return false;
  }
  return true;
}

/** What Relocator.preApply() wrote into the template, and what a load still applies (entry indexes). */
interface PreApplied {
  variant: Uint32Array;
  rest: Uint32Array;
  /** The linear entries' locations (image offsets) and widths. */
  linear: { locs: Float64Array; widths: Uint8Array };
}

/**
 * One load's relocation step. `kt` is the load's parse (in a plan reused across loads: the parse the
 * plan was decoded from, which only supplies names and toc_section(), both in the file's copy);
 * `mem` the load's memory; `addrs` its section addresses.
 */
class Relocator {
  private readonly sem: Semantics;
  private readonly arch: ArchModule;
  private readonly profile: Profile;
  private readonly nShdrs: number;
  private readonly r: RelocInput;
  private readonly hostBase = new U64();
  /** The host address of a location applyRare() placed (set while it applies one): r.hostLocation() reads it. */
  private readonly rareHost = new U64();
  private rareLoc = false;
  private readonly rOffset = new U64();
  private readonly rAddend = new U64();
  /** The entry being decoded or applied (its offset in plan.nums), and what where() reports of it. */
  private cur = 0;
  private offsetKnown = false;
  private relocation: string | undefined;
  /** Names by string-table displacement, cached until a write into their buffer (see symName). */
  private readonly nameCache: { file: Map<number, string>; image: Map<number, string> };
  private readonly secNameCache = new Map<number, string>();

  /** The load's shift B of a shifted layout's plan (decoded at base 0), as u64 halves; 0 otherwise. */
  private bHi = 0;
  private bLo = 0;

  /** `log`: undefined when the load keeps neither the log nor its own count (a static plan's counted()). */
  constructor(private readonly kt: KtElf, private mem: CMem, private readonly addrs: SectionAddresses,
    hostAddress: bigint, private log: RelocationLog | undefined, readonly plan: RelocPlan) {
    this.sem = kt.profile.sem;
    this.arch = kt.arch;
    this.profile = kt.profile;
    this.nShdrs = kt.shdrs.length; // e_shdr[i] exists for i < nShdrs (the array is never resized)
    this.hostBase.setBig(hostAddress);
    this.nameCache = { file: kt.fileNames, image: new Map() };
    this.r = new RelocInput(mem.imageStore, kt.eFlags, this.sem, () => this.symName(), (into) => this.toc(into), (into) => {
      if (this.rareLoc) return into.from(this.rareHost);
      // A plain entry: the image's host address + the displacement r.off (exact, in the image).
      const host = this.hostBase;
      const lo = host.lo + this.r.off;
      return into.set((host.hi + (lo > 0xffffffff ? 1 : 0)) >>> 0, lo >>> 0);
    });
    this.r.elfEndian = kt.elf.endian;
  }

  /**
   * Ready to apply a plan decoded at base 0 for another load (a shared plan's Relocator is reused):
   * its memory, its layout's shift b (see shiftable), its host address and log.
   */
  reset(mem: CMem, b: bigint, hostAddress: bigint, log: RelocationLog | undefined): this {
    this.mem = mem;
    this.r.view = mem.imageStore;
    this.bHi = Number(b >> 32n);
    this.bLo = Number(b & 0xffffffffn);
    this.hostBase.setBig(hostAddress);
    this.rareLoc = false;
    this.log = log;
    if (this.nameCache.image.size) this.nameCache.image.clear();
    return this;
  }

  /** The relocation section of the entry being decoded or applied. */
  private relSection(): KtSection {
    return this.kt.shdrs[this.plan.nums[this.cur + D_RI]!]!;
  }

  /** Its symbol table's string table (decode checked both links before any name is read). */
  private strtab(): KtSection {
    const kt = this.kt;
    return kt.shdrs[kt.shdrs[this.relSection().link]!.link]!;
  }

  private where(): Where {
    const m = this.plan.nums;
    const d = this.cur;
    return {
      relSection: m[d + D_RI], relIndex: m[d + D_K], section: this.relSection().info,
      offset: this.offsetKnown ? bigOfHalves(m[d + D_OFF_HI]!, m[d + D_OFF_LO]!) : undefined, relocation: this.relocation, symbol: undefined,
    };
  }

  /** checkIndexes reads `e_shdr[st_shndx].sh_name` only for st_shndx < e_shnum and names any other unnamed symbol "" (the kt-off-by-one-section-index fix). */
  private guardedName(): boolean {
    const m = this.plan.nums;
    return !m[this.cur + D_NAME] && this.profile.checkIndexes && m[this.cur + D_SHNDX]! >= this.nShdrs;
  }

  /** Where the C code's name pointer points: strtab + st_name, or .shstrtab + the section's sh_name for st_name 0. */
  private namePtr(): Ptr | undefined {
    const m = this.plan.nums;
    const kt = this.kt;
    const nameOff = m[this.cur + D_NAME]!;
    if (nameOff) {
      const strtab = this.strtab();
      return { buf: strtab.data.buf, off: strtab.data.off + BigInt(nameOff) };
    }
    const shstr = kt.shdrs[kt.shstrndx];
    const sec = kt.shdrs[m[this.cur + D_SHNDX]!];
    return shstr && sec ? { buf: shstr.data.buf, off: shstr.data.off + BigInt(sec.name) } : undefined;
  }

  /**
   * The symbol's name as the C code would print it. Symbol names are cached until a write into their
   * buffer; section names (st_name 0) only while .shstrtab is in the file.
   */
  symName(): string {
    const m = this.plan.nums;
    const kt = this.kt;
    const nameOff = m[this.cur + D_NAME]!;
    if (nameOff) {
      const strtab = this.strtab();
      const strOff = offNumber(strtab.data.off);
      if (strOff !== strOff) return this.mem.cstring({ buf: strtab.data.buf, off: strtab.data.off + BigInt(nameOff) }) ?? `<name@${nameOff}>`;
      const cache = this.nameCache[strtab.data.buf];
      const key = strOff + nameOff;
      let n = cache.get(key);
      if (n === undefined) cache.set(key, (n = this.mem.cstringN(strtab.data.buf, key) ?? `<name@${nameOff}>`));
      return n;
    }
    const shndx = m[this.cur + D_SHNDX]!;
    const shstr = kt.shdrs[kt.shstrndx];
    const sec = kt.shdrs[shndx];
    if (this.guardedName()) return '';
    if (!shstr || !sec) return '<?>';
    const inFile = shstr.data.buf === 'file';
    let n = inFile ? this.secNameCache.get(shndx) : undefined;
    if (n === undefined) {
      n = this.mem.cstring({ buf: shstr.data.buf, off: shstr.data.off + BigInt(sec.name) }) ?? `<name@${sec.name}>`;
      if (inFile) this.secNameCache.set(shndx, n);
    }
    return n;
  }

  /** die("…%s…", name) dereferences the name: a string that runs off its buffer is a C fault. */
  private dieName(): string {
    const p = this.namePtr();
    if (this.guardedName()) return '';
    const n = p ? this.mem.cstring(p, Number.MAX_SAFE_INTEGER) : undefined;
    if (n === undefined) {
      throw new LoadError('out-of-bounds', `C loader would format the name of symbol ${this.plan.nums[this.cur + D_SYM]} for die() past the end of its buffer (undefined behaviour)`, this.where());
    }
    return n;
  }

  /**
   * my_r2(): .toc's address + 0x8000, or the loader's rejection when there is no .toc (naming the
   * symbol when a relocation type asks; not when the `.TOC.` symbol itself is resolved).
   */
  private toc(into: U64, named = true): U64 {
    const sec = tocSection(this.kt);
    if (!sec) throw new LoadError('no-toc-section', 'TOC reloc without a toc section?', named ? { ...this.where(), symbol: this.symName() } : this.where());
    return into.set(this.addrs.hi[sec.index]!, this.addrs.lo[sec.index]!).addN(0x8000);
  }

  /**
   * Decode every relocation into the plan; with `interleave`, apply each as soon as it is decoded
   * (when a relocation may change what a later one reads). A rejection stops the plan there.
   */
  decode(interleave: boolean): void {
    try {
      this.decodeAll(interleave);
    } catch (e) {
      this.plan.failed = true;
      this.plan.error = e;
    }
  }

  private decodeAll(interleave: boolean): void {
    const { kt, mem, plan, profile, arch, sem } = this;
    const preRead = arch.preRead?.(sem) ?? 0; // bytes the hook reads at the location before its switch
    const is64 = kt.is64;
    const le = kt.elf.endian === 'little';
    const symEnt = SIZES.sym[is64 ? 1 : 0];
    const nShdrs = this.nShdrs;
    const where = () => this.where();
    const alloc = kt.shdrs.map((x) => (x.flags & SHF_ALLOC) !== 0n);
    for (let ri = 0; ri < kt.shdrs.length; ri++) {
      const rs = kt.shdrs[ri]!;
      if (rs.type !== SHT_RELA && rs.type !== SHT_REL) continue;
      const isRela = rs.type === SHT_RELA;
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
      shdrAt(kt, symtab.link, 'symtab sh_link', relWhere);
      const ent = (isRela ? SIZES.rela : SIZES.rel)[is64 ? 1 : 0];
      const count = cCount(rs.data.off, rs.size, ent); // for (ptr = sh_data; ptr < rel_end; ptr += rel_size)
      // checkIndexes (ABI) bounds r_sym by the symbol table's entries, read once per relocation section.
      const nSyms = profile.checkIndexes ? symtab.size / BigInt(symEnt) : 0n;
      const secAddrHi = this.addrs.hi[rs.info]!, secAddrLo = this.addrs.lo[rs.info]!;
      const secSizeHi = Number(u64(section.size) >> 32n);
      const secSizeLo = Number(u64(section.size) & 0xffffffffn);
      const relBuf = rs.data.buf;
      const symBuf = symtab.data.buf;
      const locBuf = section.data.buf;
      const relOff = offNumber(rs.data.off);
      const symOff = offNumber(symtab.data.off);
      const secOff = offNumber(section.data.off);
      // The buffers' lengths are fixed for the loop (the file's copy on write keeps its length).
      const relLen = mem.bytesOf(relBuf).length;
      const symLen = mem.bytesOf(symBuf).length;
      const locLen = mem.bytesOf(locBuf).length;
      let lastType = -1;
      let lastSpec: RelocSpec | undefined;
      for (let k = 0; k < count; k++) {
        const d = plan.slot();
        const m = plan.nums;
        m[d + D_RI] = ri;
        m[d + D_K] = k;
        this.cur = d;
        this.offsetKnown = false;
        this.relocation = undefined;
        // ---- the entry: r_offset, r_info, r_addend (file byte order, from the file or the image;
        // the views are fetched per entry: a write into the file replaces them)
        const rdv = (relBuf === 'file' ? mem.fileView : mem.imageView).dv;
        let eo = relOff + k * ent;
        if (!(eo >= 0 && eo + ent <= relLen)) {
          if (relOff === relOff) eo = mem.checkN(relBuf, eo, ent, 'a relocation entry', where);
          else eo = mem.check({ buf: relBuf, off: rs.data.off + BigInt(k * ent) }, ent, 'a relocation entry', where());
        }
        let rSym: number, rType: number, offHi: number, offLo: number, addHi = 0, addLo = 0;
        if (is64) {
          if (le) {
            offLo = rdv.getUint32(eo, true);
            offHi = rdv.getUint32(eo + 4, true);
            rType = rdv.getUint32(eo + 8, true);
            rSym = rdv.getUint32(eo + 12, true);
            if (isRela) {
              addLo = rdv.getUint32(eo + 16, true);
              addHi = rdv.getUint32(eo + 20, true);
            }
          } else {
            offHi = rdv.getUint32(eo, false);
            offLo = rdv.getUint32(eo + 4, false);
            rSym = rdv.getUint32(eo + 8, false);
            rType = rdv.getUint32(eo + 12, false);
            if (isRela) {
              addHi = rdv.getUint32(eo + 16, false);
              addLo = rdv.getUint32(eo + 20, false);
            }
          }
        } else {
          offHi = 0;
          offLo = rdv.getUint32(eo, le);
          const info = rdv.getUint32(eo + 4, le);
          rSym = info >>> 8;
          rType = info & 0xff;
          if (isRela) addLo = rdv.getUint32(eo + 8, le); // zero-extended into unsigned long long
        }
        m[d + D_TYPE] = rType;
        m[d + D_SYM] = rSym;
        m[d + D_OFF_HI] = offHi;
        m[d + D_OFF_LO] = offLo;
        {
          // P = sh_addr + r_offset (u64)
          const lo = secAddrLo + offLo;
          m[d + D_P_LO] = lo >>> 0;
          m[d + D_P_HI] = (secAddrHi + offHi + (lo > 0xffffffff ? 1 : 0)) >>> 0;
        }
        m[d + D_ADD_HI] = addHi;
        m[d + D_ADD_LO] = addLo;
        this.offsetKnown = true;
        // checkIndexes (ABI): r_sym within the symbol table, r_offset within the target section.
        if (profile.checkIndexes) {
          if (BigInt(rSym) >= nSyms) throw new LoadError('bad-relocation', `Invalid relocation symbol: ${rSym}\n`, where());
          if (offHi > secSizeHi || (offHi === secSizeHi && offLo >= secSizeLo)) {
            throw new LoadError('bad-relocation', `Invalid relocation offset: 0x${bigOfHalves(offHi, offLo).toString(16)}\n`, where());
          }
        }
        // location = sh_data + r_offset (C pointer arithmetic, see ptrAdd)
        let loc: number;
        let locBig: bigint | undefined;
        if (secOff === secOff && offHi === 0) loc = secOff + offLo;
        else {
          locBig = ptrAdd(section.data.off, bigOfHalves(offHi, offLo));
          loc = offNumber(locBig);
          if (loc !== loc) plan.locBig.set(plan.n, locBig);
        }
        plan.locs[plan.n] = loc;
        // ---- the symbol (file byte order; in the file copy, or in the image when the symtab is SHF_ALLOC)
        const sdv = (symBuf === 'file' ? mem.fileView : mem.imageView).dv;
        let so = symOff + rSym * symEnt;
        if (!(so >= 0 && so + symEnt <= symLen)) {
          if (symOff === symOff) so = mem.checkN(symBuf, so, symEnt, 'a symbol', where);
          else so = mem.check({ buf: symBuf, off: symtab.data.off + BigInt(rSym) * BigInt(symEnt) }, symEnt, 'a symbol', where());
        }
        let symType: number, symShndx: number, svHi: number, svLo: number;
        const symNameOff = sdv.getUint32(so, le);
        if (is64) {
          symType = sdv.getUint8(so + 4) & 0xf;
          m[d + D_OTHER] = sdv.getUint8(so + 5);
          symShndx = sdv.getUint16(so + 6, le);
          if (le) {
            svLo = sdv.getUint32(so + 8, true);
            svHi = sdv.getUint32(so + 12, true);
          } else {
            svHi = sdv.getUint32(so + 8, false);
            svLo = sdv.getUint32(so + 12, false);
          }
        } else {
          symType = sdv.getUint8(so + 12) & 0xf;
          m[d + D_OTHER] = sdv.getUint8(so + 13);
          symShndx = sdv.getUint16(so + 14, le);
          svHi = 0;
          svLo = sdv.getUint32(so + 4, le);
        }
        m[d + D_NAME] = symNameOff;
        m[d + D_SHNDX] = symShndx;
        // `name += e_shdr[st_shndx].sh_name` is an unconditional read of the section array (guarded
        // under checkIndexes: guardedName).
        if (!symNameOff && kt.shstrndx >= nShdrs) shdrAt(kt, kt.shstrndx, 'e_shstrndx', where());
        if (!symNameOff && symShndx >= nShdrs && !this.guardedName()) shdrAt(kt, symShndx, 'st_shndx (for a section symbol name)', where());
        if (symShndx === SHN_UNDEF && symType !== STT_NOTYPE) {
          const n = this.dieName();
          throw new LoadError('undefined-symbol', `Undefined symbol: ${n}\n`, { ...where(), symbol: n });
        }
        let baseHi = 0, baseLo = 0, vshift = 0; // sec_base
        if (symShndx === SHN_COMMON) {
          const n = this.dieName();
          throw new LoadError('common-symbol', `symbol: '${n}' in common section\n`, { ...where(), symbol: n });
        } else if (symShndx === SHN_ABS) {
          // sec_base = 0
        } else if (pastShnum(kt, symShndx)) {
          const n = this.dieName();
          throw new LoadError('bad-section-index', `Invalid section: ${symShndx} for symbol ${n}\n`, { ...where(), symbol: n });
        } else {
          if (symShndx >= nShdrs) shdrAt(kt, symShndx, 'st_shndx', where()); // throws
          baseHi = this.addrs.hi[symShndx]!;
          baseLo = this.addrs.lo[symShndx]!;
          if (alloc[symShndx]) vshift = F_VSHIFT;
        }
        {
          // S + sec_base + A (u64): the low sum is below 3 * 2^32, its carry 0, 1 or 2
          const lo = svLo + baseLo + addLo;
          const carry = lo > 0xffffffff ? (lo > 0x1ffffffff ? 2 : 1) : 0;
          m[d + D_V_LO] = lo >>> 0;
          m[d + D_V_HI] = (svHi + baseHi + addHi + carry) >>> 0;
        }
        if (sem.resolveDotToc && symShndx === SHN_UNDEF && symNameOff && this.symName() === '.TOC.') {
          // value = my_r2 + A (my_r2() dies here when there is no .toc)
          const toc = this.toc(this.r.tmp, false);
          const lo = toc.lo + addLo;
          m[d + D_V_LO] = lo >>> 0;
          m[d + D_V_HI] = (toc.hi + addHi + (lo > 0xffffffff ? 1 : 0)) >>> 0;
          vshift = tocSection(kt)!.flags & SHF_ALLOC ? F_VSHIFT : 0;
        }
        // arm64 kexec-tools reads `uint64_t data = *location` before its switch, whatever the type.
        if (preRead && !(loc === loc && loc >= 0 && loc + preRead <= locLen)) {
          mem.check({ buf: locBuf, off: locBig ?? BigInt(loc) }, preRead, 'the relocation location (read before the type switch)', { ...where(), relocation: arch.typeName(rType) });
        }
        if (rType !== lastType) {
          lastSpec = arch.classify(rType, sem); // a pure function of (type, sem)
          lastType = rType;
        }
        const spec = lastSpec;
        plan.specs[plan.n] = spec;
        const fits = spec !== undefined && loc === loc && loc >= 0 && loc + spec.width <= locLen;
        m[d + D_FLAGS] = vshift | (locBuf === 'file' ? F_FILE : 0) | (fits ? F_FITS : 0)
          | (fits && locBuf === 'image' && spec.width > 0 ? F_PLAIN : 0);
        plan.n++;
        if (interleave) {
          this.apply(plan.n - 1);
          if (plan.stream) plan.n = 0; // the slot is reused for the next entry
        }
        if (!spec) return; // an unhandled type ends the loop (apply raises it)
      }
    }
  }

  /** Apply every decoded entry, then raise decode's rejection if it stopped early. */
  applyAll(): void {
    const plan = this.plan;
    for (let j = 0; j < plan.n; j++) this.apply(j);
    if (plan.failed) throw plan.error;
  }

  /**
   * Apply the entries `list` (of a plan that decoded every entry), in its order; a (derived) log
   * records them, the others' bytes being its template's (logTemplate).
   */
  applyOnly(list: Uint32Array): void {
    const log = this.log;
    for (let i = 0; i < list.length; i++) {
      const j = list[i]!;
      log?.reach(j);
      this.apply(j);
    }
    log?.reach(this.plan.n);
  }

  /**
   * Write, once, through this Relocator (over the template, at base 0), the entries whose bytes
   * follow from their bytes at base 0 alone, into ranges no other entry touches (so no other entry
   * reads or overwrites them, and applying them again later writes the same bytes): those whose
   * bytes are the same at every base (baseInvariant), and those whose bytes at B are their bytes at
   * base 0 plus B (baseLinear: addBase() moves them). `variant`: every other entry, in order
   * (what a load with a derived log applies); `rest`: the variant entries that are not linear.
   * Undefined (nothing written) unless the plan decoded every entry and every entry is plain.
   */
  preApply(): PreApplied | undefined {
    const { plan } = this;
    const m = plan.nums;
    if (plan.failed || plan.n === 0) return undefined;
    const order: number[] = [];
    for (let j = 0; j < plan.n; j++) {
      if (!(m[j * STRIDE + D_FLAGS]! & F_PLAIN)) return undefined;
      order.push(j);
    }
    const start = (j: number) => plan.locs[j]!;
    const end = (j: number) => plan.locs[j]! + plan.specs[j]!.width;
    order.sort((a, b) => start(a) - start(b) || a - b);
    // Sorted by start: j touches no other range iff every earlier one ends by its start and the next starts at or after its end.
    const INVARIANT = 1, LINEAR = 2;
    const kind = new Uint8Array(plan.n);
    let maxEnd = -Infinity;
    for (let i = 0; i < order.length; i++) {
      const j = order[i]!;
      const alone = maxEnd <= start(j) && (i + 1 === order.length || end(j) <= start(order[i + 1]!));
      maxEnd = Math.max(maxEnd, end(j));
      // (≤ 8 bytes: the log template keeps what an invariant entry wrote in 8 bytes per entry)
      if (!alone || plan.specs[j]!.width > 8) continue;
      const moves = (m[j * STRIDE + D_FLAGS]! & F_VSHIFT) !== 0;
      if (baseInvariant(plan.specs[j]!, moves)) kind[j] = INVARIANT;
      else if (baseLinear(plan.specs[j]!, moves)) kind[j] = LINEAR;
    }
    if (!kind.some((k) => k !== 0)) return undefined;
    const variant: number[] = [], rest: number[] = [], linear: number[] = [];
    const invariant = new Uint8Array(plan.n);
    const written = new Uint8Array(plan.n * 8); // the bytes each invariant entry wrote, at entry * 8 (widths ≤ 8: plain)
    let anyInvariant = false;
    for (let j = 0; j < plan.n; j++) {
      if (kind[j] !== INVARIANT) variant.push(j);
      if (kind[j] === 0) rest.push(j);
      else this.apply(j); // at base 0
      if (kind[j] === LINEAR) linear.push(j);
      if (kind[j] === INVARIANT) {
        invariant[j] = 1;
        written.set(this.mem.image.subarray(plan.locs[j]!, plan.locs[j]! + plan.specs[j]!.width), j * 8);
        anyInvariant = true;
      }
    }
    if (anyInvariant) plan.invariant = { entries: invariant, bytes: written };
    return {
      variant: Uint32Array.from(variant), rest: Uint32Array.from(rest),
      linear: { locs: Float64Array.from(linear, (j) => plan.locs[j]!), widths: Uint8Array.from(linear, (j) => plan.specs[j]!.width) },
    };
  }

  /** Move the linear entries' fields (preApply) by this load's shift B: each is its bytes at base 0 plus B. */
  addBase(linear: PreApplied['linear']): void {
    const view = this.mem.imageStore;
    const { locs, widths } = linear;
    const bHi = this.bHi, bLo = this.bLo;
    for (let i = 0; i < locs.length; i++) addToField(view, locs[i]!, widths[i]!, bHi, bLo);
  }

  /** Apply entry j: P, the value, compute, write; count (and log) it. The common case here, the rest in applyRare(). */
  apply(j: number): void {
    const m = this.plan.nums;
    const d = j * STRIDE;
    const r = this.r;
    this.cur = d;
    {
      // P = P0 + B, value = V0 (+ B): u64 sums
      const bHi = this.bHi, bLo = this.bLo;
      const lo = m[d + D_P_LO]! + bLo;
      r.address.lo = lo >>> 0;
      r.address.hi = (m[d + D_P_HI]! + bHi + (lo > 0xffffffff ? 1 : 0)) >>> 0;
      if (m[d + D_FLAGS]! & F_VSHIFT) {
        const vlo = m[d + D_V_LO]! + bLo;
        r.value.lo = vlo >>> 0;
        r.value.hi = (m[d + D_V_HI]! + bHi + (vlo > 0xffffffff ? 1 : 0)) >>> 0;
      } else {
        r.value.lo = m[d + D_V_LO]!;
        r.value.hi = m[d + D_V_HI]!;
      }
    }
    r.symOther = m[d + D_OTHER]!;
    const spec = this.plan.specs[j];
    if (!(m[d + D_FLAGS]! & F_PLAIN)) {
      this.applyRare(j, spec);
      return;
    }
    const s = spec!;
    const loc = this.plan.locs[j]!; // exact, in the image, in bounds (r.hostLocation() adds it to the host address)
    this.offsetKnown = true; // what where() reports if compute() asks for the TOC and there is none
    this.relocation = s.name;
    const view = this.mem.imageStore;
    r.view = view;
    r.off = loc;
    applySpec(s, r, view, loc);
    if (this.nameCache.image.size) this.nameCache.image.clear(); // a write into the image can change a string table loaded there (SHF_ALLOC)
    const log = this.log;
    if (log) {
      if (log.derived) log.addBytes(view.bytes, loc, s.width, view.dv);
      else {
        log.count(s.name, s.width);
        if (log.keep) this.record(j, s, loc, view.bytes, loc);
      }
    }
  }

  /** apply() of an entry that is not plain (see F_PLAIN), or of any entry while the log is kept. */
  private applyRare(j: number, spec: RelocSpec | undefined): void {
    const { plan, mem, r, log } = this;
    const m = plan.nums;
    const d = j * STRIDE;
    this.offsetKnown = true;
    this.relocation = undefined;
    const rType = m[d + D_TYPE]!;
    if (!spec) {
      throw new LoadError('unknown-relocation', this.arch.unknownMessage(rType, this.sem, r.address.big()), { ...this.where(), relocation: this.arch.typeName(rType), symbol: this.symName() });
    }
    if (spec.width === 0) {
      if (log?.derived) log.addBytes(mem.image, 0, 0);
      else if (log) {
        log.count(spec.name, 0);
        if (log.keep) this.record(j, spec, -1, mem.image, 0);
      }
      return;
    }
    this.relocation = spec.name;
    const flags = m[d + D_FLAGS]!;
    const locBuf: BufId = flags & F_FILE ? 'file' : 'image';
    const loc = plan.locs[j]!;
    const locBig = loc === loc ? undefined : plan.locBig.get(j)!;
    // The host address of the location (kexec-tools' REL32): host buffer + displacement for the
    // image, the displacement alone for the file's copy (r.hostLocation() reads it while rareLoc).
    const hostLoc = this.rareHost;
    if (locBuf === 'image') hostLoc.from(this.hostBase);
    else hostLoc.set(0, 0);
    if (loc === loc && loc > -0x100000000 && loc < 0x100000000) {
      const lo = hostLoc.lo + loc; // in (-2^32, 2^33): a borrow or a carry of one
      hostLoc.set((hostLoc.hi + (lo < 0 ? -1 : lo > 0xffffffff ? 1 : 0)) >>> 0, lo >>> 0);
    } else hostLoc.setBig(hostLoc.big() + (locBig ?? BigInt(loc)));
    this.rareLoc = true;
    if (!(flags & F_FITS)) {
      if (spec.checksFirst) {
        // The C code may die in its checks before it touches *location; any access compute()
        // makes (REL16's instruction read) raises the same out-of-bounds rejection as the store.
        const location: Ptr = { buf: locBuf, off: locBig ?? BigInt(loc) };
        const w = this.where();
        r.view = new Proxy(mem.imageStore, {
          get: (t, p) => (typeof Reflect.get(t, p) === 'function' ? () => mem.store(location, spec.width, 'the relocation location', w) : Reflect.get(t, p)),
        });
        r.off = 0;
        spec.compute(r);
      }
      mem.store({ buf: locBuf, off: locBig ?? BigInt(loc) }, spec.width, 'the relocation location', this.where()); // throws
    }
    if (locBuf === 'file') mem.writable(locBuf);
    const view = locBuf === 'file' ? mem.fileStore : mem.imageStore;
    r.view = view;
    r.off = loc;
    applySpec(spec, r, view, loc);
    this.rareLoc = false; // (a throw leaves it set: the load ends there, and reset() clears it)
    if (locBuf === 'file') {
      // A write into the file copy can change names or tables the C code rereads (decode fetches
      // the file's new views per entry).
      this.kt.tocCache = undefined;
      this.nameCache.file = new Map(); // not the parse's shared map: this load's file copy differs from it
      this.nameCache.image.clear();
      this.secNameCache.clear();
    } else if (this.nameCache.image.size) {
      this.nameCache.image.clear(); // a write into the image can change a string table loaded there (SHF_ALLOC)
    }
    if (log?.derived) log.addBytes(mem.bytesOf(locBuf), loc, spec.width);
    else if (log) {
      log.count(spec.name, spec.width);
      if (log.keep) this.record(j, spec, locBuf === 'image' ? loc : -1, mem.bytesOf(locBuf), loc);
    }
  }

  /** Log entry j as applied (P and the value of this load), `from` holding the bytes written at `at`. */
  private record(j: number, spec: RelocSpec, imageOffset: number, from: Uint8Array, at: number): void {
    this.recordInto(this.log!, j, spec, imageOffset, this.r.address, this.r.value, from, at, false);
  }

  private recordInto(log: RelocationLog, j: number, spec: RelocSpec, imageOffset: number, address: U64, value: U64,
    from: Uint8Array | undefined, at: number, moves: boolean): void {
    const m = this.plan.nums;
    const d = j * STRIDE;
    this.cur = d;
    this.rOffset.set(m[d + D_OFF_HI]!, m[d + D_OFF_LO]!);
    this.rAddend.set(m[d + D_ADD_HI]!, m[d + D_ADD_LO]!);
    // A kept plan's names come from the file's copy (isStatic): the same for every load.
    const plan = this.plan;
    const name = plan.stream ? this.symName() : (plan.names[j] ??= this.symName());
    log.add(m[d + D_RI]!, m[d + D_K]!, this.relSection().info, this.rOffset, address, m[d + D_TYPE]!, spec.name, name,
      m[d + D_SYM]!, this.rAddend, value, imageOffset, spec.width, from, at, moves);
  }

  /**
   * The plan's log template (made once, before a load applies it): every decoded entry as record()
   * would log it at B = 0 (P0, V0), marked where its value moves with B (F_VSHIFT), with the bytes
   * of the entries written once into the template's image (preApply: the same at every
   * base); a kept log of a load derives from it (RelocationLog.derive) and records only the bytes
   * the others write.
   */
  logTemplate(): RelocationLog {
    const plan = this.plan;
    if (!plan.template) {
      const t = RelocationLog.template(plan.n);
      const m = plan.nums;
      const p0 = new U64(), v0 = new U64(); // P and the value at base 0 (made once per plan)
      for (let j = 0; j < plan.n; j++) {
        const spec = plan.specs[j];
        if (!spec) break; // an unhandled type: its apply raises, no entry follows
        const d = j * STRIDE;
        const flags = m[d + D_FLAGS]!;
        const imageOffset = spec.width === 0 || flags & F_FILE ? -1 : plan.locs[j]!;
        p0.set(m[d + D_P_HI]!, m[d + D_P_LO]!);
        v0.set(m[d + D_V_HI]!, m[d + D_V_LO]!);
        const inv = plan.invariant;
        const fixed = inv !== undefined && inv.entries[j] === 1;
        this.recordInto(t, j, spec, imageOffset, p0, v0, fixed ? inv.bytes : undefined, j * 8, (flags & F_VSHIFT) !== 0);
      }
      plan.template = t;
    }
    return plan.template;
  }
}

/** The relocation step of one load over `kt` (after applyLayout): each entry decoded and applied in turn. */
function relocate(kt: KtElf, opts: RelocateOptions, log: RelocationLog): void {
  const plan = new RelocPlan(1, true);
  new Relocator(kt, kt.mem, addressesOf(kt), opts.hostAddress, log, plan).decode(true);
  if (plan.failed) throw plan.error;
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

/** One load's result: the image; the load's KtElf and layout are built when first asked for. */
export class KexecToolsLoad {
  constructor(readonly image: LoadedImage, private readonly placed: Placed) {}
  get kt(): KtElf {
    return this.placed.kt();
  }
  get layout(): Layout {
    return this.placed.layout();
  }
}

/**
 * The relocations a kexec-tools load applied, summed by type name (count, bytes written): what its
 * log summed by typeName gives, without building the log's entries. Undefined for other images.
 */
export function relocationTypesOf(img: LoadedImage): ReadonlyMap<string, { count: number; bytes: number }> | undefined {
  const log = lazyMeta(img.relocations);
  return log instanceof RelocationLog ? log.byType : undefined;
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
  /** What its loads share (sharedOf): undefined until it is built, null when they cannot. */
  shared?: Shared | null;
  /** Loads so far (sharedOf builds Shared at the second). */
  loads: number;
}

/** parseKexecTools() of a snapshot, once per profile (a parse that fails is not kept: it throws again). */
function parsedOf(snap: Snapshot, profile: Profile): Parsed {
  return parseOf(snap, profile, (bytes): Parsed => {
    const kt = parseKexecTools(bytes, profile);
    return { kt, names: kt.shdrs.map((_, i) => kt.elf.sectionName(i)), relocations: relocationCount(kt), loads: 0 };
  });
}

/** A load's own KtElf: the template's section headers copied, a fresh memory over the snapshot (or the load's). */
function instantiate(t: KtElf, mem: CMem = t.mem.fresh()): KtElf {
  const shdrs = t.shdrs.map((s): KtSection => ({
    index: s.index, name: s.name, type: s.type, flags: s.flags, addr: s.addr, offset: s.offset, size: s.size,
    link: s.link, info: s.info, addralign: s.addralign, entsize: s.entsize, hdrOffset: s.hdrOffset, data: s.data,
  }));
  return {
    elf: t.elf, is64: t.is64, shnum: t.shnum, shstrndx: t.shstrndx, entry: t.entry, eFlags: t.eFlags, shdrs,
    mem, arch: t.arch, profile: t.profile, fileNames: t.fileNames,
  };
}

/**
 * Whether the layout at any base is the layout at base 0 moved by the aligned base: every SHF_ALLOC
 * section's alignment is a power of two. The aligned base B is a multiple of holeAlign, so of every
 * such alignment, and C's `_ALIGN(B + x, a)` is `B + _ALIGN(x, a)` mod 2^64: each address moves by
 * B, each image offset (`data_addr - buf_addr`) and every size stays.
 */
export function shiftable(sections: readonly LayoutSection[], profile: Profile): boolean {
  for (const s of sections) {
    if (!(s.flags & SHF_ALLOC)) continue;
    const a = profile.alignZeroAsOne && s.addralign === 0n ? 1n : s.addralign;
    if (a === 0n || (a & (a - 1n)) !== 0n) return false;
  }
  return true;
}

/** The aligned base of a load: add_buffer's `_ALIGN(base, max(buf_align, page size))`. */
export function alignedBase(l0: Layout, base: bigint, profile: Profile): bigint {
  return cAlign(base, holeAlign(l0.bufAlign, profile));
}

/** layoutKexecTools() at base 0 moved to the aligned base B (see shiftable); `alloc[i]`: section i is SHF_ALLOC. */
export function shiftLayout(l0: Layout, b: bigint, alloc: readonly boolean[]): Layout {
  return {
    ...l0, base: b, entry: l0.entrySection >= 0 ? u64(l0.entry + b) : l0.entry,
    addr: l0.addr.map((a, i) => (alloc[i] ? u64(a + b) : a)),
  };
}

/**
 * What the loads of one parse share when its layout shifts with the base (shiftable) and no
 * relocation changes what a later one reads (isStatic): the layout at base 0, the image before
 * relocation (its bytes do not depend on the base), and the decoded relocations.
 */
interface Shared {
  layout0: Layout;
  alloc: boolean[];
  /**
   * The parse after applyLayout(layout0, fill), and the relocations that write the same bytes at
   * every base (Relocator.preApply) applied to its image once; each load copies the image.
   */
  template: KtElf;
  fill: number;
  plan: RelocPlan | undefined;
  /** What the template holds of the plan (Relocator.preApply); undefined: a load applies every entry. */
  pre?: PreApplied;
  /** The plan's Relocator, reset for each load (its names and toc come from the template; see reset). */
  applier?: Relocator;
  /** layout0's addresses as u64 halves. */
  addr0: SectionAddresses;
  /** Section addresses of the load in progress (a scratch array: a load is synchronous). */
  addrs: SectionAddresses;
}

/**
 * The parse's Shared, or null when its loads cannot share a layout. Built at its second load (a
 * fresh input, as in a fuzz campaign, is loaded once: building a template would cost it an image).
 */
function sharedOf(p: Parsed, fill: number): Shared | null {
  let s = p.shared;
  if (s === null) return null;
  if (s && s.fill === fill) return s;
  if (p.loads++ === 0) return null;
  const template = instantiate(p.kt);
  if (!shiftable(template.shdrs, template.profile)) return (p.shared = null);
  const layout0 = s?.layout0 ?? layoutKexecTools(template.shdrs, template.entry, 0n, template.profile);
  applyLayout(template, layout0, fill); // throws as every load would (nothing in it depends on the base)
  if (!isStatic(template)) return (p.shared = null);
  const n = template.shdrs.length;
  s = {
    layout0, alloc: template.shdrs.map((x) => (x.flags & SHF_ALLOC) !== 0n), template, fill, plan: s?.plan,
    addr0: addressesOf(template), addrs: { hi: new Float64Array(n), lo: new Float64Array(n) },
  };
  return (p.shared = s);
}

/** One load's result before the symbol writes: the image, the layout, and the load's KtElf, built when asked. */
interface Placed {
  /** The relocations applied, counted by type (the load's log, or the shared plan's count). */
  counted: RelocationLog;
  base: bigint;
  memsz: bigint;
  entry: bigint;
  image: Uint8Array;
  kt: () => KtElf;
  layout: () => Layout;
}

/** Layout, the image and the relocation loop of elf_rel_load(), for one load of a parse; `log` when it is kept. */
function place(p: Parsed, base: bigint, opts: RelocateOptions, log?: RelocationLog): Placed {
  const s = sharedOf(p, opts.fill);
  if (!s) {
    const kt = instantiate(p.kt);
    const layout = layoutKexecTools(kt.shdrs, kt.entry, base, kt.profile);
    applyLayout(kt, layout, opts.fill);
    const counted = log ?? new RelocationLog(false);
    relocate(kt, opts, counted);
    return { counted, base: layout.base, memsz: layout.memsz, entry: layout.entry, image: kt.mem.image, kt: () => kt, layout: () => layout };
  }
  const { template, layout0, alloc, addr0, addrs } = s;
  const b = alignedBase(layout0, base, template.profile);
  const bHi = Number(b >> 32n), bLo = Number(b & 0xffffffffn);
  for (let i = 0; i < alloc.length; i++) {
    const hi = addr0.hi[i]!, lo = addr0.lo[i]!;
    if (!alloc[i]) {
      addrs.hi[i] = hi;
      addrs.lo[i] = lo;
    } else {
      const l = lo + bLo;
      addrs.lo[i] = l >>> 0;
      addrs.hi[i] = (hi + bHi + (l > 0xffffffff ? 1 : 0)) >>> 0;
    }
  }
  const image = template.mem.image.slice(); // one allocation and one copy (cheaper than allocUnsafeSlow + set, measured)
  const mem = template.mem.fresh();
  mem.setImage(image);
  if (!s.plan) {
    s.plan = new RelocPlan(p.relocations);
    const at0 = new Relocator(template, template.mem, addr0, opts.hostAddress, undefined, s.plan); // at base 0
    at0.decode(false);
    s.pre = at0.preApply(); // into the template, which this load copied before
    if (s.pre) image.set(template.mem.image);
  }
  const applier = (s.applier ??= new Relocator(template, mem, addrs, opts.hostAddress, log, s.plan)).reset(mem, b, opts.hostAddress, log);
  if (log?.keep) log.derive(applier.logTemplate(), bHi, bLo);
  // A kept log is derived: the bytes of an entry written once into the template are the template log's.
  if (s.pre && !log) {
    applier.applyOnly(s.pre.rest);
    applier.addBase(s.pre.linear); // (no other entry touches their ranges: the order does not matter)
  } else if (s.pre && log!.derived) applier.applyOnly(s.pre.variant);
  else applier.applyAll();
  let kt: KtElf | undefined;
  let layout: Layout | undefined;
  const layoutOf = () => (layout ??= shiftLayout(layout0, b, alloc));
  return {
    counted: log ?? s.plan.counted(), base: b, memsz: layout0.memsz, entry: layout0.entrySection >= 0 ? u64(layout0.entry + b) : layout0.entry, image,
    layout: layoutOf,
    kt: () => {
      if (!kt) {
        kt = instantiate(template, mem);
        const l = layoutOf();
        for (let i = 0; i < kt.shdrs.length; i++) kt.shdrs[i]!.addr = l.addr[i]!;
      }
      return kt;
    },
  };
}

/**
 * elf_rel_build_load() followed by the symbol writes. Throws LoadError; never exits.
 * The relocation log: `log: true` records it while relocating; by default (log unset) the load
 * records nothing and the first read of `image.relocations` replays the same load, over the same
 * private bytes, with the log on (deterministic: the same parse, base, fill and host address).
 * `image.sections` is computed when first read too; `kt` and `layout` when first asked for.
 */
export function loadKexecTools(bytes: Uint8Array, base: bigint, profile: Profile, opts: RelocateOptions & { symbols?: SymbolWrite[] }): KexecToolsLoad {
  const parsed = parsedOf(snapshotOf(bytes), profile);
  const log = opts.log === true ? new RelocationLog(true, parsed.relocations) : undefined;
  const placed = place(parsed, base, opts, log);
  if (opts.symbols) for (const s of opts.symbols) setSymbol(placed.kt(), s.name, s.bytes);
  const sections = lazyArray(() => {
    const l = placed.layout();
    return parsed.kt.shdrs.map((s, i): LoadedSection => ({
      index: i, name: parsed.names[i]!, addr: l.addr[i]!, size: s.size,
      alloc: (s.flags & SHF_ALLOC) !== 0n, nobits: s.type === SHT_NOBITS,
    }));
  });
  const { base: b, memsz, entry, image: imageBytes } = placed;
  // `sections` and (by default) `relocations` are computed when first read (lazyArray).
  let image: LoadedImage;
  if (opts.log === false) {
    image = { base: b, bytes: imageBytes, memsz, entry, sections, relocations: [], relocationTypes: placed.counted.byType };
  } else if (log) {
    image = { base: b, bytes: imageBytes, memsz, entry, sections, relocations: lazyArray<LoggedRelocation>((into) => log.entries(into), log) };
  } else {
    const replay = { fill: opts.fill, hostAddress: opts.hostAddress };
    image = {
      base: b, bytes: imageBytes, memsz, entry, sections, relocations: lazyArray<LoggedRelocation>((into) => {
        const replayed = new RelocationLog(true, parsed.relocations);
        place(parsed, base, replay, replayed);
        return replayed.entries(into);
      }, placed.counted),
    };
  }
  return new KexecToolsLoad(image, placed);
}
