// The details of a kexec-tools load (oracle/PROTOCOL.md, FLAG_DETAILS): what elf_rel_load hands to
// add_buffer, ehdr->e_entry after the load, and symbols read back with elf_rel_get_symbol, as the
// arch code reads purgatory variables. The model's side is computed here from the C semantics;
// the probes a request carries are chosen here too.
import { isLoadError } from '../errors.ts';
import { ELFCLASS32, SHF_ALLOC, SHT_NOBITS, SHT_SYMTAB, STB_GLOBAL } from '../elf/constants.ts';
import { ElfFile } from '../elf/reader.ts';
import { u64 } from '../bytes.ts';
import type { Arch, LoadDetails, ProbeResult, SymbolProbe } from '../types.ts';
import { getSymbol, type KtElf, type Layout } from './kexec-tools.ts';

/**
 * The (min, max, end) window each architecture's loader passes to elf_rel_build_load for the
 * purgatory, as oracle/kexec-tools/load.c passes it (its `#if defined(__x86_64__)`):
 * kexec/arch/x86_64/kexec-bzImage64.c (0x3000, 0x7fffffff, -1); every other target, as
 * kexec/arch/ppc64/kexec-elf-ppc64.c (0, ULONG_MAX, 1).
 */
export function purgatoryWindow(target: Arch): { min: bigint; max: bigint; end: number } {
  return target === 'x86_64' ? { min: 0x3000n, max: 0x7fff_ffffn, end: -1 } : { min: 0n, max: u64(-1n), end: 1 };
}

/** kexec-elf.c elf_max_addr: ELF32_MAX for ELFCLASS32, ELF64_MAX (ULONG_MAX) for ELFCLASS64. */
function elfMaxAddr(kt: KtElf): bigint {
  return kt.elf.header.klass === ELFCLASS32 ? 0xffff_ffffn : u64(-1n);
}

/** A name no purgatory defines: its probe dies "not found". */
export const MISSING_SYMBOL = 'purgatory_oracle_no_such_symbol';
/** Largest symbol a probe reads (the harness refuses more than 1 MiB). */
const PROBE_MAX = 4096n;

/**
 * The probes for one ELF: every global symbol name whose every global definition the C code can
 * read without leaving its section (st_shndx a real section; st_value + st_size inside it, or a
 * NOBITS section, which elf_rel_get_symbol refuses before reading), with its st_size; the first
 * readable one again with st_size + 1 (the size check), and a name that is not defined. Names the
 * C code would read out of bounds are not probed: that read is undefined behaviour, not a result;
 * an ELF whose symbol tables or names the reader refuses gets no probes at all (every lookup scans
 * them).
 *
 * The kernel's getter (kexec_purgatory_get_set_symbol) reads purgatory_buf + sh_offset + st_value:
 * inside the buffer only for an SHF_ALLOC section (a non-ALLOC one keeps its file offset), so its
 * readable definitions are SHF_ALLOC ones. It returns NULL for a first match whose st_shndx is
 * SHN_UNDEF or >= e_shnum without reading it, so such a definition is safe to probe there.
 */
export function symbolProbes(bytes: Uint8Array, loader: 'kexec-tools' | 'kernel' = 'kexec-tools'): SymbolProbe[] {
  let elf: ElfFile;
  try {
    elf = new ElfFile(bytes);
  } catch {
    return [];
  }
  const sizes = new Map<string, bigint>();
  const unsafe = new Set<string>();
  const readable: string[] = [];
  for (const s of elf.sections) {
    if (s.type !== SHT_SYMTAB) continue;
    // kexec-tools skips a table whose sh_link is above e_shnum but reads e_shdr[e_shnum] (one past
    // its array) for one equal to it, in every lookup: no probe is defined there.
    if (loader === 'kexec-tools' && s.link === elf.sections.length) return [];
    let syms;
    try {
      syms = elf.symbols(s.index);
    } catch {
      return [];
    }
    for (const sym of syms) {
      if (sym.bind !== STB_GLOBAL) continue;
      let name: string;
      try {
        name = elf.stringAt(s.link, sym.name);
      } catch {
        return []; // every lookup's strcmp would read past the string table
      }
      const sec = sym.shndx > 0 && sym.shndx < elf.sections.length ? elf.sections[sym.shndx] : undefined;
      const kernel = loader === 'kernel';
      const fits = sec !== undefined && sym.size <= PROBE_MAX && (!kernel || sec.type === SHT_NOBITS || (sec.flags & SHF_ALLOC) !== 0n) &&
        (sec.type === SHT_NOBITS || (sym.value <= sec.size && sym.size <= sec.size - sym.value));
      if (!fits && !(kernel && sec === undefined)) unsafe.add(name);
      if (!sizes.has(name)) {
        sizes.set(name, sym.size);
        if (fits && sec.type !== SHT_NOBITS) readable.push(name);
      }
    }
  }
  const out: SymbolProbe[] = [];
  for (const [name, size] of sizes) if (!unsafe.has(name) && name !== '') out.push({ name, size: Number(size) });
  const first = readable.find((n) => !unsafe.has(n));
  if (first !== undefined) out.push({ name: first, size: Number(sizes.get(first)!) + 1 });
  out.push({ name: MISSING_SYMBOL, size: 8 });
  return out;
}

/** The model's details of a load that succeeded (after the symbol writes). */
export function kexecToolsDetails(kt: KtElf, layout: Layout, probes: readonly SymbolProbe[]): LoadDetails {
  const w = purgatoryWindow(kt.profile.target);
  const maxAddr = elfMaxAddr(kt);
  return {
    memsz: layout.memsz,
    bufAlign: layout.bufAlign,
    bufMin: w.min,
    bufMax: w.max > maxAddr ? maxAddr : w.max,
    bufEnd: w.end,
    // ehdr->e_entry = entry when the entry is in a section, else unchanged: either way layout.entry
    eEntry: layout.entry,
    probes: probeResults(probes, (name, size) => getSymbol(kt, name, size)),
  };
}

/**
 * Each probe read back by a loader's getter (elf_rel_get_symbol, kexec_purgatory_get_set_symbol):
 * its bytes, or the rejection the getter raises as the C code's message and class.
 */
export function probeResults(probes: readonly SymbolProbe[], read: (name: string, size: number) => Uint8Array): ProbeResult[] {
  return probes.map((p): ProbeResult => {
    try {
      return { name: p.name, ok: true, bytes: read(p.name, p.size) };
    } catch (e) {
      if (!isLoadError(e)) throw e;
      return { name: p.name, ok: false, message: e.cMessage, code: e.code };
    }
  });
}
