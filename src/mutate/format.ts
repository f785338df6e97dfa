// Text for a mutation report: counts per target, file, function and rule, then every survivor
// as its diff, stale equivalents and contradicted ones.
import type { Counts, MutationReport } from './run.ts';

const pct = (c: Counts): string => (c.score === null ? '-' : `${(c.score * 100).toFixed(1)}%`);

function table(title: string, rows: Record<string, Counts>): string[] {
  const head = [title, 'mutants', 'killed', 'survived', 'equivalent', 'identical', 'build-failed', 'score'];
  const body = Object.entries(rows).map(([k, c]) => [k, String(c.mutants), String(c.killed), String(c.survived), String(c.equivalent), String(c.identicalCode), String(c.buildFailed), pct(c)]);
  const all = [head, ...body];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join('  '));
}

export function formatMutationText(r: MutationReport): string {
  const t = r.totals;
  const lines = [
    `mutation score of the gate on ${r.subject} (${r.targets.join(', ')}; fuzz stage seed ${r.fuzz.seed}, ${r.fuzz.cases} cases): ${pct(t)}`,
    `  ${t.mutants} mutants: ${t.killed} killed, ${t.survived} survived, ${t.equivalent} equivalent (argued), ${t.identicalCode} equivalent (identical object code), ${t.buildFailed} build-failed; ${(r.wallMs / 1000).toFixed(0)} s`,
    '',
    ...table('target', r.perTarget), '',
    ...table('file', r.perFile), '',
    ...table('function', r.perFunction), '',
    ...table('rule', r.perRule),
  ];
  if (r.contradicted.length) {
    lines.push('', `Listed as equivalent but KILLED (the argument is wrong): ${r.contradicted.length}`);
    for (const x of r.contradicted) lines.push(`  ${x.target} ${x.id}: ${x.by}`);
  }
  if (r.stale.length) {
    lines.push('', `STALE equivalents (match no generated mutant): ${r.stale.length}`);
    for (const e of r.stale) lines.push(`  ${e.id} (context ${e.contextHash})`);
  }
  if (r.survivors.length) {
    lines.push('', `Survivors: ${r.survivors.length}`);
    for (const s of r.survivors) lines.push('', `### ${s.target} ${s.id} (line ${s.line})`, s.diff ?? '');
  }
  return lines.join('\n') + '\n';
}
