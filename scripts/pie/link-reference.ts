// The linker as the reference for the TS PIE loader (src/pie/reference.ts): rebuild the purgatory
// objects of one kexec-tools version the way scripts/corpus/build-from-source.ts does (kept in a
// scratch directory under .cache/pie-ref), link them with GNU ld and ld.lld at 0 and at each base,
// and compare the loaded bytes. Exit status 1 when a comparison has unexplained differing bytes.
//
// Usage: npx tsx scripts/pie/link-reference.ts [--target T]... [--linker bfd|lld]... [--base 0x...]...
//          [--version V] [--variant gcc] [--json] [--markdown FILE]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildId, buildOne, fetchTree, TARGETS, type Variant } from '../corpus/build-from-source.ts';
import { CACHE, REPO, isMain, log, run } from '../corpus/common.ts';
import {
  exclusionsFor, formatComparison, judge, linkPie, linkStaticAt, staticPlacement, toolAvailable, linkerCommand,
  type LinkerId, type ReferenceComparison, type ReferenceKind,
} from '../../src/pie/reference.ts';
import { hex } from '../../src/bytes.ts';
import type { Arch } from '../../src/types.ts';

export const PIE_REF_ROOT = join(CACHE, 'pie-ref/build');
/** Three bases compared byte for byte, below 2 GiB (ppc64's @h text relocations are checked against int32 by an ABI loader). */
export const BASES = [0x1000000n, 0x3ffd0000n, 0x7ffc0000n];
/** One base above 4 GiB where only the outcomes are compared (ppc64: R_PPC64_ADDR16_HI overflows). */
export const OUTCOME_BASE = 0x100000000n;
export const LINKERS: LinkerId[] = ['bfd', 'lld'];

export interface Objects {
  target: Arch;
  version: string;
  variant: Variant;
  /** The build tree (cwd for the links). */
  dir: string;
  objs: string[];
}

/** The purgatory objects of (version, target, variant), built once into .cache/pie-ref/build. */
export async function ensureObjects(target: Arch, version = '2.0.25', variant: Variant = 'gcc'): Promise<Objects> {
  const t = TARGETS.find((x) => x.arch === target)!;
  const spec = { version, target: t, variant };
  const dir = join(PIE_REF_ROOT, buildId(spec), 'src');
  const list = join(dir, 'purgatory', 'objs.txt');
  if (!existsSync(list)) {
    if (!existsSync(join(dir, 'purgatory', 'purgatory.ro'))) {
      log(`building ${buildId(spec)} objects in ${dir} (configure + make, a few minutes)`);
      const r = await buildOne(spec, await fetchTree(version), { keep: true, root: PIE_REF_ROOT });
      if (r.failures.some((f) => f.stage === 'configure' || f.stage === 'make')) {
        throw new Error(`building ${buildId(spec)} failed: ${r.failures.map((f) => `${f.stage}: ${f.error.split('\n').slice(-3).join(' | ')}`).join('; ')}`);
      }
    }
    const echo = run('make', ['-s', 'echo'], { cwd: dir });
    const objs = /^PURGATORY_OBJS\s+(.*)$/m.exec(echo.stdout.toString('utf8'))?.[1]?.trim().split(/\s+/) ?? [];
    if (objs.length === 0 || !objs.every((o) => existsSync(join(dir, o)))) throw new Error(`no purgatory objects in ${dir} (make -s echo: ${echo.status})`);
    writeFileSync(list, objs.join('\n') + '\n');
  }
  const objs = readFileSync(list, 'utf8').trim().split('\n');
  return { target, version, variant, dir, objs };
}

export function registry(): Parameters<typeof exclusionsFor>[0] {
  return JSON.parse(readFileSync(join(REPO, 'corpus/known-divergences.json'), 'utf8'));
}

export interface LinkerRun {
  target: Arch;
  linker: LinkerId;
  /** Why the linker cannot produce the PIE at all (then there is nothing to load). */
  pieError?: string;
  comparisons: ReferenceComparison[];
}

/** Every comparison for one (objects, linker): PIE at each base, and a static link at the PIE's layout. */
export function runLinker(o: Objects, linker: LinkerId, bases: bigint[] = [...BASES, OUTCOME_BASE]): LinkerRun {
  const reg = registry();
  const pie0 = linkPie(linker, o.target, o.objs, o.dir);
  if (!pie0.ok || !pie0.bytes) {
    return { target: o.target, linker, pieError: pie0.stderr.split('\n').filter((l) => /error/.test(l)).slice(0, 2).join(' | ') || pie0.stderr.trim(), comparisons: [] };
  }
  const comparisons: ReferenceComparison[] = [];
  for (const base of bases) {
    for (const kind of ['pie-at-base', 'static-at-layout'] as ReferenceKind[]) {
      const link = kind === 'pie-at-base'
        ? linkPie(linker, o.target, o.objs, o.dir, base)
        : linkStaticAt(linker, o.target, o.objs, o.dir, base, staticPlacement(pie0.bytes, base));
      comparisons.push(judge({
        target: o.target, linker, kind, base, pie0: pie0.bytes,
        ...(link.ok ? { ref: link.bytes } : { linkError: link.stderr }),
      }, exclusionsFor(reg, o.target, linker, kind)));
    }
  }
  return { target: o.target, linker, comparisons };
}

export function markdown(runs: LinkerRun[]): string {
  const out: string[] = [];
  out.push('| target | linker | reference | base | result | bytes compared | differ | excluded (by entry) |');
  out.push('|---|---|---|---|---|---:|---:|---|');
  for (const r of runs) {
    if (r.pieError) {
      out.push(`| ${r.target} | ${r.linker} | – | – | **no PIE**: ${r.pieError.replace(/\|/g, '\\|')} | | | |`);
      continue;
    }
    for (const c of r.comparisons) {
      const ex = Object.entries(c.exclusions).map(([k, v]) => `${k} ${v}`).join(', ');
      const res = c.cls + (c.note ? `: ${c.note.replace(/\|/g, '\\|')}` : '') + (c.differing ? ` (${c.regions.filter((d) => !d.excludedBy).map((d) => `${d.region} ${d.bytes}`).join(', ')})` : '');
      out.push(`| ${c.target} | ${c.linker} | ${c.kind} | ${hex(c.base)} | ${res} | ${c.compared || ''} | ${c.compared ? c.differing : ''} | ${ex} |`);
    }
  }
  return out.join('\n') + '\n';
}

async function main(argv: string[]): Promise<number> {
  const targets: Arch[] = [];
  const linkers: LinkerId[] = [];
  const bases: bigint[] = [];
  let version = '2.0.25';
  let variant: Variant = 'gcc';
  let json = false;
  let md: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--target') targets.push(argv[++i] as Arch);
    else if (a === '--linker') linkers.push(argv[++i] as LinkerId);
    else if (a === '--base') bases.push(BigInt(argv[++i]!));
    else if (a === '--version') version = argv[++i]!;
    else if (a === '--variant') variant = argv[++i] as Variant;
    else if (a === '--json') json = true;
    else if (a === '--markdown') md = argv[++i];
    else {
      log(`unknown argument ${a}`);
      return 2;
    }
  }
  const runs: LinkerRun[] = [];
  for (const target of targets.length ? targets : (['x86_64', 'ppc64', 'ppc64le'] as Arch[])) {
    for (const linker of linkers.length ? linkers : LINKERS) {
      if (!toolAvailable(linkerCommand(linker, target))) {
        log(`${linkerCommand(linker, target)} is not installed: skipping ${target}/${linker}`);
        continue;
      }
    }
    const o = await ensureObjects(target, version, variant);
    for (const linker of linkers.length ? linkers : LINKERS) {
      if (!toolAvailable(linkerCommand(linker, target))) continue;
      const r = runLinker(o, linker, bases.length ? bases : undefined);
      runs.push(r);
      if (!json) {
        if (r.pieError) process.stdout.write(`${target.padEnd(8)} ${linker.padEnd(3)} no PIE: ${r.pieError}\n`);
        for (const c of r.comparisons) process.stdout.write(formatComparison(c) + '\n');
      }
    }
  }
  if (json) process.stdout.write(JSON.stringify(runs, (_k, v) => (typeof v === 'bigint' ? hex(v) : v), 2) + '\n');
  if (md) writeFileSync(md, markdown(runs));
  return runs.some((r) => r.comparisons.some((c) => c.cls === 'mismatch')) ? 1 : 0;
}

if (isMain(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
