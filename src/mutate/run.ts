// `mutate`: mutation testing of the reference C code against the gate. Every mutant is built as an
// oracle in a scratch cache and gated with runGate (the same corpus and fuzz stages as
// `gate --kexec-tools`), stopping at the first unexplained difference. Returns a report; never exits.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { UsageError } from '../errors.ts';
import { DEFAULT_GATE_FUZZ_CASES, DEFAULT_GATE_FUZZ_SEED, gateFailed, kernelGateTarget, kexecToolsGateTarget, newGateMemo, runGate, type GateReport, type GateTarget } from '../gate/gate.ts';
import { findKernelOracle, kernelSourceDir, kernelSupports, type KernelVariant, type KernelVersion } from '../oracle/kernel.ts';
import { supports } from '../oracle/kexec-tools.ts';
import { cacheDir, OracleUnavailableError, readKexecToolsBuild } from '../oracle/registry.ts';
import { liveSource, type LiveOracle } from '../validate/sources.ts';
import { DEFAULT_CORPUS, loadManifest } from '../validate/validate.ts';
import type { Arch } from '../types.ts';
import { kernelBuilder, kernelMutantBuild, kexecToolsBuilder, KERNEL_SOURCE_FILES, type MutantBuilder } from './build.ts';
import { matchEquivalents, readEquivalents, type EquivalentEntry } from './equivalents.ts';
import { applyMutant, generateMutants, mutantDiff, type Mutant } from './mutants.ts';

/** What each subject mutates: files, the targets they are built for, and their functions. */
export const KEXEC_TOOLS_SUBJECT: { file: string; targets: Arch[]; functions: string[] }[] = [
  {
    file: 'kexec/kexec-elf-rel.c', targets: ['x86_64', 'ppc64', 'ppc64le', 'arm64', 's390x', 'riscv64'],
    functions: ['get_section_addralign', 'elf_rel_load', 'elf_rel_build_load', 'elf_rel_find_symbol', 'elf_rel_get_symbol', 'elf_rel_set_symbol'],
  },
  { file: 'kexec/arch/x86_64/kexec-elf-rel-x86_64.c', targets: ['x86_64'], functions: ['machine_verify_elf_rel', 'machine_apply_elf_rel'] },
  {
    file: 'kexec/arch/ppc64/kexec-elf-rel-ppc64.c', targets: ['ppc64', 'ppc64le'],
    functions: ['toc_section', 'machine_verify_elf_rel', 'my_r2', 'do_relative_toc', 'machine_apply_elf_rel'],
  },
  { file: 'kexec/arch/arm64/kexec-arm64.c', targets: ['arm64'], functions: ['machine_verify_elf_rel', 'get_bits', 'machine_apply_elf_rel'] },
  { file: 'kexec/arch/s390/kexec-elf-rel-s390.c', targets: ['s390x'], functions: ['machine_verify_elf_rel', 'machine_apply_elf_rel'] },
  { file: 'kexec/arch/riscv/kexec-elf-riscv.c', targets: ['riscv64'], functions: ['machine_verify_elf_rel', 'machine_apply_elf_rel'] },
];
/**
 * The kernel's mutated functions: the generic loader (kexec_file.c) with the x86_64 hook, and the
 * s390x and riscv64 arch hooks alone (the generic code they share is scored on x86_64).
 */
export const KERNEL_SUBJECT: { file: string; targets: Arch[]; functions: string[] }[] = [
  {
    file: 'kernel/kexec_file.c', targets: ['x86_64'],
    functions: ['kexec_purgatory_find_symbol', 'kexec_purgatory_setup_kbuf', 'kexec_purgatory_setup_sechdrs', 'kexec_apply_relocations', 'kexec_purgatory_get_set_symbol'],
  },
  { file: 'arch/x86/kernel/machine_kexec_64.c', targets: ['x86_64'], functions: ['arch_kexec_apply_relocations_add'] },
  { file: 'arch/s390/kernel/machine_kexec_file.c', targets: ['s390x'], functions: ['arch_kexec_apply_relocations_add'] },
  { file: 'arch/s390/kernel/machine_kexec_reloc.c', targets: ['s390x'], functions: ['arch_kexec_do_relocs'] },
  { file: 'arch/riscv/kernel/elf_kexec.c', targets: ['riscv64'], functions: ['arch_kexec_apply_relocations_add'] },
];
/** The kernel variants mutate builds (ppc64le has no arch hook to mutate). */
const KERNEL_MUTATE_TARGETS: readonly KernelVariant[] = ['x86_64', 's390x', 'riscv64'];

export type MutantStatus = 'killed' | 'survived' | 'equivalent' | 'identical-code' | 'build-failed';

export interface MutantResult {
  id: string;
  target: Arch;
  file: string;
  function: string;
  rule: string;
  line: number;
  status: MutantStatus;
  /** killed: what told it apart (the first unexplained corpus case or fuzz signature). */
  by?: string;
  /** equivalent: the argument from the equivalents file; if such a mutant was killed, that is an error. */
  argument?: string;
  ms: number;
  diff?: string;
  buildLog?: string;
}

export interface Counts {
  mutants: number;
  killed: number;
  survived: number;
  equivalent: number;
  identicalCode: number;
  buildFailed: number;
  /** killed / (mutants − equivalent − identical code − build-failed), or null when that is 0. */
  score: number | null;
}

export interface MutationReport {
  format: 'purgatory-oracle/mutation@1';
  subject: string;
  targets: Arch[];
  fuzz: { seed: number; cases: number };
  startedAt: string;
  wallMs: number;
  totals: Counts;
  perTarget: Record<string, Counts>;
  perFile: Record<string, Counts>;
  perFunction: Record<string, Counts>;
  perRule: Record<string, Counts>;
  survivors: MutantResult[];
  /** Equivalents-file entries in this run's scope that match no generated mutant. */
  stale: EquivalentEntry[];
  /** Mutants listed as equivalent that the gate killed: their argument is wrong. */
  contradicted: MutantResult[];
  results: MutantResult[];
}

export interface MutateOptions {
  kexecTools?: string;
  kernel?: KernelVersion;
  kernelSrc?: string;
  targets?: Arch[];
  functions?: string[];
  /** Run only these mutant ids (tests, re-checks). */
  ids?: string[];
  jobs?: number;
  limit?: number;
  fuzzCases?: number;
  fuzzSeed?: number;
  equivalentsPath?: string;
  corpusDir?: string;
  /** Scratch directory (default: a fresh one under the OS temporary directory, removed at the end). */
  scratch?: string;
  keepScratch?: boolean;
  /** Append each result to this file as a JSON line, as it is decided. */
  resultsFile?: string;
  /** Results of an earlier, interrupted run of the same subject (a resultsFile): not run again. */
  resume?: MutantResult[];
  /** Per-request oracle timeout for mutants (default 3 s natively, 10 s under qemu-user). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export const DEFAULT_EQUIVALENTS = resolve(DEFAULT_CORPUS, 'mutation', 'equivalent.json');

const emptyCounts = (): Counts => ({ mutants: 0, killed: 0, survived: 0, equivalent: 0, identicalCode: 0, buildFailed: 0, score: null });
function add(c: Counts, r: MutantResult): void {
  c.mutants++;
  if (r.status === 'killed') c.killed++;
  else if (r.status === 'survived') c.survived++;
  else if (r.status === 'equivalent') c.equivalent++;
  else if (r.status === 'identical-code') c.identicalCode++;
  else c.buildFailed++;
  const d = c.mutants - c.equivalent - c.identicalCode - c.buildFailed;
  c.score = d > 0 ? c.killed / d : null;
}

/** The first thing the gate found: a corpus case or a fuzz signature. */
function killedBy(r: GateReport): string {
  for (const s of r.sources) {
    const x = s.results.find((y) => y.cls !== 'match' && y.cls !== 'both-rejected' && !y.explainedBy.length);
    if (x) return `corpus ${x.entry} ${x.caseId}: ${x.cls}${x.comparison.note ? ` (${x.comparison.note.split('\n')[0]!.slice(0, 160)})` : ''}`;
  }
  const f = r.fuzz?.oracles.flatMap((o) => o.findings)[0];
  return f ? `fuzz case ${f.firstCase}: ${f.key}` : 'unknown';
}

interface Work {
  mutant: Mutant;
  target: Arch;
  src: string;
  equivalent?: EquivalentEntry;
}

export async function runMutate(o: MutateOptions): Promise<MutationReport> {
  const t0 = performance.now();
  const log = o.log ?? (() => undefined);
  if (!o.kexecTools === !(o.kernel ?? o.kernelSrc)) throw new UsageError('mutate: give --kexec-tools TREE|VERSION or --kernel VERSION [--kernel-src PATH]');
  const corpusDir = o.corpusDir ?? DEFAULT_CORPUS;
  const fuzz = { seed: o.fuzzSeed ?? DEFAULT_GATE_FUZZ_SEED, cases: o.fuzzCases ?? DEFAULT_GATE_FUZZ_CASES, minimize: false };
  const scratch = o.scratch ? resolve(o.scratch) : mkdtempSync(join(tmpdir(), 'purgatory-oracle-mutate-'));
  const userCache = cacheDir();
  if ((scratch + sep).startsWith(join(userCache, 'build') + sep) || scratch === userCache) throw new UsageError(`mutate: the scratch directory ${scratch} must not be in the oracle cache ${userCache}`);
  mkdirSync(scratch, { recursive: true });
  const jobs = o.jobs ?? 1;
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw new UsageError(`--jobs: expected a positive integer, got ${jobs}`);

  // The sources and the subject.
  let subject: string;
  let files: { file: string; targets: Arch[]; functions: string[]; src: string }[];
  let targets: Arch[];
  let kernelSources: Map<string, string> | undefined;
  let tree = '';
  const kernelVersion = (o.kernel ?? '6.12') as KernelVersion;
  let kernelVariant: KernelVariant = 'x86_64';
  if (o.kexecTools) {
    tree = /^\d+\.\d+\.\d+$/.test(o.kexecTools) ? join(userCache, 'src', `kexec-tools-${o.kexecTools}`) : resolve(o.kexecTools);
    if (!existsSync(join(tree, 'kexec', 'kexec-elf-rel.c'))) {
      throw new OracleUnavailableError(`no kexec-tools tree at ${tree}`, /^\d/.test(o.kexecTools) ? `npx purgatory-oracle oracle setup --kexec-tools ${o.kexecTools}` : 'pass a kexec-tools checkout');
    }
    subject = `kexec-tools ${o.kexecTools}`;
    targets = o.targets ?? ['x86_64', 'ppc64', 'ppc64le'];
    // riscv's file exists from 2.0.32 on.
    files = KEXEC_TOOLS_SUBJECT.filter((s) => existsSync(join(tree, s.file))).map((s) => ({ ...s, src: readFileSync(join(tree, s.file), 'utf8') }));
  } else {
    const version = kernelVersion;
    if (o.targets && (o.targets.length !== 1 || !(KERNEL_MUTATE_TARGETS as readonly string[]).includes(o.targets[0]!))) {
      throw new UsageError(`mutate --kernel: one kernel loader per run (--target ${KERNEL_MUTATE_TARGETS.join('|')})`);
    }
    kernelVariant = (o.targets?.[0] ?? 'x86_64') as KernelVariant;
    const root = o.kernelSrc ? resolve(o.kernelSrc) : join(kernelSourceDir(version, kernelVariant, userCache), 'linux');
    kernelSources = new Map();
    for (const f of KERNEL_SOURCE_FILES[kernelVariant]) {
      const p = join(root, f);
      if (!existsSync(p)) throw new OracleUnavailableError(`no kernel source ${p}`, `npx purgatory-oracle oracle build-kernel ${version} --variant ${kernelVariant}`);
      kernelSources.set(f, readFileSync(p, 'utf8'));
    }
    subject = `kernel ${version} ${kernelVariant}${o.kernelSrc ? ` (${root})` : ''}`;
    targets = [kernelVariant];
    files = KERNEL_SUBJECT.filter((s) => s.targets.includes(kernelVariant)).map((s) => ({ ...s, src: kernelSources!.get(s.file)! }));
  }
  // Mutants, filtered by --function, paired with the targets they are built for.
  const fnFilter = o.functions?.length ? new Set(o.functions) : undefined;
  if (fnFilter) {
    const known = new Set(files.flatMap((f) => f.functions));
    for (const f of fnFilter) if (!known.has(f)) throw new UsageError(`--function ${f}: not a mutated function of ${subject} (${[...known].join(', ')})`);
  }
  const all: { mutant: Mutant; src: string; targets: Arch[] }[] = [];
  for (const f of files) {
    const fns = f.functions.filter((n) => !fnFilter || fnFilter.has(n));
    if (!fns.length) continue;
    for (const m of generateMutants(f.src, f.file, fns)) all.push({ mutant: m, src: f.src, targets: f.targets.filter((t) => targets.includes(t)) });
  }
  const equivalents = readEquivalents(o.equivalentsPath ?? DEFAULT_EQUIVALENTS);
  const scope = new Set(all.map((x) => `${x.mutant.file.replace(/^.*\//, '')}:${x.mutant.function}`));
  const { byId, stale } = matchEquivalents(equivalents, all.map((x) => x.mutant), (e) => scope.has(e.id.split(':').slice(0, 2).join(':')));
  let work: Work[] = [];
  for (const t of targets) {
    for (const x of all) {
      if (!x.targets.includes(t)) continue;
      const eq = byId.get(x.mutant.id);
      work.push({ mutant: x.mutant, target: t, src: x.src, equivalent: eq && (!eq.targets || eq.targets.includes(t)) ? eq : undefined });
    }
  }
  if (o.ids) {
    const want = new Set(o.ids);
    for (const id of want) if (!all.some((x) => x.mutant.id === id)) throw new UsageError(`mutate: no mutant ${id} in ${subject}`);
    work = work.filter((w) => want.has(w.mutant.id));
  }
  if (o.limit !== undefined) work = work.slice(0, o.limit);
  if (!work.length) throw new UsageError(`mutate: no mutant to run (${subject}, targets ${targets.join(',')}${fnFilter ? `, functions ${[...fnFilter].join(',')}` : ''})`);

  const results: MutantResult[] = [];
  const entries = loadManifest(corpusDir);
  try {
    for (const target of targets) {
      const mine = work.filter((w) => w.target === target);
      if (!mine.length) continue;
      const tScratch = join(scratch, target);
      const builder: MutantBuilder = o.kexecTools
        ? await kexecToolsBuilder(tree, target, tScratch, log)
        : await kernelBuilder(kernelVersion, kernelSources!, findKernelOracle(kernelVersion, kernelVariant), tScratch, log);
      // The TS side of every gate below is the same (one profile, one corpus, one case stream):
      // computed once, for the baseline, and reused.
      const memo = newGateMemo();
      const emulated = builder.base.kind === 'kexec-tools' ? !!builder.base.build.emulator : !!builder.base.build.info.emulator;
      const timeoutMs = o.timeoutMs ?? (emulated ? 10_000 : 3_000);
      // One oracle process per gate (the fuzz stage's, with its fork server) serves both stages.
      const gateOf = async (dir: string | undefined): Promise<GateReport> => {
        let target: GateTarget;
        let oracle: LiveOracle['oracle'];
        let details = false;
        if (builder.base.kind === 'kexec-tools') {
          const b = dir ? readKexecToolsBuild(dir) : builder.base.build;
          target = kexecToolsGateTarget(b, { timeoutMs });
          oracle = { loader: 'kexec-tools', version: b.version, target: b.target };
          details = supports(b, 'details');
        } else {
          const b = dir ? kernelMutantBuild(builder.base.build, dir) : builder.base.build;
          target = kernelGateTarget(b, { timeoutMs });
          oracle = { loader: 'kernel', version: b.version, target: b.target };
          details = kernelSupports(b, 'details');
        }
        const proc = await target.open();
        const keep = async () => undefined;
        const live: LiveOracle = { oracle, runMany: (r) => proc.runMany(r), close: keep, details };
        const shared: GateTarget = { spec: target.spec, open: async () => ({ ...proc, close: keep }) };
        try {
          return await runGate({ corpusDir, sources: [liveSource(corpusDir, live, entries)], fuzzTargets: [shared], fuzz, stopEarly: true, maxReports: 1, memo, freshCheck: false });
        } finally {
          await proc.close().catch(() => proc.kill());
        }
      };
      // The unmutated build must pass the gate, or no verdict below means anything.
      const baseline = await gateOf(undefined);
      if (gateFailed(baseline)) throw new MutantGateError(`the unmutated ${subject} ${target} oracle fails the gate (${killedBy(baseline)}): mutation testing needs a green baseline`);
      if (!baseline.sources.some((s) => s.cases > 0) && !baseline.fuzz?.oracles.some((x) => x.cases > 0)) throw new MutantGateError(`the gate checked no case for ${target}: nothing would be tested`);
      log(`${target}: baseline passes the gate; ${mine.length} mutants, ${jobs} job(s)`);
      let next = 0;
      let done = 0;
      const prior = new Map((o.resume ?? []).filter((r) => r.target === target).map((r) => [r.id, r]));
      const worker = async (j: number) => {
        const dir = join(tScratch, `job-${j}`);
        mkdirSync(dir, { recursive: true });
        for (;;) {
          const w = mine[next++];
          if (!w) return;
          const was = prior.get(w.mutant.id);
          const r = was ? { ...was, ...(w.equivalent ? { argument: w.equivalent.argument } : {}) } : await runOne(w, builder, dir, gateOf);
          if (was && w.equivalent && r.status === 'survived') r.status = 'equivalent';
          results.push(r);
          if (o.resultsFile && !was) appendFileSync(o.resultsFile, JSON.stringify(r) + '\n');
          done++;
          log(`${target} [${done}/${mine.length}] ${r.status.padEnd(14)} ${r.id}${r.by ? `  ${r.by.slice(0, 140)}` : ''}`);
        }
      };
      await Promise.all(Array.from({ length: jobs }, (_, j) => worker(j)));
    }
  } finally {
    if (!o.keepScratch && !o.scratch) rmSync(scratch, { recursive: true, force: true });
    else if (!o.keepScratch) for (const t of targets) rmSync(join(scratch, t), { recursive: true, force: true });
  }
  const order = new Map(work.map((w, i) => [`${w.target} ${w.mutant.id}`, i]));
  const workOf = new Map(work.map((w) => [`${w.target} ${w.mutant.id}`, w]));
  for (const r of results) {
    const w = workOf.get(`${r.target} ${r.id}`)!;
    if (!r.diff && (r.status === 'survived' || (r.status === 'killed' && r.argument))) r.diff = mutantDiff(w.src, w.mutant);
  }
  results.sort((a, b) => order.get(`${a.target} ${a.id}`)! - order.get(`${b.target} ${b.id}`)!);
  const report: MutationReport = {
    format: 'purgatory-oracle/mutation@1', subject, targets, fuzz: { seed: fuzz.seed, cases: fuzz.cases },
    startedAt: new Date(Date.now() - (performance.now() - t0)).toISOString(), wallMs: 0,
    totals: emptyCounts(), perTarget: {}, perFile: {}, perFunction: {}, perRule: {},
    survivors: results.filter((r) => r.status === 'survived'), stale, contradicted: results.filter((r) => r.argument && r.status === 'killed'), results,
  };
  for (const r of results) {
    add(report.totals, r);
    add((report.perTarget[r.target] ??= emptyCounts()), r);
    add((report.perFile[r.file] ??= emptyCounts()), r);
    add((report.perFunction[`${r.file.replace(/^.*\//, '')}:${r.function}`] ??= emptyCounts()), r);
    add((report.perRule[r.rule] ??= emptyCounts()), r);
  }
  report.wallMs = Math.round(performance.now() - t0);
  return report;
}

export class MutantGateError extends OracleUnavailableError {
  constructor(message: string) {
    super(message, 'gate the unmutated tree first: npx purgatory-oracle gate --kexec-tools TREE');
  }
}

async function runOne(w: Work, builder: MutantBuilder, dir: string, gateOf: (dir: string) => Promise<GateReport>): Promise<MutantResult> {
  const t = performance.now();
  const m = w.mutant;
  const base = { id: m.id, target: w.target, file: m.file, function: m.function, rule: m.rule, line: m.line, ...(w.equivalent ? { argument: w.equivalent.argument } : {}) };
  const done = (status: MutantStatus, extra: Partial<MutantResult> = {}): MutantResult => ({
    ...base, status, ms: Math.round(performance.now() - t), ...extra,
    ...(status === 'survived' || (status === 'killed' && w.equivalent) ? { diff: mutantDiff(w.src, m) } : {}),
  });
  const b = await builder.buildMutant(m.file, applyMutant(w.src, m), dir);
  if (b.kind === 'build-failed') return done('build-failed', { buildLog: b.log.slice(-2000) });
  if (b.kind === 'identical') return done('identical-code');
  const r = await gateOf(b.dir);
  if (gateFailed(r)) return done('killed', { by: killedBy(r) });
  return done(w.equivalent ? 'equivalent' : 'survived');
}

