// `findings verify`: prove each finding's proposed patch. For every target of the finding:
//   1. copy the fetched upstream tree into a scratch directory, apply docs/findings/<id>.patch,
//      and build it as an oracle into a scratch cache (never the shared one);
//   2. the finding's own inputs: the released oracle must differ from the expected profile
//      (normally `abi`) in at least one case (the input shows the defect), and the patched oracle
//      must match it in every case, with no registry help but for the other entries;
//   3. the corpus, C against C: every case the patched oracle answers differently from the released
//      one must be a case whose model outcome the fix changes (<source>+<fix>), and the patched
//      oracle must match that fixed profile on every corpus case (0 unexplained).
// A finding fixed upstream has no patch: the oldest released oracle that has the fix plays the
// patched one, and the model of the affected version shows the defect.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { load } from '../engine.ts';
import { compareOutcomes, type CaseComparison } from '../compare/compare.ts';
import { compareRefs } from '../validate/matrix.ts';
import { applyRegistry, loadRegistry, type Registry } from '../validate/registry.ts';
import { casesFor, requestOf } from '../validate/cases.ts';
import { loadManifest } from '../validate/validate.ts';
import { makeProfile } from '../load/profile.ts';
import { KERNEL_MESSAGE_CLASSES } from '../load/kernel.ts';
import { cacheDir, OracleUnavailableError, readKexecToolsBuild } from '../oracle/registry.ts';
import { KexecToolsOracle } from '../oracle/kexec-tools.ts';
import { findKernelOracle, openKernelOracle, type KernelVariant, type KernelVersion } from '../oracle/kernel.ts';
import type { OracleResponse } from '../oracle/batch.ts';
import { targetOf } from '../engine.ts';
import { FindingsError, fixedProfileId, REPO_DIR, sameOutcome, type Finding } from './findings.ts';
import type { Arch, LoadRequest, Outcome } from '../types.ts';

export interface Oracle {
  runMany(reqs: readonly LoadRequest[]): Promise<OracleResponse[]>;
  close(): Promise<void>;
}

export interface CaseNote {
  input: string;
  caseId: string;
  detail: string;
}

export interface TargetVerdict {
  target: Arch;
  /** What played the patched oracle: a scratch build, or a released version that has the fix. */
  patched: string;
  released: string;
  /** The finding's inputs. */
  cases: number;
  /** Cases where the released loader (oracle, or the model when no released oracle has the defect) differs from `expect`. */
  shownBefore: number;
  beforeBy: 'oracle' | 'model';
  /** Cases where the patched oracle differs from `expect` and no other registry entry explains it. */
  unexplainedAfter: number;
  /** Corpus cases compared C against C (0 when there is no patch). */
  corpusCases: number;
  /** Corpus cases the patched oracle answers differently from the released one. */
  corpusChanged: number;
  /** Corpus cases whose model outcome the fix changes. */
  corpusPredicted: number;
  /** Changed corpus cases the model did not predict. */
  corpusUnexpected: number;
  /** Corpus cases where the patched oracle differs from the fixed profile, unexplained. */
  corpusUnexplained: number;
  examples: CaseNote[];
}

export interface FindingVerdict {
  id: string;
  expect: string;
  fixedProfile: string;
  ok: boolean;
  reasons: string[];
  targets: TargetVerdict[];
  seconds: number;
}

export interface VerifyOptions {
  ids?: string[];
  /** Where patched trees and their oracle builds go (default: a fresh directory under the OS tmpdir, removed afterwards). */
  scratch?: string;
  keepScratch?: boolean;
  corpusDir?: string;
  log?: (line: string) => void;
  /** Released oracles (default: the shared cache, $PURGATORY_ORACLE_CACHE). */
  cache?: string;
}

const OK = new Set<CaseComparison['cls']>(['match', 'both-rejected']);

/** The registry as it would be without this finding: its own entry explains nothing. */
function registryWithout(reg: Registry, id: string): Registry {
  return { entries: reg.entries.filter((e) => e.id !== id) };
}

function sourceParts(f: Finding): { loader: 'kexec-tools' | 'kernel'; version: string } {
  const m = /^(kexec-tools|kernel)-(\d+\.\d+(?:\.\d+)?)$/.exec(f.source);
  if (!m) throw new FindingsError(`${f.path}: source '${f.source}' is not kexec-tools-<version> or kernel-<version>`);
  return { loader: m[1] as 'kexec-tools' | 'kernel', version: m[2]! };
}

async function run(cmd: string, args: string[], env: Record<string, string>, log: (l: string) => void): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await execa(cmd, args, { reject: false, env, extendEnv: true, cwd: REPO_DIR, stdin: 'ignore' });
  const stderr = String(r.stderr ?? '');
  for (const l of stderr.split('\n').filter(Boolean).slice(-5)) log(`  ${l}`);
  return { code: r.exitCode ?? -1, stdout: String(r.stdout ?? ''), stderr };
}

/** Copy the fetched source tree and apply the finding's patch; returns the tree, or throws FindingsError if it does not apply. */
async function patchedTree(f: Finding, scratch: string, cache: string, log: (l: string) => void): Promise<string> {
  const { loader, version } = sourceParts(f);
  const src = loader === 'kexec-tools' ? join(cache, 'src', `kexec-tools-${version}`) : join(cache, 'kernel', 'src', version, 'linux');
  const tree = join(scratch, `${f.id}-tree`);
  rmSync(tree, { recursive: true, force: true });
  try {
    cpSync(src, tree, { recursive: true });
  } catch (e) {
    throw new OracleUnavailableError(`the ${f.source} source is not fetched (${src})`, loader === 'kexec-tools' ? `bash scripts/fetch-kexec-tools.sh ${version}` : `bash scripts/fetch-kernel.sh ${version}`, { cause: e });
  }
  const patch = join(REPO_DIR, 'docs', 'findings', f.patch!);
  const r = await run('patch', ['-p1', '--batch', '--forward', '--no-backup-if-mismatch', '-d', tree, '-i', patch], {}, log);
  if (r.code !== 0) throw new FindingsError(`${patch} does not apply to ${f.source}:\n${r.stdout}${r.stderr}`);
  return tree;
}

/** Build the patched tree as an oracle for one target in the scratch cache and open it. */
async function buildPatched(f: Finding, tree: string, target: Arch, scratchCache: string, log: (l: string) => void): Promise<{ oracle: Oracle; label: string }> {
  const env = { PURGATORY_ORACLE_CACHE: scratchCache };
  if (f.loader === 'kexec-tools') {
    const r = await run('bash', [join(REPO_DIR, 'scripts', 'build-oracle.sh'), '--kexec-tools', tree, '--target', target], env, log);
    const dir = r.stdout.split('\n').filter((l) => l.endsWith('/oracle')).map((l) => dirname(l))[0];
    if (r.code !== 0 || !dir) throw new OracleUnavailableError(`building the patched ${f.source} oracle for ${target} failed (exit ${r.code})`, `PURGATORY_ORACLE_CACHE=${scratchCache} bash scripts/build-oracle.sh --kexec-tools ${tree} --target ${target}`);
    const build = readKexecToolsBuild(dir);
    return { oracle: KexecToolsOracle.fromBuild(build), label: `kexec-tools-${build.version}/${target} (patched)` };
  }
  const { version } = sourceParts(f);
  const variant = target as KernelVariant;
  const r = await run('bash', [join(REPO_DIR, 'scripts', 'build-kernel-oracle.sh'), version, '--variant', variant, '--kernel-src', tree], env, log);
  if (r.code !== 0) throw new OracleUnavailableError(`building the patched kernel ${version} oracle for ${variant} failed (exit ${r.code})`, `PURGATORY_ORACLE_CACHE=${scratchCache} bash scripts/build-kernel-oracle.sh ${version} --variant ${variant} --kernel-src ${tree}`);
  return { oracle: openKernelOracle(findKernelOracle(version as KernelVersion, variant, scratchCache)), label: `kernel-${version}/${variant} (patched)` };
}

async function openReleased(loader: 'kexec-tools' | 'kernel', version: string, target: Arch, cache: string): Promise<Oracle> {
  if (loader === 'kexec-tools') return KexecToolsOracle.open(version, target, { cacheDir: cache });
  return openKernelOracle(findKernelOracle(version as KernelVersion, target as KernelVariant, cache));
}

interface Compared {
  cmp: CaseComparison;
  unexplained: boolean;
}

/** The model under `profileId` against a reference outcome, with the registry (as validate does it). */
function against(registry: Registry, profileId: string, target: Arch, req: LoadRequest, ref: OracleResponse): Compared & { ts: Outcome } {
  const profile = makeProfile(profileId, target);
  const hostAddress = ref.kind === 'ok' ? ref.hostBuf : 0n;
  const ts = load(req, { profile: profileId, target, hostAddress });
  const cmp = compareOutcomes(ts, ref, [], profile.loader === 'kernel' ? KERNEL_MESSAGE_CLASSES : [], { exactMessages: profile.loader === 'kernel' });
  const ok = OK.has(cmp.cls) || applyRegistry(registry, profile, ts, cmp, req.fill).explainedBy.length > 0;
  return { ts, cmp, unexplained: !ok };
}

const describe = (c: CaseComparison): string =>
  [c.cls, c.note, ...c.layout.map((l) => `${l.field} ${l.ts} vs ${l.ref}`), ...c.ranges.slice(0, 2).map((r) => `bytes ${r.start}..${r.end}: ${Buffer.from(r.ts).toString('hex')} vs ${Buffer.from(r.ref).toString('hex')}`)]
    .filter(Boolean).join('; ');

/** C against C: the same answer (a crash is the same crash when its signal is; its message carries addresses). */
function sameRef(a: OracleResponse, b: OracleResponse): boolean {
  return ['same', 'both-rejected'].includes(compareRefs(a, b).cls);
}


export async function verifyFinding(f: Finding, opts: VerifyOptions & { scratch: string }): Promise<FindingVerdict> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const cache = opts.cache ?? cacheDir();
  const corpusDir = opts.corpusDir ?? join(REPO_DIR, 'corpus');
  const registry = registryWithout(loadRegistry(join(corpusDir, 'known-divergences.json')), f.id);
  const { loader, version } = sourceParts(f);
  const releasedProfile = `${loader}-${version}`;
  const fixedProfile = fixedProfileId(releasedProfile, f.fix);
  const verdict: FindingVerdict = { id: f.id, expect: f.expect, fixedProfile, ok: false, reasons: [], targets: [], seconds: 0 };
  const inputs = f.inputs.map((p) => ({ name: p.replace(`${REPO_DIR}/`, ''), bytes: new Uint8Array(readFileSync(p)) }));
  let tree: string | undefined;
  if (f.patch) {
    log(`${f.id}: applying docs/findings/${f.patch} to ${f.source}`);
    tree = await patchedTree(f, opts.scratch, cache, log);
  }
  const scratchCache = join(opts.scratch, 'cache');
  mkdirSync(scratchCache, { recursive: true });
  for (const target of f.targets) {
    const mine = inputs.filter((i) => targetOf(i.bytes) === target);
    const tv: TargetVerdict = {
      target, patched: '', released: `${releasedProfile}/${target}`, cases: 0, shownBefore: 0, beforeBy: 'oracle', unexplainedAfter: 0,
      corpusCases: 0, corpusChanged: 0, corpusPredicted: 0, corpusUnexpected: 0, corpusUnexplained: 0, examples: [],
    };
    verdict.targets.push(tv);
    let patched: Oracle;
    // Fixed upstream: the released oracle of `source` already has the fix; the affected version's model shows the defect.
    const beforeProfile = f.patch ? undefined : `${loader}-${f.versions[f.versions.length - 1]}`;
    if (tree) {
      log(`${f.id}: building the patched oracle for ${target}`);
      const b = await buildPatched(f, tree, target, scratchCache, log);
      patched = b.oracle;
      tv.patched = b.label;
    } else {
      patched = await openReleased(loader, version, target, cache);
      tv.patched = `${releasedProfile}/${target} (released, has the fix)`;
      tv.beforeBy = 'model';
    }
    const released = tree ? await openReleased(loader, version, target, cache) : undefined;
    try {
      // The finding's own inputs.
      for (const input of mine) {
        const specs = casesFor(input.bytes);
        const reqs = specs.map((c) => requestOf(input.bytes, c));
        const after = await patched.runMany(reqs);
        const before = released ? await released.runMany(reqs) : undefined;
        specs.forEach((c, i) => {
          tv.cases++;
          const a = against(registry, f.expect, target, reqs[i]!, after[i]!);
          if (a.unexplained) {
            tv.unexplainedAfter++;
            if (tv.examples.length < 5) tv.examples.push({ input: input.name, caseId: c.id, detail: `patched vs ${f.expect}: ${describe(a.cmp)}` });
          }
          const shown = before
            ? !OK.has(compareOutcomes(a.ts, before[i]!, [], loader === 'kernel' ? KERNEL_MESSAGE_CLASSES : [], { exactMessages: loader === 'kernel' }).cls)
            : !sameOutcome(load(reqs[i]!, { profile: beforeProfile!, target, hostAddress: 0x1000_0000_0000n }), a.ts);
          if (shown) tv.shownBefore++;
        });
      }
      // The corpus, C against C (only where there is a patch: otherwise nothing was rebuilt).
      if (released) {
        for (const e of loadManifest(corpusDir).filter((x) => x.arch === target)) {
          const bytes = new Uint8Array(readFileSync(join(corpusDir, '..', e.file)));
          const specs = casesFor(bytes, e.bases);
          const reqs = specs.map((c) => requestOf(bytes, c));
          const [rel, pat] = [await released.runMany(reqs), await patched.runMany(reqs)];
          specs.forEach((c, i) => {
            tv.corpusCases++;
            const fixedCmp = against(registry, fixedProfile, target, reqs[i]!, pat[i]!);
            // The released model at the patched oracle's host address, as fixedCmp was loaded: the
            // prediction is the fix alone, not a difference between two heaps (ppc64 REL32).
            const hostAddress = pat[i]!.kind === 'ok' ? (pat[i] as { hostBuf: bigint }).hostBuf : 0n;
            const relModel = load(reqs[i]!, { profile: releasedProfile, target, hostAddress });
            const predicted = !sameOutcome(relModel, fixedCmp.ts);
            const changed = !sameRef(rel[i]!, pat[i]!);
            if (predicted) tv.corpusPredicted++;
            if (changed) tv.corpusChanged++;
            if (changed && !predicted) {
              tv.corpusUnexpected++;
              if (tv.examples.length < 5) tv.examples.push({ input: e.id, caseId: c.id, detail: `changed by the patch, not by ${fixedProfile}: ${compareRefs(rel[i]!, pat[i]!).detail.join('; ')}` });
            }
            if (fixedCmp.unexplained) {
              tv.corpusUnexplained++;
              if (tv.examples.length < 5) tv.examples.push({ input: e.id, caseId: c.id, detail: `patched vs ${fixedProfile}: ${describe(fixedCmp.cmp)}` });
            }
          });
        }
      }
    } finally {
      await patched.close();
      await released?.close();
    }
    if (tv.cases && !tv.shownBefore) verdict.reasons.push(`${target}: no input case shows the defect (the released loader already behaves as ${f.expect})`);
    if (tv.unexplainedAfter) verdict.reasons.push(`${target}: ${tv.unexplainedAfter} of ${tv.cases} input cases still differ from ${f.expect} after the patch`);
    if (tv.corpusUnexpected) verdict.reasons.push(`${target}: the patch changed ${tv.corpusUnexpected} corpus case(s) that ${fixedProfile} does not`);
    if (tv.corpusUnexplained) verdict.reasons.push(`${target}: ${tv.corpusUnexplained} corpus case(s) of the patched oracle differ from ${fixedProfile}`);
    if (released && !tv.corpusCases) verdict.reasons.push(`${target}: no corpus case was compared`);
  }
  // A target without inputs of its own is still checked C against C over the corpus (a patch to generic code).
  if (!verdict.targets.some((t) => t.cases)) verdict.reasons.push('the finding has no input for any of its targets');
  verdict.ok = verdict.reasons.length === 0 && verdict.targets.length > 0;
  verdict.seconds = (performance.now() - t0) / 1000;
  return verdict;
}

/** Verify the selected findings; a fresh scratch directory unless one is given (removed afterwards unless keepScratch). */
export async function verifyFindings(findings: Finding[], opts: VerifyOptions = {}): Promise<FindingVerdict[]> {
  const selected = opts.ids?.length ? findings.filter((f) => opts.ids!.includes(f.id)) : findings;
  const unknown = (opts.ids ?? []).filter((id) => !findings.some((f) => f.id === id));
  if (unknown.length) throw new FindingsError(`unknown finding(s): ${unknown.join(', ')} (known: ${findings.map((f) => f.id).join(', ')})`);
  if (!selected.length) throw new FindingsError('no finding to verify');
  const scratch = opts.scratch ?? mkdtempSync(join(tmpdir(), 'po-findings-'));
  mkdirSync(scratch, { recursive: true });
  try {
    const out: FindingVerdict[] = [];
    for (const f of selected) out.push(await verifyFinding(f, { ...opts, scratch }));
    return out;
  } finally {
    if (!opts.scratch && !opts.keepScratch) rmSync(scratch, { recursive: true, force: true });
  }
}

export function formatVerdicts(vs: FindingVerdict[], json = false): string {
  if (json) return JSON.stringify(vs, null, 2) + '\n';
  const lines: string[] = [];
  for (const v of vs) {
    lines.push(`${v.ok ? 'verified' : 'NOT VERIFIED'}: ${v.id} (expect ${v.expect}; corpus against ${v.fixedProfile}; ${v.seconds.toFixed(1)} s)`);
    for (const t of v.targets) {
      lines.push(`  ${t.target}: ${t.patched}`);
      lines.push(`    inputs: ${t.cases} cases; before the fix ${t.shownBefore} differ from ${v.expect} (${t.beforeBy}); after: ${t.unexplainedAfter} unexplained`);
      if (t.corpusCases) lines.push(`    corpus C against C (${t.released} vs patched): ${t.corpusCases} cases, ${t.corpusChanged} changed, ${t.corpusPredicted} predicted by ${v.fixedProfile}, ${t.corpusUnexpected} unexpected; patched vs ${v.fixedProfile}: ${t.corpusUnexplained} unexplained`);
      for (const x of t.examples) lines.push(`    ${x.input} ${x.caseId}: ${x.detail}`);
    }
    for (const r of v.reasons) lines.push(`  reason: ${r}`);
  }
  const bad = vs.filter((v) => !v.ok).length;
  lines.push(`${vs.length - bad} of ${vs.length} finding(s) verified`);
  return lines.join('\n') + '\n';
}

export interface ShowResult {
  id: string;
  expect: string;
  oracles: string[];
  cases: number;
  /** Cases where the released oracle differs from `expect` (what the report shows). */
  differing: number;
  text: string;
}

/**
 * The report's reproducer: the finding's inputs through the released oracles of `source`, compared
 * with the expected profile, each differing case rendered as validate renders it (bytes, with the
 * relocation that wrote them; or the two outcomes).
 */
export async function showFinding(f: Finding, opts: { cache?: string; corpusDir?: string; maxReports?: number } = {}): Promise<ShowResult> {
  const { validate } = await import('../validate/validate.ts');
  const { liveSource } = await import('../validate/sources.ts');
  const corpusDir = opts.corpusDir ?? join(REPO_DIR, 'corpus');
  const cache = opts.cache ?? cacheDir();
  const { loader, version } = sourceParts(f);
  const files = f.inputs.map((p) => ({ id: p.replace(`${REPO_DIR}/`, ''), bytes: new Uint8Array(readFileSync(p)) }));
  const sources = [];
  for (const target of f.targets) {
    const mine = files.filter((x) => targetOf(x.bytes) === target);
    if (!mine.length) continue;
    const o = await openReleased(loader, version, target, cache);
    const live = { oracle: { loader, version, target }, runMany: (r: readonly LoadRequest[]) => o.runMany(r), close: () => o.close() };
    sources.push(liveSource(corpusDir, live, [], mine));
  }
  if (!sources.length) throw new FindingsError(`${f.id}: no input for any of its targets`);
  const report = await validate({
    corpusDir, sources, profile: f.expect, maxReports: opts.maxReports ?? 2,
    registry: registryWithout(loadRegistry(join(corpusDir, 'known-divergences.json')), f.id),
  });
  const lines: string[] = [];
  for (const s of report.sources) {
    lines.push(`${s.oracle} (released) against profile ${f.expect}: ${s.cases} cases, ${s.unexplained} differ`);
    for (const r of s.results.filter((x) => x.report)) lines.push(`--- ${r.entry} ${r.caseId}`, r.report!);
  }
  return {
    id: f.id, expect: f.expect, oracles: report.sources.map((s) => s.oracle), cases: report.sources.reduce((n, s) => n + s.cases, 0),
    differing: report.unexplained, text: lines.join('\n') + '\n',
  };
}
