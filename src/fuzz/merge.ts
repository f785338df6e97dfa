// One campaign summary from the summaries of its parallel jobs (`fuzz --jobs N`, parallel.ts).
// Pure: no I/O, inputs are not modified.
import { emptySummary, type CampaignSummary, type CaseRef, type SignatureSummary } from './campaign.ts';

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
