// A C-against-C baseline for `gate --kexec-tools TREE --baseline VERSION`: the tree's oracle
// against a released kexec-tools' outcomes (its live oracle where built, its stored references
// otherwise), case by case over the same cases, so a maintainer reads "your tree changes N cases
// in M root causes". Parity with the TS engine is validate's job; this is informational unless
// the caller makes changes fail. Never exits; an unknown version is a NoMatchError.
import { resolve } from 'node:path';
import { load } from '../engine.ts';
import { hex } from '../bytes.ts';
import { attribute, diffRanges, type RefOutcome } from '../compare/compare.ts';
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
  /** How the tree's value relates to the baseline's: "tree − baseline = -0x4", or "bytes differ" off relocation sites. */
  relation: string;
  /** The one bit that differs, when only one does. */
  flippedBit?: number;
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
  const sites = r.cls === 'bytes-differs' && base.kind === 'ok' && c.ref.kind === 'ok' ? sitesOf(version, target, c.req, base, c.ref) : [];
  const change: BaselineChange = { target, entry: c.entry, caseId: c.caseId, cls: r.cls, detail: r.detail, sites, key: '', req: c.req };
  change.key = causeKey(change, base, c.ref);
  return change;
}

/**
 * The differing sites, attributed with the TS model of the baseline version (its relocation log
 * says which relocation wrote each byte range; it matches that version's oracle byte for byte).
 */
function sitesOf(version: string, target: Arch, req: LoadRequest, base: Extract<RefOutcome, { kind: 'ok' }>, tree: Extract<RefOutcome, { kind: 'ok' }>): BaselineSite[] {
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
      const bv = readUint(base.image, a.imageOffset, a.width, big);
      const tv = readUint(tree.image, a.imageOffset, a.width, big);
      out.push({
        type: a.type, symbol: a.symbol, where: `${secName}+${hex(a.offset)}`, imageOffset: a.imageOffset, width: a.width,
        baseline: hex(bv), tree: hex(tv), relation: difference(bv, tv, a.width), flippedBit: flippedBit(bv, tv),
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
  return out;
}

function readUint(b: Uint8Array, off: number, width: number, big: boolean): bigint {
  let v = 0n;
  for (let i = 0; i < width; i++) v = (v << 8n) | BigInt(b[off + (big ? i : width - 1 - i)] ?? 0);
  return v;
}

const bytesHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** The signed difference of the tree's value and the baseline's, as the site's width wraps it. */
function difference(b: bigint, t: bigint, width: number): string {
  const d = BigInt.asIntN(width * 8, t - b);
  return `tree − baseline = ${d < 0n ? '-' : '+'}${hex(d < 0n ? -d : d)}`;
}

function flippedBit(b: bigint, t: bigint): number | undefined {
  const x = b ^ t;
  return x !== 0n && (x & (x - 1n)) === 0n ? x.toString(2).length - 1 : undefined;
}

/** The first grouping level of a change: target, class, then what differs (relocation types, outcome classes, layout fields). */
function causeKey(c: BaselineChange, base: RefOutcome, tree: RefOutcome): string {
  let what: string;
  if (c.cls === 'outcome-differs') what = `${refClass(base)} → ${refClass(tree)}`;
  else if (c.cls === 'layout-differs') what = [...new Set(c.detail.map((d) => d.split(' ')[0]!.replace(/\[\d+\]$/, '[i]')))].sort().join(', ');
  else what = [...new Set(c.sites.map((s) => s.type))].sort().join(' + ');
  return `${c.target} | ${c.cls} | ${what}`;
}

/**
 * Group changes into root causes, largest first: by target, class and what differs (causeKey),
 * then by how the values relate: one constant difference at every site, else one flipped bit at
 * every site, else each case's set of differences. A minimal grouping; the one place to swap in a
 * richer one.
 */
export function groupChanges(changes: BaselineChange[]): { key: string; title: string; members: BaselineChange[] }[] {
  const out: { key: string; title: string; members: BaselineChange[] }[] = [];
  for (const [key, members] of bucket(changes, (c) => c.key)) {
    const title = key.split(' | ').slice(1).join(': ');
    const sites = members.flatMap((m) => m.sites);
    if (!sites.length) {
      out.push({ key, title, members });
      continue;
    }
    const one = <T>(xs: T[]): T | undefined => (xs.every((x) => x === xs[0]) ? xs[0] : undefined);
    const diff = one(sites.map((x) => x.relation));
    const bit = one(sites.map((x) => x.flippedBit));
    if (diff !== undefined) out.push({ key: `${key} | ${diff}`, title: `${title}: ${diff} at every site`, members });
    else if (bit !== undefined) out.push({ key: `${key} | bit ${bit}`, title: `${title}: bit ${bit} flipped at every site`, members });
    else {
      for (const [rel, sub] of bucket(members, (m) => [...new Set(m.sites.map((x) => x.relation))].sort().join('; '))) out.push({ key: `${key} | ${rel}`, title: `${title}: ${rel}`, members: sub });
    }
  }
  return out.sort((a, b) => b.members.length - a.members.length || a.key.localeCompare(b.key));
}

function bucket<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const g = m.get(k);
    if (g) g.push(x);
    else m.set(k, [x]);
  }
  return m;
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
