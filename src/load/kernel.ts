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
import { cAlign, u64 } from '../bytes.ts';
import { LoadError } from '../errors.ts';
import {
  SHF_ALLOC, SHF_EXECINSTR, SHN_ABS, SHN_COMMON, SHN_UNDEF, SHT_NOBITS, SHT_REL, SHT_RELA, SHT_SYMTAB, STB_GLOBAL,
} from '../elf/constants.ts';
import type { ElfSymbol, SectionHeader } from '../elf/reader.ts';
import { x86_64, x86_64KernelMessages } from '../arch/x86_64.ts';
import type { RelocInput } from '../arch/types.ts';
import { CMem, type Ptr } from './cmem.ts';
import type { LayoutSection } from './kexec-tools.ts';
import type { EntryRule, Profile } from './profile.ts';
import type { LoadedImage, LoadedSection, RejectionCode, RelocationLogEntry, SymbolWrite, Where } from '../types.ts';

// ---------------------------------------------------------------------------------------------
// Errors: every rejection carries the kernel's errno (through its code) and exact pr_err text.

export const ENOEXEC = -8;
export const ENOMEM = -12;
export const EINVAL = -22;

/** kernel/kexec_file.c: `#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt`, KBUILD_MODNAME "kexec_file". */
export const KEXEC_FILE_PR_FMT = 'kexec_file: ';

/** The errno the kernel returns for each rejection code this model produces. */
export const KERNEL_ERRNO: Partial<Record<RejectionCode, number>> = {
  'elf-format': EINVAL, // kexec_purgatory_size <= 0
  unsupported: ENOMEM, // vzalloc() returned NULL
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
  [/^kexec: Invalid section -?\d+ for symbol /, 'bad-section-index'],
  [/^kexec: Unknown rela relocation: /, 'unknown-relocation'],
  [/^kexec: Overflow in relocation type /, 'overflow'],
  [/^kexec_file: symbol [^]* size mismatch: expected /, 'symbol-size-mismatch'],
  [/^kexec_file: symbol [^]* is in a bss section\. Cannot set/, 'symbol-in-bss'],
  [/^\(errno -8, no message\)$/, 'bad-section-index'], // relsec sh_info/sh_link >= e_shnum
  [/^\(errno -12, no message\)$/, 'unsupported'], // vzalloc() failed
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
}

/** A checked read of the input: the kernel reads it in place, so outside it is out-of-bounds. */
function rd(k: { mem: CMem }, off: bigint, width: 1 | 2 | 4 | 8, what: string, where?: Where): bigint {
  const { view, off: o } = k.mem.view({ buf: 'file', off: u64(off) }, width, what, where);
  switch (width) {
    case 1: return BigInt(view.u8(o));
    case 2: return BigInt(view.u16(o));
    case 4: return BigInt(view.u32(o));
    case 8: return view.u64(o);
  }
}

/** The kernel's host byte order for a target: it reads its own embedded blob as native structs. */
function hostEndian(profile: Profile) {
  return profile.storeEndian;
}

export function parseKernel(bytes: Uint8Array, profile: Profile): KernelElf {
  const e = hostEndian(profile);
  const mem = new CMem(bytes, e, e);
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
  for (let i = 0; i < shnum; i++) {
    const h = u64(shoff + BigInt(i) * SHDR_SIZE);
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
  k.sections.forEach((s, i) => {
    const h = u64(k.shoff + BigInt(i) * SHDR_SIZE);
    const where = { section: i };
    rd(k, h + 8n, 1, `sechdrs[${i}].sh_flags`, where);
    if (!(s.flags & SHF_ALLOC)) return;
    rd(k, h + 48n, 8, `sechdrs[${i}].sh_addralign`, where);
    rd(k, h + 4n, 4, `sechdrs[${i}].sh_type`, where);
    rd(k, h + 32n, 8, `sechdrs[${i}].sh_size`, where);
  });
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

/** A pure function of the section headers, the requested base and PAGE_SIZE. sh_addralign 0 is used as is: ALIGN(x, 0) == 0. */
export function layoutKernel(sections: readonly KernelLayoutSection[], base: bigint, pageSize: bigint): KernelLayout {
  // kexec_purgatory_setup_kbuf
  let bufAlign = 1n, bssAlign = 1n, bufsz = 0n, bssSz = 0n;
  for (const s of sections) {
    if (!isAlloc(s)) continue;
    const a = s.addralign;
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
      bssAddr = cAlign(bssAddr, s.addralign); // sh_addralign 0: sh_addr = 0, absolute
      addr.push(bssAddr);
      offset.push(s.offset); // NOBITS keep their file offset
      bssAddr = u64(bssAddr + s.size);
      continue;
    }
    off = cAlign(off, s.addralign); // sh_addralign 0: back to offset 0
    addr.push(u64(mem + off));
    offset.push(off);
    off = u64(off + s.size);
  }
  return { mem, bufsz, memsz, bufAlign, bssAlign, bssSz, addr, offset };
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

function readSym(k: KernelElf, at: bigint, index: number, where: Where): ElfSymbol {
  const { view, off } = k.mem.view({ buf: 'file', off: u64(at) }, 24, `symbol ${index}`, where);
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
  const where: Where = { symbol: name };
  for (const s of k.sections) {
    if (s.type !== SHT_SYMTAB) continue;
    if (s.link >= k.shnum) continue; // invalid strtab section number
    const strtab = k.sections[s.link]!.offset;
    const n = s.size / SYM_SIZE;
    for (let i = 0n; i < n; i++) {
      const sym = readSym(k, s.offset + i * SYM_SIZE, Number(i), where);
      if (sym.bind !== STB_GLOBAL) continue;
      if (!k.mem.streq({ buf: 'file', off: u64(strtab + BigInt(sym.name)) }, name, 'a symbol name (strcmp)', where)) continue;
      if (sym.shndx === SHN_UNDEF || sym.shndx >= k.shnum) return undefined;
      return sym;
    }
  }
  return undefined;
}

/** kexec_purgatory_get_set_symbol(..., get_value = false). */
export function setKernelSymbol(k: KernelElf, lay: KernelLayout, name: string, bytes: Uint8Array): void {
  const where: Where = { symbol: name };
  const sym = findKernelSymbol(k, name);
  if (!sym) fail('symbol-not-found', '', where, `kexec_purgatory_find_symbol("${name}") returned NULL: -EINVAL, no message`);
  if (sym.size !== BigInt(bytes.length)) {
    fail('symbol-size-mismatch', `${KEXEC_FILE_PR_FMT}symbol ${name} size mismatch: expected ${sym.size} actual ${bytes.length}\n`, where);
  }
  if (k.sections[sym.shndx]!.type === SHT_NOBITS) {
    fail('symbol-in-bss', `${KEXEC_FILE_PR_FMT}symbol ${name} is in a bss section. Cannot set\n`, where);
  }
  // purgatory_buf + sec->sh_offset + st_value: no bounds check, no SHF_ALLOC check.
  const p: Ptr = { buf: 'image', off: u64(lay.offset[sym.shndx]! + sym.value) };
  if (bytes.length === 0) return; // memcpy of 0 bytes touches nothing
  const off = k.mem.check(p, bytes.length, `symbol ${name}`, { ...where, section: sym.shndx });
  k.mem.image.set(bytes, off);
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
  log: RelocationLogEntry[] | undefined;
}

type Hook = (a: HookArgs) => void;

/** include/linux/kexec.h: the generic arch_kexec_apply_relocations_add (no arch hook: ppc64). */
const genericRela: Hook = ({ ri }) => fail('unknown-relocation', `${KEXEC_FILE_PR_FMT}RELA relocation unsupported.\n`, { relSection: ri });
/** include/linux/kexec.h: the generic arch_kexec_apply_relocations (no arch defines a REL hook). */
const genericRel: Hook = ({ ri }) => fail('unknown-relocation', `${KEXEC_FILE_PR_FMT}REL relocation unsupported.\n`, { relSection: ri });

/** arch/x86/kernel/machine_kexec_64.c: arch_kexec_apply_relocations_add. */
const x86_64Rela: Hook = ({ k, lay, ri, relsec, target, symtab, log }) => {
  const { mem, profile } = k;
  const sem = profile.sem;
  // strtab = ehdr + sechdrs[symtab->sh_link].sh_offset; shstrtab = ehdr + sechdrs[e_shstrndx].sh_offset:
  // both headers are read here, unconditionally (checked live: a bad e_shstrndx faults).
  const strtab = k.sections[symtab.link]!.offset;
  const shstrndx = rd(k, 0x3en, 2, 'e_shstrndx', { relSection: ri });
  const shstrtab = rd(k, k.shoff + shstrndx * SHDR_SIZE + 24n, 8, 'sechdrs[e_shstrndx].sh_offset', { relSection: ri });
  const secOffset = lay.offset[target]!;
  const secAddr = lay.addr[target]!;
  const n = relsec.size / RELA_SIZE;
  for (let j = 0n; j < n; j++) {
    const relIndex = Number(j);
    const where: Where = { relSection: ri, relIndex, section: target };
    const { view, off } = mem.view({ buf: 'file', off: u64(relsec.offset + j * RELA_SIZE) }, 24, `relocation ${relIndex}`, where);
    const rOffset = view.u64(off);
    const info = view.u64(off + 8);
    const rAddend = view.u64(off + 16);
    where.offset = rOffset;
    const location: Ptr = { buf: 'image', off: u64(secOffset + rOffset) };
    const address = u64(secAddr + rOffset);
    const symIndex = Number(info >> 32n);
    const type = Number(info & 0xffffffffn);
    const sym = readSym(k, symtab.offset + BigInt(symIndex) * SYM_SIZE, symIndex, where);
    // name = st_name ? strtab + st_name : shstrtab + sechdrs[st_shndx].sh_name: the sh_name load is
    // kept by the compiler even when the name is never printed (checked live: SHN_ABS faults).
    const namePtr: Ptr = sym.name
      ? { buf: 'file', off: u64(strtab + BigInt(sym.name)) }
      : { buf: 'file', off: u64(shstrtab + rd(k, k.shoff + BigInt(sym.shndx) * SHDR_SIZE, 4, `sechdrs[${sym.shndx}].sh_name`, where)) };
    const symName = (): string => {
      const s = mem.cstring(namePtr);
      return s === undefined ? `<name@${namePtr.off}>` : utf8(s);
    };
    /** The name as pr_err("%s") reads it: running off the input is a fault. */
    const printedName = (): string => {
      const s = mem.cstring(namePtr);
      if (s === undefined) fail('out-of-bounds', `C loader would read the name of symbol ${symIndex} past the input (pr_err %s; undefined behaviour)`, where);
      return utf8(s);
    };
    if (sym.shndx === SHN_UNDEF) {
      const nm = printedName();
      fail('undefined-symbol', x86_64KernelMessages.undefinedSymbol(nm), { ...where, symbol: nm });
    }
    if (sym.shndx === SHN_COMMON) {
      const nm = printedName();
      fail('common-symbol', x86_64KernelMessages.commonSymbol(nm), { ...where, symbol: nm });
    }
    let secBase = 0n;
    if (sym.shndx === SHN_ABS) secBase = 0n;
    else if (sym.shndx >= k.shnum) {
      const nm = printedName();
      fail('bad-section-index', x86_64KernelMessages.invalidSection(sym.shndx, nm), { ...where, symbol: nm });
    } else secBase = lay.addr[sym.shndx]!;
    const value = u64(sym.value + secBase + rAddend);
    const spec = x86_64.classify(type, sem);
    if (!spec) fail('unknown-relocation', x86_64.unknownMessage(type, sem), { ...where, relocation: x86_64.typeName(type), symbol: symName() });
    if (spec.width === 0) {
      log?.push(logEntry(ri, relIndex, target, rOffset, address, type, spec.name, symName(), symIndex, rAddend, value, -1, 0, new Uint8Array(0)));
      continue;
    }
    const w = { ...where, relocation: spec.name };
    const st = mem.store(location, spec.width, `${spec.name} location (purgatory_buf + sh_offset + r_offset)`, w);
    const input: RelocInput = {
      view: st.view, off: st.off, value, address, hostLocation: 0n, sym, symName,
      toc: () => { throw new Error('x86_64 has no TOC (internal)'); }, eFlags: 0, sem,
    };
    spec.write(st.view, st.off, spec.compute(input));
    if (log) {
      const inImage = BigInt(st.off + spec.width) <= lay.bufsz;
      log.push(logEntry(ri, relIndex, target, rOffset, address, type, spec.name, symName(), symIndex, rAddend, value,
        inImage ? st.off : -1, spec.width, mem.image.slice(st.off, st.off + spec.width)));
    }
  }
};

/** printk copies the name's bytes; messages are text decoded as UTF-8 (oracle/PROTOCOL.md), so decode them the same way. */
const decoder = new TextDecoder();
/** Bytes (as a latin1 string) decoded as UTF-8, as the oracle's messages are; ASCII needs no work. */
function utf8(latin1: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(latin1)) return latin1;
  return decoder.decode(Uint8Array.from(latin1, (c) => c.charCodeAt(0)));
}

function logEntry(relSection: number, relIndex: number, section: number, offset: bigint, address: bigint, type: number, typeName: string,
  symbol: string, symIndex: number, addend: bigint, value: bigint, imageOffset: number, width: number, bytes: Uint8Array): RelocationLogEntry {
  return { relSection, relIndex, section, offset, address, type, typeName, symbol, symIndex, addend: BigInt.asIntN(64, addend), value, imageOffset, width, bytes };
}

/** The arch hooks compiled into a kernel for this target. */
function hooksFor(profile: Profile): { rela: Hook; rel: Hook } {
  return { rela: profile.target === 'x86_64' ? x86_64Rela : genericRela, rel: genericRel };
}

/** kexec_apply_relocations: over the original headers, in index order; the first error stops the load. */
export function relocateKernel(k: KernelElf, lay: KernelLayout, opts: RelocateKernelOptions = {}): RelocationLogEntry[] {
  const log = opts.log === false ? undefined : [];
  const hooks = hooksFor(k.profile);
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
    if (symtab.link >= k.shnum) continue; // invalid section number? skipped silently
    const args: HookArgs = { k, lay, ri, relsec, target, symtab, log };
    if (relsec.type === SHT_RELA) hooks.rela(args);
    else hooks.rel(args);
  }
  return log ?? [];
}

// ---------------------------------------------------------------------------------------------

export interface KernelLoadOptions extends RelocateKernelOptions {
  symbols?: SymbolWrite[];
}

export interface KernelLoad {
  k: KernelElf;
  layout: KernelLayout;
  image: LoadedImage;
}

/** vmalloc's refusals (mm/vmalloc.c __vmalloc_node_range): size 0, and more than the machine's RAM. */
function vzallocFails(size: bigint, pageSize: bigint): boolean {
  const pages = cAlign(size, pageSize);
  return size === 0n || pages === 0n || pages > MODEL_RAM;
}

/** kexec_load_purgatory() followed by the symbol writes. Throws LoadError; never exits. */
export function loadKernel(bytes: Uint8Array, base: bigint, profile: Profile, opts: KernelLoadOptions = {}): KernelLoad {
  if (profile.loader !== 'kernel') throw new Error(`loadKernel: profile ${profile.id} is not a kernel profile (internal)`);
  if (bytes.length === 0) fail('elf-format', '', {}, 'kexec_purgatory_size <= 0: -EINVAL, no message');
  const k = parseKernel(bytes, profile);
  kbufReads(k);
  const layout = layoutKernel(k.sections, base, profile.pageSize);
  // setup_kbuf: vzalloc(kbuf->bufsz). (setup_sechdrs' vzalloc(e_shnum * 64) cannot fail once this did not.)
  if (vzallocFails(layout.bufsz, profile.pageSize)) {
    fail('unsupported', '', {}, `vzalloc(${layout.bufsz}) returned NULL: -ENOMEM, no message`);
  }
  sechdrsCopy(k);
  // vmalloc hands out whole pages: writes past bufsz inside the last page are absorbed, not reported.
  k.mem.setImage(new Uint8Array(Number(cAlign(layout.bufsz, profile.pageSize))));
  // setup_sechdrs
  const eEntry = rd(k, 0x18n, 8, 'e_entry');
  const entrySym = profile.entryRule === 'purgatory-start' ? findKernelSymbol(k, 'purgatory_start') : undefined;
  const entry = kernelEntry(k.sections, eEntry, layout, profile.entryRule, entrySym && { shndx: entrySym.shndx, value: entrySym.value });
  k.sections.forEach((s, i) => {
    if (!isAlloc(s) || s.type === SHT_NOBITS || s.size === 0n) return;
    // memcpy(purgatory_buf + offset, ehdr + sh_offset, sh_size), in index order (later sections may overwrite).
    const src = k.mem.check({ buf: 'file', off: s.offset }, s.size, `section ${i} contents (ehdr + sh_offset)`, { section: i });
    const dst = k.mem.check({ buf: 'image', off: layout.offset[i]! }, s.size, `section ${i} copy destination`, { section: i });
    k.mem.image.set(k.mem.file.subarray(src, src + Number(s.size)), dst);
  });
  const relocations = relocateKernel(k, layout, opts);
  for (const w of opts.symbols ?? []) setKernelSymbol(k, layout, w.name, w.bytes);
  const sections: LoadedSection[] = k.sections.map((s, i) => ({
    index: i, name: sectionName(k, s), addr: layout.addr[i]!, size: s.size,
    alloc: isAlloc(s), nobits: s.type === SHT_NOBITS,
  }));
  return {
    k, layout,
    image: { base: layout.mem, bytes: k.mem.image.slice(0, Number(layout.bufsz)), memsz: layout.memsz, entry, sections, relocations },
  };
}

/** For reports only (the loader never reads section names outside pr_debug): '' when unreadable. */
function sectionName(k: KernelElf, s: SectionHeader): string {
  const b = k.mem.file;
  if (b.length < 0x40) return '';
  const shstrndx = Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getUint16(0x3e, hostEndian(k.profile) === 'little'));
  const str = k.sections[shstrndx];
  if (!str) return '';
  return k.mem.cstring({ buf: 'file', off: u64(str.offset + BigInt(s.name)) }) ?? '';
}
