// validate: the TS engine against every available reference (live oracle where built, stored
// references otherwise), over corpus × bases × symbol settings. Returns a report; never exits.
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from '../engine.ts';
import { sha256 } from '../image.ts';
import { compareOutcomes, type CaseClass, type CaseComparison, type RefOutcome } from '../compare/compare.ts';
import { renderComparison, renderContextOf } from '../compare/render.ts';
import { makeProfile, type Profile } from '../load/profile.ts';
import { KERNEL_MESSAGE_CLASSES } from '../load/kernel.ts';
import { SymbolFinder, symbolRangesOf } from './symbols.ts';
import { applyRegistry, entriesInScope, loadRegistry, needsRelocationLog, type Registry } from './registry.ts';
import { decodeOutcomeAsync, loadReferenceFiles, prefetchBlobs, oracleId, profileIdOf, symbolsOf, type OracleIdentity } from './references.ts';
import { buildImageMap, type ImageMap } from '../report/image-map.ts';
import { groupRootCauses, typeSitesOf, type RootCause, type RootCauseCase } from '../report/root-causes.ts';
import type { Arch, LoadRequest, Outcome, SymbolWrite } from '../types.ts';

export const DEFAULT_CORPUS = resolve(dirname(fileURLToPath(import.meta.url)), '../../corpus');

export interface CorpusEntry {
  id: string;
  file: string;
  arch: Arch;
  sha256: string;
  /** Validate bases (names from cases.ts BASES) when not all of them: see casesFor(). */
  bases?: string[];
  /** Where the file comes from (corpus/manifest.json); `coverage-generator` for generated objects. */
  origin?: { kind?: string };
}

export interface ValidateCase {
  entry: string;
  caseId: string;
  req: LoadRequest;
  ref: RefOutcome;
}

/** One reference loader: stored or live. */
export interface ReferenceSource {
  oracle: OracleIdentity;
  live: boolean;
  /** The cases with their reference outcomes. */
  cases(): AsyncIterable<ValidateCase> | Iterable<ValidateCase>;
  close?(): Promise<void>;
}

export interface CaseResult {
  entry: string;
  caseId: string;
  cls: CaseClass;
  explainedBy: string[];
  comparison: CaseComparison;
  /** The request, as the reproduction commands need it. */
  base: bigint;
  fill: number;
  /** Symbol writes as `name=hex` (the CLI's --set). */
  symbols: string[];
  hostAddress: bigint;
  /** The corpus file, when the entry is one. */
  file?: string;
  /** A generated corpus object (origin coverage-generator). */
  synthetic?: boolean;
  /** Relocation sites per type in the TS image (non-matching cases only). */
  typeSites?: Record<string, number>;
  /** The rendered comparison: set for each root cause's representative. */
  report?: string;
  /** The representative's image map (with ValidateOptions.imageMaps). */
  map?: ImageMap;
}

export interface SourceSummary {
  oracle: string;
  target: Arch;
  /** The TS profile the cases were compared under. */
  profile: string;
  mode: 'live' | 'stored';
  cases: number;
  byClass: Partial<Record<CaseClass, number>>;
  explained: number;
  unexplained: number;
  results: CaseResult[];
}

export interface ValidateReport {
  corpus: string;
  sources: SourceSummary[];
  /**
   * Registry entries in scope for what this run touched (its loaders, versions, targets).
   * cases/bytes: covered in cases that agree or that the entry explains. unexplainedCases: cases it
   * applied to that differ unexplained (not counted as covered). stale: in scope, neither.
   */
  registry: { id: string; cases: number; bytes: number; unexplainedCases: number; stale: boolean }[];
  /** The unexplained cases, grouped (src/report/root-causes.ts), largest first. */
  rootCauses: RootCause<SourceCase>[];
  unexplained: number;
  missing: string[];
  wallMs: number;
}

export function loadManifest(corpusDir: string): CorpusEntry[] {
  const p = join(corpusDir, 'manifest.json');
  if (!existsSync(p)) return [];
  const m = JSON.parse(readFileSync(p, 'utf8')) as { entries?: CorpusEntry[] };
  return m.entries ?? [];
}

/**
 * Stored reference files as sources, with their ELF bytes resolved from the corpus by sha256.
 * A stored case whose ELF is not in the corpus is reported through `missing`, never dropped silently.
 */
export function storedSources(corpusDir: string, only?: Set<string>, missing: string[] = []): ReferenceSource[] {
  const entries = loadManifest(corpusDir);
  const bySha = new Map(entries.map((e) => [e.sha256, e]));
  const elfCache = new Map<string, Uint8Array>();
  const elfOf = (sha: string): Uint8Array | undefined => {
    const e = bySha.get(sha);
    if (!e) return undefined;
    let b = elfCache.get(sha);
    if (!b) elfCache.set(sha, (b = new Uint8Array(readFileSync(resolve(corpusDir, '..', e.file)))));
    return b;
  };
  // Cases share a few symbol settings: decode each once (requests are read-only).
  const writes = new Map<string, SymbolWrite[]>();
  const symbolWrites = (sy: { name: string; hex: string }[]): SymbolWrite[] => {
    const key = sy.map((x) => `${x.name}=${x.hex}`).join(',');
    let w = writes.get(key);
    if (!w) writes.set(key, (w = symbolsOf(sy)));
    return w;
  };
  const files = loadReferenceFiles(corpusDir);
  // The stored images of every source are read and decompressed in the background from the
  // first case on, in the order validate uses them, while the engine runs.
  let prefetched = false;
  const prefetch = () => {
    if (prefetched) return;
    prefetched = true;
    prefetchBlobs(corpusDir, files.flatMap((rf) => rf.cases.flatMap((c) =>
      c.outcome.kind === 'ok' && (!only || only.has(c.entry)) && bySha.has(c.elfSha256) ? [c.outcome.imageSha256] : [])));
  };
  return files.map((rf) => ({
    oracle: rf.oracle,
    live: false,
    async *cases() {
      prefetch();
      for (const c of rf.cases) {
        if (only && !only.has(c.entry)) continue;
        const elf = elfOf(c.elfSha256);
        if (!elf) {
          const m = `stored reference ${oracleId(rf.oracle)} ${c.entry}: no corpus file with sha256 ${c.elfSha256} (regenerate: npm run references:write)`;
          if (!missing.includes(m)) missing.push(m);
          continue;
        }
        yield {
          entry: c.entry, caseId: c.case,
          req: { elf, base: BigInt(c.base), fill: c.fill, symbols: symbolWrites(c.symbols) },
          ref: await decodeOutcomeAsync(corpusDir, c.outcome),
        };
      }
    },
  }));
}

/** A case result with its source, as root causes group them. */
export type SourceCase = CaseResult & RootCauseCase;

export interface ValidateOptions {
  corpusDir?: string;
  sources: ReferenceSource[];
  registryPath?: string;
  /** The registry itself (instead of registryPath). */
  registry?: Registry;
  /** Compare every source against this profile instead of the one its oracle identity names (findings: `abi`). */
  profile?: string;
  /** Render the representative of at most this many root causes. */
  maxReports?: number;
  /** Also build the representatives' image maps (the HTML report). */
  imageMaps?: boolean;
  /** Test-only: flip one relocation's semantics to prove the gate catches it. */
  engineOverride?: (req: LoadRequest, opts: Parameters<typeof load>[1]) => Outcome;
  onCase?: (src: SourceSummary, r: CaseResult) => void;
  /**
   * TS outcomes by memoKey, kept across calls (mutate validates hundreds of oracles of one profile
   * on the same corpus). Default: a fresh map per call.
   */
  memo?: Map<string, Outcome>;
  /** Stop at the first unexplained case (the gate's early exit for mutants): the report is partial. */
  stopOnUnexplained?: boolean;
}

export async function validate(opts: ValidateOptions): Promise<ValidateReport> {
  const t0 = performance.now();
  const corpusDir = opts.corpusDir ?? DEFAULT_CORPUS;
  const registry: Registry = opts.registry ?? loadRegistry(opts.registryPath ?? join(corpusDir, 'known-divergences.json'));
  const coverage = new Map(registry.entries.map((e) => [e.id, { cases: 0, bytes: 0, unexplainedCases: 0 }]));
  const engine = opts.engineOverride ?? load;
  // Versions whose load models are identical (kexec-tools 2.0.25/29/32; kernel 6.1/6.12) see the
  // same cases: run the TS engine once per distinct (semantics, input). Read-only use of outcomes.
  const memo = opts.memo ?? new Map<string, Outcome>();
  const sources: SourceSummary[] = [];
  const manifest = loadManifest(corpusDir);
  const files = new Map(manifest.map((e) => [e.id, resolve(corpusDir, '..', e.file)]));
  const synthetic = new Set(manifest.filter((e) => e.origin?.kind === 'coverage-generator').map((e) => e.id));
  // Registry entries in scope for some profile this run used: the only ones the report lists.
  const touched = new Set<string>();
  const maxReports = opts.maxReports ?? 5;
  // How to render an unexplained case in full, kept until the root causes pick their representatives.
  const renderers = new Map<CaseResult, (map: boolean) => Promise<void>>();
  const unexplained: SourceCase[] = [];
  let stopped = false;
  for (const src of opts.sources) {
    const profile = makeProfile(opts.profile ?? profileIdOf(src.oracle), src.oracle.target);
    for (const e of entriesInScope(registry, profile)) touched.add(e.id);
    const summary: SourceSummary = {
      oracle: oracleId(src.oracle), target: src.oracle.target, profile: profile.id, mode: src.live ? 'live' : 'stored',
      cases: 0, byClass: {}, explained: 0, unexplained: 0, results: [],
    };
    let explainedShown = 0;
    // The relocation log is read by the registry's modelled entries scoped to relocation types
    // (their coverage) and by the attribution of differing bytes, nothing else. Load without it
    // (a kexec-tools load then sums the applied types instead), and load again with it for a
    // case whose bytes differ, or whose coverage needs the types and got no summary (another
    // loader): the outcome is otherwise the same, so the comparison is too.
    const alwaysLog = !!opts.engineOverride;
    const typesNeeded = needsRelocationLog(registry, profile);
    const refClasses = profile.loader === 'kernel' ? KERNEL_MESSAGE_CLASSES : [];
    const compareOpts = { exactMessages: profile.loader === 'kernel' };
    for await (const c of src.cases()) {
      const hostAddress = c.ref.kind === 'ok' ? c.ref.hostBuf : 0n;
      const run = (log: boolean): Outcome => {
        const key = opts.engineOverride ? '' : memoKey(profile, c.req, hostAddress) + (log ? '' : '|no-log');
        let o = key ? memo.get(key) : undefined;
        if (!o) {
          o = engine(c.req, { profile: profile.id, target: profile.target, hostAddress, ...(log ? {} : { log: false }) });
          if (key) memo.set(key, o);
        }
        return o;
      };
      let ts = run(alwaysLog);
      let cmp = compareOutcomes(ts, c.ref, symbolRangesOf(c.req, ts, finderOf(c.req.elf)), refClasses, compareOpts);
      if (!alwaysLog && (cmp.ranges.length || (typesNeeded && ts.kind === 'ok' && !ts.image.relocationTypes))) {
        ts = run(true);
        cmp = compareOutcomes(ts, c.ref, symbolRangesOf(c.req, ts, finderOf(c.req.elf)), refClasses, compareOpts);
      }
      const verdict = applyRegistry(registry, profile, ts, cmp, c.req.fill);
      const ok = cmp.cls === 'match' || cmp.cls === 'both-rejected';
      // An entry covers a case only where the case agrees (or the entry explains it): a modelled
      // quirk on a case whose bytes differ unexplained has not been shown to match anything.
      if (ok || verdict.explainedBy.length) {
        for (const x of verdict.exercised) {
          const cv = coverage.get(x.id)!;
          cv.cases++;
          cv.bytes += x.bytes;
        }
        for (const id of verdict.explainedBy) if (!verdict.exercised.some((x) => x.id === id)) coverage.get(id)!.cases++;
      } else for (const x of verdict.exercised) coverage.get(x.id)!.unexplainedCases++;
      summary.cases++;
      summary.byClass[cmp.cls] = (summary.byClass[cmp.cls] ?? 0) + 1;
      if (!ok) {
        if (verdict.explainedBy.length) summary.explained++;
        else summary.unexplained++;
      }
      const result: CaseResult = {
        entry: c.entry, caseId: c.caseId, cls: cmp.cls, explainedBy: verdict.explainedBy, comparison: cmp,
        base: c.req.base, fill: c.req.fill, symbols: setArgsOf(c.req.symbols),
        hostAddress, file: files.get(c.entry), ...(synthetic.has(c.entry) ? { synthetic: true } : {}),
      };
      if (!ok) {
        const refImage = c.ref.kind === 'ok' ? c.ref.image : undefined;
        const elf = c.req.elf;
        const tsOk = ts.kind === 'ok' ? ts : undefined;
        const render = async (map: boolean) => {
          const ctx = tsOk && refImage ? renderContextOf(profile.target, elf, tsOk, refImage) : undefined;
          result.report = await renderComparison(cmp, ctx);
          if (map && ctx && tsOk) result.map = await buildImageMap(ctx, tsOk.image.relocations, cmp.ranges);
        };
        if (verdict.explainedBy.length) {
          // Explained differences render too (text --verbose shows them), the first few per source.
          if (explainedShown++ < maxReports) await render(false);
        } else {
          // Kept until the root causes pick their representatives.
          if (tsOk && cmp.ranges.length) result.typeSites = typeSitesOf(tsOk.image.relocations);
          renderers.set(result, render);
          unexplained.push(Object.assign(result, { oracle: summary.oracle, target: summary.target, profile: summary.profile }));
        }
      }
      summary.results.push(result);
      opts.onCase?.(summary, result);
      if (opts.stopOnUnexplained && !ok && !verdict.explainedBy.length) break;
    }
    await src.close?.();
    sources.push(summary);
    if (opts.stopOnUnexplained && summary.unexplained) {
      stopped = true;
      break;
    }
  }
  const fullRun = sources.length > 0 && !stopped;
  const rootCauses = groupRootCauses(unexplained);
  for (const g of rootCauses.slice(0, maxReports)) await renderers.get(g.representative)!(!!opts.imageMaps);
  renderers.clear();
  return {
    corpus: corpusDir,
    sources,
    registry: registry.entries.filter((e) => touched.has(e.id)).map((e) => {
      const c = coverage.get(e.id)!;
      return { id: e.id, cases: c.cases, bytes: c.bytes, unexplainedCases: c.unexplainedCases, stale: fullRun && c.cases === 0 && c.unexplainedCases === 0 };
    }),
    rootCauses,
    unexplained: sources.reduce((n, s) => n + s.unexplained, 0),
    missing: [],
    wallMs: performance.now() - t0,
  };
}

// By identity: validate's requests (files, symbol writes) are read-only.
const elfKeys = new WeakMap<Uint8Array, string>();
const semKeys = new WeakMap<Profile, string>();
const symbolKeys = new WeakMap<SymbolWrite[], string>();
const finders = new WeakMap<Uint8Array, SymbolFinder>();

const setArgs = new WeakMap<SymbolWrite[], string[]>();
/** Symbol writes as the CLI's --set arguments, once per (shared, read-only) list. */
function setArgsOf(symbols: SymbolWrite[]): string[] {
  let a = setArgs.get(symbols);
  if (!a) setArgs.set(symbols, (a = symbols.map((w) => `${w.name}=${Buffer.from(w.bytes).toString('hex')}`)));
  return a;
}

/** One symbol finder per input file: the cases' ELF bytes are shared and never written. */
function finderOf(elf: Uint8Array): SymbolFinder {
  let f = finders.get(elf);
  if (!f) finders.set(elf, (f = new SymbolFinder(elf)));
  return f;
}

/**
 * A key for memoising TS outcomes across profiles that behave identically: the semantics and
 * flags of the profile (not its id or version: every version difference a load model makes is a
 * profile field, and the models never read `id` or `version`, which test/validate/memo.test.ts
 * checks), and the whole input. The host buffer address matters only to ppc64 (REL32).
 */
export function memoKey(profile: Profile, req: LoadRequest, hostAddress: bigint): string {
  let ek = elfKeys.get(req.elf);
  if (!ek) elfKeys.set(req.elf, (ek = sha256(req.elf)));
  // Profiles are memoised and read-only (makeProfile): their part of the key is built once.
  let sem = semKeys.get(profile);
  if (sem === undefined) {
    const { id: _id, version: _version, ...rest } = profile;
    sem = JSON.stringify(rest, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
    semKeys.set(profile, sem);
  }
  let sk = symbolKeys.get(req.symbols);
  if (sk === undefined) symbolKeys.set(req.symbols, (sk = req.symbols.map((s) => `${s.name}=${Buffer.from(s.bytes).toString('hex')}`).join(',')));
  return [
    sem, ek, req.base, req.fill, sk,
    profile.target === 'x86_64' ? '' : hostAddress,
    req.probes ? req.probes.map((p) => `${p.name}:${p.size}`).join(',') : '-',
  ].join('|');
}


export { sha256 };
