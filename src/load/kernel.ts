// The Linux kernel's kexec_file purgatory loader (kernel/kexec_file.c) as 5.10, 6.1 and 6.12 behave:
// kexec_load_purgatory → kexec_purgatory_setup_kbuf → kexec_purgatory_setup_sechdrs →
// kexec_apply_relocations (+ the x86_64 arch_kexec_apply_relocations_add, or the generic hooks
// that reject RELA/REL) and kexec_purgatory_get_set_symbol. oracle/kernel/NOTES.md has the
// per-version evidence (file:line) for every rule below.
//
// Stages, as in the kexec-tools model: parse (read the headers in place) → layout (a pure function
// of the section headers, the base and the profile) → entry (pure) → copy → relocate (writes and
// logs every relocation) → symbol writes.
//
// The kernel validates nothing: it reads its embedded blob with host-endian Elf64 structs and
// trusts every offset, size and index. What C would read or write outside the input or the
// purgatory buffer is an `out-of-bounds` rejection here (the live oracle faults on a guard page).
import { cAlign, u64, type ByteView } from '../bytes.ts';
import { LoadError } from '../errors.ts';
import {
  SHF_ALLOC, SHF_EXECINSTR, SHN_ABS, SHN_COMMON, SHN_UNDEF, SHT_NOBITS, SHT_REL, SHT_RELA, SHT_SYMTAB, STB_GLOBAL,
} from '../elf/constants.ts';
import type { ElfSymbol, SectionHeader } from '../elf/reader.ts';
import { KERNEL_PR_FMT, x86_64 } from '../arch/x86_64.ts';
import { R_390, s390x } from '../arch/s390x.ts';
import { riscv64, RISCV_KERNEL_PR_FMT } from '../arch/riscv64.ts';
import { RelocInput, U64, applySpec, type ArchModule } from '../arch/types.ts';
import { CMem, streqIn, type Ptr } from './cmem.ts';
import { RelocationLog } from './relocation-log.ts';
import { shiftable, type LayoutSection } from './kexec-tools.ts';
import { probeResults } from './kexec-tools-details.ts';
import { parseOf, snapshotOf } from './snapshot.ts';
import { lazyArray } from '../lazy-array.ts';
import type { EntryRule, Profile } from './profile.ts';
import type { LoadDetails, LoadedImage, LoadedSection, RejectionCode, RelocationLogEntry, SymbolProbe, SymbolWrite, Where } from '../types.ts';

// ---------------------------------------------------------------------------------------------
// Errors: every rejection carries the kernel's errno (through its code) and exact pr_err text.

export const ENOEXEC = -8;
export const ENOMEM = -12;
export const EINVAL = -22;
export const EADDRNOTAVAIL = -99;

/** kernel/kexec_file.c: `#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt`, KBUILD_MODNAME "kexec_file". */
export const KEXEC_FILE_PR_FMT = 'kexec_file: ';

/** The errno the kernel returns for each rejection code this model produces. */
export const KERNEL_ERRNO: Partial<Record<RejectionCode, number>> = {
  'elf-format': EINVAL, // kexec_purgatory_size <= 0
  unsupported: ENOMEM, // vzalloc() returned NULL
  'no-memory-hole': EADDRNOTAVAIL, // kexec_add_buffer: no RAM range holds memsz
  'bad-section-index': ENOEXEC,
  'undefined-symbol': ENOEXEC,
  'common-symbol': ENOEXEC,
  'unknown-relocation': ENOEXEC,
  overflow: ENOEXEC,
  'symbol-not-found': EINVAL,
  'symbol-size-mismatch': EINVAL,
  'symbol-in-bss': EINVAL,
};

/**
 * The kernel's pr_err texts → the rejection classes the TS codes normalise to (tsRejectionClass),
 * for refRejectionClass(). Silent returns are classified by errno (refRejectionText).
 */
export const KERNEL_MESSAGE_CLASSES: [RegExp, string][] = [
  [/^kexec_file: RELA? relocation unsupported\./, 'unknown-relocation'],
  [/^kexec: Undefined symbol: /, 'undefined-symbol'],
  [/^kexec: symbol '[^]*' in common section/, 'common-symbol'],
  [/^kexec(?:_image)?: Invalid section -?\d+ for symbol /, 'bad-section-index'],
  [/^kexec(?:_image)?: Unknown rela relocation: /, 'unknown-relocation'],
  [/^kexec: Overflow in relocation type /, 'overflow'],
  [/^kexec_file: symbol [^]* size mismatch: expected /, 'symbol-size-mismatch'],
  [/^kexec_file: symbol [^]* is in a bss section\. Cannot (?:get|set)/, 'symbol-in-bss'],
  [/^\(errno -8, no message\)$/, 'bad-section-index'], // relsec sh_info/sh_link >= e_shnum
  [/^\(errno -12, no message\)$/, 'unsupported'], // vzalloc() failed
  [/^\(errno -99, no message\)$/, 'no-memory-hole'], // kexec_add_buffer found no hole
  // kexec_purgatory_find_symbol() returned NULL; also an empty input (kexec_purgatory_size <= 0,
  // code elf-format here), which no class can tell apart: compare errno and text for that one.
  [/^\(errno -22, no message\)$/, 'symbol-not-found'],
];

function fail(code: RejectionCode, message: string, where: Where = {}, detail?: string): never {
  throw new LoadError(code, message, where, detail ? { cause: new Error(detail) } : undefined);
}

// ---------------------------------------------------------------------------------------------
// Parse: the ELF header fields and section headers the kernel reads, in place (no checks).

/** The model machine's RAM (oracle/kernel/harness.c SHIM_TOTALRAM_BYTES): vmalloc refuses more. */
export const MODEL_RAM = 1n << 30n;
const SHDR_SIZE = 64n;
/** The last header address whose 64 bytes do not wrap past 2^64 (field offsets +0..+56, widths to 8). */
const LAST_WHOLE_SHDR = (1n << 64n) - SHDR_SIZE;
const SYM_SIZE = 24n;
const RELA_SIZE = 24n;

export interface KernelElf {
  mem: CMem;
  profile: Profile;
  /** e_shoff, e_shnum as read. */
  shoff: bigint;
  shnum: number;
  /** The original headers at ehdr + e_shoff (the kernel's `sechdrs`), read host-endian; fields past the input read as 0 until checked. */
  sections: SectionHeader[];
  /**
   * findKernelSymbol's answers by name, when kept (loadKernel keeps them for its parse of a private
   * copy, which nothing writes; a search that throws is not kept).
   */
  found?: Map<string, ElfSymbol | undefined>;
}

/**
 * A checked read of the input: the kernel reads it in place, so outside it is out-of-bounds (CMem's
 * rejection). `what` and `where` may be functions: they are built only for that rejection.
 */
function rd(k: { mem: CMem }, off: bigint, width: 1 | 2 | 4 | 8, what: string | (() => string), where?: Where | (() => Where)): bigint {
  const o = u64(off);
  if (o + BigInt(width) > BigInt(k.mem.file.length)) outOfInput(k.mem, o, width, what, where);
  const view = k.mem.fileView;
  const n = Number(o);
  switch (width) {
    case 1: return BigInt(view.u8(n));
    case 2: return BigInt(view.u16(n));
    case 4: return BigInt(view.u32(n));
    case 8: return view.u64(n);
  }
}

/** The rejection for a read of [off, off + len) of the input that does not fit in it: CMem's, with its message and `where`. */
function outOfInput(mem: CMem, off: bigint, len: number | bigint, what: string | (() => string), where?: Where | (() => Where)): never {
  mem.check({ buf: 'file', off }, len, typeof what === 'string' ? what : what(), typeof where === 'function' ? where() : where);
  throw new Error(`kernel model: read of ${len} bytes at input offset ${off} is in bounds after all (internal)`);
}

/** The kernel's host byte order for a target: it reads its own embedded blob as native structs. */
function hostEndian(profile: Profile) {
  return profile.storeEndian;
}

export function parseKernel(bytes: Uint8Array, profile: Profile): KernelElf {
  const e = hostEndian(profile);
  const mem = new CMem(bytes, e, e, false); // the kernel never writes its input: every store here goes to the purgatory buffer
  const k = { mem };
  const shoff = rd(k, 0x28n, 8, 'e_shoff');
  const shnum = Number(rd(k, 0x3cn, 2, 'e_shnum'));
  // Decoded without checks: the loader reads these fields one by one (kbufReads() checks what
  // setup_kbuf reads, then the whole table is checked where setup_sechdrs copies it).
  const field = (at: bigint, width: 2 | 4 | 8): bigint => {
    const o = u64(at);
    if (o + BigInt(width) > BigInt(bytes.length)) return 0n;
    const v = mem.fileView;
    return width === 8 ? v.u64(Number(o)) : BigInt(width === 4 ? v.u32(Number(o)) : v.u16(Number(o)));
  };
  const sections: SectionHeader[] = [];
  const size = BigInt(bytes.length);
  /** A header wholly past the end of the input: every field reads as 0 through field(). */
  const zero = (index: number, hdrOffset: number): SectionHeader => ({
    index, name: 0, type: 0, flags: 0n, addr: 0n, offset: 0n, size: 0n, link: 0, info: 0, addralign: 0n, entsize: 0n, hdrOffset,
  });
  if (shoff >= size && shoff + BigInt(shnum) * SHDR_SIZE <= LAST_WHOLE_SHDR + SHDR_SIZE) {
    // The whole table lies past the end and no field offset wraps (an ELF32 header read as
    // Elf64 can claim tens of thousands of headers): no per-field reads. hdrOffset is the low 48
    // bits of shoff + 64·i, exact in a double (< 2^48 + 2^22).
    const low = Number(shoff & 0xffffffffffffn);
    for (let i = 0; i < shnum; i++) sections.push(zero(i, (low + i * 64) % 2 ** 48));
    return { mem, profile, shoff, shnum, sections };
  }
  if (shoff + BigInt(shnum) * SHDR_SIZE <= size) {
    // The whole table lies in the input: each field read in place, at an exact number offset.
    const v = mem.fileView;
    for (let i = 0, o = Number(shoff); i < shnum; i++, o += 64) {
      sections.push({
        index: i, name: v.u32(o), type: v.u32(o + 4), flags: v.u64(o + 8), addr: v.u64(o + 16), offset: v.u64(o + 24), size: v.u64(o + 32),
        link: v.u32(o + 40), info: v.u32(o + 44), addralign: v.u64(o + 48), entsize: v.u64(o + 56), hdrOffset: o,
      });
    }
    return { mem, profile, shoff, shnum, sections };
  }
  for (let i = 0; i < shnum; i++) {
    const h = u64(shoff + BigInt(i) * SHDR_SIZE);
    if (h >= size && h <= LAST_WHOLE_SHDR) {
      sections.push(zero(i, Number(h & 0xffffffffffffn)));
      continue;
    }
    sections.push({
      index: i, name: Number(field(h, 4)), type: Number(field(h + 4n, 4)), flags: field(h + 8n, 8), addr: field(h + 16n, 8),
      offset: field(h + 24n, 8), size: field(h + 32n, 8), link: Number(field(h + 40n, 4)), info: Number(field(h + 44n, 4)),
      addralign: field(h + 48n, 8), entsize: field(h + 56n, 8), hdrOffset: Number(h & 0xffffffffffffn),
    });
  }
  return { mem, profile, shoff, shnum, sections };
}

/**
 * The header fields kexec_purgatory_setup_kbuf reads, in its order: sh_flags of every section;
 * sh_addralign, sh_type, sh_size of SHF_ALLOC ones. `sh_flags & SHF_ALLOC` compiles to a test of
 * the flags' low byte (gcc -O2: `testb $0x2, 8(hdr)`), so only that byte is read.
 */
function kbufReads(k: KernelElf): void {
  const size = BigInt(k.mem.file.length);
  // Each read either fits in the input or is the out-of-bounds rejection rd() makes.
  const need = (i: number, at: bigint, width: 1 | 4 | 8, field: string) => {
    if (u64(at) + BigInt(width) > size) rd(k, at, width, `sechdrs[${i}].${field}`, { section: i });
  };
  for (let i = 0; i < k.sections.length; i++) {
    const h = u64(k.shoff + BigInt(i) * SHDR_SIZE);
    need(i, h + 8n, 1, 'sh_flags');
    if (!(k.sections[i]!.flags & SHF_ALLOC)) continue;
    need(i, h + 48n, 8, 'sh_addralign');
    need(i, h + 4n, 4, 'sh_type');
    need(i, h + 32n, 8, 'sh_size');
  }
}

/** kexec_purgatory_setup_sechdrs: memcpy(sechdrs, ehdr + e_shoff, e_shnum * sizeof(Elf_Shdr)). */
function sechdrsCopy(k: KernelElf): void {
  if (k.shnum) k.mem.check({ buf: 'file', off: k.shoff }, BigInt(k.shnum) * SHDR_SIZE, 'the section header table (memcpy to pi->sechdrs)');
}

// ---------------------------------------------------------------------------------------------
// Layout: kexec_purgatory_setup_kbuf + kexec_add_buffer + the address part of setup_sechdrs.

export interface KernelLayoutSection extends LayoutSection {
  offset: bigint;
}

export interface KernelLayout {
  /** kbuf->mem: ALIGN(base, max(buf_align, PAGE_SIZE)). */
  mem: bigint;
  /** kbuf->bufsz: the non-NOBITS sections, padded up to the bss alignment. */
  bufsz: bigint;
  /** kbuf->memsz after kexec_add_buffer: ALIGN(bufsz + bss_sz, PAGE_SIZE). */
  memsz: bigint;
  /** kbuf->buf_align before kexec_add_buffer raises it to PAGE_SIZE. */
  bufAlign: bigint;
  bssAlign: bigint;
  bssSz: bigint;
  /** sh_addr of the laid-out copy (pi->sechdrs): new for SHF_ALLOC sections, original otherwise. */
  addr: bigint[];
  /** sh_offset of the laid-out copy: the buffer offset for non-NOBITS SHF_ALLOC sections, the file offset otherwise. */
  offset: bigint[];
}

const isAlloc = (s: LayoutSection) => (s.flags & SHF_ALLOC) !== 0n;

/**
 * A pure function of the section headers, the requested base and PAGE_SIZE. sh_addralign 0 is used
 * as is: ALIGN(x, 0) == 0, unless `alignZeroAsOne` (the profile with that quirk fixed).
 */
export function layoutKernel(sections: readonly KernelLayoutSection[], base: bigint, pageSize: bigint, alignZeroAsOne = false): KernelLayout {
  const alignOf = (s: LayoutSection): bigint => (alignZeroAsOne && s.addralign === 0n ? 1n : s.addralign);
  // kexec_purgatory_setup_kbuf
  let bufAlign = 1n, bssAlign = 1n, bufsz = 0n, bssSz = 0n;
  for (const s of sections) {
    if (!isAlloc(s)) continue;
    const a = alignOf(s);
    if (s.type !== SHT_NOBITS) {
      if (bufAlign < a) bufAlign = a;
      bufsz = u64(cAlign(bufsz, a) + s.size);
    } else {
      if (bssAlign < a) bssAlign = a;
      bssSz = u64(cAlign(bssSz, a) + s.size);
    }
  }
  bufsz = cAlign(bufsz, bssAlign); // the buffer itself is padded to the bss alignment (kexec-tools: bss_pad only in rel_size)
  const memsz0 = u64(bufsz + bssSz);
  if (bufAlign < bssAlign) bufAlign = bssAlign;
  // kexec_add_buffer, then the model machine's bottom-up hole search from the requested base.
  const memsz = cAlign(memsz0, pageSize);
  const mem = cAlign(base, bufAlign > pageSize ? bufAlign : pageSize);
  // kexec_purgatory_setup_sechdrs
  const addr: bigint[] = [];
  const offset: bigint[] = [];
  let off = 0n;
  let bssAddr = u64(mem + bufsz);
  for (const s of sections) {
    if (!isAlloc(s)) { addr.push(s.addr); offset.push(s.offset); continue; }
    if (s.type === SHT_NOBITS) {
      bssAddr = cAlign(bssAddr, alignOf(s)); // sh_addralign 0: sh_addr = 0, absolute
      addr.push(bssAddr);
      offset.push(s.offset); // NOBITS keep their file offset
      bssAddr = u64(bssAddr + s.size);
      continue;
    }
    off = cAlign(off, alignOf(s)); // sh_addralign 0: back to offset 0
    addr.push(u64(mem + off));
    offset.push(off);
    off = u64(off + s.size);
  }
  return { mem, bufsz, memsz, bufAlign, bssAlign, bssSz, addr, offset };
}

/**
 * layoutKernel() at base 0 moved to `base`, for sections whose SHF_ALLOC alignments are powers of
 * two (kexec-tools' shiftable(), the same rule): kbuf->mem is ALIGN(base, max(buf_align, PAGE_SIZE)),
 * a multiple of every such alignment, so each ALIGN(mem + x, a) is mem + ALIGN(x, a) mod 2^64 and
 * every SHF_ALLOC sh_addr moves by mem; sizes and buffer offsets do not depend on the base.
 */
export function shiftKernelLayout(l0: KernelLayout, alloc: readonly boolean[], base: bigint, pageSize: bigint): KernelLayout {
  const mem = cAlign(base, l0.bufAlign > pageSize ? l0.bufAlign : pageSize);
  return { ...l0, mem, addr: l0.addr.map((a, i) => (alloc[i] ? u64(a + mem) : a)) };
}

/** purgatory_start as kexec_purgatory_find_symbol found it: its section index and value. */
export interface EntrySymbol {
  shndx: number;
  value: bigint;
}

/**
 * image->start (kexec_purgatory_setup_sechdrs). `sections` are the original headers (the checks
 * use the original sh_addr); offsets are the layout's. Pure.
 */
export function kernelEntry(sections: readonly LayoutSection[], eEntry: bigint, lay: KernelLayout, rule: EntryRule, entrySym?: EntrySymbol): bigint {
  let start = eEntry;
  let fixed = false;
  for (let i = 0; i < sections.length; i++) {
    const s = sections[i]!;
    if (!isAlloc(s) || s.type === SHT_NOBITS) continue;
    const exec = (s.flags & SHF_EXECINSTR) !== 0n;
    const contains = exec && eEntry >= s.addr && eEntry < u64(s.addr + s.size);
    const moved = u64(u64(start - s.addr) + lay.mem + lay.offset[i]!);
    if (rule === 'exec-rematch') {
      // 5.10: `!WARN_ON(image->start != e_entry)`: re-matched while start still equals e_entry.
      if (contains && start === eEntry) start = moved;
      continue;
    }
    if (rule === 'first-exec') throw new Error(`kernelEntry: rule ${rule} is kexec-tools' (internal)`);
    // 6.1 / 6.12: the first qualifying section in index order fixes the entry.
    if (!fixed && entrySym && i === entrySym.shndx && exec && entrySym.value < s.size) {
      start = u64(lay.mem + lay.offset[i]! + entrySym.value);
      fixed = true;
    }
    if (!fixed && contains && start === eEntry) {
      start = moved;
      fixed = true;
    }
  }
  return start;
}

// ---------------------------------------------------------------------------------------------
// Symbols: kexec_purgatory_find_symbol, kexec_purgatory_get_set_symbol.

function readSym(k: KernelElf, at: bigint, index: number, where: Where | (() => Where)): ElfSymbol {
  const o = u64(at);
  if (o + SYM_SIZE > BigInt(k.mem.file.length)) outOfInput(k.mem, o, SYM_SIZE, `symbol ${index}`, where);
  return decodeSym(k.mem.fileView, Number(o), index);
}

function decodeSym(view: ByteView, off: number, index: number): ElfSymbol {
  const info = view.u8(off + 4);
  return {
    index, name: view.u32(off), info, other: view.u8(off + 5), shndx: view.u16(off + 6),
    value: view.u64(off + 8), size: view.u64(off + 16), bind: info >> 4, stype: info & 0xf,
  };
}


/**
 * The first STB_GLOBAL symbol named `name` in the first SHT_SYMTAB (with sh_link < e_shnum) that
 * has one; undefined when there is none or when that first match has st_shndx UNDEF or >= e_shnum
 * (the kernel returns NULL without looking further).
 */
export function findKernelSymbol(k: KernelElf, name: string): ElfSymbol | undefined {
  if (!k.found) return searchSymbol(k, name);
  let sym = k.found.get(name);
  if (sym === undefined && !k.found.has(name)) k.found.set(name, (sym = searchSymbol(k, name)));
  return sym;
}

function searchSymbol(k: KernelElf, name: string): ElfSymbol | undefined {
  const where: Where = { symbol: name };
  const b = k.mem.file;
  const size = b.length;
  const view = k.mem.fileView;
  for (const s of k.sections) {
    if (s.type !== SHT_SYMTAB) continue;
    if (s.link >= k.shnum) continue; // invalid strtab section number
    const strtab = k.sections[s.link]!.offset;
    // A string table offset below 2^52: name offsets (u32) add to it exactly, with no wrap.
    const strtabN = strtab < 1n << 52n ? Number(strtab) : -1;
    const n = s.size / SYM_SIZE;
    // The entries lie at sh_offset + 24·i mod 2^64; the loop stops at the first one past the end
    // of the input, so while it runs their offsets are exact numbers.
    if (n > 0n && s.offset + SYM_SIZE > BigInt(size)) outOfInput(k.mem, s.offset, SYM_SIZE, 'symbol 0', where);
    const count = Number(n); // rounded when huge: the loop ends at the end of the input long before
    for (let i = 0, off = Number(s.offset); i < count; i++, off += 24) {
      if (off + 24 > size) outOfInput(k.mem, BigInt(off), SYM_SIZE, `symbol ${i}`, where);
      if (view.u8(off + 4) >> 4 !== STB_GLOBAL) continue;
      const so = strtabN < 0 ? -1 : strtabN + view.u32(off);
      // strcmp(ehdr + sh_offset + st_name, name), reading only as far as strcmp would
      const match = so >= 0 && so + name.length + 1 <= size ? streqIn(b, so, name)
        : k.mem.streq({ buf: 'file', off: u64(strtab + BigInt(view.u32(off))) }, name, 'a symbol name (strcmp)', where);
      if (!match) continue;
      const sym = decodeSym(view, off, i);
      if (sym.shndx === SHN_UNDEF || sym.shndx >= k.shnum) return undefined;
      return sym;
    }
  }
  return undefined;
}

/**
 * kexec_purgatory_get_set_symbol up to its memcpy: where the symbol's `size` bytes are in the
 * purgatory buffer (purgatory_buf + sec->sh_offset + st_value: no bounds check, no SHF_ALLOC
 * check), or the getter's rejection. `get` only changes the bss message ("Cannot get"/"Cannot set").
 */
function kernelSymbolAt(k: KernelElf, lay: KernelLayout, name: string, size: number, get: boolean): { at: Ptr; where: Where } {
  const where: Where = { symbol: name };
  const sym = findKernelSymbol(k, name);
  if (!sym) fail('symbol-not-found', '', where, `kexec_purgatory_find_symbol("${name}") returned NULL: -EINVAL, no message`);
  if (sym.size !== BigInt(size)) {
    fail('symbol-size-mismatch', `${KEXEC_FILE_PR_FMT}symbol ${name} size mismatch: expected ${sym.size} actual ${size}\n`, where);
  }
  if (k.sections[sym.shndx]!.type === SHT_NOBITS) {
    fail('symbol-in-bss', `${KEXEC_FILE_PR_FMT}symbol ${name} is in a bss section. Cannot ${get ? 'get' : 'set'}\n`, where);
  }
  return { at: { buf: 'image', off: u64(lay.offset[sym.shndx]! + sym.value) }, where: { ...where, section: sym.shndx } };
}

/** kexec_purgatory_get_set_symbol(..., get_value = false). */
export function setKernelSymbol(k: KernelElf, lay: KernelLayout, name: string, bytes: Uint8Array): void {
  const { at, where } = kernelSymbolAt(k, lay, name, bytes.length, false);
  if (bytes.length === 0) return; // memcpy of 0 bytes touches nothing
  k.mem.image.set(bytes, k.mem.check(at, bytes.length, `symbol ${name}`, where));
}

/** kexec_purgatory_get_set_symbol(..., get_value = true): the `size` bytes read. */
export function getKernelSymbol(k: KernelElf, lay: KernelLayout, name: string, size: number): Uint8Array {
  const { at, where } = kernelSymbolAt(k, lay, name, size, true);
  if (size === 0) return new Uint8Array(0);
  const off = k.mem.check(at, size, `symbol ${name}`, where);
  return k.mem.image.slice(off, off + size);
}

/**
 * The details of a kernel load (oracle/PROTOCOL.md, FLAG_DETAILS): kbuf after kexec_add_buffer
 * (memsz page-rounded, buf_align raised to PAGE_SIZE; the window is the caller's, oracle/kernel
 * harness.c: 0, ULONG_MAX, top-down), e_entry (the kernel never changes it), and each probe read
 * back with the getter after the symbol writes.
 */
export function kernelDetails(k: KernelElf, lay: KernelLayout, eEntry: bigint, probes: readonly SymbolProbe[]): LoadDetails {
  const page = k.profile.pageSize;
  return {
    memsz: lay.memsz, bufAlign: lay.bufAlign > page ? lay.bufAlign : page, bufMin: 0n, bufMax: u64(-1n), bufEnd: -1, eEntry,
    probes: probeResults(probes, (name, size) => getKernelSymbol(k, lay, name, size)),
  };
}

// ---------------------------------------------------------------------------------------------
// Relocate: kexec_apply_relocations and the arch hooks.

export interface RelocateKernelOptions {
  /** Record every relocation applied (default on). */
  log?: boolean;
}

interface HookArgs {
  k: KernelElf;
  lay: KernelLayout;
  /** Index of the relocation section and its original header. */
  ri: number;
  relsec: SectionHeader;
  /** The target section (its index; the laid-out copy is lay.addr/lay.offset). */
  target: number;
  symtab: SectionHeader;
  log: RelocationLog | undefined;
  /** The symbol entries read for this relocation section (a parse keeps them for all its loads: the input is never written). */
  syms: SymEntry[];
  /** This load's number: a SymEntry's val is this load's when its stamp is. */
  stamp: number;
}

type Hook = (a: HookArgs) => void;

/** include/linux/kexec.h: the generic arch_kexec_apply_relocations_add (no arch hook: ppc64). */
const genericRela: Hook = ({ ri }) => fail('unknown-relocation', `${KEXEC_FILE_PR_FMT}RELA relocation unsupported.\n`, { relSection: ri });
/** include/linux/kexec.h: the generic arch_kexec_apply_relocations (no arch defines a REL hook). */
const genericRel: Hook = ({ ri }) => fail('unknown-relocation', `${KEXEC_FILE_PR_FMT}REL relocation unsupported.\n`, { relSection: ri });

/** The `where` of a relocation's rejections once its r_offset is read. */
const relWhere = (relSection: number, relIndex: number, section: number, offset: U64): Where => ({ relSection, relIndex, section, offset: offset.big() });

/** The symbol table entry `symIndex` and where its name is, as the relocation loop reads them. */
function readSymEntry(k: KernelElf, symtab: SectionHeader, strtab: bigint, shstrtab: bigint, symIndex: number,
  ri: number, relIndex: number, target: number, rOffset: U64, names = true): SymEntry {
  const where = () => relWhere(ri, relIndex, target, rOffset);
  const sym = readSym(k, symtab.offset + BigInt(symIndex) * SYM_SIZE, symIndex, where);
  if (!names) return { sym, val: new U64(), stamp: 0 };
  // name = st_name ? strtab + st_name : shstrtab + sechdrs[st_shndx].sh_name: the sh_name load is
  // kept by the compiler even when the name is never printed (checked live: SHN_ABS faults).
  const namePtr: Ptr = sym.name
    ? { buf: 'file', off: u64(strtab + BigInt(sym.name)) }
    : { buf: 'file', off: u64(shstrtab + rd(k, k.shoff + BigInt(sym.shndx) * SHDR_SIZE, 4, () => `sechdrs[${sym.shndx}].sh_name`, where)) };
  return { sym, namePtr, val: new U64(), stamp: 0 };
}

/** The name as pr_err("%s") reads it: running off the input is a fault. */
function printed(name: string | null, symIndex: number, where: Where): string {
  if (name === null) fail('out-of-bounds', `C loader would read the name of symbol ${symIndex} past the input (pr_err %s; undefined behaviour)`, where);
  return name;
}

const noToc = (): U64 => {
  throw new Error('the kernel hooks have no TOC (internal)');
};

/** A symbol table entry as archRela uses it: the symbol, where its name is (undefined: the hook reads no name), and the name once read. */
interface SymEntry {
  sym: ElfSymbol;
  namePtr?: Ptr;
  /** The name decoded as UTF-8; null when it runs off the input; undefined until read. */
  name?: string | null;
  /** st_value + sec_base (u64) of the load numbered `stamp`, once its section index has been checked there. */
  val: U64;
  stamp: number;
}

/**
 * What differs between the arch hooks (arch_kexec_apply_relocations_add) the kernel compiles: one
 * row per arch and version range. The loop itself is the same in all of them (it was copied from
 * x86 to s390 to riscv): read the symbol (and where its name is), check its section index, compute
 * val = st_value + sec_base + r_addend and addr = sh_addr + r_offset, then the arch's switch.
 */
export interface RelaHookSpec {
  arch: ArchModule;
  /** The hook file's pr_fmt. */
  prFmt: string;
  /** Reads strtab, shstrtab and each symbol's name for its messages (s390 5.10 prints nothing and reads neither). */
  names: boolean;
  /** Rejects SHN_UNDEF and SHN_COMMON symbols (riscv checks neither: an undefined symbol gets sechdrs[0].sh_addr). */
  undefCommonChecks: boolean;
  /** The hook's caller maps a type before the arch switch (s390 6.1+: PLT32DBL → PC32DBL). */
  mapType?: (type: number) => number;
  /** The unknown-type message when the hook's pr_fmt is not the arch module's (s390 5.10 has none). */
  unknownMessage?: (type: number) => string;
}

/**
 * - x86_64: arch/x86/kernel/machine_kexec_64.c (5.10:427-542, 6.1:425-540, 6.12:422-537), the
 *   same in all three.
 * - s390x: arch/s390/kernel/machine_kexec_file.c + arch_kexec_do_relocs in machine_kexec_reloc.c.
 *   5.10 (:282-331) returns -ENOEXEC with no message for UNDEF/COMMON/invalid symbols and has no
 *   PLT32DBL mapping; 6.1 (:299-371) and 6.12 (:309-381) print x86's messages and map PLT32DBL to PC32DBL.
 * - riscv64: arch/riscv/kernel/elf_kexec.c (6.1:365-470, 6.12:372-480): no UNDEF/COMMON check,
 *   pr_fmt "kexec_image: ".
 * - ppc64/ppc64le: none (the generic hook rejects every RELA section).
 */
export function relaHookFor(profile: Profile): RelaHookSpec | undefined {
  // Which revision of a hook that changed between versions (profile.ts; never the version itself).
  const rev = profile.sem.hookRevision ?? 2;
  switch (profile.target) {
    case 'x86_64': return { arch: x86_64, prFmt: KERNEL_PR_FMT, names: true, undefCommonChecks: true };
    // 5.10's machine_kexec_file.c has no pr_fmt: its one message is bare.
    case 's390x': return rev === 1
      ? { arch: s390x, prFmt: '', names: false, undefCommonChecks: true, unknownMessage: (t) => `Unknown rela relocation: ${t | 0}\n` }
      : { arch: s390x, prFmt: KERNEL_PR_FMT, names: true, undefCommonChecks: true, mapType: (t) => (t === R_390.PLT32DBL ? R_390.PC32DBL : t) };
    case 'riscv64': return { arch: riscv64, prFmt: RISCV_KERNEL_PR_FMT, names: true, undefCommonChecks: false };
    default: return undefined;
  }
}

/**
 * The arch hook's loop (see RelaHookSpec).
 *
 * The kernel never writes its input: every store here and in loadKernel/setKernelSymbol is to the
 * purgatory buffer ('image'). So a symbol table entry, the sh_name read for an unnamed one and its
 * name are read once per entry and reused by later relocations that name it (a read that succeeded
 * once succeeds again). Every read and store is bounds-checked inline; outside its buffer it is
 * CMem's out-of-bounds rejection, with the message and `where` the per-access CMem calls made.
 */
function archRela(spec: RelaHookSpec): Hook {
  const { arch, prFmt } = spec;
  return ({ k, lay, ri, relsec, target, symtab, log, syms, stamp }) => {
  const { mem, profile } = k;
  const sem = profile.sem;
  // strtab = ehdr + sechdrs[symtab->sh_link].sh_offset; shstrtab = ehdr + sechdrs[e_shstrndx].sh_offset:
  // both headers are read here, unconditionally (checked live: a bad e_shstrndx faults).
  const strtab = k.sections[symtab.link]!.offset;
  const shstrtab = spec.names ? rd(k, k.shoff + rd(k, 0x3en, 2, 'e_shstrndx', { relSection: ri }) * SHDR_SIZE + 24n, 8, 'sechdrs[e_shstrndx].sh_offset', { relSection: ri }) : 0n;
  const secOffset = U64.of(lay.offset[target]!);
  const secAddr = U64.of(lay.addr[target]!);
  const n = relsec.size / RELA_SIZE;
  const fileSize = mem.file.length;
  const imageSize = mem.image.length;
  const bufsz = Number(lay.bufsz);
  const fv = mem.fileView;
  const little = fv.little;
  const nameOf = (e: SymEntry): string | null => {
    if (e.namePtr === undefined) return '';
    if (e.name === undefined) {
      const s = mem.cstring(e.namePtr);
      e.name = s === undefined ? null : utf8(s);
    }
    return e.name;
  };
  let cur: SymEntry | undefined;
  /** The current relocation's symbol name for messages and the log: `<name@off>` when it runs off the input. */
  const symName = (): string => nameOf(cur!) ?? `<name@${cur!.namePtr!.off}>`;
  /** A symbol rejection: pr_err(prFmt + text(name)), or the bare -ENOEXEC of a hook that prints nothing. */
  const symbolFail = (code: RejectionCode, e: SymEntry, symIndex: number, where: Where, text: (name: string) => string): never => {
    if (!spec.names) fail('bad-section-index', '', where, `${code}: -ENOEXEC, no message (this ${arch.arch} hook prints nothing)`);
    const nm = printed(nameOf(e), symIndex, where);
    fail(code, `${prFmt}${text(nm)}`, { ...where, symbol: nm });
  };
  const r = new RelocInput(mem.imageStore, 0, sem, symName, noToc);
  // r_offset and r_addend of the relocation in hand, and its location (sh_offset + r_offset), as u64 halves.
  const rOffset = new U64();
  const addend = new U64();
  const loc = new U64();
  // The entries lie at sh_offset + 24·j mod 2^64. The loop stops at the first one that does not
  // fit in the input, so while it runs they are in the input and their offsets are exact numbers.
  const first = relsec.offset;
  if (n > 0n && first + RELA_SIZE > BigInt(fileSize)) outOfInput(mem, first, 24, 'relocation 0', { relSection: ri, relIndex: 0, section: target });
  const count = Number(n); // rounded when huge: the loop ends at the end of the input long before
  const start = Number(first);
  for (let relIndex = 0; relIndex < count; relIndex++) {
    const o = start + relIndex * 24;
    if (o + 24 > fileSize) outOfInput(mem, BigInt(o), 24, `relocation ${relIndex}`, { relSection: ri, relIndex, section: target });
    let symIndex: number, rawType: number;
    if (little) {
      rOffset.lo = fv.u32(o); rOffset.hi = fv.u32(o + 4);
      rawType = fv.u32(o + 8); symIndex = fv.u32(o + 12);
      addend.lo = fv.u32(o + 16); addend.hi = fv.u32(o + 20);
    } else {
      rOffset.hi = fv.u32(o); rOffset.lo = fv.u32(o + 4);
      symIndex = fv.u32(o + 8); rawType = fv.u32(o + 12);
      addend.hi = fv.u32(o + 16); addend.lo = fv.u32(o + 20);
    }
    let e = syms[symIndex]; // (a sparse array: st_info's symbol index is below 2^32)
    if (!e) syms[symIndex] = e = readSymEntry(k, symtab, strtab, shstrtab, symIndex, ri, relIndex, target, rOffset, spec.names);
    cur = e;
    const sym = e.sym;
    if (spec.undefCommonChecks && sym.shndx === SHN_UNDEF) symbolFail('undefined-symbol', e, symIndex, relWhere(ri, relIndex, target, rOffset), (nm) => `Undefined symbol: ${nm}\n`);
    if (spec.undefCommonChecks && sym.shndx === SHN_COMMON) symbolFail('common-symbol', e, symIndex, relWhere(ri, relIndex, target, rOffset), (nm) => `symbol '${nm}' in common section\n`);
    // val = st_value + sec_base (0 for SHN_ABS; sechdrs[st_shndx].sh_addr), once per symbol and load.
    if (e.stamp !== stamp) {
      if (sym.shndx !== SHN_ABS && sym.shndx >= k.shnum) symbolFail('bad-section-index', e, symIndex, relWhere(ri, relIndex, target, rOffset), (nm) => `Invalid section ${sym.shndx} for symbol ${nm}\n`);
      e.val.setBig(sym.value + (sym.shndx === SHN_ABS ? 0n : lay.addr[sym.shndx]!));
      e.stamp = stamp;
    }
    const value = r.value.from(e.val).add(addend);
    const type = spec.mapType ? spec.mapType(rawType) : rawType;
    const rs = arch.classify(type, sem);
    if (!rs) fail('unknown-relocation', spec.unknownMessage ? spec.unknownMessage(type) : arch.unknownMessage(type, sem), { ...relWhere(ri, relIndex, target, rOffset), relocation: arch.typeName(type), symbol: symName() });
    const address = r.address.from(secAddr).add(rOffset);
    if (rs.width === 0) {
      log?.addBig(ri, relIndex, target, rOffset.big(), address.big(), type, rs.name, symName(), symIndex, addend.big(), value.big(), -1, 0, mem.image, 0);
      continue;
    }
    // *(purgatory_buf + sh_offset + r_offset): the store's bounds, as CMem.store checks them.
    loc.from(secOffset).add(rOffset);
    if (loc.hi !== 0 || loc.lo + rs.width > imageSize) {
      mem.store({ buf: 'image', off: loc.big() }, rs.width, `${rs.name} location (purgatory_buf + sh_offset + r_offset)`, { ...relWhere(ri, relIndex, target, rOffset), relocation: rs.name });
      throw new Error(`kernel model: store of ${rs.width} bytes at image offset ${loc.big()} is in bounds after all (internal)`);
    }
    const off = loc.lo;
    const view = mem.imageStore;
    r.view = view;
    r.off = off;
    r.symOther = sym.other;
    // The log's value and P, read before compute (which may use r.value as scratch).
    const valueBig = log ? value.big() : 0n;
    const addressBig = log ? address.big() : 0n;
    applySpec(rs, r, view, off);
    if (log) {
      const inImage = off + rs.width <= bufsz;
      log.addBig(ri, relIndex, target, rOffset.big(), addressBig, type, rs.name, symName(), symIndex, addend.big(), valueBig,
        inImage ? off : -1, rs.width, mem.image, off);
    }
  }
  };
}

/** printk copies the name's bytes; messages are text decoded as UTF-8 (oracle/PROTOCOL.md), so decode them the same way. */
const decoder = new TextDecoder();
/** Bytes (as a latin1 string) decoded as UTF-8, as the oracle's messages are; ASCII needs no work. */
function utf8(latin1: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(latin1)) return latin1;
  return decoder.decode(Uint8Array.from(latin1, (c) => c.charCodeAt(0)));
}

const relaHooks = new WeakMap<Profile, Hook>();
/** The arch hooks compiled into a kernel for this target (built once per profile). */
function hooksFor(profile: Profile): { rela: Hook; rel: Hook } {
  let rela = relaHooks.get(profile);
  if (!rela) {
    const spec = relaHookFor(profile);
    relaHooks.set(profile, (rela = spec ? archRela(spec) : genericRela));
  }
  return { rela, rel: genericRel };
}

/** kexec_apply_relocations: over the original headers, in index order; the first error stops the load. */
export function relocateKernel(k: KernelElf, lay: KernelLayout, opts: RelocateKernelOptions = {}): RelocationLogEntry[] {
  const log = opts.log === false ? undefined : new RelocationLog(true);
  applyRelocations(k, lay, log);
  return log?.entries() ?? [];
}

/** Loads so far: each gets its own number (HookArgs.stamp). */
let loadStamp = 0;

/**
 * relocateKernel() recording into `log` (nothing when undefined). `syms`: the symbol entries read
 * so far for each relocation section, when the caller keeps them for later loads of the same bytes.
 */
function applyRelocations(k: KernelElf, lay: KernelLayout, log: RelocationLog | undefined, syms = new Map<number, SymEntry[]>()): void {
  const hooks = hooksFor(k.profile);
  const stamp = ++loadStamp;
  for (let ri = 0; ri < k.shnum; ri++) {
    const relsec = k.sections[ri]!;
    if (relsec.type !== SHT_RELA && relsec.type !== SHT_REL) continue;
    // `>=`: e_shnum itself is out of range (kexec-tools: `>`); -ENOEXEC, no message.
    if (relsec.info >= k.shnum || relsec.link >= k.shnum) {
      fail('bad-section-index', '', { relSection: ri }, `relocation section ${ri}: sh_info ${relsec.info} or sh_link ${relsec.link} >= e_shnum ${k.shnum}: -ENOEXEC, no message`);
    }
    const target = relsec.info;
    const symtab = k.sections[relsec.link]!;
    if (!(k.sections[target]!.flags & SHF_ALLOC)) continue;
    if (symtab.link >= k.shnum) continue; // invalid strtab section number? skipped silently
    let sectionSyms = syms.get(ri);
    if (!sectionSyms) syms.set(ri, (sectionSyms = []));
    const args: HookArgs = { k, lay, ri, relsec, target, symtab, log, syms: sectionSyms, stamp };
    if (relsec.type === SHT_RELA) hooks.rela(args);
    else hooks.rel(args);
  }
}

// ---------------------------------------------------------------------------------------------

export interface KernelLoadOptions extends RelocateKernelOptions {
  symbols?: SymbolWrite[];
  /** Read back after the symbol writes: the image then carries the load's details (kernelDetails). */
  probes?: readonly SymbolProbe[];
}

export interface KernelLoad {
  /**
   * The model's state during the load: the parse of a private copy of the caller's bytes, shared by
   * every load of the same bytes under the same profile; its CMem's purgatory buffer serves later
   * loads (see scratchImage), so read k.mem.image before the next load.
   */
  k: KernelElf;
  layout: KernelLayout;
  image: LoadedImage;
}

/** vmalloc's refusals (mm/vmalloc.c __vmalloc_node_range): size 0, and more than the machine's RAM. */
function vzallocFails(size: bigint, pageSize: bigint): boolean {
  const pages = cAlign(size, pageSize);
  return size === 0n || pages === 0n || pages > MODEL_RAM;
}

/** Working buffers up to this size are reused from load to load (larger ones are allocated each time). */
const SCRATCH_MAX = 1 << 20;
let scratch = new Uint8Array(0);

/**
 * The purgatory buffer a load works in: zeroed (vzalloc), or a copy of `from` (a parse's buffer
 * before relocation). `own`: a new array, which the load returns as its image (bufsz is the whole
 * buffer: no page tail absorbs writes past it). Otherwise loads run one at a time and return a copy
 * of the first bufsz bytes, never this buffer, so one buffer serves every load up to SCRATCH_MAX.
 */
function purgatoryBuffer(size: number, own: boolean, from?: Uint8Array): Uint8Array {
  if (own || size > SCRATCH_MAX) {
    const b = new Uint8Array(size); // zeroed, then copied over: cheaper than an uninitialised Buffer (measured)
    if (from) b.set(from);
    return b;
  }
  if (scratch.length < size) scratch = new Uint8Array(Math.max(size, Math.min(SCRATCH_MAX, scratch.length * 2)));
  const buf = scratch.subarray(0, size);
  if (from) buf.set(from);
  else buf.fill(0);
  return buf;
}

/**
 * One parse of a snapshot under a kernel profile, shared by its loads: the kernel never writes its
 * input, so everything read from it before relocating reads the same at every base.
 */
interface KernelParsed {
  k: KernelElf;
  /** Loads that got past the section copies (the template is kept from the second on). */
  loads: number;
  /** What a load read before relocating, once one got that far (every check it passed passes again). */
  pre?: {
    eEntry: bigint;
    entrySym: EntrySymbol | undefined;
    /** The purgatory buffer after the section copies: it does not depend on the base. */
    template?: Uint8Array;
  };
  /** Section names for the reports (sectionNames), read at the first look at a load's sections. */
  names?: string[];
  /** The layout at base 0 and which sections are SHF_ALLOC, when it moves with the base (layoutOf); null when it does not; undefined until known. */
  shift?: { l0: KernelLayout; alloc: boolean[] } | null;
  /** The symbol entries the relocation loop has read, per relocation section (applyRelocations). */
  syms: Map<number, SymEntry[]>;
}

/**
 * kexec_load_purgatory() up to and including the relocations, into k.mem.image. The first load of a
 * parse runs every check in the kernel's order; a later one skips what cannot change with the
 * base (kbufReads, the header table copy, e_entry, the entry symbol, the section copies).
 */
function place(p: KernelParsed, base: bigint, log: RelocationLog | undefined): { layout: KernelLayout; entry: bigint; eEntry: bigint; own: boolean } {
  const { k } = p;
  const profile = k.profile;
  let pre = p.pre;
  if (!pre) kbufReads(k);
  const layout = layoutOf(p, base);
  // setup_kbuf: vzalloc(kbuf->bufsz). (setup_sechdrs' vzalloc(e_shnum * 64) cannot fail once this did not.)
  if (vzallocFails(layout.bufsz, profile.pageSize)) {
    fail('unsupported', '', {}, `vzalloc(${layout.bufsz}) returned NULL: -ENOMEM, no message`);
  }
  // kexec_add_buffer: locate_mem_hole_callback skips every RAM range smaller than memsz, and the
  // model machine has MODEL_RAM (oracle/kernel/harness.c arch_kexec_locate_mem_hole).
  if (layout.memsz > MODEL_RAM) {
    fail('no-memory-hole', '', {}, `kexec_add_buffer: no RAM range holds memsz ${layout.memsz}: -EADDRNOTAVAIL, no message`);
  }
  // vmalloc hands out whole pages: writes past bufsz inside the last page are absorbed, not reported.
  const size = Number(cAlign(layout.bufsz, profile.pageSize));
  const own = size === Number(layout.bufsz);
  if (pre?.template) k.mem.setImage(purgatoryBuffer(size, own, pre.template));
  else {
    if (!pre) sechdrsCopy(k);
    k.mem.setImage(purgatoryBuffer(size, own));
    // setup_sechdrs
    const eEntry = pre ? pre.eEntry : rd(k, 0x18n, 8, 'e_entry');
    let entrySym = pre?.entrySym;
    if (!pre && profile.entryRule === 'purgatory-start') {
      const sym = findKernelSymbol(k, 'purgatory_start');
      entrySym = sym && { shndx: sym.shndx, value: sym.value };
    }
    copySections(k, layout);
    pre = p.pre ??= { eEntry, entrySym };
    if (p.loads++ > 0) pre.template = k.mem.image.slice();
  }
  const entry = kernelEntry(k.sections, pre.eEntry, layout, profile.entryRule, pre.entrySym);
  applyRelocations(k, layout, log, p.syms);
  return { layout, entry, eEntry: pre.eEntry, own };
}

/** layoutKernel() of a parse at `base`: moved from its layout at base 0 when its alignments allow (shiftKernelLayout). */
function layoutOf(p: KernelParsed, base: bigint): KernelLayout {
  const { sections, profile } = p.k;
  if (p.shift === undefined) {
    p.shift = shiftable(sections, profile)
      ? { l0: layoutKernel(sections, 0n, profile.pageSize, profile.alignZeroAsOne), alloc: sections.map(isAlloc) }
      : null;
  }
  return p.shift ? shiftKernelLayout(p.shift.l0, p.shift.alloc, base, profile.pageSize) : layoutKernel(sections, base, profile.pageSize, profile.alignZeroAsOne);
}

/** memcpy(purgatory_buf + offset, ehdr + sh_offset, sh_size) for each SHF_ALLOC, non-NOBITS section, in index order (later sections may overwrite). */
function copySections(k: KernelElf, layout: KernelLayout): void {
  const fileSize = BigInt(k.mem.file.length);
  const imageSize = BigInt(k.mem.image.length);
  k.sections.forEach((s, i) => {
    if (!isAlloc(s) || s.type === SHT_NOBITS || s.size === 0n) return;
    // Both ranges are checked as CMem.check does; the rejection is CMem's.
    const to = layout.offset[i]!;
    if (s.offset < 0n || s.offset + s.size > fileSize) k.mem.check({ buf: 'file', off: s.offset }, s.size, `section ${i} contents (ehdr + sh_offset)`, { section: i });
    if (to < 0n || to + s.size > imageSize) k.mem.check({ buf: 'image', off: to }, s.size, `section ${i} copy destination`, { section: i });
    const src = Number(s.offset);
    k.mem.image.set(k.mem.file.subarray(src, src + Number(s.size)), Number(to));
  });
}

/**
 * kexec_load_purgatory() followed by the symbol writes. Throws LoadError; never exits.
 * The relocation log: `log: true` records it while relocating; by default (log unset) the load
 * records nothing and the first read of `image.relocations` replays the same load (the same parse
 * of the same private bytes, the same base) with the log on. `image.sections` is computed when
 * first read too.
 */
export function loadKernel(bytes: Uint8Array, base: bigint, profile: Profile, opts: KernelLoadOptions = {}): KernelLoad {
  if (profile.loader !== 'kernel') throw new Error(`loadKernel: profile ${profile.id} is not a kernel profile (internal)`);
  if (bytes.length === 0) fail('elf-format', '', {}, 'kexec_purgatory_size <= 0: -EINVAL, no message');
  const p = parseOf(snapshotOf(bytes), profile, (b): KernelParsed => ({ k: { ...parseKernel(b, profile), found: new Map() }, loads: 0, syms: new Map() }));
  const { k } = p;
  const log = opts.log === true ? new RelocationLog(true) : undefined;
  const { layout, entry, eEntry, own } = place(p, base, log);
  if (opts.symbols) for (const w of opts.symbols) setKernelSymbol(k, layout, w.name, w.bytes);
  const sections = lazyArray((): LoadedSection[] => {
    const names = (p.names ??= k.sections.map(sectionNames(k)));
    return k.sections.map((s, i) => ({
      index: i, name: names[i]!, addr: layout.addr[i]!, size: s.size,
      alloc: isAlloc(s), nobits: s.type === SHT_NOBITS,
    }));
  });
  const relocations = opts.log === false ? [] : lazyArray(log ? () => log.entries() : () => {
    const replayed = new RelocationLog(true);
    place(p, base, replayed);
    return replayed.entries();
  });
  let imageBytes = k.mem.image;
  if (!own) {
    const bufsz = Number(layout.bufsz);
    imageBytes = k.mem.image.slice(0, bufsz);
  }
  const image: LoadedImage = { base: layout.mem, bytes: imageBytes, memsz: layout.memsz, entry, sections, relocations };
  if (opts.probes) image.details = kernelDetails(k, layout, eEntry, opts.probes);
  return { k, layout, image };
}

/** For reports only (the loader never reads section names outside pr_debug): '' when unreadable. */
function sectionNames(k: KernelElf): (s: SectionHeader) => string {
  const b = k.mem.file;
  if (b.length < 0x40) return () => '';
  const shstrndx = Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getUint16(0x3e, hostEndian(k.profile) === 'little'));
  const str = k.sections[shstrndx];
  if (!str) return () => '';
  return (s) => k.mem.cstring({ buf: 'file', off: u64(str.offset + BigInt(s.name)) }) ?? '';
}
