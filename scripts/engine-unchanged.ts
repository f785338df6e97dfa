// Proof that a change to the load models leaves every outcome as it was: runs the engine of this
// checkout and that of a baseline commit on (a) every corpus entry at its manifest bases (the
// validate cases: bases × symbol settings × fill), (b) every fuzz reproducer in corpus/regressions,
// and (c) N seeded fuzz cases per target (structured, mutated and malformed objects; every target
// of src/arch/targets.ts), the first case of each corpus entry and every 10th fuzz case also with
// the symbol probes of the details path (FLAG_DETAILS), and (d) N seeded PIE inputs per PIE target
// (scripts/pie-cases.ts: generated and mutated PIEs, each at four bases, some near 2^64) under the
// PIE profile, each under
// every profile, two host addresses and the three log settings (default, `log: false`,
// `log: true`), and compares the whole outcomes: kind, code, message, `where`, image bytes,
// layout, sections and the relocation log. With `log: false` the by-type summary
// (relocationTypes) is left out: the baseline may not have set it (test/load/kexec-tools.test.ts
// checks it against the log).
//
//   npx tsx scripts/engine-unchanged.ts [--base REF] [--cases N] [--seed S] [--profile ID]… [--no-corpus]
//
// REF defaults to where this branch left main (git merge-base HEAD main). The baseline's sources
// are taken with `git archive` into a temporary directory (no worktree is touched). Exit 0 when
// every outcome is identical, 1 otherwise (the first differences are printed with a replay line).
import { checkoutBaseline } from './baseline.ts';
import { execFileSync } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { caseFor } from '../src/fuzz/campaign.ts';
import { FUZZ_MODES, requestOf, setCorpusRoot } from '../src/fuzz/desc.ts';
import { readFileSync } from 'node:fs';
import { load } from '../src/engine.ts';
import { PROFILE_IDS } from '../src/load/profile.ts';
import { ALL_TARGETS } from '../src/arch/targets.ts';
import { symbolProbes } from '../src/load/kexec-tools-details.ts';
import { listReproducers, readReproducer } from '../src/fuzz/reproducer.ts';
import { loadManifest } from '../src/validate/validate.ts';
import { casesFor, requestOf as caseRequest } from '../src/validate/cases.ts';
import type { Arch, LoadRequest, Outcome } from '../src/types.ts';
import { PIE_TARGETS, pieCase } from './pie-cases.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const baseRef = opt('--base') ?? execFileSync('git', ['-C', root, 'merge-base', 'HEAD', 'main'], { encoding: 'utf8' }).trim();
const cases = Number(opt('--cases') ?? 3000);
const seed = Number(opt('--seed') ?? 9);
const onlyProfiles = argv.filter((_, i) => argv[i - 1] === '--profile');
const withCorpus = !argv.includes('--no-corpus');
const HOSTS = [undefined, 0x7f12_3456_7000n];
const LOGS = [undefined, false, true] as const;
const TARGETS: Arch[] = ALL_TARGETS;

/** Everything an outcome says, as text: bigints and bytes spelled out, key order kept. */
const canon = (o: Outcome | { kind: 'exception'; name: string; message: string }): string =>
  JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `bytes:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}` : v));

function run(f: typeof load, ...args: Parameters<typeof load>): string {
  try {
    const o = f(...args);
    if (o.kind === 'ok' && args[1]?.log === false) delete o.image.relocationTypes;
    return canon(o);
  } catch (e) {
    return canon({ kind: 'exception', name: (e as Error).name, message: (e as Error).message });
  }
}

const baseline = checkoutBaseline(root, baseRef, 'engine-unchanged');
const baseDir = baseline.dir;
const sha = baseline.sha;
let differ = 0;
let compared = 0;
try {
  const baseLoad = (await import(pathToFileURL(join(baseDir, 'src', 'engine.ts')).href) as { load: typeof load }).load;
  setCorpusRoot(root);
  const byProfile = new Map<string, { cases: number; kinds: Map<string, number> }>();
  const compare = (label: string, req: LoadRequest, target: Arch, profiles: readonly string[] = PROFILE_IDS) => {
    for (const profile of profiles) {
      if (onlyProfiles.length && !onlyProfiles.includes(profile)) continue;
      for (const hostAddress of HOSTS) {
        for (const log of LOGS) {
          // ppc64 REL32 depends on the host buffer address: any fixed value serves both sides.
          const opts = { profile, target, hostAddress, log };
          const a = run(baseLoad, req, opts);
          const b = run(load, req, opts);
          compared++;
          const p = byProfile.get(profile) ?? { cases: 0, kinds: new Map<string, number>() };
          byProfile.set(profile, p);
          p.cases++;
          const kind = /^\{"kind":"(\w+)"(?:,"code":"([\w-]+)")?/.exec(b);
          const key = kind ? (kind[2] ? `${kind[1]}:${kind[2]}` : kind[1]!) : '?';
          p.kinds.set(key, (p.kinds.get(key) ?? 0) + 1);
          if (a === b) continue;
          if (++differ <= 5) {
            const i = [...a].findIndex((c, j) => c !== b[j]);
            console.log(`DIFFERS: ${label} profile ${profile} host ${hostAddress ?? '-'} log ${log}\n  base: …${a.slice(Math.max(0, i - 200), i + 200)}\n  head: …${b.slice(Math.max(0, i - 200), i + 200)}`);
          }
        }
      }
    }
  };
  console.log(`baseline ${sha.slice(0, 12)} vs this checkout: ${withCorpus ? 'corpus × manifest bases, corpus/regressions, ' : ''}${cases} fuzz cases per target and ${cases} PIE cases per PIE target (seed ${seed}); every profile, 2 host addresses, 3 log settings`);
  if (withCorpus) {
    for (const e of loadManifest(join(root, 'corpus'))) {
      const elf = new Uint8Array(readFileSync(join(root, e.file)));
      const probes = symbolProbes(elf);
      casesFor(elf, e.bases).forEach((c, i) => {
        compare(`corpus ${e.id} ${c.id}`, caseRequest(elf, c), e.arch);
        // The details path (FLAG_DETAILS): symbol probes on the first case of each entry.
        if (i === 0) compare(`corpus ${e.id} ${c.id} +probes`, { ...caseRequest(elf, c), probes }, e.arch);
      });
    }
    for (const dir of listReproducers(join(root, 'corpus', 'regressions'))) {
      const r = readReproducer(dir);
      compare(`regression ${dir}`, r.req, r.request.target);
    }
  }
  for (const target of TARGETS) {
    for (let k = 0; k < cases; k++) {
      let req;
      try {
        req = requestOf(caseFor(seed, k, FUZZ_MODES, target, root));
      } catch {
        continue; // a generator error: no input to compare on
      }
      compare(`target ${target} case ${k} (replay: caseFor(${seed}, ${k}, FUZZ_MODES, '${target}'))`, req, target);
      if (k % 10 === 0) compare(`target ${target} case ${k} +probes`, { ...req, probes: symbolProbes(req.elf) }, target);
    }
  }
  const pieCorpus = loadManifest(join(root, 'corpus')).filter((e) => e.file.endsWith('.pie'));
  for (const target of PIE_TARGETS) {
    for (let k = 0; k < cases; k++) {
      const c = pieCase(seed, k, target, pieCorpus, root);
      if (!c) continue;
      for (const base of c.bases) {
        compare(`pie ${target} case ${k} ${c.label} base 0x${base.toString(16)} (replay: pieCase(${seed}, ${k}, '${target}'))`, { elf: c.elf, base, fill: c.fill, symbols: c.symbols }, target, ['pie']);
      }
    }
  }
  for (const [p, s] of byProfile) console.log(`  ${p.padEnd(20)} ${String(s.cases).padStart(6)} outcomes: ${[...s.kinds].sort((x, y) => y[1] - x[1]).map(([kk, n]) => `${kk} ${n}`).join(', ')}`);
  console.log(`${compared} outcomes compared, ${differ} differ`);
} finally {
  baseline.remove();
}
process.exitCode = differ ? 1 : 0;
