// A C-against-C baseline for `gate --kexec-tools TREE --baseline VERSION`: the tree's oracle
// against a released kexec-tools' outcomes (its live oracle where built, its stored references
// otherwise), case by case over the same cases, so a maintainer reads "your tree changes N cases
// in M root causes". Parity with the TS engine is validate's job; this is informational unless
// the caller makes changes fail. Never exits; an unknown version is a NoMatchError.
import { resolve } from 'node:path';
import { load } from '../engine.ts';
import { hex } from '../bytes.ts';
import { jsonSafe } from '../image.ts';
import { compareOutcomes, refRejectionClass, refRejectionText, type CaseComparison, type RefOutcome } from '../compare/compare.ts';
import { renderComparison, renderContextOf } from '../compare/render.ts';
import { requireMatches } from '../errors.ts';
import { KEXEC_TOOLS_VERSIONS, kexecToolsBuildDir, readKexecToolsBuild, isOracleUnavailableError, cacheDir } from '../oracle/registry.ts';
import { KexecToolsOracle, responseToOutcome } from '../oracle/kexec-tools.ts';
import { groupRootCauses, plural, rootCauseCounts, rootCauseLine, typeSitesOf, type RootCause, type RootCauseCase, type SideLabels } from '../report/root-causes.ts';
import { compareRefs, refClass } from './matrix.ts';
import { rootCauseJson, xml } from './report.ts';
import { liveSource } from './sources.ts';
import { SymbolFinder, symbolRangesOf } from './symbols.ts';
import { storedSources, type CorpusEntry, type ReferenceSource, type SourceCase, type ValidateCase } from './validate.ts';
import { oracleId } from './references.ts';
import type { Arch, Outcome, RejectionCode } from '../types.ts';

/** A changed case: the baseline as side "a" (ts), your tree as side "b" (reference), for groupRootCauses. */
export type BaselineCase = RootCauseCase & { report?: string };

/** Side names in relations ("tree = baseline − 0x4") and rendered comparisons. */
export const BASELINE_LABELS: SideLabels = { a: 'baseline', b: 'tree' };

export interface BaselinePair {
  target: Arch;
  tree: string;
  baseline: string;
  mode: 'live' | 'stored';
  cases: number;
  changed: number;
  /** Tree cases with no baseline counterpart (stored references of another case set). */
  unpaired: number;
}

export interface BaselineReport {
  version: string;
  tree: string;
  pairs: BaselinePair[];
  cases: number;
  changed: number;
  /** The changes grouped (src/report/root-causes.ts); each representative rendered in full. */
  causes: RootCause<BaselineCase>[];
  /** Targets the tree was built for that have neither a live baseline oracle nor stored references. */
  missing: string[];
}

/** A source whose cases are also kept in `sink` as they go by (validate reads them once). */
export function teeSource(src: ReferenceSource, sink: ValidateCase[]): ReferenceSource {
  return {
    ...src,
    async *cases() {
      for await (const c of src.cases()) {
        sink.push(c);
        yield c;
      }
    },
  };
}

/** The released version's cases for one target: its live oracle where built, else its stored references. */
export function baselineSource(corpusDir: string, version: string, target: Arch, entries: CorpusEntry[], cache = cacheDir()): ReferenceSource | undefined {
  try {
    const b = readKexecToolsBuild(kexecToolsBuildDir(version, target, false, cache), { version, target });
    if (!b.local) return liveSource(corpusDir, KexecToolsOracle.fromBuild(b), entries);
  } catch (e) {
    if (!isOracleUnavailableError(e)) throw e;
  }
  const id = oracleId({ loader: 'kexec-tools', version, target });
  return storedSources(corpusDir, new Set(entries.map((e) => e.id))).find((s) => oracleId(s.oracle) === id);
}

export interface BaselineOptions {
  corpusDir: string;
  /** A released kexec-tools version (KEXEC_TOOLS_VERSIONS). */
  version: string;
  /** The tree's label (its build version). */
  tree: string;
  /** The tree oracle's cases per target, as validate saw them (teeSource). */
  treeCases: Map<Arch, { oracle: string; cases: ValidateCase[] }>;
  entries: CorpusEntry[];
  cache?: string;
}

/** Throws NoMatchError unless `version` is a released kexec-tools version. */
export function checkBaselineVersion(version: string): void {
  requireMatches('--baseline', [version], Object.keys(KEXEC_TOOLS_VERSIONS), 'released kexec-tools version');
}

export async function compareWithBaseline(opts: BaselineOptions): Promise<BaselineReport> {
  checkBaselineVersion(opts.version);
  const report: BaselineReport = { version: opts.version, tree: opts.tree, pairs: [], cases: 0, changed: 0, causes: [], missing: [] };
  const files = new Map(opts.entries.map((e) => [e.id, resolve(opts.corpusDir, '..', e.file)]));
  const changed: BaselineCase[] = [];
  const renderers = new Map<BaselineCase, () => Promise<string>>();
  const liveBaseline = new Set<string>();
  for (const [target, t] of opts.treeCases) {
    const baselineId = oracleId({ loader: 'kexec-tools', version: opts.version, target });
    const src = baselineSource(opts.corpusDir, opts.version, target, opts.entries, opts.cache);
    if (!src) {
      report.missing.push(`${baselineId}: not built here and no stored references`);
      continue;
    }
    if (src.live) liveBaseline.add(baselineId);
    const byCase = new Map<string, ValidateCase>();
    try {
      for await (const c of src.cases()) byCase.set(`${c.entry}|${c.caseId}`, c);
    } finally {
      await src.close?.();
    }
    const pair: BaselinePair = { target, tree: t.oracle, baseline: baselineId, mode: src.live ? 'live' : 'stored', cases: 0, changed: 0, unpaired: 0 };
    for (const c of t.cases) {
      const b = byCase.get(`${c.entry}|${c.caseId}`);
      if (!b) {
        pair.unpaired++;
        continue;
      }
      pair.cases++;
      const d = diffCase(opts.version, target, c, b.ref);
      if (!d) continue;
      pair.changed++;
      const bc: BaselineCase = {
        oracle: t.oracle, target, profile: `kexec-tools-${opts.version}`, entry: c.entry, file: files.get(c.entry), caseId: c.caseId,
        base: c.req.base, fill: c.req.fill, symbols: c.req.symbols.map((w) => `${w.name}=${Buffer.from(w.bytes).toString('hex')}`),
        hostAddress: b.ref.kind === 'ok' ? b.ref.hostBuf : 0n, comparison: d.comparison, typeSites: d.typeSites,
      };
      changed.push(bc);
      renderers.set(bc, d.render);
    }
    report.pairs.push(pair);
  }
  report.cases = report.pairs.reduce((n, p) => n + p.cases, 0);
  report.changed = changed.length;
  report.causes = groupRootCauses(changed, BASELINE_LABELS);
  for (const g of report.causes) {
    g.representative.report = await renderers.get(g.representative)!();
    // The baseline side: the TS model of the release (relocate, equal to its references), and its live oracle where built.
    const baselineId = oracleId({ loader: 'kexec-tools', version: opts.version, target: g.target });
    if (liveBaseline.has(baselineId)) g.reproduce.push(g.reproduce[1]!.replace(`--oracle ${g.oracle} `, `--oracle ${baselineId} `));
  }
  return report;
}

/**
 * The tree's outcome against the baseline's for one case, compared as validate compares (one
 * compareOutcomes): the baseline is side "a", an Outcome with the release's own bytes and layout
 * and the TS model's section names and relocation log (the model equals the release's references
 * byte for byte), so differing bytes are attributed to the relocation that wrote them. Undefined
 * when they agree.
 */
function diffCase(version: string, target: Arch, c: ValidateCase, base: RefOutcome): { comparison: CaseComparison; typeSites?: Record<string, number>; render: () => Promise<string> } | undefined {
  if ((base.kind === 'crashed' || base.kind === 'timeout') || (c.ref.kind === 'crashed' || c.ref.kind === 'timeout')) {
    const what = (o: RefOutcome) => (o.kind === 'crashed' ? `crashed (${o.signal})` : o.kind === 'timeout' ? 'timed out' : o.kind === 'rejected' ? `rejected: ${refRejectionText(o).trim()}` : 'ok');
    if (compareRefs(base, c.ref).cls === 'same') return undefined;
    const comparison: CaseComparison = { cls: 'one-rejected', layout: [], ranges: [], differingBytes: 0, tsClass: refClass(base), refClass: refClass(c.ref), note: `baseline ${what(base)} / tree ${what(c.ref)}` };
    return { comparison, render: () => renderComparison(comparison, undefined, 8, RENDER_LABELS) };
  }
  const model = load(c.req, { profile: `kexec-tools-${version}`, target, hostAddress: base.kind === 'ok' ? base.hostBuf : 0n });
  const a: Outcome = base.kind === 'rejected'
    ? { kind: 'rejected', code: refRejectionClass(refRejectionText(base)) as RejectionCode, message: base.message }
    : model.kind === 'ok'
      ? {
        kind: 'ok', hostAddress: base.hostBuf,
        // the baseline's own details when its oracle reports them, never the model's (C against C)
        image: { ...model.image, bytes: base.image, base: base.relAddr, memsz: base.relSize, entry: base.entry, sections: model.image.sections.map((s, i) => ({ ...s, addr: base.shAddr[i] ?? s.addr })), details: base.details },
      }
      : responseToOutcome({ ...base });
  const comparison = compareOutcomes(a, c.ref, symbolRangesOf(c.req, a, finderOf(c.req.elf)));
  if (comparison.cls === 'match' || comparison.cls === 'both-rejected') return undefined;
  // compareOutcomes names its sides TS and reference: here they are the baseline and the tree.
  if (comparison.note) comparison.note = comparison.note.replace(/^TS rejected: /, 'baseline rejected: ').replace(/^reference rejected: /, 'tree rejected: ').replace(/^TS: (.*) \/ ref: /, 'baseline: $1 / tree: ');
  const treeImage = c.ref.kind === 'ok' ? c.ref.image : undefined;
  return {
    comparison,
    typeSites: a.kind === 'ok' ? typeSitesOf(a.image.relocations) : undefined,
    render: () => renderComparison(comparison, a.kind === 'ok' && treeImage ? renderContextOf(target, c.req.elf, a, treeImage) : undefined, 8, RENDER_LABELS),
  };
}

const RENDER_LABELS = { ts: 'baseline', ref: 'tree' };

// One symbol finder per input file (the cases' ELF bytes are shared and never written).
const finders = new WeakMap<Uint8Array, SymbolFinder>();
function finderOf(elf: Uint8Array): SymbolFinder {
  let f = finders.get(elf);
  if (!f) finders.set(elf, (f = new SymbolFinder(elf)));
  return f;
}

// Output: its own section in each of gate's formats.

function pairLines(r: BaselineReport): string[] {
  return r.pairs.map((p) => `  ${p.tree.padEnd(40)} vs ${p.baseline.padEnd(28)} ${p.mode.padEnd(6)} ${String(p.cases).padStart(5)} cases ${String(p.changed).padStart(5)} changed${p.unpaired ? `, ${p.unpaired} without a baseline case` : ''}`);
}


export function headline(r: BaselineReport): string {
  return `your tree changes ${plural(r.changed, 'case')} in ${plural(r.causes.length, 'root cause')} against kexec-tools ${r.version} (${r.cases} cases compared)`;
}

const indent = (s: string, pad: string) => s.split('\n').map((l) => (l ? pad + l : l)).join('\n');

/** A root cause in full: its line, the commands that reproduce its representative, the representative rendered. */
function causeLines(g: RootCause<BaselineCase>): string[] {
  const lines = [`${g.id}  ${rootCauseLine(g)}`, ...g.reproduce.map((c) => `    $ ${c}`)];
  lines.push(`    representative: ${g.representative.entry} ${g.representative.caseId}`);
  if (g.representative.report) lines.push(indent(g.representative.report, '    '));
  return lines;
}

export function formatBaselineText(r: BaselineReport): string {
  const lines = ['', `Baseline (C against C): kexec-tools ${r.tree} against released kexec-tools ${r.version}, same cases`, ...pairLines(r)];
  for (const m of r.missing) lines.push(`  no baseline: ${m}`);
  lines.push(headline(r));
  for (const g of r.causes) lines.push('', ...causeLines(g));
  return lines.join('\n') + '\n';
}

/** Lines of a representative shown in the Markdown summary (one root cause fits on a screen). */
const MD_REPORT_LINES = 24;

export function formatBaselineMarkdown(r: BaselineReport): string {
  const lines = ['', `## Baseline: kexec-tools ${r.tree} against released ${r.version} (C against C)`, '', `**${headline(r)}**`, '',
    '| tree | baseline | mode | cases | changed |', '| --- | --- | --- | ---: | ---: |',
    ...r.pairs.map((p) => `| ${p.tree} | ${p.baseline} | ${p.mode} | ${p.cases} | ${p.changed} |`)];
  for (const m of r.missing) lines.push('', `**no baseline:** ${m}`);
  for (const g of r.causes.slice(0, 20)) {
    lines.push('', `### ${g.id} · ${g.oracle} · ${g.cls}`, '', `${g.title}: ${rootCauseCounts(g)}.`);
    lines.push('', '```sh', ...g.reproduce, '```');
    const all = (g.representative.report ?? '').split('\n');
    const shown = all.slice(0, MD_REPORT_LINES);
    if (all.length > shown.length) shown.push(`… ${all.length - shown.length} more lines in the text report`);
    lines.push('', `Representative: \`${g.representative.entry} ${g.representative.caseId}\``, '```', ...shown, '```');
  }
  if (r.causes.length > 20) lines.push('', `… ${r.causes.length - 20} more root causes in the text and JSON reports`);
  return lines.join('\n') + '\n';
}

/** The report as JSON-ready data: root causes as the parity report writes them (rootCauseJson). */
export function baselineJson(r: BaselineReport): unknown {
  return jsonSafe({ ...r, causes: r.causes.map((g) => rootCauseJson(g as unknown as RootCause<SourceCase>)) });
}


/**
 * The baseline as one JUnit testsuite inside gate's <testsuites>: one testcase per root cause with
 * its cases inside (a failure only when changes fail the gate), one passing testcase per unchanged target.
 */
export function addBaselineJunit(junit: string, r: BaselineReport, failOnChange: boolean): string {
  const cases: string[] = [];
  for (const p of r.pairs) if (!p.changed) cases.push(`    <testcase classname="${xml(`baseline ${p.baseline}`)}" name="${xml(`${p.tree}: no change in ${p.cases} cases`)}"/>`);
  for (const g of r.causes) {
    const body = xml([...causeLines(g), '', `cases (${g.cases.length}):`, ...g.cases.map((c) => `  ${c.entry} ${c.caseId} (base ${hex(c.base)})`)].join('\n'));
    const cls = xml(`baseline kexec-tools-${r.version}/${g.target}`);
    const name = xml(`${g.id} ${g.title}`);
    cases.push(failOnChange
      ? `    <testcase classname="${cls}" name="${name}">\n      <failure message="${xml(`${g.cls}: ${g.title}`)}" type="baseline-change">${body}</failure>\n    </testcase>`
      : `    <testcase classname="${cls}" name="${name}"><system-out>${body}</system-out></testcase>`);
  }
  const failures = failOnChange ? r.causes.length : 0;
  const suite = `  <testsuite name="${xml(`baseline: ${r.tree} against kexec-tools ${r.version}`)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0">\n${cases.join('\n')}\n  </testsuite>\n`;
  const closing = junit.lastIndexOf('</testsuites>');
  const out = junit.slice(0, closing) + suite + junit.slice(closing);
  // Keep the <testsuites> totals right.
  return out.replace(/<testsuites ([^>]*?)tests="(\d+)" failures="(\d+)"/, (_m, pre: string, t: string, f: string) => `<testsuites ${pre}tests="${Number(t) + cases.length}" failures="${Number(f) + failures}"`);
}

/** Exit status of the baseline: 'changed' fails the gate only with failOnChange. */
export function baselineVerdict(r: BaselineReport): 'ok' | 'changed' | 'empty' {
  if (!r.cases) return 'empty';
  return r.changed ? 'changed' : 'ok';
}
