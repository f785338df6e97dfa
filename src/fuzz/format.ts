// Text for outcomes and campaign summaries.
import { hex } from '../bytes.ts';
import type { OracleResponse } from '../oracle/batch.ts';
import type { Outcome } from '../types.ts';
import type { CampaignSummary, SignatureSummary } from './campaign.ts';
import type { FuzzSummary } from './run.ts';

export function formatOutcomeLine(o: Outcome | OracleResponse): string {
  switch (o.kind) {
    case 'ok':
      if ('image' in o && o.image instanceof Uint8Array) {
        const r = o as Extract<OracleResponse, { kind: 'ok' }>;
        return `ok: base ${hex(r.relAddr)} bufsz ${hex(r.image.length)} memsz ${hex(r.relSize)} entry ${hex(r.entry)} host_buf ${hex(r.hostBuf)}`;
      }
      {
        const img = (o as Extract<Outcome, { kind: 'ok' }>).image;
        return `ok: base ${hex(img.base)} bufsz ${hex(img.bytes.length)} memsz ${hex(img.memsz)} entry ${hex(img.entry)}, ${img.relocations.length} relocation(s) applied`;
      }
    case 'rejected':
      return 'code' in o ? `rejected (${o.code}): ${o.message.trim()}` : `rejected (errno ${o.errno}): ${o.message.trim()}`;
    case 'crashed':
      return `crashed: ${o.signal}${o.message ? ` — ${o.message.split('\n').find((l) => l.trim()) ?? ''}` : ''}`;
    case 'timeout':
      return `timeout after ${o.ms} ms`;
  }
}

function sizeText(s: SignatureSummary): string {
  const m = s.minimized;
  if (!m) return '';
  return ` [min: rel ${m.from.relocations}→${m.to.relocations}, sym ${m.from.symbols}→${m.to.symbols}, sec ${m.from.sections}→${m.to.sections}, patches ${m.from.patches}→${m.to.patches}, ${m.to.bytes} B${m.to.zeroed ? ` (${m.to.zeroed} zeroed)` : ''}]`;
}

/** `unavailable`: the campaign's error is that its oracle is not available (not that a job failed). */
export function formatCampaign(c: CampaignSummary, unavailable = true): string {
  const out: string[] = [];
  out.push(`${c.oracle}: ${c.cases} cases in ${(c.fuzzMs / 1000).toFixed(1)} s (${c.casesPerSec}/s), minimizing ${(c.minimizeMs / 1000).toFixed(1)} s${c.genErrors ? `, ${c.genErrors} generator error(s)` : ''}`);
  if (c.error) out.push(`  ${unavailable ? 'unavailable' : 'error'}: ${c.error}`);
  const cls = Object.entries(c.byClass).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  if (cls) out.push(`  classes: ${cls}`);
  const modes = Object.entries(c.byMode).map(([k, v]) => `${k} ${v}`).join(', ');
  if (modes) out.push(`  modes: ${modes}`);
  const reg = Object.entries(c.registry).map(([k, v]) => `${k} (${[v.explained ? `explained ${v.explained}` : '', v.exercised ? `exercised ${v.exercised}, matched ${v.matched}` : ''].filter(Boolean).join(', ')})`);
  if (reg.length) out.push(`  registry: ${reg.join('; ')}`);
  const findings = c.signatures.filter((s) => s.finding);
  out.push(`  findings (not explained by the registry): ${findings.length}`);
  for (const s of findings) out.push(`    ${s.known === 'open' ? 'OPEN' : s.known ? 'KNOWN' : 'NEW'} ${s.key} ×${s.count}${sizeText(s)}${s.reproducer ? `\n        → ${s.reproducer}` : ''}${s.note ? `\n        ${s.note}` : ''}`);
  const explained = c.signatures.filter((s) => !s.finding);
  if (explained.length) out.push(`  explained divergences: ${explained.length}`);
  for (const s of explained) out.push(`    ${s.key} ×${s.count} [${s.explainedBy.join(', ')}]${sizeText(s)}${s.reproducer ? `\n        → ${s.reproducer}` : ''}`);
  if (c.confirmations.length) out.push(`  modelled divergences confirmed live: ${c.confirmations.length}`);
  for (const s of c.confirmations) out.push(`    ${s.key}${sizeText(s)}${s.reproducer ? `\n        → ${s.reproducer}` : ''}`);
  const coll = Object.entries(c.collateral);
  if (coll.length) out.push(`  not reproducible in a fresh process (heap corruption by an earlier case): ${coll.map(([k, v]) => `${k.replace(c.oracle + ' ', '')} ×${v}`).join('; ')}`);
  if (c.diagnostics.length) out.push(`  sanitizer diagnostics: ${c.diagnostics.length}`);
  for (const d of c.diagnostics) out.push(`    ${d.signature} ×${d.count} (first: ${d.first.mode} case ${d.first.index})`);
  if (c.tsSlow) out.push(`  TS loads over the hang threshold: ${c.tsSlow} (slowest ${c.tsMaxMs.toFixed(0)} ms)`);
  return out.join('\n');
}

export function formatFuzzText(s: FuzzSummary): string {
  const out = [`purgatory-oracle fuzz: seed ${s.seed}, modes ${s.modes.join(',')}, shard ${s.shard}`];
  for (const c of s.campaigns) out.push(formatCampaign(c, s.unavailable.some((u) => u.oracle === c.oracle)));
  if (s.robustness) {
    const r = s.robustness;
    out.push(`ts-only robustness: ${r.cases} cases in ${(r.ms / 1000).toFixed(1)} s (${r.casesPerSec}/s) on ${r.workers} worker(s)`);
    out.push(`  outcomes: ${Object.entries(r.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    out.push(`  untyped exceptions: ${r.untypedExceptions}, hangs (> ${r.hangMs} ms): ${r.hangs}, generator errors: ${r.genErrors}, slowest case ${r.slowestMs.toFixed(1)} ms (case ${r.slowestCase})`);
    out.push(`  heap (MiB): start ${r.heap.startMiB}, max ${r.heap.maxMiB}, end ${r.heap.endMiB}, floor growth ${r.heap.floorGrowthMiB}${r.heap.unbounded ? ' — GROWING' : ''}`);
    for (const f of r.findings) out.push(`    NEW ${f.key} ×${f.count} (first case ${f.first.index})${f.reproducer ? `\n        → ${f.reproducer}` : ''}`);
  }
  for (const u of s.unavailable) out.push(`unavailable: ${u.oracle}: ${u.message}`);
  out.push(`total: ${s.findings} new finding(s)${s.openFindings ? `, ${s.openFindings} known open finding(s)` : ''}, ${(s.wallMs / 1000).toFixed(1)} s`);
  return out.join('\n') + '\n';
}
