// Relocation-type census of the corpus, from the committed files (not from the manifest's copy,
// so a stale manifest shows up as a difference).
//
// Usage: npx tsx scripts/corpus/census.ts [--json] [--by-entry]
//   default: per-entry table (types, counts), then ET_REL against PIE for each build that has both,
//   then the union of types per (arch, ELF type).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeElf, type ManifestEntry } from '../../src/corpus/manifest.ts';
import { REPO, isMain, loadManifest } from './common.ts';

export interface CensusRow {
  id: string;
  arch: string;
  elfType: string;
  origin: string;
  total: number;
  types: Record<string, number>;
}

export function census(entries: ManifestEntry[]): CensusRow[] {
  return entries.map((e) => {
    const d = describeElf(new Uint8Array(readFileSync(join(REPO, e.file))), e.malformed);
    return { id: e.id, arch: d.arch, elfType: d.elfType, origin: e.origin.kind, total: d.relocationCount, types: d.relocations };
  });
}

const short = (t: string) => t.replace(/^R_(X86_64|PPC64)_/, '');

function main(argv: string[]): number {
  const rows = census(loadManifest().entries);
  if (argv.includes('--json')) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return 0;
  }
  const out: string[] = [];
  out.push('## Per entry\n');
  out.push('| id | arch | type | #types | #relocs | types (count) |');
  out.push('|---|---|---|---|---|---|');
  for (const r of rows) {
    const types = Object.entries(r.types).map(([k, v]) => `${short(k)} ${v}`).join(', ');
    out.push(`| ${r.id} | ${r.arch} | ${r.elfType} | ${Object.keys(r.types).length} | ${r.total} | ${types} |`);
  }
  out.push('\n## ET_REL against PIE (same objects)\n');
  out.push('| build | arch | ET_REL #types | PIE #types | ET_REL types | PIE types |');
  out.push('|---|---|---|---|---|---|');
  for (const pie of rows.filter((r) => r.elfType === 'pie')) {
    const relId = pie.id.replace(/-pie(-.*)?$/, '');
    const rel = rows.find((r) => r.id === relId);
    if (!rel) continue;
    const fmt = (t: Record<string, number>) => Object.keys(t).map(short).join(' ');
    out.push(`| ${pie.id} | ${pie.arch} | ${Object.keys(rel.types).length} | ${Object.keys(pie.types).length} | ${fmt(rel.types)} | ${fmt(pie.types)} |`);
  }
  out.push('\n## Union of types per (arch, ELF type)\n');
  out.push('| arch | type | entries | min–max #types per entry | union |');
  out.push('|---|---|---|---|---|');
  const groups = new Map<string, CensusRow[]>();
  for (const r of rows) {
    const k = `${r.arch} ${r.elfType}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  for (const [k, g] of [...groups.entries()].sort()) {
    const [arch, type] = k.split(' ');
    const union = [...new Set(g.flatMap((r) => Object.keys(r.types)))].sort();
    const n = g.map((r) => Object.keys(r.types).length);
    out.push(`| ${arch} | ${type} | ${g.length} | ${Math.min(...n)}–${Math.max(...n)} | ${union.map(short).join(' ')} |`);
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

if (isMain(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
