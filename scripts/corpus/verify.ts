// Checks that every corpus entry reproduces: the committed file against the manifest's sha256,
// then a re-extraction (Debian origins) or a rebuild (source origins) against the same sha256.
// Every entry that does not reproduce is reported, in one of these classes:
//   ok                 reproduced bit for bit
//   file-mismatch      the committed file is not what the manifest says (or is missing)
//   mismatch           re-extracted/rebuilt with the same package/toolchain, and the bytes differ
//   toolchain-changed  rebuilt bytes differ and the compiler/linker/strip versions differ too
//   source-changed     the fetched source package version is not the recorded one
//   deb-changed        the downloaded .deb is not the recorded one (same version, other bytes)
//   unavailable        the package/version can no longer be fetched (or the build now fails)
//
// Coverage objects (origin coverage-generator) are regenerated from their specs and compared.
//
// Usage: npx tsx scripts/corpus/verify.ts [--only debian|source|kernel-source|coverage|files] [--id ID]... [--fresh] [--jobs N]
//   --fresh downloads the .debs again instead of using the cached copies.
// Exit: 0 when nothing is file-mismatch or mismatch, 1 otherwise.

import { TASKS as KERNEL_TASKS, build as buildKernelPurgatory } from './build-kernel-purgatory.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, type ManifestEntry } from '../../src/corpus/manifest.ts';
import { CACHE, REPO, isMain, loadManifest, log, pool } from './common.ts';
import { StageError, extractKernel, extractKexec, isDebianEntry, options as extractOptions } from './extract-debian.ts';
import { isCoverageEntry, verifyCoverageEntry } from './coverage.ts';
import { BUILD_ROOT, TARGETS, buildOne, fetchTree, type BuildSpec, type Variant } from './build-from-source.ts';

export type Verdict = 'ok' | 'file-mismatch' | 'mismatch' | 'toolchain-changed' | 'source-changed' | 'deb-changed' | 'unavailable';

export interface VerifyResult {
  id: string;
  verdict: Verdict;
  detail: string;
}

function checkFile(e: ManifestEntry): VerifyResult | undefined {
  const p = join(REPO, e.file);
  if (!existsSync(p)) return { id: e.id, verdict: 'file-mismatch', detail: `${e.file} is missing` };
  const got = sha256(readFileSync(p));
  if (got !== e.sha256) return { id: e.id, verdict: 'file-mismatch', detail: `${e.file} has sha256 ${got}, manifest says ${e.sha256}` };
  return undefined;
}

function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function verifyDebian(e: ManifestEntry): VerifyResult {
  const o = e.origin;
  try {
    let got: { sha: string; debSha: string } | undefined;
    if (o.kind === 'debian-kexec-tools-binary') {
      const x = extractKexec(o.suite, o.debArch, o.version);
      if (x.origin.kind !== 'debian-kexec-tools-binary') throw new Error('unreachable');
      got = { sha: sha256(x.bytes), debSha: x.origin.debSha256 };
    } else if (o.kind === 'debian-kernel-image') {
      const r = extractKernel(o.suite, o.debArch, o.package, o.version);
      const x = r.extracted.find((y) => y.origin.kind === 'debian-kernel-image' && y.origin.offset === o.offset);
      if (!x || x.origin.kind !== 'debian-kernel-image') {
        return { id: e.id, verdict: 'mismatch', detail: `no object at vmlinux offset 0x${o.offset.toString(16)} any more; found at [${r.extracted.map((y) => ('offset' in y.origin ? `0x${y.origin.offset.toString(16)}` : '?')).join(', ')}]` };
      }
      got = { sha: sha256(x.bytes), debSha: x.origin.debSha256 };
    } else {
      throw new Error(`${e.id} is not a Debian entry`);
    }
    if (got.debSha !== o.debSha256) return { id: e.id, verdict: 'deb-changed', detail: `${o.package} ${o.version}: .deb sha256 ${got.debSha}, recorded ${o.debSha256}` };
    if (got.sha !== e.sha256) return { id: e.id, verdict: 'mismatch', detail: `re-extracted sha256 ${got.sha}, recorded ${e.sha256}` };
    return { id: e.id, verdict: 'ok', detail: `${o.package} ${o.version} (${o.suite}/${o.debArch})` };
  } catch (err) {
    // Exit 3 from debian-apt.sh: the version is gone from the suite (superseded); exit 2: the mirror failed.
    const verdict: Verdict = 'unavailable';
    const stage = err instanceof StageError ? `${err.stage}: ` : '';
    return { id: e.id, verdict, detail: `${'package' in o ? `${o.package} ${o.version}: ` : ''}${stage}${why(err)}` };
  }
}

/** Rebuilds each (version, target, variant) once and checks every entry that came from it. */
export async function verifySource(entries: ManifestEntry[], jobs: number): Promise<VerifyResult[]> {
  const groups = new Map<string, { spec: BuildSpec; entries: ManifestEntry[] }>();
  for (const e of entries) {
    const o = e.origin;
    if (o.kind !== 'kexec-tools-source') continue;
    const target = TARGETS.find((t) => t.arch === e.arch);
    if (!target) continue;
    const key = `${o.version} ${e.arch} ${o.variant}`;
    const g = groups.get(key) ?? { spec: { version: o.version, target, variant: o.variant as Variant }, entries: [] };
    g.entries.push(e);
    groups.set(key, g);
  }
  const trees = new Map<string, Awaited<ReturnType<typeof fetchTree>> | Error>();
  for (const v of new Set([...groups.values()].map((g) => g.spec.version))) {
    try {
      trees.set(v, await fetchTree(v));
    } catch (err) {
      trees.set(v, err instanceof Error ? err : new Error(String(err)));
    }
  }
  const results = await pool([...groups.values()], jobs, async (g): Promise<VerifyResult[]> => {
    const tree = trees.get(g.spec.version);
    if (!tree || tree instanceof Error) {
      return g.entries.map((e) => ({ id: e.id, verdict: 'unavailable' as Verdict, detail: `kexec-tools ${g.spec.version}: ${tree?.message ?? 'not fetched'}` }));
    }
    // A different directory than build-from-source.ts uses: also shows the output is path-independent.
    const r = await buildOne(g.spec, tree, { root: join(BUILD_ROOT, 'verify') });
    return g.entries.map((e): VerifyResult => {
      const o = e.origin;
      if (o.kind !== 'kexec-tools-source') throw new Error('unreachable');
      const out = r.outputs.find((x) => x.id === e.id);
      if (!out) {
        const f = r.failures.find((x) => x.what === e.id) ?? r.failures[0];
        return { id: e.id, verdict: 'unavailable', detail: `rebuild produced no ${e.id}${f ? ` (${f.stage}: ${f.error.split('\n').slice(-3).join(' | ')})` : ''}` };
      }
      const got = sha256(out.bytes);
      if (got === e.sha256) return { id: e.id, verdict: 'ok', detail: `rebuilt from ${o.debianVersion}` };
      if (tree.debianVersion !== o.debianVersion) {
        return { id: e.id, verdict: 'source-changed', detail: `source is now ${tree.debianVersion}, recorded ${o.debianVersion}; sha256 ${got} vs ${e.sha256}` };
      }
      const was = e.toolchain;
      const now = out.toolchain;
      const diffs = (['cc', 'ld', 'strip'] as const).filter((k) => was[k] !== now[k]).map((k) => `${k}: recorded '${was[k] ?? '?'}', now '${now[k] ?? '?'}'`);
      if (diffs.length > 0) return { id: e.id, verdict: 'toolchain-changed', detail: `sha256 ${got} vs ${e.sha256}; ${diffs.join('; ')}` };
      return { id: e.id, verdict: 'mismatch', detail: `same source and toolchain, sha256 ${got} vs recorded ${e.sha256}` };
    });
  });
  return results.flat();
}

async function main(argv: string[]): Promise<number> {
  let only: string | undefined;
  const ids: string[] = [];
  let jobs = 2;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') only = argv[++i];
    else if (a === '--id') ids.push(argv[++i] ?? '');
    else if (a === '--fresh') extractOptions.useCache = false;
    else if (a === '--jobs') jobs = Number(argv[++i]);
    else {
      log(`unknown argument ${a}`);
      return 1;
    }
  }
  const t0 = Date.now();
  const entries = loadManifest().entries.filter((e) => ids.length === 0 || ids.includes(e.id));
  const results: VerifyResult[] = [];
  const fileBad = new Set<string>();
  for (const e of entries) {
    const r = checkFile(e);
    if (r) {
      results.push(r);
      fileBad.add(e.id);
    }
  }
  if (only !== 'files') {
    if (only === undefined || only === 'debian') {
      for (const e of entries.filter((x) => isDebianEntry(x) && !fileBad.has(x.id))) {
        const r = verifyDebian(e);
        log(`${r.verdict.padEnd(17)} ${r.id}: ${r.detail.split('\n')[0]}`);
        results.push(r);
      }
    }
    if (only === undefined || only === 'coverage') {
      // Generated objects: regenerate from their specs (no network, no toolchain).
      for (const e of entries.filter((x) => isCoverageEntry(x) && !fileBad.has(x.id))) {
        const why = verifyCoverageEntry(e);
        const r: VerifyResult = why ? { id: e.id, verdict: 'mismatch', detail: why } : { id: e.id, verdict: 'ok', detail: `regenerated from ${e.origin.kind === 'coverage-generator' ? e.origin.spec : '?'}` };
        if (why) log(`${r.verdict.padEnd(17)} ${r.id}: ${r.detail}`);
        results.push(r);
      }
    }
    if (only === undefined || only === 'source') {
      const rs = await verifySource(entries.filter((x) => !fileBad.has(x.id)), jobs);
      for (const r of rs) log(`${r.verdict.padEnd(17)} ${r.id}: ${r.detail.split('\n')[0]}`);
      results.push(...rs);
    }
    if (only === undefined || only === 'kernel-source') {
      // The kernels' own purgatories: rebuilt from the same Debian source in another directory.
      for (const e of entries.filter((x) => x.origin.kind === 'kernel-source' && !fileBad.has(x.id))) {
        const o = e.origin;
        if (o.kind !== 'kernel-source') continue;
        const task = KERNEL_TASKS.find((t) => t.version === o.version && t.arch === e.arch);
        let r: VerifyResult;
        try {
          if (!task) throw new Error(`no build task for linux ${o.version} ${e.arch}`);
          const again = await buildKernelPurgatory(task, join(CACHE, 'corpus/kernel-build/verify'));
          r = again.sha256 === e.sha256
            ? { id: e.id, verdict: 'ok', detail: `rebuilt from linux ${o.debianVersion} (${o.suite})` }
            : { id: e.id, verdict: 'mismatch', detail: `rebuilt sha256 ${again.sha256}, recorded ${e.sha256}` };
        } catch (err) {
          r = { id: e.id, verdict: 'unavailable', detail: why(err) };
        }
        log(`${r.verdict.padEnd(17)} ${r.id}: ${r.detail.split('\n')[0]}`);
        results.push(r);
      }
    }
  } else {
    for (const e of entries.filter((x) => !fileBad.has(x.id))) results.push({ id: e.id, verdict: 'ok', detail: 'file matches manifest' });
  }
  const counts = new Map<Verdict, number>();
  for (const r of results) counts.set(r.verdict, (counts.get(r.verdict) ?? 0) + 1);
  const bad = results.filter((r) => r.verdict !== 'ok');
  process.stdout.write(`verified ${results.length} of ${entries.length} entries in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${[...counts.entries()].map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
  for (const r of bad) process.stdout.write(`  ${r.verdict}: ${r.id}\n    ${r.detail.split('\n').join('\n    ')}\n`);
  return results.some((r) => r.verdict === 'mismatch' || r.verdict === 'file-mismatch') ? 1 : 0;
}

if (isMain(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
