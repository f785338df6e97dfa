// A C-against-C baseline for `gate --kexec-tools TREE --baseline VERSION`: the tree's oracle
// against a released kexec-tools' outcomes (its live oracle where built, its stored references
// otherwise), case by case over the same cases, so a maintainer reads "your tree changes N cases
// in M root causes". Parity with the TS engine is validate's job; this is informational unless
// the caller makes changes fail. Never exits; an unknown version is a NoMatchError.
import { resolve } from 'node:path';
import { load } from '../engine.ts';
import { hex } from '../bytes.ts';
import { attribute, diffRanges, type Attribution, type CaseClass, type CaseComparison, type LayoutDiff, type RangeDiff, type RefOutcome } from '../compare/compare.ts';
import { differenceText, groupRootCauses, readUint, typeSitesOf, type RootCauseCase } from '../report/root-causes.ts';
import { requireMatches } from '../errors.ts';
import { KEXEC_TOOLS_VERSIONS, kexecToolsBuildDir, readKexecToolsBuild, isOracleUnavailableError, cacheDir } from '../oracle/registry.ts';
import { KexecToolsOracle } from '../oracle/kexec-tools.ts';
import { compareRefs, refClass, type PairClass } from './matrix.ts';
import { liveSource } from './sources.ts';
import { storedSources, type CorpusEntry, type ReferenceSource, type ValidateCase } from './validate.ts';
import { oracleId } from './references.ts';
import type { Arch, LoadRequest } from '../types.ts';

/** One relocation site (or other byte range) whose bytes the tree writes differently. */
export interface BaselineSite {
  /** R_X86_64_PLT32, or (padding) / (section content) / (symbol write) when no relocation wrote there. */
  type: string;
  symbol?: string;
  /** section name+offset of the site */
  where: string;
  imageOffset: number;
  width: number;
  baseline: string;
  tree: string;
  /** How the tree's value relates to the baseline's: "tree = baseline − 0x4", or "bytes differ" off relocation sites. */
  relation: string;
}

export interface BaselineChange {
  target: Arch;
  entry: string;
  caseId: string;
  cls: Exclude<PairClass, 'same' | 'both-rejected'>;
  /** What differs, in words: outcomes (with their messages), layout fields, byte ranges. */
  detail: string[];
  sites: BaselineSite[];
  /** The root-cause key (groupChanges). */
  key: string;
  req: LoadRequest;
  /** Relocation sites per type in the baseline model's image, for "at every site" (bytes-differs only). */
  typeSites?: Record<string, number>;
}

export interface BaselineCause {
  key: string;
  target: Arch;
  tree: string;
  baseline: string;
  cls: BaselineChange['cls'];
  /** One line: the class, relocation types and the relation, or the pair of outcomes. */
  title: string;
  cases: number;
  sites: number;
  entries: number;
  bases: number;
  representative: Omit<BaselineChange, 'req'>;
  /** Commands that reproduce the representative: the tree's oracle, then the baseline. */
  reproduce: string[];
}

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
  causes: BaselineCause[];
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
  const changes: { change: BaselineChange; tree: string; baseline: string; live: boolean }[] = [];
  for (const [target, t] of opts.treeCases) {
    const baselineId = oracleId({ loader: 'kexec-tools', version: opts.version, target });
    const src = baselineSource(opts.corpusDir, opts.version, target, opts.entries, opts.cache);
    if (!src) {
      report.missing.push(`${baselineId}: not built here and no stored references`);
      continue;
    }
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
      const change = diffCase(opts.version, target, c, b.ref);
      if (!change) continue;
      pair.changed++;
      changes.push({ change, tree: t.oracle, baseline: baselineId, live: src.live });
    }
    report.pairs.push(pair);
  }
  report.cases = report.pairs.reduce((n, p) => n + p.cases, 0);
  report.changed = changes.length;
  const files = new Map(opts.entries.map((e) => [e.id, resolve(opts.corpusDir, '..', e.file)]));
  report.causes = groupChanges(changes.map((c) => c.change)).map((g) => {
    const first = changes.find((c) => c.change === g.members[0])!;
    const rep = first.change;
    const { req: _req, ...representative } = rep;
    return {
      key: g.key, target: rep.target, tree: first.tree, baseline: first.baseline, cls: rep.cls, title: g.title,
      cases: g.members.length,
      sites: new Set(g.members.flatMap((m) => m.sites.map((s) => `${m.entry}|${s.where}`))).size,
      entries: new Set(g.members.map((m) => m.entry)).size,
      bases: new Set(g.members.map((m) => m.req.base)).size,
      representative,
      reproduce: reproduceCommands(files.get(rep.entry) ?? rep.entry, rep, first.tree, first.baseline, opts.version, first.live),
    };
  });
  return report;
}

/** The tree's outcome against the baseline's for one case; undefined when they agree. */
function diffCase(version: string, target: Arch, c: ValidateCase, base: RefOutcome): BaselineChange | undefined {
  const r = compareRefs(base, c.ref);
  if (r.cls === 'same' || r.cls === 'both-rejected') return undefined;
  const { sites, typeSites } = r.cls === 'bytes-differs' && base.kind === 'ok' && c.ref.kind === 'ok' ? sitesOf(version, target, c.req, base, c.ref) : { sites: [], typeSites: undefined };
  const change: BaselineChange = { target, entry: c.entry, caseId: c.caseId, cls: r.cls, detail: r.detail, sites, key: '', req: c.req, ...(typeSites ? { typeSites } : {}) };
  change.key = causeKey(change, base, c.ref);
  return change;
}

/**
 * The differing sites, attributed with the TS model of the baseline version (its relocation log
 * says which relocation wrote each byte range; it matches that version's oracle byte for byte).
 */
function sitesOf(version: string, target: Arch, req: LoadRequest, base: Extract<RefOutcome, { kind: 'ok' }>, tree: Extract<RefOutcome, { kind: 'ok' }>): { sites: BaselineSite[]; typeSites?: Record<string, number> } {
  const ranges = diffRanges(base.image, tree.image);
  const ts = load(req, { profile: `kexec-tools-${version}`, target, hostAddress: base.hostBuf });
  const big = target === 'ppc64';
  const out: BaselineSite[] = [];
  const seen = new Set<number>();
  for (const r of ranges) {
    const atts = ts.kind === 'ok' ? attribute(ts.image, r, tree.image, []) : [];
    const relocs = atts.filter((a) => a.kind === 'relocation');
    for (const a of relocs) {
      if (seen.has(a.imageOffset)) continue;
      seen.add(a.imageOffset);
      const secName = ts.kind === 'ok' ? ts.image.sections[a.section]?.name || `[${a.section}]` : `[${a.section}]`;
      const bb = base.image.subarray(a.imageOffset, a.imageOffset + a.width);
      const tb = tree.image.subarray(a.imageOffset, a.imageOffset + a.width);
      out.push({
        type: a.type, symbol: a.symbol, where: `${secName}+${hex(a.offset)}`, imageOffset: a.imageOffset, width: a.width,
        baseline: hex(readUint(bb, !big)), tree: hex(readUint(tb, !big)), relation: differenceText(bb, tb, !big, SIDES),
      });
    }
    if (!relocs.length) {
      const a = atts[0];
      const type = !a ? '(bytes)' : a.kind === 'padding' ? '(padding)' : a.kind === 'symbol-write' ? '(symbol write)' : '(section content)';
      const where = a?.kind === 'section-content' ? `${a.name}+${hex(a.offset)}` : `image+${hex(r.start)}`;
      out.push({
        type, where, imageOffset: r.start, width: r.end - r.start,
        baseline: bytesHex(base.image.subarray(r.start, Math.min(r.end, r.start + 16))), tree: bytesHex(tree.image.subarray(r.start, Math.min(r.end, r.start + 16))),
        relation: 'bytes differ',
      });
    }
  }
  return { sites: out, typeSites: ts.kind === 'ok' ? typeSitesOf(ts.image.relocations) : undefined };
}

const bytesHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** The first grouping level of a change: target, class, then what differs (relocation types, outcome classes, layout fields). */
function causeKey(c: BaselineChange, base: RefOutcome, tree: RefOutcome): string {
  let what: string;
  if (c.cls === 'outcome-differs') what = `${refClass(base)} → ${refClass(tree)}`;
  else if (c.cls === 'layout-differs') what = [...new Set(c.detail.map((d) => d.split(' ')[0]!.replace(/\[\d+\]$/, '[i]')))].sort().join(', ');
  else what = [...new Set(c.sites.map((s) => s.type))].sort().join(' + ');
  return `${c.target} | ${c.cls} | ${what}`;
}

/** The two sides of a baseline comparison, as root-cause relations name them. */
const SIDES = { a: 'baseline', b: 'tree' };

const CLASS: Record<BaselineChange['cls'], CaseClass> = { 'bytes-differs': 'mismatch-bytes', 'layout-differs': 'mismatch-layout', 'outcome-differs': 'one-rejected' };
const KIND: Record<string, Attribution['kind']> = { '(padding)': 'padding', '(symbol write)': 'symbol-write', '(section content)': 'section-content' };

/** A change as root-cause grouping reads it: the baseline on side a, the tree on side b. */
function rootCauseCase(c: BaselineChange): RootCauseCase {
  const little = c.target !== 'ppc64';
  const bytes = (v: string, width: number) => {
    const out = new Uint8Array(width);
    let x = BigInt(v);
    for (let i = 0; i < width; i++, x >>= 8n) out[little ? i : width - 1 - i] = Number(x & 0xffn);
    return out;
  };
  const ranges: RangeDiff[] = c.sites.map((s) => {
    const r = { start: s.imageOffset, end: s.imageOffset + s.width, ts: new Uint8Array(0), ref: new Uint8Array(0) };
    if (s.type.startsWith('(')) {
      const kind = KIND[s.type];
      const att = (kind === 'padding' ? { kind, between: '' } : kind === 'symbol-write' ? { kind, symbol: '' } : kind === 'section-content' ? { kind, section: 0, name: s.where.split('+')[0]!, offset: 0 } : undefined) as Attribution | undefined;
      return { ...r, attributions: att ? [att] : [] };
    }
    const ts = bytes(s.baseline, s.width), ref = bytes(s.tree, s.width);
    return { ...r, ts, ref, attributions: [{ kind: 'relocation', relSection: 0, relIndex: s.imageOffset, type: s.type, symbol: s.symbol ?? '', addend: 0n, section: 0, offset: 0n, address: 0n, value: 0n, imageOffset: s.imageOffset, width: s.width, ts, ref }] };
  });
  // Layout details read "memsz 0x9000 vs 0x80e0" (matrix.ts compareRefs): baseline first.
  const layout: LayoutDiff[] = c.cls === 'layout-differs' ? c.detail.flatMap((d) => {
    const m = /^(.*) (0x[0-9a-f]+) vs (0x[0-9a-f]+)$/.exec(d);
    return m ? [{ field: m[1]!, ts: m[2]!, ref: m[3]! }] : [];
  }) : [];
  const [tsClass, refClass] = c.key.split(' | ')[2]?.split(' → ') ?? [];
  const comparison: CaseComparison = { cls: CLASS[c.cls], layout, ranges, differingBytes: 0, tsClass, refClass, note: c.cls === 'outcome-differs' ? c.detail.join('; ') : undefined };
  return { oracle: c.target, target: c.target, profile: '', entry: c.entry, caseId: c.caseId, base: c.req.base, fill: c.req.fill, symbols: [], hostAddress: 0n, comparison, ...(c.typeSites ? { typeSites: c.typeSites } : {}) };
}

/**
 * Group changes into root causes, largest first, as validate groups its unexplained cases
 * (src/report/root-causes.ts): by target, class and what differs, with the relation between the
 * baseline's and the tree's values chosen per relocation type as the one that holds at the most
 * sites, layout fields likewise, or the pair of outcomes.
 */
export function groupChanges(changes: BaselineChange[]): { key: string; title: string; members: BaselineChange[] }[] {
  const cases = changes.map(rootCauseCase);
  const byCase = new Map(cases.map((c, i) => [c, changes[i]!]));
  return groupRootCauses(cases, SIDES).map((g) => {
    const members = g.cases.map((c) => byCase.get(c)!);
    const cls = members[0]!.cls;
    const title = cls === 'outcome-differs' ? `${cls}: ${members[0]!.key.split(' | ')[2]}` : `${cls}: ${g.title}`;
    return { key: `${g.target} | ${cls} | ${g.key}`, title, members };
  });
}

function reproduceCommands(file: string, c: BaselineChange, tree: string, baseline: string, version: string, live: boolean): string[] {
  const args = [file, '--base', hex(c.req.base), ...c.req.symbols.flatMap((s) => ['--set', `${s.name}=${bytesHex(s.bytes).replace(/ /g, '')}`]), ...(c.req.fill ? ['--fill', hex(BigInt(c.req.fill))] : [])].join(' ');
  return [
    `npx purgatory-oracle oracle run --oracle ${tree} ${args}`,
    live
      ? `npx purgatory-oracle oracle run --oracle ${baseline} ${args}`
      : `npx purgatory-oracle relocate ${args} --profile kexec-tools-${version} --target ${c.target}   # the TS model of ${version}, equal to its stored references`,
  ];
}

// Output: its own section in each of gate's formats.

function pairLines(r: BaselineReport): string[] {
  return r.pairs.map((p) => `  ${p.tree.padEnd(40)} vs ${p.baseline.padEnd(28)} ${p.mode.padEnd(6)} ${String(p.cases).padStart(5)} cases ${String(p.changed).padStart(5)} changed${p.unpaired ? `, ${p.unpaired} without a baseline case` : ''}`);
}

export function headline(r: BaselineReport): string {
  return `your tree changes ${r.changed} case${r.changed === 1 ? '' : 's'} in ${r.causes.length} root cause${r.causes.length === 1 ? '' : 's'} against kexec-tools ${r.version} (${r.cases} cases compared)`;
}

export function formatBaselineText(r: BaselineReport): string {
  const lines = ['', `Baseline (C against C): kexec-tools ${r.tree} against released kexec-tools ${r.version}, same cases`, ...pairLines(r)];
  for (const m of r.missing) lines.push(`  no baseline: ${m}`);
  lines.push(headline(r));
  r.causes.forEach((c, i) => {
    lines.push('', `[${i + 1}] ${c.target} ${c.title} — ${c.cases} case(s), ${c.sites} site(s), ${c.entries} entr${c.entries === 1 ? 'y' : 'ies'}, ${c.bases} base(s)`);
    lines.push(...representativeLines(c).map((l) => `    ${l}`));
  });
  return lines.join('\n') + '\n';
}

function representativeLines(c: BaselineCause): string[] {
  const r = c.representative;
  const lines = [`representative: ${r.entry} ${r.caseId}`];
  for (const d of r.detail) lines.push(`  ${d}`);
  for (const s of r.sites.slice(0, 6)) lines.push(`  ${s.type}${s.symbol !== undefined ? ` against '${s.symbol}'` : ''} at ${s.where} (image +${hex(s.imageOffset)}, ${s.width} bytes): baseline ${s.baseline}, tree ${s.tree} (${s.relation})`);
  if (r.sites.length > 6) lines.push(`  … ${r.sites.length - 6} more site(s)`);
  lines.push('reproduce:', ...c.reproduce.map((x) => `  ${x}`));
  return lines;
}

export function formatBaselineMarkdown(r: BaselineReport): string {
  const lines = ['', `## Baseline: kexec-tools ${r.tree} against released ${r.version} (C against C)`, '', `**${headline(r)}**`, '',
    '| tree | baseline | mode | cases | changed |', '| --- | --- | --- | ---: | ---: |',
    ...r.pairs.map((p) => `| ${p.tree} | ${p.baseline} | ${p.mode} | ${p.cases} | ${p.changed} |`)];
  for (const m of r.missing) lines.push('', `**no baseline:** ${m}`);
  r.causes.forEach((c, i) => {
    lines.push('', `### ${i + 1}. ${c.target} ${c.title}`, '', `${c.cases} case(s), ${c.sites} site(s), ${c.entries} corpus entr${c.entries === 1 ? 'y' : 'ies'}, ${c.bases} base(s)`, '', '```', ...representativeLines(c), '```');
  });
  return lines.join('\n') + '\n';
}

export function baselineJson(r: BaselineReport): unknown {
  return r;
}

const xml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/**
 * The baseline as one JUnit testsuite inside gate's <testsuites>: one testcase per root cause
 * (a failure only when changes fail the gate), one passing testcase per unchanged target.
 */
export function addBaselineJunit(junit: string, r: BaselineReport, failOnChange: boolean): string {
  const cases: string[] = [];
  for (const p of r.pairs) if (!p.changed) cases.push(`    <testcase classname="${xml(`baseline ${p.baseline}`)}" name="${xml(`${p.tree}: no change in ${p.cases} cases`)}"/>`);
  for (const c of r.causes) {
    const body = xml(representativeLines(c).join('\n'));
    const name = xml(`${c.title} (${c.cases} cases)`);
    cases.push(failOnChange
      ? `    <testcase classname="${xml(`baseline ${c.baseline}`)}" name="${name}">\n      <failure message="${xml(headline(r))}" type="baseline-change">${body}</failure>\n    </testcase>`
      : `    <testcase classname="${xml(`baseline ${c.baseline}`)}" name="${name}"><system-out>${body}</system-out></testcase>`);
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
