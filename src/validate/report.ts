// Report writers for validate/gate: text, Markdown, JSON and JUnit XML. Every writer prints the
// same root causes (src/report/root-causes.ts): one line each with its counts and reproduction
// commands, and its representative case in full. Each writer is a list of sections, so another
// section (e.g. a fuzz summary) is one more function.
import { jsonSafe } from '../image.ts';
import { plural, rootCauseCounts, rootCauseLine, type RootCause } from '../report/root-causes.ts';
import type { CaseClass } from '../compare/compare.ts';
import type { SourceCase, ValidateReport as CorpusReport } from './validate.ts';
import type { FuzzStageReport } from '../gate/gate.ts';

/** A validate report, and the gate's fuzz stage where it ran (its own section in each writer). */
type ValidateReport = CorpusReport & { fuzz?: FuzzStageReport };

const CLASSES: CaseClass[] = ['match', 'both-rejected', 'mismatch-bytes', 'mismatch-layout', 'one-rejected', 'oracle-crashed', 'oracle-timeout'];

function rows(r: ValidateReport): string[][] {
  return r.sources.map((s) => [s.oracle, s.mode, String(s.cases), ...CLASSES.map((c) => String(s.byClass[c] ?? 0)), String(s.explained), String(s.unexplained)]);
}
const HEAD = ['oracle', 'mode', 'cases', ...CLASSES, 'explained', 'UNEXPLAINED'];


/** "144 unexplained cases in 1 root cause". */
export function rootCauseSummary(r: ValidateReport): string {
  return `${plural(r.unexplained, 'unexplained case')} in ${plural(r.rootCauses.length, 'root cause')}`;
}

/** The cases of a root cause, briefly: a few ids, then how many more. */
function memberList(g: RootCause<SourceCase>, max = 6): string {
  const ids = g.cases.slice(0, max).map((c) => `${c.entry} ${c.caseId}`);
  return ids.join(', ') + (g.cases.length > max ? `, … ${g.cases.length - max} more` : '');
}

const indent = (s: string, pad: string) => s.split('\n').map((l) => (l ? pad + l : l)).join('\n');

// ---------------------------------------------------------------------------------------------
// Text

function textTable(r: ValidateReport): string[] {
  const table = [HEAD, ...rows(r)];
  const widths = HEAD.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const out = table.map((row) => row.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return [...out, ''];
}

function textRegistry(r: ValidateReport): string[] {
  if (!r.registry.length) return [];
  const lines = ['Known divergences in scope for this run (cases / bytes covered):'];
  for (const e of r.registry) lines.push(`  ${e.id.padEnd(40)} ${String(e.cases).padStart(6)} cases ${String(e.bytes).padStart(8)} bytes${e.unexplainedCases ? `  (applied in ${e.unexplainedCases} unexplained cases, not counted)` : ''}${e.stale ? '  STALE (in scope, covered nothing)' : ''}`);
  return lines;
}

function textRootCauses(r: ValidateReport): string[] {
  if (!r.rootCauses.length) return [];
  const lines = ['', `Root causes (${rootCauseSummary(r)}):`];
  for (const g of r.rootCauses) {
    lines.push('', `${g.id}  ${rootCauseLine(g)}`);
    for (const c of g.reproduce) lines.push(`    $ ${c}`);
    lines.push(`    cases: ${memberList(g)}`);
    if (g.representative.report) {
      lines.push(`    representative: ${g.representative.entry} ${g.representative.caseId}`);
      lines.push(indent(g.representative.report, '    '));
    }
  }
  return lines;
}

function textExplained(r: ValidateReport): string[] {
  const shown = r.sources.flatMap((s) => s.results.filter((x) => x.report && x.explainedBy.length).map((x) => ({ s, x })));
  if (!shown.length) return [];
  const lines = ['', 'Explained differences:'];
  for (const { s, x } of shown) lines.push(`--- ${s.oracle} ${x.entry} ${x.caseId} (explained by ${x.explainedBy.join(', ')})`, x.report!);
  return lines;
}

export function formatText(r: ValidateReport, verbose = false): string {
  const lines = [
    ...textTable(r),
    ...textRegistry(r),
    ...r.missing.map((m) => `missing oracle: ${m}`),
    ...textRootCauses(r),
    ...(verbose ? textExplained(r) : []),
    '',
    `${r.sources.reduce((n, s) => n + s.cases, 0)} cases, ${rootCauseSummary(r)}, ${(r.wallMs / 1000).toFixed(2)} s`,
  ];
  if (r.fuzz) lines.push('', ...fuzzText(r.fuzz));
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Markdown (the CI step summary): one root cause fits on a screen.

/** Lines of a representative's report shown in the summary; the rest is in the text and JSON reports. */
const MD_REPORT_LINES = 16;

function mdTable(r: ValidateReport): string[] {
  const lines = [`| ${HEAD.join(' | ')} |`, `|${HEAD.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const row of rows(r)) lines.push(`| ${row.join(' | ')} |`);
  return lines;
}

function mdRootCauses(r: ValidateReport): string[] {
  if (!r.rootCauses.length) return [];
  const lines = ['', `**${rootCauseSummary(r)}**`];
  for (const g of r.rootCauses.slice(0, 20)) {
    lines.push('', `### ${g.id} · ${g.oracle} · ${g.cls}`, '', `${g.title}: ${rootCauseCounts(g)}.`);
    lines.push('', '```sh', ...g.reproduce, '```');
    const rep = g.representative.report;
    if (rep) {
      const all = rep.split('\n');
      // A cut saves at least a few lines, or nothing is cut.
      const shown = all.length > MD_REPORT_LINES + 4 ? all.slice(0, MD_REPORT_LINES) : all;
      if (all.length > shown.length) shown.push(`… ${all.length - shown.length} more lines in the text report`);
      lines.push('', `Representative: \`${g.representative.entry} ${g.representative.caseId}\``, '```', ...shown, '```');
    }
  }
  if (r.rootCauses.length > 20) lines.push('', `… ${r.rootCauses.length - 20} more root causes in the text and JSON reports`);
  return lines;
}

function mdRegistry(r: ValidateReport): string[] {
  if (!r.registry.length) return [];
  const lines = ['', '<details><summary>Known divergences in scope for this run</summary>', '', '| known divergence | cases | bytes | in unexplained cases | stale |', '| --- | ---: | ---: | ---: | --- |'];
  for (const e of r.registry) lines.push(`| ${e.id} | ${e.cases} | ${e.bytes} | ${e.unexplainedCases} | ${e.stale ? 'yes' : ''} |`);
  lines.push('', '</details>');
  return lines;
}

export function formatMarkdown(r: ValidateReport): string {
  const lines = [
    '## purgatory-oracle parity', '',
    ...mdTable(r),
    ...r.missing.map((m) => `\n**missing oracle:** ${m}`),
    ...mdRootCauses(r),
    ...mdRegistry(r),
  ];
  if (r.fuzz) lines.push('', ...fuzzMarkdown(r.fuzz));
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// JSON

/** A root cause without its case objects' comparisons (they are under sources[].results). */
export function rootCauseJson(g: RootCause<SourceCase>) {
  return {
    id: g.id, oracle: g.oracle, target: g.target, class: g.cls, title: g.title, findings: g.findings, relocations: g.relocations,
    cases: g.cases.length, sites: g.sites, entries: g.entries, bases: g.bases, reproduce: g.reproduce,
    representative: { entry: g.representative.entry, case: g.representative.caseId, base: g.representative.base, report: g.representative.report },
    members: g.cases.map((c) => ({ entry: c.entry, case: c.caseId, base: c.base })),
  };
}

export function formatJson(r: ValidateReport): string {
  const causeOf = new Map<object, string>(r.rootCauses.flatMap((g) => g.cases.map((c) => [c, g.id] as [object, string])));
  return JSON.stringify(jsonSafe({
    ...r,
    rootCauses: r.rootCauses.map(rootCauseJson),
    sources: r.sources.map((s) => ({
      ...s,
      results: s.results.map((x) => ({
        entry: x.entry, case: x.caseId, class: x.cls, explainedBy: x.explainedBy, rootCause: causeOf.get(x), report: x.report,
        base: x.base, fill: x.fill, symbols: x.symbols,
        layout: x.comparison.layout, differingBytes: x.comparison.differingBytes,
        ranges: x.comparison.ranges.map((g) => ({ start: g.start, end: g.end, attributions: g.attributions.map((a) => ({ ...a, ts: undefined, ref: undefined })) })),
      })),
    })),
  }), null, 2) + '\n';
}

// ---------------------------------------------------------------------------------------------
// JUnit

/** XML text or attribute escaping (JUnit): the five entities, control characters as \\xNN. */
export const xml = (s: string): string => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
  // XML 1.0 forbids most control characters, even escaped.
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/**
 * JUnit XML: testsuites/testsuite (one per oracle)/testcase: one per root cause (a failure, its
 * cases listed inside), and one for the cases that agree or are explained.
 */
export function formatJunit(r: ValidateReport): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const fz = r.fuzz?.oracles ?? [];
  const tests = r.sources.length + r.rootCauses.length + r.missing.length + fz.reduce((n, o) => n + Math.max(1, o.findings.length), 0);
  const failures = r.rootCauses.length + r.missing.length + (r.fuzz?.findings ?? 0);
  out.push(`<testsuites name="purgatory-oracle" tests="${tests}" failures="${failures}" time="${((r.wallMs + (r.fuzz?.wallMs ?? 0)) / 1000).toFixed(3)}">`);
  for (const s of r.sources) {
    const causes = r.rootCauses.filter((g) => g.oracle === s.oracle);
    out.push(`  <testsuite name="${xml(s.oracle)} (${s.mode})" tests="${causes.length + 1}" failures="${causes.length}" errors="0" skipped="0">`);
    const agree = s.cases - s.unexplained;
    out.push(`    <testcase classname="${xml(s.oracle)}" name="${xml(`${agree} of ${s.cases} cases agree or are explained`)}"><system-out>${xml(`${s.byClass.match ?? 0} match, ${s.byClass['both-rejected'] ?? 0} both rejected, ${s.explained} explained`)}</system-out></testcase>`);
    for (const g of causes) {
      out.push(`    <testcase classname="${xml(s.oracle)}" name="${xml(`${g.id} ${g.title}`)}">`);
      const body = [
        rootCauseLine(g), '', 'reproduce:', ...g.reproduce.map((c) => `  ${c}`), '',
        `cases (${g.cases.length}):`, ...g.cases.map((c) => `  ${c.entry} ${c.caseId} (base ${'0x' + c.base.toString(16)})`), '',
        ...(g.representative.report ? [`representative: ${g.representative.entry} ${g.representative.caseId}`, g.representative.report] : []),
      ].join('\n');
      out.push(`      <failure message="${xml(`${g.cls}: ${g.title}`)}" type="${xml(g.cls)}">${xml(body)}</failure>`);
      out.push('    </testcase>');
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
