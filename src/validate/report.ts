// Report writers for validate/gate: a text table, Markdown, JSON and JUnit XML.
import { jsonSafe } from '../image.ts';
import type { CaseClass } from '../compare/compare.ts';
import type { ValidateReport as CorpusReport } from './validate.ts';
import type { FuzzStageReport } from '../gate/gate.ts';

/** A validate report, and the gate's fuzz stage where it ran (its own section in each writer). */
type ValidateReport = CorpusReport & { fuzz?: FuzzStageReport };

const CLASSES: CaseClass[] = ['match', 'both-rejected', 'mismatch-bytes', 'mismatch-layout', 'one-rejected', 'oracle-crashed', 'oracle-timeout'];

function rows(r: ValidateReport): string[][] {
  return r.sources.map((s) => [s.oracle, s.mode, String(s.cases), ...CLASSES.map((c) => String(s.byClass[c] ?? 0)), String(s.explained), String(s.unexplained)]);
}
const HEAD = ['oracle', 'mode', 'cases', ...CLASSES, 'explained', 'UNEXPLAINED'];

export function formatText(r: ValidateReport, verbose = false): string {
  const table = [HEAD, ...rows(r)];
  const widths = HEAD.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const out = table.map((row) => row.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const lines = [...out, ''];
  lines.push('Known divergences (cases / bytes covered):');
  for (const e of r.registry) lines.push(`  ${e.id.padEnd(40)} ${String(e.cases).padStart(6)} cases ${String(e.bytes).padStart(8)} bytes${e.stale ? '  STALE (covered nothing in this run)' : ''}`);
  for (const m of r.missing) lines.push(`missing oracle: ${m}`);
  const shown = r.sources.flatMap((s) => s.results.filter((x) => x.report && (verbose || !x.explainedBy.length)).map((x) => ({ s, x })));
  if (shown.length) {
    lines.push('', 'Differences:');
    for (const { s, x } of shown) {
      lines.push(`--- ${s.oracle} ${x.entry} ${x.caseId}${x.explainedBy.length ? ` (explained by ${x.explainedBy.join(', ')})` : ''}`);
      lines.push(x.report!);
    }
  }
  lines.push('', `${r.sources.reduce((n, s) => n + s.cases, 0)} cases, ${r.unexplained} unexplained, ${(r.wallMs / 1000).toFixed(2)} s`);
  if (r.fuzz) lines.push('', ...fuzzText(r.fuzz));
  return lines.join('\n') + '\n';
}

export function formatMarkdown(r: ValidateReport): string {
  const lines = ['## purgatory-oracle parity', '', `| ${HEAD.join(' | ')} |`, `|${HEAD.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const row of rows(r)) lines.push(`| ${row.join(' | ')} |`);
  lines.push('', '| known divergence | cases | bytes | stale |', '| --- | ---: | ---: | --- |');
  for (const e of r.registry) lines.push(`| ${e.id} | ${e.cases} | ${e.bytes} | ${e.stale ? 'yes' : ''} |`);
  for (const m of r.missing) lines.push('', `**missing oracle:** ${m}`);
  const bad = r.sources.flatMap((s) => s.results.filter((x) => x.report && !x.explainedBy.length).map((x) => ({ s, x })));
  for (const { s, x } of bad.slice(0, 20)) lines.push('', `### ${s.oracle} ${x.entry} ${x.caseId}`, '```', x.report!, '```');
  if (r.fuzz) lines.push('', ...fuzzMarkdown(r.fuzz));
  return lines.join('\n') + '\n';
}

export function formatJson(r: ValidateReport): string {
  return JSON.stringify(jsonSafe({
    ...r,
    sources: r.sources.map((s) => ({
      ...s,
      results: s.results.map((x) => ({
        entry: x.entry, case: x.caseId, class: x.cls, explainedBy: x.explainedBy, report: x.report,
        layout: x.comparison.layout, differingBytes: x.comparison.differingBytes,
        ranges: x.comparison.ranges.map((g) => ({ start: g.start, end: g.end, attributions: g.attributions.map((a) => ({ ...a, ts: undefined, ref: undefined })) })),
      })),
    })),
  }), null, 2) + '\n';
}

const xml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
  // XML 1.0 forbids most control characters, even escaped.
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** JUnit XML: testsuites/testsuite (one per oracle)/testcase (one per case)/failure. */
export function formatJunit(r: ValidateReport): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const total = r.sources.reduce((n, s) => n + s.cases, 0);
  const fz = r.fuzz?.oracles ?? [];
  const failures = r.unexplained + r.missing.length + (r.fuzz?.findings ?? 0);
  const tests = total + r.missing.length + fz.reduce((n, o) => n + Math.max(1, o.findings.length), 0);
  out.push(`<testsuites name="purgatory-oracle" tests="${tests}" failures="${failures}" time="${((r.wallMs + (r.fuzz?.wallMs ?? 0)) / 1000).toFixed(3)}">`);
  for (const s of r.sources) {
    out.push(`  <testsuite name="${xml(s.oracle)} (${s.mode})" tests="${s.cases}" failures="${s.unexplained}" errors="0" skipped="0">`);
    for (const x of s.results) {
      const name = xml(`${x.entry} ${x.caseId}`);
      const ok = x.cls === 'match' || x.cls === 'both-rejected' || x.explainedBy.length > 0;
      if (ok) {
        out.push(`    <testcase classname="${xml(s.oracle)}" name="${name}"${x.explainedBy.length ? `><system-out>${xml(`${x.cls}, explained by ${x.explainedBy.join(', ')}`)}</system-out></testcase>` : '/>'}`);
      } else {
        out.push(`    <testcase classname="${xml(s.oracle)}" name="${name}">`);
        out.push(`      <failure message="${xml(x.cls)}" type="${xml(x.cls)}">${xml(x.report ?? x.comparison.note ?? x.cls)}</failure>`);
        out.push('    </testcase>');
      }
    }
    out.push('  </testsuite>');
  }
  if (r.missing.length) {
    out.push(`  <testsuite name="required oracles" tests="${r.missing.length}" failures="${r.missing.length}">`);
    for (const m of r.missing) out.push(`    <testcase classname="oracles" name="${xml(m)}"><failure message="missing oracle" type="missing">${xml(m)}</failure></testcase>`);
    out.push('  </testsuite>');
  }
  if (r.fuzz) out.push(...fuzzJunit(r.fuzz));
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}

// The gate's fuzz stage: one line per oracle, then each finding with its first case and reproducer.

const findingLine = (f: FuzzStageReport['oracles'][number]['findings'][number]): string =>
  `${f.key} ×${f.count} (first: case ${f.firstCase})${f.reproducer ? ` → ${f.reproducer}` : ''}`;

function fuzzText(f: FuzzStageReport): string[] {
  const lines = [`Fuzz stage (seed ${f.seed}, ${f.casesPerOracle} ${f.modes.join('+')} cases per oracle):`];
  if (f.skipped) lines.push(`  not run: ${f.skipped}`);
  for (const o of f.oracles) {
    lines.push(`  ${o.oracle.padEnd(40)} ${String(o.cases).padStart(7)} cases ${String(o.explained).padStart(6)} explained ${String(o.findings.length).padStart(3)} FINDINGS  ${(o.ms / 1000).toFixed(1)} s${o.error ? `  error: ${o.error}` : ''}`);
    for (const x of o.findings) lines.push(`    ${findingLine(x)}`, ...(x.note ? [`      ${x.note}`] : []));
  }
  if (f.stoppedEarly) lines.push('  stopped at the first finding');
  lines.push(`${f.findings} fuzz finding(s), ${(f.wallMs / 1000).toFixed(2)} s`);
  return lines;
}

function fuzzMarkdown(f: FuzzStageReport): string[] {
  const lines = [`### fuzz stage (seed ${f.seed}, ${f.casesPerOracle} ${f.modes.join('+')} cases per oracle)`, ''];
  if (f.skipped) return [...lines, `not run: ${f.skipped}`];
  lines.push('| oracle | cases | explained | findings |', '| --- | ---: | ---: | ---: |');
  for (const o of f.oracles) lines.push(`| ${o.oracle} | ${o.cases} | ${o.explained} | ${o.findings.length} |`);
  for (const o of f.oracles) for (const x of o.findings) lines.push('', `- **${o.oracle}**: \`${findingLine(x)}\``);
  return lines;
}

function fuzzJunit(f: FuzzStageReport): string[] {
  const out: string[] = [];
  for (const o of f.oracles) {
    const name = xml(`fuzz ${o.oracle} (seed ${f.seed}, ${o.cases} cases)`);
    out.push(`  <testsuite name="${name}" tests="${Math.max(1, o.findings.length)}" failures="${o.findings.length}" errors="0" skipped="0">`);
    if (!o.findings.length) out.push(`    <testcase classname="fuzz" name="${xml(`${o.oracle} seed ${f.seed}`)}"/>`);
    for (const x of o.findings) {
      out.push(`    <testcase classname="fuzz" name="${xml(x.key)}">`);
      out.push(`      <failure message="${xml(x.cls)}" type="fuzz-finding">${xml([findingLine(x), x.note ?? ''].join('\n').trim())}</failure>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  return out;
}
