// One campaign summary from the summaries of its parallel jobs (`fuzz --jobs N`, parallel.ts), and
// one fuzz summary from those of its shards (`fuzz merge`). Pure: no I/O, inputs are not modified.
import { UsageError } from '../errors.ts';
import { emptySummary, type CampaignSummary, type CaseRef, type SignatureSummary } from './campaign.ts';
import type { RobustnessFinding, RobustnessSummary } from './robustness.ts';
import type { FuzzSummary } from './run.ts';

export interface MergeOptions {
  /** Errors of jobs that returned no summary (a worker that threw); joined into `error`. */
  errors?: readonly string[];
}

/**
 * Counters are summed and tsMaxMs is the maximum. The jobs fuzz at the same time, so fuzzMs is the
 * longest job's fuzzing time (the wall time of the fuzzing, not the sum) and casesPerSec is the
 * total cases over it; minimizeMs is the sum (triage done by every job). Signatures and
 * confirmations merge by key, diagnostics by signature: counts summed, `first` the lowest case
 * index. A signature's reproducer, minimization and `known` come from the job that wrote the
 * reproducer (the one not marked known), if any.
 */
export function mergeSummaries(parts: readonly CampaignSummary[], opts: MergeOptions = {}): CampaignSummary {
  const base = parts[0];
  const out = emptySummary(base?.oracle ?? '', base?.target);
  const errors = [...parts.flatMap((p) => (p.error ? [p.error] : [])), ...(opts.errors ?? [])];
  for (const p of parts) {
    out.cases += p.cases;
    out.genErrors += p.genErrors;
    out.fuzzMs = Math.max(out.fuzzMs, p.fuzzMs);
    out.minimizeMs += p.minimizeMs;
    addCounts(out.byClass, p.byClass);
    addCounts(out.byMode, p.byMode);
    addCounts(out.collateral, p.collateral);
    for (const [id, r] of Object.entries(p.registry)) {
      const o = (out.registry[id] ??= { explained: 0, exercised: 0, matched: 0 });
      o.explained += r.explained;
      o.exercised += r.exercised;
      o.matched += r.matched;
    }
    out.tsSlow += p.tsSlow;
    out.tsMaxMs = Math.max(out.tsMaxMs, p.tsMaxMs);
  }
  out.casesPerSec = out.fuzzMs > 0 ? Math.round((out.cases * 1000) / out.fuzzMs) : 0;
  out.signatures = mergeSignatures(parts.map((p) => p.signatures)).sort((a, b) => Number(b.finding) - Number(a.finding) || a.key.localeCompare(b.key));
  out.confirmations = mergeSignatures(parts.map((p) => p.confirmations));
  const diags = new Map<string, CampaignSummary['diagnostics'][number]>();
  for (const d of parts.flatMap((p) => p.diagnostics)) {
    const m = diags.get(d.signature);
    if (!m) diags.set(d.signature, { ...d, first: { ...d.first } });
    else {
      m.count += d.count;
      if (d.first.index < m.first.index) [m.first, m.excerpt] = [{ ...d.first }, d.excerpt];
    }
  }
  out.diagnostics = [...diags.values()].sort((a, b) => b.count - a.count || a.first.index - b.first.index);
  const uniqueErrors = [...new Set(errors)];
  if (uniqueErrors.length) out.error = uniqueErrors.join('; ');
  return out;
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function mergeSignatures(lists: readonly (readonly SignatureSummary[])[]): SignatureSummary[] {
  const byKey = new Map<string, SignatureSummary[]>();
  for (const s of lists.flat()) {
    const l = byKey.get(s.key);
    if (l) l.push(s);
    else byKey.set(s.key, [s]);
  }
  return [...byKey.values()].map((same) => {
    const earliest = same.reduce((a, b) => (lower(b.first, a.first) ? b : a));
    // The job that wrote the reproducer; the others lost the claim (or found it already written).
    const writer = same.find((s) => s.reproducer !== undefined && s.known === undefined);
    const from = writer ?? same.find((s) => s.reproducer !== undefined) ?? earliest;
    const m: SignatureSummary = {
      ...earliest,
      first: { ...earliest.first },
      count: same.reduce((n, s) => n + s.count, 0),
      explainedBy: [...new Set(same.flatMap((s) => s.explainedBy))],
      finding: same.some((s) => s.finding),
    };
    delete m.known;
    delete m.reproducer;
    delete m.minimized;
    if (from.known !== undefined) m.known = from.known;
    if (from.reproducer !== undefined) m.reproducer = from.reproducer;
    if (from.minimized !== undefined) m.minimized = { ...from.minimized };
    return m;
  });
}

function lower(a: CaseRef, b: CaseRef): boolean {
  return a.index < b.index;
}

/**
 * One fuzz summary from the summaries of the shards of one campaign (`fuzz --shard I/N --json`, run
 * by N CI jobs or machines). The shards must share the format, seed, modes and N, each index at
 * most once; all N of them unless `allowPartial`. Campaigns merge per oracle with mergeSummaries
 * (the shards ran at the same time: fuzzMs is the longest), TS-only robustness summaries by summing
 * (ms, slowest case and heap peaks: the maximum), unavailable oracles and reproducers are united,
 * and findings are counted again from the merged signatures. The merged `shard` lists the indices:
 * "0,1,2,3/4".
 */
export function mergeFuzzSummaries(parts: readonly FuzzSummary[], opts: { allowPartial?: boolean } = {}): FuzzSummary {
  const first = parts[0];
  if (!first) throw new UsageError('fuzz merge: no summary to merge');
  const format: FuzzSummary['format'] = 'purgatory-oracle/fuzz-summary@1';
  if (first.format !== format) throw new UsageError(`fuzz merge: summary 1 has format '${String(first.format)}', not '${format}' (write summaries with fuzz --json)`);
  const shards = parts.map((p, i) => {
    if (p.format !== first.format) throw new UsageError(`fuzz merge: summary ${i + 1} has format '${p.format}', not '${first.format}'`);
    if (p.seed !== first.seed) throw new UsageError(`fuzz merge: summary ${i + 1} has seed ${p.seed}, not ${first.seed}: shards of one campaign share the seed`);
    if (p.modes.join(',') !== first.modes.join(',')) throw new UsageError(`fuzz merge: summary ${i + 1} has modes ${p.modes.join(',')}, not ${first.modes.join(',')}`);
    const m = /^(\d+(?:,\d+)*)\/(\d+)$/.exec(p.shard);
    if (!m) throw new UsageError(`fuzz merge: summary ${i + 1} has shard '${p.shard}', expected I/N`);
    return { indices: m[1]!.split(',').map(Number), count: Number(m[2]) };
  });
  const count = shards[0]!.count;
  const bad = shards.find((s) => s.count !== count);
  if (bad) throw new UsageError(`fuzz merge: shards of ${count} and of ${bad.count} cannot be merged`);
  const seen = new Set<number>();
  for (const i of shards.flatMap((s) => s.indices)) {
    if (seen.has(i)) throw new UsageError(`fuzz merge: shard ${i}/${count} appears twice`);
    seen.add(i);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length && !opts.allowPartial) {
    throw new UsageError(`fuzz merge: shard(s) ${missing.map((i) => `${i}/${count}`).join(', ')} missing (--allow-partial merges what is there)`);
  }
  const oracles = [...new Set(parts.flatMap((p) => p.campaigns.map((c) => c.oracle)))];
  const campaigns = oracles.map((o) => mergeSummaries(parts.flatMap((p) => p.campaigns.filter((c) => c.oracle === o))));
  const unavailable = new Map<string, FuzzSummary['unavailable'][number]>();
  for (const u of parts.flatMap((p) => p.unavailable)) if (!unavailable.has(u.oracle)) unavailable.set(u.oracle, u);
  const robust = parts.flatMap((p) => (p.robustness ? [p.robustness] : []));
  const robustness = robust.length ? mergeRobustness(robust) : undefined;
  const out: FuzzSummary = {
    format: first.format, seed: first.seed, modes: [...first.modes], shard: `${[...seen].sort((a, b) => a - b).join(',')}/${count}`,
    campaigns, unavailable: [...unavailable.values()], findings: 0, openFindings: 0,
    reproducers: [...new Set(parts.flatMap((p) => p.reproducers))].sort(), wallMs: Math.max(...parts.map((p) => p.wallMs)),
  };
  if (robustness) out.robustness = robustness;
  out.findings = (robustness?.findings.length ?? 0) + campaigns.reduce((n, c) => n + c.signatures.filter((s) => s.finding && !s.known).length, 0);
  out.openFindings = campaigns.reduce((n, c) => n + c.signatures.filter((s) => s.finding && s.known).length, 0);
  return out;
}

function mergeRobustness(parts: readonly RobustnessSummary[]): RobustnessSummary {
  const out: RobustnessSummary = {
    cases: 0, ms: 0, casesPerSec: 0, workers: 0, genErrors: 0, untypedExceptions: 0, hangs: 0, hangMs: parts[0]!.hangMs, memoryFindings: 0,
    slowestMs: 0, slowestCase: -1, outcomes: {}, heap: { startMiB: 0, maxMiB: 0, endMiB: 0, floorGrowthMiB: 0, unbounded: false, samples: 0 }, findings: [],
  };
  const findings = new Map<string, RobustnessFinding>();
  for (const p of parts) {
    out.cases += p.cases;
    out.ms = Math.max(out.ms, p.ms);
    out.workers += p.workers;
    out.genErrors += p.genErrors;
    out.untypedExceptions += p.untypedExceptions;
    out.hangs += p.hangs;
    out.memoryFindings += p.memoryFindings;
    if (p.slowestMs > out.slowestMs) [out.slowestMs, out.slowestCase] = [p.slowestMs, p.slowestCase];
    addCounts(out.outcomes, p.outcomes);
    out.heap.startMiB = Math.max(out.heap.startMiB, p.heap.startMiB);
    out.heap.maxMiB = Math.max(out.heap.maxMiB, p.heap.maxMiB);
    out.heap.endMiB = Math.max(out.heap.endMiB, p.heap.endMiB);
    out.heap.floorGrowthMiB = Math.max(out.heap.floorGrowthMiB, p.heap.floorGrowthMiB);
    out.heap.unbounded ||= p.heap.unbounded;
    out.heap.samples += p.heap.samples;
    for (const f of p.findings) {
      const m = findings.get(f.key);
      if (!m) findings.set(f.key, { ...f, first: { ...f.first } });
      else {
        m.count += f.count;
        if (lower(f.first, m.first)) m.first = { ...f.first };
        m.reproducer ??= f.reproducer;
      }
    }
  }
  out.casesPerSec = out.ms > 0 ? Math.round((out.cases * 1000) / out.ms) : 0;
  out.findings = [...findings.values()];
  return out;
}
