// `inspect`: a readelf-like summary of a purgatory and a histogram of its relocation types.
import { ARCH_MODULES } from './arch/modules.ts';
import { hex } from './bytes.ts';
import { ElfFile } from './elf/reader.ts';
import { SHT_REL, SHT_RELA, ET_REL, ET_DYN, ET_EXEC, EM_PPC64 } from './elf/constants.ts';
import type { ArchModule } from './arch/types.ts';

export interface Inspection {
  class: 32 | 64;
  endian: 'little' | 'big';
  type: 'rel' | 'exec' | 'pie' | `other(${number})`;
  machine: number;
  abi: 'sysv' | 'elfv1' | 'elfv2';
  entry: string;
  flags: number;
  sections: { index: number; name: string; type: number; flags: string; addr: string; size: string; align: string; link: number; info: number }[];
  relocationSections: { index: number; name: string; target: number; count: number }[];
  histogram: Record<string, number>;
  relocationCount: number;
}

export function archModuleFor(machine: number): ArchModule | undefined {
  return Object.values(ARCH_MODULES).find((m) => m.machine === machine);
}

/**
 * Relocation-type counts by name over every SHT_REL/SHT_RELA table, keys in code-unit order (not
 * the locale's: corpus/manifest.json stores these objects and must not depend on where it is built).
 */
export function relocationHistogram(elf: ElfFile): Record<string, number> {
  const arch = archModuleFor(elf.header.machine);
  const hist: Record<string, number> = {};
  for (const s of elf.sections) {
    if (s.type !== SHT_REL && s.type !== SHT_RELA) continue;
    for (const r of elf.relocations(s.index)) {
      const name = arch ? arch.typeName(r.type) : `type-${r.type}`;
      hist[name] = (hist[name] ?? 0) + 1;
    }
  }
  return Object.fromEntries(Object.entries(hist).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function inspect(bytes: Uint8Array): Inspection {
  const elf = new ElfFile(bytes);
  const h = elf.header;
  const relocationSections = elf.sections
    .filter((s) => s.type === SHT_REL || s.type === SHT_RELA)
    .map((s) => ({ index: s.index, name: elf.sectionName(s.index), target: s.info, count: elf.relocations(s.index).length }));
  const histogram = relocationHistogram(elf);
  return {
    class: h.is64 ? 64 : 32,
    endian: elf.endian,
    type: h.type === ET_REL ? 'rel' : h.type === ET_DYN ? 'pie' : h.type === ET_EXEC ? 'exec' : `other(${h.type})`,
    machine: h.machine,
    abi: h.machine !== EM_PPC64 ? 'sysv' : (h.flags & 3) === 2 || elf.endian === 'little' ? 'elfv2' : 'elfv1',
    entry: hex(h.entry),
    flags: h.flags,
    sections: elf.sections.map((s) => ({
      index: s.index, name: elf.sectionName(s.index), type: s.type, flags: hex(s.flags), addr: hex(s.addr),
      size: hex(s.size), align: hex(s.addralign), link: s.link, info: s.info,
    })),
    relocationSections,
    histogram,
    relocationCount: Object.values(histogram).reduce((a, b) => a + b, 0),
  };
}

export function formatInspection(i: Inspection): string {
  const lines: string[] = [];
  lines.push(`ELF${i.class} ${i.endian}-endian ${i.type} machine ${i.machine} abi ${i.abi} entry ${i.entry} flags ${hex(i.flags)}`);
  lines.push('');
  lines.push('  [Nr] Name                 Type  Flags  Addr               Size       Align  Lk  Inf');
  for (const s of i.sections) {
    lines.push(`  [${String(s.index).padStart(2)}] ${s.name.padEnd(20).slice(0, 20)} ${String(s.type).padStart(4)}  ${s.flags.padEnd(6)} ${s.addr.padEnd(18)} ${s.size.padEnd(10)} ${s.align.padEnd(6)} ${String(s.link).padStart(3)} ${String(s.info).padStart(4)}`);
  }
  lines.push('');
  lines.push(`Relocations: ${i.relocationCount} in ${i.relocationSections.length} section(s), ${Object.keys(i.histogram).length} type(s)`);
  for (const [name, n] of Object.entries(i.histogram)) lines.push(`  ${name.padEnd(28)} ${String(n).padStart(6)}`);
  return lines.join('\n');
}
