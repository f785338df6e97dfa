// Writes the coverage corpus: every spec of src/corpus/coverage/ built into
// corpus/elf/cov-<arch>-<name>.ro, with its manifest entry (origin "coverage-generator": generator,
// spec module, spec id, covers). Replaces all coverage entries and keeps every other entry.
//
// Usage: npx tsx scripts/corpus/coverage.ts [--check]   (npm run corpus:coverage)
//   --check: write nothing; exit 1 when a committed object or entry differs from what the specs give.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { entryFromElf, sha256, type ManifestEntry } from '../../src/corpus/manifest.ts';
import { COVERAGE_BASES, GENERATOR, coverageSpecs, generate, idOf, type CoverageSpec } from '../../src/corpus/coverage/generate.ts';
import { CORPUS_ELF, REPO, isMain, loadManifest, log, mergeManifest } from './common.ts';

export const isCoverageEntry = (e: ManifestEntry) => e.origin.kind === 'coverage-generator';

export function coverageEntry(s: CoverageSpec, bytes: Uint8Array): ManifestEntry {
  const e = entryFromElf(idOf(s), bytes, {
    kind: 'coverage-generator', generator: GENERATOR, spec: s.spec, specId: s.name, covers: s.covers, note: s.note,
  }, {}, s.malformed);
  // A foreign object (for a machine check) is fed to the loaders of the spec's arch.
  if (e.arch !== s.arch && e.origin.kind === 'coverage-generator') return { ...e, arch: s.arch, origin: { ...e.origin, objectArch: e.arch }, bases: [...COVERAGE_BASES] };
  return { ...e, bases: [...COVERAGE_BASES] };
}

/** Regenerates one committed coverage entry from its spec: undefined when it reproduces, else why not. */
export function verifyCoverageEntry(e: ManifestEntry): string | undefined {
  const o = e.origin;
  if (o.kind !== 'coverage-generator') return `${e.id} is not a coverage entry`;
  const s = coverageSpecs().find((x) => idOf(x) === e.id);
  if (!s) return `no spec declares ${e.id} any more (${o.spec})`;
  const bytes = generate(s);
  const got = sha256(bytes);
  if (got !== e.sha256) return `regenerated sha256 ${got}, recorded ${e.sha256}`;
  const want = JSON.stringify(coverageEntry(s, bytes));
  const { duplicateOf: _d, ...rest } = e;
  if (JSON.stringify(rest) !== want) return 'the manifest entry (covers, note, histogram) differs from the spec';
  return undefined;
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const specs = coverageSpecs();
  const built = specs.map((s) => ({ s, bytes: generate(s) }));
  const entries = built.map(({ s, bytes }) => coverageEntry(s, bytes));
  if (check) {
    const m = new Map(loadManifest().entries.filter(isCoverageEntry).map((e) => [e.id, e]));
    let bad = 0;
    for (const e of entries) {
      const old = m.get(e.id);
      const why = !old ? 'not in the manifest' : verifyCoverageEntry(old);
      const file = join(REPO, e.file);
      const fileWhy = !existsSync(file) ? 'file missing' : sha256(readFileSync(file)) !== e.sha256 ? 'file differs' : undefined;
      if (why || fileWhy) { bad++; log(`stale ${e.id}: ${why ?? fileWhy}`); }
      m.delete(e.id);
    }
    for (const id of m.keys()) { bad++; log(`stale ${id}: in the manifest, no spec declares it`); }
    process.stdout.write(`${entries.length} coverage objects checked, ${bad} stale\n`);
    return bad ? 1 : 0;
  }
  mkdirSync(CORPUS_ELF, { recursive: true });
  // Each file replaced atomically (a validate or gate running meanwhile reads the old or the new
  // object, never none); objects of specs that were removed go.
  const names = new Set(built.map(({ s }) => `${idOf(s)}.ro`));
  for (const { s, bytes } of built) {
    const p = join(CORPUS_ELF, `${idOf(s)}.ro`);
    writeFileSync(`${p}.tmp`, bytes);
    renameSync(`${p}.tmp`, p);
  }
  for (const f of readdirSync(CORPUS_ELF)) if (f.startsWith('cov-') && !names.has(f)) rmSync(join(CORPUS_ELF, f));
  mergeManifest(isCoverageEntry, 'coverage', entries, []);
  const byArch = new Map<string, number>();
  for (const e of entries) byArch.set(e.arch, (byArch.get(e.arch) ?? 0) + 1);
  process.stdout.write(`wrote ${entries.length} coverage objects (${[...byArch].map(([a, n]) => `${a} ${n}`).join(', ')})\n`);
  return 0;
}

if (isMain(import.meta.url)) process.exitCode = main(process.argv.slice(2));
