// The gate as a library function: the corpus stage (validate against the gated references) and a
// fuzz stage (a seeded, fixed-size structured campaign against each gated live oracle). Used by the
// CLI's `gate` and by `mutate`, which gates every mutant with exactly this function. Never exits.
import { join } from 'node:path';
import { REPO_ROOT } from '../fuzz/run.ts';
import { campaignMemoKey, runOracleCampaign, type CampaignMemo, type CampaignSummary } from '../fuzz/campaign.ts';
import type { Outcome } from '../types.ts';
import { setCorpusRoot } from '../fuzz/desc.ts';
import { asFuzzOracle, fuzzEnvOf, parseOracleSpec, type FuzzOracle, type OracleSpec } from '../fuzz/oracles.ts';
import { KexecToolsOracle } from '../oracle/kexec-tools.ts';
import { KernelOracle, openKernelOracle, type KernelOracleBuild } from '../oracle/kernel.ts';
import { oracleBuildId, type OracleBuild } from '../oracle/registry.ts';
import { loadRegistry } from '../validate/registry.ts';
import { validate, type ReferenceSource, type ValidateReport } from '../validate/validate.ts';
import type { LiveOracle } from '../validate/sources.ts';

/** The fuzz stage's size and seed. The same options give the same cases (caseFor(seed, k)). */
export interface FuzzStageOptions {
  seed: number;
  /** Cases per gated oracle. */
  cases: number;
  /** Where minimized reproducers of findings go (one directory per signature); undefined: nowhere. */
  out?: string;
  /** Minimize findings (default true); mutate turns it off (it only needs the verdict). */
  minimize?: boolean;
}

/** The generator mode of the gate's campaign: synthesized objects on every check's boundary. */
export const GATE_FUZZ_MODES = ['structured'] as const;
/**
 * Default cases per oracle. Measured on the project's 2-core VM, `gate --kexec-tools TREE` (three
 * targets, oracle builds included): 10.7 s wall at load 3.5, 46 s at load 18 (13.5 s of CPU), of
 * which the fuzz stage is 9.1 s / 23.6 s. A structured campaign runs ≈3,000 cases/s natively and
 * ≈4,000/s under qemu-user (fork server, findings only).
 */
export const DEFAULT_GATE_FUZZ_CASES = 10_000;
export const DEFAULT_GATE_FUZZ_SEED = 1;

/** One finding of the fuzz stage: an unexplained signature. */
export interface FuzzStageFinding {
  key: string;
  relocation: string;
  cls: string;
  detail: string;
  count: number;
  /** Index of its first case in the seeded stream (`fuzz --seed S --cases k+1` reaches it). */
  firstCase: number;
  note?: string;
  reproducer?: string;
}

export interface FuzzStageOracle {
  oracle: string;
  cases: number;
  ms: number;
  /** Cases that differed from the TS engine but are explained by the registry. */
  explained: number;
  findings: FuzzStageFinding[];
  error?: string;
}

export interface FuzzStageReport {
  seed: number;
  casesPerOracle: number;
  modes: readonly string[];
  oracles: FuzzStageOracle[];
  findings: number;
  /** Why the stage did not run (no live oracle to fuzz), when it did not. */
  skipped?: string;
  /** It stopped at the first finding (mutate), so later oracles were not fuzzed. */
  stoppedEarly?: boolean;
  wallMs: number;
}

export type GateReport = ValidateReport & { fuzz?: FuzzStageReport };

/** A live oracle the fuzz stage can open: each open() is a fresh process. */
export interface GateTarget {
  spec: OracleSpec;
  open(): Promise<FuzzOracle>;
}

export interface GateOptions {
  corpusDir: string;
  /** The corpus stage's references: live oracles and/or stored references. */
  sources: ReferenceSource[];
  /** The fuzz stage's oracles (the gated live ones). */
  fuzzTargets: GateTarget[];
  /** null: no fuzz stage (--no-fuzz). */
  fuzz: FuzzStageOptions | null;
  maxReports?: number;
  /** Also build the representatives' image maps (--html). */
  imageMaps?: boolean;
  registryPath?: string;
  /** Repository root (corpus refs for the generator); default: this checkout. */
  root?: string;
  /** Stop at the first unexplained difference anywhere (mutate: a mutant is killed). */
  stopEarly?: boolean;
  /** TS outcomes and generated cases kept across gates of oracles of one profile (mutate). */
  memo?: GateMemo;
  /**
   * Check each fuzz finding again in a fresh oracle process (default true), so that damage done
   * to a long-lived process by an earlier case is not taken for a finding. mutate turns it off:
   * its baseline passed the same stream in the same order, so any difference is the mutant's.
   */
  freshCheck?: boolean;
}

export interface GateMemo {
  validate: Map<string, Outcome>;
  /** Per fuzz target profile and target (campaignMemoKey). */
  fuzz: Map<string, CampaignMemo>;
}

export const newGateMemo = (): GateMemo => ({ validate: new Map(), fuzz: new Map() });

/** Whether a gate report fails: an unexplained corpus case or fuzz finding. */
export const gateFailed = (r: GateReport): boolean => r.unexplained > 0 || (r.fuzz?.findings ?? 0) > 0;

export async function runGate(o: GateOptions): Promise<GateReport> {
  const report: GateReport = await validate({
    corpusDir: o.corpusDir, sources: o.sources, maxReports: o.maxReports, imageMaps: o.imageMaps, registryPath: o.registryPath, stopOnUnexplained: o.stopEarly, memo: o.memo?.validate,
  });
  if (!o.fuzz || (o.stopEarly && report.unexplained)) return report;
  report.fuzz = await runFuzzStage(o.fuzzTargets, o.fuzz, { root: o.root, registryPath: o.registryPath ?? join(o.corpusDir, 'known-divergences.json'), stopEarly: o.stopEarly, memo: o.memo?.fuzz, freshCheck: o.freshCheck });
  return report;
}

/** The fuzz stage alone: the same seeded structured stream against each target, in order. */
export async function runFuzzStage(targets: GateTarget[], f: FuzzStageOptions, opts: { root?: string; registryPath: string; stopEarly?: boolean; memo?: Map<string, CampaignMemo>; freshCheck?: boolean }): Promise<FuzzStageReport> {
  const t0 = performance.now();
  const root = opts.root ?? REPO_ROOT;
  setCorpusRoot(root);
  const registry = loadRegistry(opts.registryPath);
  const stage: FuzzStageReport = { seed: f.seed, casesPerOracle: f.cases, modes: GATE_FUZZ_MODES, oracles: [], findings: 0, wallMs: 0 };
  if (!targets.length) stage.skipped = 'no live oracle to fuzz';
  for (const t of targets) {
    const oracle = await t.open();
    const key = campaignMemoKey(f.seed, GATE_FUZZ_MODES, t.spec);
    let memo = opts.memo?.get(key);
    if (opts.memo && !memo) opts.memo.set(key, (memo = { key, cases: new Map(), ts: new Map() }));
    let c: CampaignSummary;
    try {
      c = await runOracleCampaign(oracle, {
        seed: f.seed, modes: [...GATE_FUZZ_MODES], cases: f.cases, shard: { index: 0, count: 1 }, out: f.out, known: [], root, registry,
        batch: t.spec.target === 'x86_64' ? 64 : 32, minimize: f.minimize ?? true, minimizeTests: 1000, minimizeMs: 5_000, maxMinimized: 3, hangMs: 1000,
        confirm: false, stopOnFinding: opts.stopEarly, findingsOnly: true, memo,
      }, opts.freshCheck === false ? undefined : () => t.open());
    } finally {
      await oracle.close().catch(() => oracle.kill());
    }
    const findings = c.signatures.filter((s) => s.finding).map((s): FuzzStageFinding => ({
      key: s.key, relocation: s.relocation, cls: s.cls, detail: s.detail, count: s.count, firstCase: s.first.index, note: s.note, reproducer: s.reproducer,
    }));
    const explained = c.signatures.filter((s) => !s.finding).reduce((n, s) => n + s.count, 0);
    stage.oracles.push({ oracle: t.spec.id, cases: c.cases, ms: c.fuzzMs + c.minimizeMs, explained, findings, ...(c.error ? { error: c.error } : {}) });
    stage.findings += findings.length;
    if (opts.stopEarly && findings.length) {
      stage.stoppedEarly = true;
      break;
    }
  }
  stage.wallMs = Math.round(performance.now() - t0);
  return stage;
}

/** A kexec-tools build as a gate target: fresh processes with the fuzz campaigns' fork server and limits. */
export function kexecToolsGateTarget(build: OracleBuild, opts: { timeoutMs?: number } = {}): GateTarget {
  const spec = parseOracleSpec(oracleBuildId(build));
  return {
    spec,
    open: async () => asFuzzOracle(spec, KexecToolsOracle.fromBuild(build, { env: fuzzEnvOf(build.sanitize), forkServer: true, timeoutMs: opts.timeoutMs })),
  };
}

export function kernelGateTarget(build: KernelOracleBuild, opts: { timeoutMs?: number } = {}): GateTarget {
  const spec = parseOracleSpec(`kernel-${build.version}/${build.target}`);
  return {
    spec,
    open: async () => asFuzzOracle(spec, openKernelOracle(build, opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {})),
  };
}

/** The fuzz stage's target for a live oracle validate uses (undefined for one it cannot reopen). */
export function gateTargetOf(live: LiveOracle): GateTarget | undefined {
  if (live instanceof KexecToolsOracle) return kexecToolsGateTarget(live.build);
  if (live instanceof KernelOracle) return kernelGateTarget(live.build);
  return undefined;
}
