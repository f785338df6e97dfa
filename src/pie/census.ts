// `census`: per purgatory, the relocation types a loader must apply and their site counts, ET_REL
// against the PIE linked from the same objects, and for each type which loaders handle it. The
// loader columns are derived from the code, not written by hand: kexec-tools and the TS profiles
// from the arch modules' classify() under each profile's semantics; the kernel from its x86_64 RELA
// hook (the same classify() under the kernel profile; ppc64 has no hook: oracle/kernel/NOTES.md);
// the PIE profile from classifyPie().
import { ALL_TARGETS, isNoModelError, machineName, targetForMachine } from '../arch/targets.ts';
import { ElfFile } from '../elf/reader.ts';
import { ET_DYN, ET_EXEC, ET_REL, SHF_ALLOC, SHT_NOBITS, SHT_REL, SHT_RELA } from '../elf/constants.ts';
import { isPurgatoryOracleError } from '../errors.ts';
import { KERNEL_VERSIONS, KEXEC_TOOLS_VERSIONS, makeProfile, type Profile } from '../load/profile.ts';
import { archModuleOf, classifyPie, parsePie } from '../load/pie.ts';
import type { ArchModule } from '../arch/types.ts';
import type { Arch } from '../types.ts';

export interface CensusFile {
  name: string;
  bytes: Uint8Array;
}

export interface TypeCount {
  type: number;
  name: string;
  sites: number;
  /** Sites per target section name (ET_REL: the relocated section; PIE: the section holding r_offset). */
  bySection: Record<string, number>;
}

export type ElfKind = 'rel' | 'pie' | 'exec' | 'other';

export interface CensusEntry {
  name: string;
  target?: Arch;
  elfType: ElfKind;
  /** The relocations a loader applies: ET_REL, SHT_REL/RELA sections whose target is SHF_ALLOC; PIE, the PT_DYNAMIC tables. */
  types: TypeCount[];
  sites: number;
  /** ET_REL relocations against non-allocated sections (debug info): present, applied by no loader. */
  notApplied: number;
  /** PIE: DT_TEXTREL or DF_TEXTREL is set. */
  textrel?: boolean;
  /** Why the file could not be read (the census still lists it). */
  error?: string;
}

export interface LoaderColumn {
  id: string;
  family: 'kexec-tools' | 'kernel' | 'ts';
  label: string;
  /** The ELF types this loader takes at all. */
  takes: string;
}

export interface TypeSupport {
  target: Arch;
  type: number;
  name: string;
  /** Sites over all ET_REL / PIE entries of this target. */
  relSites: number;
  pieSites: number;
  /** Column id → handled. */
  handledBy: Record<string, boolean>;
  /** What becomes of the type when the same objects are linked as a PIE. */
  fate: string;
}

export interface CensusPair {
  rel: string;
  pie: string;
  target: Arch;
  relTypes: number;
  pieTypes: number;
  relSites: number;
  pieSites: number;
  onlyRel: string[];
  onlyPie: string[];
  both: string[];
}

export interface Census {
  columns: LoaderColumn[];
  entries: CensusEntry[];
  pairs: CensusPair[];
  support: TypeSupport[];
}

// ---------------------------------------------------------------------------------------------
// Loader columns, derived from classify().

interface Column extends LoaderColumn {
  handles: (arch: ArchModule, target: Arch, type: number) => boolean;
}

/** The kernels with a RELA hook: only x86_64 defines arch_kexec_apply_relocations_add (oracle/kernel/NOTES.md). */
export const kernelHasRelaHook = (target: Arch): boolean => target === 'x86_64';

function columns(): Column[] {
  const cols: Column[] = [];
  for (const v of KEXEC_TOOLS_VERSIONS) {
    cols.push({
      id: `kexec-tools-${v}`, family: 'kexec-tools', label: `kexec-tools ${v}`, takes: 'ET_REL',
      handles: (arch, target, type) => { const p = profileOn(`kexec-tools-${v}`, target); return !!p && arch.classify(type, p.sem) !== undefined; },
    });
  }
  for (const v of KERNEL_VERSIONS) {
    cols.push({
      id: `kernel-${v}`, family: 'kernel', label: `kernel ${v}`,
      takes: 'ET_REL; no e_type check: an ET_DYN is laid out by its section headers and .rela.dyn (sh_info 0) is skipped',
      handles: (arch, target, type) => { const p = profileOn(`kernel-${v}`, target); return !!p && kernelHasRelaHook(target) && arch.classify(type, p.sem) !== undefined; },
    });
  }
  cols.push({
    id: 'abi', family: 'ts', label: 'TS abi', takes: 'ET_REL',
    handles: (arch, target, type) => { const p = profileOn('abi', target); return !!p && arch.classify(type, p.sem) !== undefined; },
  });
  cols.push({
    id: 'pie', family: 'ts', label: 'TS pie', takes: 'ET_DYN with PT_DYNAMIC',
    handles: (arch, target, type) => { const p = profileOn('pie', target); return !!p && classifyPie(arch, type, p.sem) !== undefined; },
  });
  return cols;
}

// ---------------------------------------------------------------------------------------------
// What becomes of an ET_REL relocation type in a PIE linked from the same objects.

const FATES: Partial<Record<ArchModule['arch'], Record<string, string>>> = {
  x86_64: {
    R_X86_64_64: 'absolute word: R_X86_64_RELATIVE (B + A)',
    R_X86_64_PC32: 'PC-relative inside the module: resolved by the linker',
    R_X86_64_PLT32: 'call inside the module: resolved by the linker',
    R_X86_64_32: 'absolute 32-bit: refused in a PIE by GNU ld and lld (no dynamic form)',
    R_X86_64_32S: 'absolute 32-bit: refused in a PIE by GNU ld and lld (no dynamic form)',
    R_X86_64_RELATIVE: 'dynamic: B + A',
  },
  ppc64: {
    R_PPC64_ADDR64: 'absolute word: R_PPC64_RELATIVE (B + A); a .toc entry disappears with it when ld\'s TOC optimisation rewrites its users',
    R_PPC64_TOC: 'TOC pointer word (ELFv1 .opd): R_PPC64_RELATIVE',
    R_PPC64_ADDR16_LO: 'absolute halfword in code: stays, a symbolic text relocation (DT_TEXTREL)',
    R_PPC64_ADDR16_HI: 'absolute halfword in code: stays, a symbolic text relocation (DT_TEXTREL)',
    R_PPC64_ADDR16_HA: 'absolute halfword in code: stays, a symbolic text relocation (DT_TEXTREL)',
    R_PPC64_ADDR16_HIGHER: 'absolute halfword in code: stays, a symbolic text relocation (DT_TEXTREL)',
    R_PPC64_ADDR16_HIGHEST: 'absolute halfword in code: stays, a symbolic text relocation (DT_TEXTREL)',
    R_PPC64_REL24: 'branch inside the module: resolved by the linker',
    R_PPC64_REL32: 'PC-relative (.eh_frame): resolved by the linker',
    R_PPC64_REL64: 'PC-relative: resolved by the linker',
    R_PPC64_REL16_HA: 'ELFv2 global-entry TOC setup (PC-relative): resolved by the linker',
    R_PPC64_REL16_LO: 'ELFv2 global-entry TOC setup (PC-relative): resolved by the linker',
    R_PPC64_TOC16_HA: 'TOC-relative: resolved by the linker (.TOC. is fixed relative to the module)',
    R_PPC64_TOC16_LO: 'TOC-relative: resolved by the linker (.TOC. is fixed relative to the module)',
    R_PPC64_TOC16_LO_DS: 'TOC-relative: resolved by the linker (.TOC. is fixed relative to the module)',
    R_PPC64_TOC16_DS: 'TOC-relative: resolved by the linker (.TOC. is fixed relative to the module)',
    R_PPC64_TOC16: 'TOC-relative: resolved by the linker (.TOC. is fixed relative to the module)',
    R_PPC64_RELATIVE: 'dynamic: B + A',
  },
};

export function fateInPie(arch: ArchModule, type: number): string {
  return FATES[arch.arch]?.[arch.typeName(type)] ?? 'not classified';
}

// ---------------------------------------------------------------------------------------------

function targetOfHeader(machine: number, endian: 'little' | 'big'): Arch | undefined {
  try {
    return targetForMachine(machine, endian);
  } catch (e) {
    if (isNoModelError(e)) return undefined;
    throw e;
  }
}

/** The profile of a column on a target, or undefined where that loader has no model there (riscv64 before 2.0.32, arm64 kernels, PIE on the new arches). */
function profileOn(id: string, target: Arch): Profile | undefined {
  try {
    return makeProfile(id, target);
  } catch (e) {
    if (isNoModelError(e)) return undefined;
    throw e;
  }
}

function add(map: Map<number, TypeCount>, arch: ArchModule, type: number, section: string): void {
  let t = map.get(type);
  if (!t) map.set(type, (t = { type, name: arch.typeName(type), sites: 0, bySection: {} }));
  t.sites++;
  t.bySection[section] = (t.bySection[section] ?? 0) + 1;
}

const sorted = (m: Map<number, TypeCount>) => [...m.values()].sort((a, b) => a.name.localeCompare(b.name));

/** One purgatory: what a loader of its kind must apply. */
export function censusEntry(file: CensusFile): CensusEntry {
  let elf: ElfFile;
  try {
    elf = new ElfFile(file.bytes);
  } catch (e) {
    return { name: file.name, elfType: 'other', types: [], sites: 0, notApplied: 0, error: e instanceof Error ? e.message : String(e) };
  }
  const h = elf.header;
  const elfType: ElfKind = h.type === ET_REL ? 'rel' : h.type === ET_DYN ? 'pie' : h.type === ET_EXEC ? 'exec' : 'other';
  const target = targetOfHeader(h.machine, elf.endian);
  const base: CensusEntry = { name: file.name, target, elfType, types: [], sites: 0, notApplied: 0 };
  if (!target) return { ...base, error: `e_machine ${h.machine} (${machineName(h.machine)}): no model` };
  const arch = archModuleOf(target);
  const counts = new Map<number, TypeCount>();
  try {
    if (elfType === 'rel') {
      for (const s of elf.sections) {
        if (s.type !== SHT_REL && s.type !== SHT_RELA) continue;
        const tgt = elf.sections[s.info];
        const rels = elf.relocations(s.index);
        if (!tgt || !(tgt.flags & SHF_ALLOC)) {
          base.notApplied += rels.length;
          continue;
        }
        const secName = elf.sectionName(s.info);
        for (const r of rels) add(counts, arch, r.type, secName);
      }
    } else if (elfType === 'pie') {
      const pie = parsePie(file.bytes, makeProfile('pie', target));
      base.textrel = pie.dyn.textrel;
      for (const t of pie.dyn.tables) {
        const ent = t.rela ? 24 : 16;
        const n = Number(t.size / BigInt(ent));
        const rels = readTable(elf, pie.loads, t.vaddr, n, ent);
        for (const r of rels) {
          const sec = elf.sections.find((x) => (x.flags & SHF_ALLOC) !== 0n && x.type !== SHT_NOBITS && r.offset >= x.addr && r.offset < x.addr + x.size);
          add(counts, arch, r.type, sec ? elf.sectionName(sec.index) : '?');
        }
      }
    }
  } catch (e) {
    if (!isPurgatoryOracleError(e)) throw e;
    return { ...base, error: e.message };
  }
  const types = sorted(counts);
  return { ...base, types, sites: types.reduce((n, t) => n + t.sites, 0) };
}

function readTable(elf: ElfFile, loads: { vaddr: bigint; offset: bigint; filesz: bigint }[], vaddr: bigint, n: number, ent: number): { offset: bigint; type: number }[] {
  const seg = loads.find((p) => vaddr >= p.vaddr && vaddr + BigInt(n * ent) <= p.vaddr + p.filesz)!;
  const off = Number(seg.offset + (vaddr - seg.vaddr));
  const out: { offset: bigint; type: number }[] = [];
  for (let i = 0; i < n; i++) {
    const o = off + i * ent;
    out.push({ offset: elf.view.u64(o), type: Number(elf.view.u64(o + 8) & 0xffffffffn) });
  }
  return out;
}

/** The ET_REL a PIE was linked from, by name: `X.ro` ↔ `X-pie.pie` or `X-pie-<suffix>.pie`. */
export function pairKey(name: string): string {
  const base = name.replace(/^.*\//, '').replace(/\.(ro|pie|o|elf)$/, '');
  return base.replace(/-pie(-[A-Za-z0-9_]+)*$/, '');
}

export function census(files: readonly CensusFile[]): Census {
  const cols = columns();
  const entries = files.map(censusEntry);
  const pairs: CensusPair[] = [];
  for (const p of entries.filter((e) => e.elfType === 'pie' && e.target && !e.error)) {
    const rel = entries.find((e) => e.elfType === 'rel' && e.target === p.target && !e.error && pairKey(e.name) === pairKey(p.name));
    if (!rel) continue;
    const rn = new Set(rel.types.map((t) => t.name));
    const pn = new Set(p.types.map((t) => t.name));
    pairs.push({
      rel: rel.name, pie: p.name, target: p.target!,
      relTypes: rn.size, pieTypes: pn.size, relSites: rel.sites, pieSites: p.sites,
      onlyRel: [...rn].filter((x) => !pn.has(x)).sort(),
      onlyPie: [...pn].filter((x) => !rn.has(x)).sort(),
      both: [...rn].filter((x) => pn.has(x)).sort(),
    });
  }
  const support: TypeSupport[] = [];
  const key = (t: Arch, type: number) => `${t}/${type}`;
  const seen = new Map<string, TypeSupport>();
  for (const e of entries) {
    if (!e.target || e.error) continue;
    const arch = archModuleOf(e.target);
    for (const t of e.types) {
      let s = seen.get(key(e.target, t.type));
      if (!s) {
        s = {
          target: e.target, type: t.type, name: t.name, relSites: 0, pieSites: 0,
          handledBy: Object.fromEntries(cols.map((c) => [c.id, c.handles(arch, e.target!, t.type)])),
          fate: fateInPie(arch, t.type),
        };
        seen.set(key(e.target, t.type), s);
        support.push(s);
      }
      if (e.elfType === 'rel') s.relSites += t.sites;
      else if (e.elfType === 'pie') s.pieSites += t.sites;
    }
  }
  const order: readonly Arch[] = ALL_TARGETS;
  support.sort((a, b) => order.indexOf(a.target) - order.indexOf(b.target) || a.name.localeCompare(b.name));
  return { columns: cols.map(({ handles: _h, ...c }) => c), entries, pairs, support };
}

// ---------------------------------------------------------------------------------------------
// Formatters.

const short = (t: string) => t.replace(/^R_(X86_64|PPC64|AARCH64|390|RISCV)_/, '');

/** Columns whose answers agree on every type of the census are shown as one ("kexec-tools 2.0.20–2.0.32"). */
export function groupColumns(c: Census): { label: string; ids: string[]; takes: string }[] {
  const groups: { label: string; ids: string[]; takes: string; family: string }[] = [];
  for (const col of c.columns) {
    const sig = c.support.map((s) => (s.handledBy[col.id] ? '1' : '0')).join('');
    const g = groups.find((x) => x.family === col.family && x.takes === col.takes && c.support.map((s) => (s.handledBy[x.ids[0]!] ? '1' : '0')).join('') === sig);
    if (g) g.ids.push(col.id);
    else groups.push({ label: col.label, ids: [col.id], takes: col.takes, family: col.family });
  }
  return groups.map((g) => {
    if (g.ids.length === 1) return { label: g.label, ids: g.ids, takes: g.takes };
    const first = c.columns.find((x) => x.id === g.ids[0])!.label;
    const last = c.columns.find((x) => x.id === g.ids[g.ids.length - 1])!.label.replace(/^\S+ /, '');
    return { label: `${first}–${last}`, ids: g.ids, takes: g.takes };
  });
}

export function formatCensusMarkdown(c: Census): string {
  const out: string[] = [];
  out.push('### Per purgatory\n');
  out.push('| purgatory | target | ELF type | types | sites | relocation types (sites) |');
  out.push('|---|---|---|---:|---:|---|');
  for (const e of c.entries) {
    if (e.error) {
      out.push(`| ${e.name} | ${e.target ?? '?'} | ${e.elfType} | – | – | unreadable: ${e.error.replace(/\|/g, '\\|')} |`);
      continue;
    }
    const types = e.types.map((t) => `${short(t.name)} ${t.sites}`).join(', ');
    const extra = [e.textrel ? 'TEXTREL' : '', e.notApplied ? `+${e.notApplied} to non-ALLOC sections` : ''].filter(Boolean).join('; ');
    out.push(`| ${e.name} | ${e.target} | ${e.elfType} | ${e.types.length} | ${e.sites} | ${types}${extra ? ` (${extra})` : ''} |`);
  }
  if (c.pairs.length) {
    out.push('\n### ET_REL against PIE (same objects)\n');
    out.push('| ET_REL | PIE | target | types ET_REL → PIE | sites ET_REL → PIE | only in ET_REL | only in PIE |');
    out.push('|---|---|---|---|---|---|---|');
    for (const p of c.pairs) {
      out.push(`| ${p.rel} | ${p.pie} | ${p.target} | **${p.relTypes} → ${p.pieTypes}** | ${p.relSites} → ${p.pieSites} | ${p.onlyRel.map(short).join(' ') || '–'} | ${p.onlyPie.map(short).join(' ') || '–'} |`);
    }
  }
  const groups = groupColumns(c);
  out.push('\n### Which loaders handle each type\n');
  out.push(`| target | type | ET_REL sites | PIE sites | ${groups.map((g) => g.label).join(' | ')} | in a PIE |`);
  out.push(`|---|---|---:|---:|${groups.map(() => ':-:').join('|')}|---|`);
  for (const s of c.support) {
    const cells = groups.map((g) => (s.handledBy[g.ids[0]!] ? 'yes' : '–'));
    out.push(`| ${s.target} | ${s.name} | ${s.relSites} | ${s.pieSites} | ${cells.join(' | ')} | ${s.fate} |`);
  }
  out.push('\nWhich ELF types each loader takes at all:\n');
  for (const g of groups) out.push(`- ${g.label}: ${g.takes}`);
  return out.join('\n') + '\n';
}

export function formatCensusText(c: Census): string {
  const out: string[] = [];
  for (const e of c.entries) {
    if (e.error) {
      out.push(`${e.name}: unreadable: ${e.error}`);
      continue;
    }
    out.push(`${e.name}: ${e.target} ${e.elfType}, ${e.types.length} type(s), ${e.sites} site(s)${e.textrel ? ', TEXTREL' : ''}${e.notApplied ? `, ${e.notApplied} to non-ALLOC sections` : ''}`);
    for (const t of e.types) out.push(`  ${t.name.padEnd(26)} ${String(t.sites).padStart(5)}  ${Object.entries(t.bySection).map(([k, v]) => `${k}:${v}`).join(' ')}`);
  }
  if (c.pairs.length) {
    out.push('', 'ET_REL -> PIE (same objects):');
    for (const p of c.pairs) out.push(`  ${p.target.padEnd(8)} ${String(p.relTypes).padStart(2)} -> ${String(p.pieTypes).padEnd(2)} types, ${p.relSites} -> ${p.pieSites} sites  ${p.rel} -> ${p.pie}`);
  }
  const groups = groupColumns(c);
  out.push('', 'Handled by:');
  for (const s of c.support) {
    const by = groups.filter((g) => s.handledBy[g.ids[0]!]).map((g) => g.label);
    out.push(`  ${s.target.padEnd(8)} ${s.name.padEnd(26)} ${by.length ? by.join(', ') : 'no loader'}`);
  }
  return out.join('\n') + '\n';
}

export function formatCensusJson(c: Census): string {
  return JSON.stringify(c, null, 2) + '\n';
}
