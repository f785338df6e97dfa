// The fuzz command as a library function: runFuzz(options, io) → summary (no exit codes, no
// process.exit). parseFuzzOptions turns the CLI's strings into options.
import { availableParallelism } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.ts';
import { isOracleUnavailableError } from '../oracle/registry.ts';
import { loadRegistry } from '../validate/registry.ts';
import { runOracleCampaign, emptySummary, type CampaignSummary, type Shard } from './campaign.ts';
import { FUZZ_MODES, setCorpusRoot, type FuzzMode } from './desc.ts';
import { formatFuzzText } from './format.ts';
import { builtOracleSpecs, openOracle, parseOracleSpec, requireKnownOracles, type OracleSpec } from './oracles.ts';
import { Progress, type ProgressMode } from './progress.ts';
import { runParallelCampaign, type JobCampaignOptions } from './parallel.ts';
import { runRobustness, type RobustnessSummary } from './robustness.ts';
import { replayCases, replayFiles } from './replay.ts';
import type { Arch } from '../types.ts';

/**
 * Cases per oracle batch (two batches are in flight: one evaluated while the oracle answers the
 * next). Against the native x86_64 oracle, 16 instead of 64: the cases of fewer batches survive
 * the young-generation collections, which then copy less (10 s campaigns, seed 1, load 4-5:
 * 4,731 / 5,325 cases/s and 187-204 us of Node CPU per case with 16, against 3,537 / 3,696 and
 * 270-277 us with 64). Under qemu the oracle is the slower side; 8, 16 and 32 measured alike.
 */
export function defaultBatch(target: Arch | undefined): number {
  return target === 'x86_64' ? 16 : 32;
}

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface FuzzOptions {
  /** Oracle specs ("kexec-tools-2.0.25/x86_64", "...+sanitize", "kernel-6.1/x86_64", "all"); none: TS-only robustness. */
  oracles: string[];
  seed: number;
  /** Length of the global case stream; with neither cases nor timeMs, 1000 cases. */
  cases?: number;
  /** Fuzzing time per oracle (or for the TS-only run). */
  timeMs?: number;
  shard?: Shard;
  modes?: FuzzMode[];
  /** Reproducer root (default <repo>/corpus/regressions); null: write nothing. */
  out?: string | null;
  /** Directories of existing reproducers (default: out and <out>-open); see CampaignOptions.known. */
  known?: string[];
  overwrite?: boolean;
  /** Repository root (corpus/manifest.json, corpus/known-divergences.json). */
  root?: string;
  registryPath?: string;
  batch?: number;
  minimize?: boolean;
  minimizeTests?: number;
  minimizeMs?: number;
  hangMs?: number;
  /** Confirm modelled divergences live (default true). */
  confirm?: boolean;
  /**
   * Differential campaigns: parallel jobs per oracle (default 1: the campaign runs in this thread).
   * Each job is a worker thread with its own oracle process and runs its part of the shard
   * (jobShard); with a time budget every job fuzzes for timeMs. The results merge into one summary.
   */
  jobs?: number;
  /** TS-only: worker threads (default: available parallelism, at most 8; 0 = inline). */
  workers?: number;
  /** TS-only: stop a case after this long (default 10 × hangMs). */
  killMs?: number;
  heapLimitMiB?: number;
  progress?: ProgressMode | 'auto';
  /** Replay these files (or directories of files) instead of generating cases; needs an oracle. */
  replay?: string[];
  /** Replay: load address and heap fill of every replayed input (default 0x100000, 0). */
  replayBase?: bigint;
  replayFill?: number;
  /** Test only (jobs > 1): this job throws after opening its oracle. */
  injectJobError?: number;
}

export interface FuzzIo {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY?: boolean;
}

export interface FuzzSummary {
  format: 'purgatory-oracle/fuzz-summary@1';
  seed: number;
  modes: FuzzMode[];
  shard: string;
  campaigns: CampaignSummary[];
  robustness?: RobustnessSummary;
  unavailable: { oracle: string; message: string; fix?: string }[];
  /** New findings: not explained by the registry, and no reproducer of the signature existed. */
  findings: number;
  /** Unexplained signatures that are known open findings (a reproducer in <out>-open). */
  openFindings: number;
  /** Reproducer directories written or found, per signature. */
  reproducers: string[];
  wallMs: number;
}

export interface RawFuzzOptions {
  oracle?: string[];
  seed?: string;
  cases?: string;
  time?: string;
  shard?: string;
  mode?: string;
  replay?: string[];
  base?: string;
  fill?: string;
  out?: string;
  json?: boolean;
  workers?: string;
  jobs?: string;
  minimize?: boolean;
  overwrite?: boolean;
}

export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim());
  if (!m) throw new UsageError(`--time '${s}': expected a duration like 60s, 5m, 1h or 500ms`);
  const n = Number(m[1]);
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']);
}

export function parseShard(s: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  if (!m) throw new UsageError(`--shard '${s}': expected I/N (0 <= I < N)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new UsageError(`--shard '${s}': need 0 <= I < N`);
  return { index, count };
}

function parseCount(s: string, what: string): number {
  const t = s.replace(/_/g, '');
  if (!/^\d+$/.test(t)) throw new UsageError(`${what} '${s}': expected a non-negative integer`);
  const n = Number(t);
  if (!Number.isSafeInteger(n)) throw new UsageError(`${what} '${s}': too large`);
  return n;
}

/** `--jobs`: a positive integer, or auto (the available parallelism). */
export function parseJobs(s: string): number {
  if (s.trim() === 'auto') return availableParallelism();
  const n = /^\d+$/.test(s.trim()) ? Number(s.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--jobs '${s}': expected a positive integer or auto`);
  return n;
}

export function parseModes(s: string): FuzzMode[] {
  if (s === 'all') return [...FUZZ_MODES];
  const modes = s.split(',').map((x) => x.trim()).filter(Boolean);
  for (const m of modes) if (!FUZZ_MODES.includes(m as FuzzMode)) throw new UsageError(`--mode '${m}': expected ${FUZZ_MODES.join('|')} (comma-separated) or all`);
  if (!modes.length) throw new UsageError('--mode: no mode given');
  return modes as FuzzMode[];
}

/** CLI strings → options (throws UsageError). */
export function parseFuzzOptions(raw: RawFuzzOptions): FuzzOptions {
  const o: FuzzOptions = { oracles: raw.oracle ?? [], seed: raw.seed !== undefined ? parseCount(raw.seed, '--seed') : 1 };
  for (const s of o.oracles) if (s !== 'all') parseOracleSpec(s);
  if (raw.cases !== undefined) o.cases = parseCount(raw.cases, '--cases');
  if (raw.time !== undefined) o.timeMs = parseDuration(raw.time);
  if (raw.shard !== undefined) o.shard = parseShard(raw.shard);
  if (raw.mode !== undefined) o.modes = parseModes(raw.mode);
  if (raw.out !== undefined) o.out = raw.out;
  if (raw.workers !== undefined) o.workers = parseCount(raw.workers, '--workers');
  if (raw.jobs !== undefined) {
    if (!o.oracles.length) throw new UsageError('--jobs applies to differential campaigns (--oracle); TS-only robustness runs in --workers threads');
    o.jobs = parseJobs(raw.jobs);
  }
  if (raw.minimize === false) o.minimize = false;
  if (raw.overwrite) o.overwrite = true;
  if (raw.json) o.progress = 'none';
  if (raw.replay?.length) {
    if (!o.oracles.length) throw new UsageError('--replay needs at least one --oracle (the replayed inputs go through the differential)');
    if (raw.cases !== undefined) throw new UsageError('--replay runs every replayed input once: --cases does not apply');
    o.replay = raw.replay;
    if (raw.base !== undefined) {
      if (!/^(0x[0-9a-f]+|\d+)$/i.test(raw.base)) throw new UsageError(`--base '${raw.base}': expected a number (0x… or decimal)`);
      o.replayBase = BigInt(raw.base);
      if (o.replayBase > 0xffff_ffff_ffff_ffffn) throw new UsageError(`--base '${raw.base}': not a u64`);
    }
    if (raw.fill !== undefined) {
      const f = /^(0x[0-9a-f]{1,2}|\d{1,3})$/i.test(raw.fill) ? Number(raw.fill) : NaN;
      if (!(f <= 255)) throw new UsageError(`--fill '${raw.fill}': expected a byte (0x… or decimal, at most 255)`);
      o.replayFill = f;
    }
  } else if (raw.base !== undefined || raw.fill !== undefined) {
    throw new UsageError('--base and --fill apply to --replay only (generated cases choose their own)');
  }
  return o;
}

/**
 * Where reproducers go when --out is not given: the checkout's corpus/regressions (replayed by
 * `npm test`), but never inside an installed package (a root under node_modules): there they go to
 * ./purgatory-oracle-reproducers in the working directory.
 */
export function defaultReproducerDir(root: string, cwd: string = process.cwd()): string {
  return resolve(root).split(/[\\/]/).includes('node_modules') ? resolve(cwd, 'purgatory-oracle-reproducers') : join(root, 'corpus', 'regressions');
}

export async function runFuzz(options: FuzzOptions, io: FuzzIo): Promise<FuzzSummary> {
  const t0 = performance.now();
  const root = options.root ?? REPO_ROOT;
  setCorpusRoot(root);
  const registryPath = options.registryPath ?? join(root, 'corpus', 'known-divergences.json');
  const registry = loadRegistry(registryPath);
  const modes = options.modes ?? [...FUZZ_MODES];
  const shard = options.shard ?? { index: 0, count: 1 };
  const cases = options.cases ?? (options.timeMs === undefined ? 1000 : undefined);
  const out = options.out === null ? undefined : resolve(options.out ?? defaultReproducerDir(root));
  const hangMs = options.hangMs ?? 1000;
  const progress = new Progress(io, Progress.modeFor(io, options.progress ?? 'auto'));
  const summary: FuzzSummary = {
    format: 'purgatory-oracle/fuzz-summary@1', seed: options.seed, modes, shard: `${shard.index}/${shard.count}`,
    campaigns: [], unavailable: [], findings: 0, openFindings: 0, reproducers: [], wallMs: 0,
  };
  const replayFiles_ = options.replay?.length ? replayFiles(options.replay) : undefined;
  const specs: OracleSpec[] = [];
  for (const s of options.oracles) {
    if (s === 'all') {
      const built = builtOracleSpecs();
      if (!built.length) throw new UsageError("--oracle all: no released oracle is built (see: purgatory-oracle oracle list; build them with: purgatory-oracle oracle build --kexec-tools all)");
      specs.push(...built.filter((x) => !specs.some((y) => y.id === x.id)));
    }
    else {
      const spec = parseOracleSpec(s);
      if (!specs.some((y) => y.id === spec.id)) specs.push(spec);
    }
  }
  requireKnownOracles(specs);
  if (!options.oracles.length) {
    summary.robustness = await runRobustness({
      seed: options.seed, modes, cases, timeMs: options.timeMs, shard, root,
      workers: options.workers ?? Math.min(8, availableParallelism()), hangMs, killMs: options.killMs ?? hangMs * 10,
      heapLimitMiB: options.heapLimitMiB ?? 2048, out, overwrite: options.overwrite, minimize: options.minimize ?? true, progress,
    });
    summary.findings = summary.robustness.findings.length;
    summary.reproducers = summary.robustness.findings.flatMap((f) => (f.reproducer ? [f.reproducer] : []));
  }
  const jobs = options.jobs ?? 1;
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw new UsageError(`jobs: expected a positive integer, got ${jobs}`);
  const unavailable = (spec: OracleSpec, u: { message: string; fix?: string }) => summary.unavailable.push({ oracle: spec.id, message: u.message, fix: u.fix });
  for (const spec of specs) {
    const replay = replayFiles_ && replayCases(replayFiles_, spec.target, { base: options.replayBase ?? 0x100000n, fill: options.replayFill ?? 0 });
    const campaign: JobCampaignOptions = {
      replay, seed: options.seed, modes, cases: replay ? replay.length : cases, timeMs: options.timeMs, shard, out, known: options.known, overwrite: options.overwrite, root,
      batch: options.batch ?? defaultBatch(spec.target), minimize: options.minimize ?? true,
      minimizeTests: options.minimizeTests ?? 4000, minimizeMs: options.minimizeMs ?? (spec.target === 'x86_64' ? 20_000 : 30_000),
      hangMs, confirm: options.confirm ?? true,
    };
    if (jobs > 1) {
      const r = await runParallelCampaign({ spec, jobs, campaign, registryPath, progress, injectError: options.injectJobError });
      if (r.unavailable) unavailable(spec, r.unavailable);
      summary.campaigns.push(r.summary);
      continue;
    }
    let oracle;
    try {
      oracle = await openOracle(spec);
    } catch (e) {
      if (!isOracleUnavailableError(e)) throw e;
      unavailable(spec, { message: (e as Error).message, fix: (e as { fix?: string }).fix });
      const c = emptySummary(spec.id, spec.target);
      c.error = (e as Error).message;
      summary.campaigns.push(c);
      continue;
    }
    try {
      const c = await runOracleCampaign(oracle, { ...campaign, registry, progress }, () => openOracle(spec));
      summary.campaigns.push(c);
    } finally {
      await oracle.close().catch(() => oracle.kill());
    }
  }
  for (const c of summary.campaigns) {
    summary.findings += c.signatures.filter((s) => s.finding && !s.known).length;
    summary.openFindings += c.signatures.filter((s) => s.finding && s.known).length;
    for (const s of [...c.signatures, ...c.confirmations]) if (s.reproducer) summary.reproducers.push(s.reproducer);
  }
  summary.wallMs = Math.round(performance.now() - t0);
  return summary;
}

/** Text or JSON for a summary (bigints never appear in it). */
export function formatFuzzSummary(s: FuzzSummary, json = false): string {
  return json ? JSON.stringify(s, null, 2) + '\n' : formatFuzzText(s);
}
