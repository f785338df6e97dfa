// The case matrix: corpus entry × base × symbol setting × fill. Deterministic, so stored
// references and live runs line up.
import { ElfFile } from '../elf/reader.ts';
import { SHT_SYMTAB, STB_GLOBAL, STT_OBJECT, SHN_UNDEF, SHT_NOBITS } from '../elf/constants.ts';
import type { LoadRequest, SymbolWrite } from '../types.ts';

export interface BaseSpec {
  name: string;
  base: bigint;
}

/** low, mid, above 4 GiB, and one not aligned to the largest section alignment (nor to a page). */
export const BASES: BaseSpec[] = [
  { name: 'low', base: 0x0010_0000n },
  { name: 'mid', base: 0x3ff0_0000n },
  { name: 'high', base: 0x1_2340_0000n },
  { name: 'unaligned', base: 0x3ff0_0f10n },
];

/** Symbols kexec-tools really sets in purgatories (kexec/arch/{x86_64,ppc64}, kexec/kexec.c). */
export const REALISTIC_SYMBOLS = [
  'sha256_digest', 'sha256_regions', // kexec.c: update_purgatory()
  'entry64_regs', 'cmdline_end', 'jump_back_entry', // x86_64
  'stack', 'kernel', 'dt_offset', 'my_toc', 'run_at_load', 'debug', 'panic_kernel', 'purgatory_start', // ppc64
  'arm64_sink', 'arm64_kernel_entry', 'arm64_dtb_addr', // arm64 (kexec/arch/arm64/kexec-arm64.c)
  'crash_base', 'crash_size', // s390 (kexec/arch/s390/crashdump-s390.c)
];

export interface CaseSpec {
  id: string;
  base: bigint;
  baseName: string;
  fill: number;
  symbols: SymbolWrite[];
  symbolSetting: 'none' | 'realistic';
}

/** Deterministic byte pattern for a symbol write: recognisable in a hex dump. */
function pattern(name: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  for (let i = 0; i < size; i++) {
    h = Math.imul(h ^ i, 0x01000193) >>> 0;
    out[i] = h & 0xff;
  }
  return out;
}

/** The realistic symbol writes that fit this purgatory: global data symbols present, with their own size. */
export function realisticSymbols(elfBytes: Uint8Array): SymbolWrite[] {
  let elf: ElfFile;
  try {
    elf = new ElfFile(elfBytes);
  } catch {
    return [];
  }
  const out: SymbolWrite[] = [];
  for (const s of elf.sections) {
    if (s.type !== SHT_SYMTAB) continue;
    let syms;
    try {
      syms = elf.symbols(s.index);
    } catch {
      continue;
    }
    for (const sym of syms) {
      if (sym.bind !== STB_GLOBAL || sym.stype !== STT_OBJECT || sym.shndx === SHN_UNDEF || sym.shndx >= elf.sections.length) continue;
      if (elf.sections[sym.shndx]!.type === SHT_NOBITS) continue;
      let name: string;
      try {
        name = elf.stringAt(s.link, sym.name);
      } catch {
        continue;
      }
      if (!REALISTIC_SYMBOLS.includes(name) || sym.size === 0n || sym.size > 4096n) continue;
      if (out.some((o) => o.name === name)) continue;
      out.push({ name, bytes: pattern(name, Number(sym.size)) });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The cases of one corpus entry. `bases` (a manifest entry's `bases`: names from BASES) narrows the
 * base set for entries that are built not to depend on the base (the coverage corpus); the
 * non-zero-fill case then uses the first of them.
 */
export function casesFor(elfBytes: Uint8Array, bases?: readonly string[]): CaseSpec[] {
  const realistic = realisticSymbols(elfBytes);
  const out: CaseSpec[] = [];
  const chosen = bases ? bases.map((n) => {
    const b = BASES.find((x) => x.name === n);
    if (!b) throw new Error(`unknown validate base '${n}' (known: ${BASES.map((x) => x.name).join(', ')})`);
    return b;
  }) : BASES;
  for (const b of chosen) {
    out.push({ id: `${b.name}/none/fill00`, base: b.base, baseName: b.name, fill: 0, symbols: [], symbolSetting: 'none' });
    if (realistic.length) out.push({ id: `${b.name}/realistic/fill00`, base: b.base, baseName: b.name, fill: 0, symbols: realistic, symbolSetting: 'realistic' });
  }
  // One case with a non-zero fill: exposes the heap bytes kexec-tools leaves in the padding.
  const f = chosen[0] ?? BASES[0]!;
  out.push({ id: `${f.name}/none/fillA5`, base: f.base, baseName: f.name, fill: 0xa5, symbols: [], symbolSetting: 'none' });
  return out;
}

export function requestOf(elf: Uint8Array, c: CaseSpec): LoadRequest {
  return { elf, base: c.base, fill: c.fill, symbols: c.symbols };
}
