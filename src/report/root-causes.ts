// Root causes: the unexplained differences of a run, grouped before anything is printed. Cases fall
// in one group when they share the reference, the outcome class, and what differs: for byte
// mismatches the relocation type and the arithmetic relation between the two values written at
// each differing site (a constant difference, one flipped bit, a shift, a mask, the sign, only the
// high half…); for layout mismatches the fields; for rejections the pair of messages. Each group
// keeps its cases, so every writer (text, JSON, JUnit, Markdown, HTML) prints the same groups.
import { isAbsolute, relative } from 'node:path';
import { hex } from '../bytes.ts';
import type { Attribution, CaseClass, CaseComparison } from '../compare/compare.ts';
import type { Arch } from '../types.ts';

/** One compared case, with what it takes to reproduce it. */
export interface RootCauseCase {
  /** The reference (oracle id, e.g. kexec-tools-2.0.32/x86_64). */
  oracle: string;
  target: Arch;
  /** The TS profile the case was compared under (a `relocate --profile` id). */
  profile: string;
  entry: string;
  /** The purgatory file, when it is a file on disk (corpus entries). */
  file?: string;
  /** A generated object (the coverage corpus), not a purgatory a toolchain built: shown only when no real one is in the group. */
  synthetic?: boolean;
  caseId: string;
  base: bigint;
  fill: number;
  /** `elf_rel_set_symbol` writes, as `name=hex` (the CLI's --set). */
  symbols: string[];
  /** Host address of the reference's buffer (kexec-tools ppc64 REL32); 0 when not needed. */
  hostAddress: bigint;
  comparison: CaseComparison;
  /** Relocation sites per type in the TS image (width > 0), for "at every site" statements. */
  typeSites?: Record<string, number>;
}

/** Relocation sites per type (those that wrote bytes in the image): RootCauseCase.typeSites. */
export function typeSitesOf(rels: readonly { typeName: string; width: number; imageOffset: number }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rels) if (r.width > 0 && r.imageOffset >= 0) out[r.typeName] = (out[r.typeName] ?? 0) + 1;
  return out;
}

/** What the two compared sides are called in relations ("reference = ts − 0x4"). */
export interface SideLabels {
  a: string;
  b: string;
}
const DEFAULT_LABELS: SideLabels = { a: 'ts', b: 'reference' };

/** One part of a root cause's signature: a relocation type with a relation, a layout field, a message pair… */
export interface Finding {
  key: string;
  /** The relocation type, for byte differences a relocation wrote. */
  relocation?: string;
  /** Human-readable: `R_X86_64_PLT32: reference = ts − 0x4`. */
  text: string;
}

export interface RootCause<C extends RootCauseCase = RootCauseCase> {
  /** Stable within a run: `rc1`, `rc2`, … in order of size. */
  id: string;
  key: string;
  oracle: string;
  target: Arch;
  cls: CaseClass;
  findings: Finding[];
  /** Relocation types involved (empty for layout/rejection causes). */
  relocations: string[];
  /** One line: the findings joined, with the site coverage ("at every site" or "at 3 of 12 sites"). */
  title: string;
  cases: C[];
  /** Distinct differing sites (relocation sites by corpus entry, section and index; other ranges by entry and offset). */
  sites: number;
  entries: number;
  bases: number;
  representative: C;
  /** Commands that reproduce the representative: the TS engine and the reference. */
  reproduce: string[];
}

// ---------------------------------------------------------------------------------------------
// The relation between two values written at one site.

interface Relation {
  key: string;
  text: (l: SideLabels) => string;
  /** Lower is preferred when two relations hold at the same number of sites. */
  rank: number;
}

/** The unsigned value of a site's bytes in the target's byte order. */
const readUint = (b: Uint8Array, little: boolean): bigint => {
  let v = 0n;
  for (let i = 0; i < b.length; i++) v = (v << 8n) | BigInt(b[little ? b.length - 1 - i : i]!);
  return v;
};

const popcount = (x: bigint): number => {
  let n = 0;
  for (; x; x &= x - 1n) n++;
  return n;
};

const signedHex = (d: bigint): string => `${d < 0n ? '−' : '+'} ${hex(d < 0n ? -d : d)}`;

/**
 * Every relation that holds between `a` (TS) and `b` (reference) written at one site, as read in
 * the target's byte order. The caller picks, per relocation type, the relation that holds at the
 * most sites.
 */
export function relationsAt(aBytes: Uint8Array, bBytes: Uint8Array, little: boolean): Relation[] {
  const n = BigInt(Math.min(aBytes.length, bBytes.length) * 8);
  if (n === 0n) return [{ key: 'length', text: () => 'lengths differ', rank: 0 }];
  const a = readUint(aBytes.subarray(0, Number(n / 8n)), little);
  const b = readUint(bBytes.subarray(0, Number(n / 8n)), little);
  const out = relationsOf(a, b, n);
  if (n > 8n && b === readUint(aBytes.subarray(0, Number(n / 8n)), !little)) out.push({ key: 'bswap', text: () => 'byte order swapped', rank: 7 });
  return out;
}

/** The relations between two n-bit unsigned values (see relationsAt). */
export function relationsOf(a: bigint, b: bigint, n: bigint): Relation[] {
  const mod = 1n << n;
  const out: Relation[] = [];
  if (a === b) return [{ key: 'equal', text: () => 'equal', rank: 0 }];
  const d = BigInt.asIntN(Number(n), b - a);
  const x = a ^ b;
  const small = (d < 0n ? -d : d) < 0x1000n;
  out.push({ key: `diff:${d}`, text: (l) => `${l.b} = ${l.a} ${signedHex(d)}`, rank: small ? 1 : 20 });
  if (popcount(x) === 1) {
    const k = x.toString(2).length - 1;
    out.push({ key: `bit:${k}`, text: () => (BigInt(k) === n - 1n ? 'sign bit flipped' : `one flipped bit (bit ${k})`), rank: 3 });
  }
  if (b === (mod - a) % mod) out.push({ key: 'neg', text: (l) => `${l.b} = −${l.a} (sign)`, rank: 4 });
  if (n >= 16n) {
    const h = n / 2n;
    const lo = (1n << h) - 1n;
    if ((a & lo) === (b & lo)) {
      const ah = a >> h, bh = b >> h;
      const sext = (ah === 0n && bh === lo && (b & (1n << (h - 1n))) !== 0n) || (bh === 0n && ah === lo && (a & (1n << (h - 1n))) !== 0n);
      if (sext) out.push({ key: 'sext', text: (l) => `only the high half differs: ${bh === 0n ? l.b : l.a} is zero-extended, ${bh === 0n ? l.a : l.b} sign-extended`, rank: 4 });
      out.push({ key: 'high-half', text: () => `only the high ${h} bits differ`, rank: 8 });
    }
    // Only informative when the high half is in use (small values always share a zero high half).
    if (a >> h === b >> h && a >> h !== 0n) out.push({ key: 'low-half', text: () => `only the low ${h} bits differ`, rank: 8 });
  }
  for (let k = 1n; k < n; k++) {
    if (b === (a << k) % mod) out.push({ key: `shl:${k}`, text: (l) => `${l.b} = ${l.a} << ${k}`, rank: 5 });
    if (b === a >> k) out.push({ key: `shr:${k}`, text: (l) => `${l.b} = ${l.a} >> ${k}`, rank: 5 });
    // A truncation to a C type's width (8/16/32 bits) explains more than the single bit it may clear.
    const m = (1n << k) - 1n;
    const rank = k % 8n === 0n ? 2 : 10;
    if (b === (a & m)) out.push({ key: `mask-b:${k}`, text: (l) => `${l.b} = ${l.a} truncated to its low ${k} bits`, rank });
    if (a === (b & m)) out.push({ key: `mask-a:${k}`, text: (l) => `${l.a} = ${l.b} truncated to its low ${k} bits`, rank });
  }
  if (b === 0n) out.push({ key: 'b-zero', text: (l) => `${l.b} is 0`, rank: 9 });
  if (a === 0n) out.push({ key: 'a-zero', text: (l) => `${l.a} is 0`, rank: 9 });
  out.push({ key: `xor:${x}`, text: (l) => `${l.b} = ${l.a} xor ${hex(x)}`, rank: 21 });
  // The coarsest relation: which side is larger (the difference varies, its sign does not).
  out.push(b < a ? { key: 'lt', text: (l) => `${l.b} < ${l.a} (by varying amounts)`, rank: 15 } : { key: 'gt', text: (l) => `${l.b} > ${l.a} (by varying amounts)`, rank: 15 });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Grouping.

type RelocAttr = Extract<Attribution, { kind: 'relocation' }>;

interface Site {
  caseIndex: number;
  siteKey: string;
  bucket: string;
  /** What the relation is about: a relocation type, or `layout FIELD`. */
  label?: string;
  relocation?: string;
  relations: Relation[];
  /** Set when the finding does not depend on a chosen relation. */
  fixed?: Finding;
  chosen?: Relation;
}

/** Numbers in messages vary with the input; the message's shape is what groups. */
const shape = (s: string) => s.trim().replace(/\b(?:0x)?[0-9a-f]*\d[0-9a-f]*\b/gi, 'N');

function sitesOf(c: RootCauseCase, caseIndex: number): Site[] {
  const cmp = c.comparison;
  const bucket = `${c.oracle}|${cmp.cls}`;
  const fixed = (key: string, text: string, siteKey = key): Site => ({ caseIndex, siteKey: `${c.entry}|${siteKey}`, bucket, relations: [], fixed: { key, text } });
  switch (cmp.cls) {
    case 'one-rejected':
    case 'both-rejected':
      return [fixed(`msg:${cmp.tsClass}|${cmp.refClass}|${shape(cmp.note ?? '')}`, cmp.note ?? `${cmp.tsClass} / ${cmp.refClass}`)];
    case 'oracle-crashed':
    case 'oracle-timeout':
      return [fixed(`${cmp.cls}:${cmp.tsClass}|${shape(cmp.note ?? '')}`, `reference ${cmp.cls === 'oracle-crashed' ? 'crashed' : 'timed out'}${cmp.note ? `: ${cmp.note}` : ''} (TS: ${cmp.tsClass ?? '?'})`)];
    case 'mismatch-layout':
      return cmp.layout.map((l) => {
        const field = l.field.replace(/^section\[\d+\] /, 'section ');
        let a: bigint, b: bigint;
        try {
          a = BigInt(l.ts);
          b = BigInt(l.ref);
        } catch {
          return fixed(`layout:${field}:${l.ts}|${l.ref}`, `layout ${field}: ts ${l.ts}, reference ${l.ref}`, `layout:${l.field}`);
        }
        return { caseIndex, siteKey: `${c.entry}|layout:${l.field}`, bucket: `${bucket}|layout:${field}`, label: `layout ${field}`, relations: relationsOf(BigInt.asUintN(64, a), BigInt.asUintN(64, b), 64n) };
      });
    default: break;
  }
  const out: Site[] = [];
  const little = c.target !== 'ppc64';
  for (const r of cmp.ranges) {
    const rels = r.attributions.filter((a): a is RelocAttr => a.kind === 'relocation' && Buffer.compare(a.ts, a.ref) !== 0);
    for (const a of rels) {
      out.push({ caseIndex, siteKey: `${c.entry}|rel ${a.relSection}:${a.relIndex}`, bucket: `${bucket}|${a.type}`, label: a.type, relocation: a.type, relations: relationsAt(a.ts, a.ref, little) });
    }
    if (rels.length) continue;
    const other = r.attributions.find((a) => a.kind !== 'relocation');
    if (!other) continue;
    const what = other.kind === 'symbol-write' ? `symbol write '${other.symbol}'`
      : other.kind === 'padding' ? `layout padding between ${other.between}`
        : other.kind === 'section-content' ? `copied contents of ${other.name} (no relocation wrote there)` : 'bytes';
    out.push(fixed(`other:${what}`, what, `off ${r.start}`));
  }
  return out;
}

/** Group the unexplained cases of a run into root causes, largest first. */
export function groupRootCauses<C extends RootCauseCase>(cases: C[], labels: SideLabels = DEFAULT_LABELS): RootCause<C>[] {
  const sites = cases.flatMap((c, i) => sitesOf(c, i));
  // Per (reference, class, relocation type): take the relation that holds at the most sites, then
  // the one that holds at the most remaining sites, and so on.
  const buckets = new Map<string, Site[]>();
  for (const s of sites) if (!s.fixed) (buckets.get(s.bucket) ?? buckets.set(s.bucket, []).get(s.bucket)!).push(s);
  for (const list of buckets.values()) {
    let left = list;
    while (left.length) {
      const count = new Map<string, { n: number; r: Relation }>();
      for (const s of left) for (const r of s.relations) {
        const e = count.get(r.key);
        if (e) e.n++;
        else count.set(r.key, { n: 1, r });
      }
      let best: { n: number; r: Relation } | undefined;
      for (const e of count.values()) if (!best || e.n > best.n || (e.n === best.n && e.r.rank < best.r.rank)) best = e;
      for (const s of left) if (s.relations.some((r) => r.key === best!.r.key)) s.chosen = best!.r;
      left = left.filter((s) => !s.chosen);
    }
  }
  const findingOf = (s: Site): Finding => s.fixed ?? { key: `${s.label}|${s.chosen!.key}`, ...(s.relocation ? { relocation: s.relocation } : {}), text: `${s.label}: ${s.chosen!.text(labels)}` };
  // A case's signature: its findings, deduplicated and sorted.
  const byCase = new Map<number, Site[]>();
  for (const s of sites) (byCase.get(s.caseIndex) ?? byCase.set(s.caseIndex, []).get(s.caseIndex)!).push(s);
  const groups = new Map<string, { findings: Finding[]; idx: number[]; sites: Set<string> }>();
  cases.forEach((c, i) => {
    const ss = byCase.get(i) ?? [];
    const fs = new Map<string, Finding>();
    for (const s of ss) fs.set(findingOf(s).key, findingOf(s));
    if (!fs.size) {
      const key = `cls:${c.comparison.cls}|${shape(c.comparison.note ?? '')}`;
      fs.set(key, { key, text: c.comparison.note ?? c.comparison.cls });
    }
    const findings = [...fs.values()].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    const key = `${c.oracle}|${c.comparison.cls}|${findings.map((f) => f.key).join(';')}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { findings, idx: [], sites: new Set() }));
    g.idx.push(i);
    for (const s of ss) g.sites.add(s.siteKey);
  });
  const out = [...groups.entries()].map(([key, g]) => {
    const members = g.idx.map((i) => cases[i]!);
    // The representative: a real purgatory over a generated object (its instructions are real
    // code), then the case with the fewest differing ranges (the clearest), first on ties.
    const better = (c: C, best: C) => Number(!!c.synthetic) - Number(!!best.synthetic) || c.comparison.ranges.length - best.comparison.ranges.length;
    const representative = members.reduce((best, c) => (better(c, best) < 0 ? c : best));
    const relocations = [...new Set(g.findings.flatMap((f) => (f.relocation ? [f.relocation] : [])))];
    return {
      id: '', key, oracle: representative.oracle, target: representative.target, cls: representative.comparison.cls,
      findings: g.findings, relocations, title: titleOf(g.findings, members, relocations),
      cases: members, sites: g.sites.size,
      entries: new Set(members.map((c) => c.entry)).size,
      bases: new Set(members.map((c) => c.base)).size,
      representative, reproduce: reproduceCommands(representative),
    };
  });
  out.sort((x, y) => y.cases.length - x.cases.length || (x.key < y.key ? -1 : 1));
  out.forEach((g, i) => (g.id = `rc${i + 1}`));
  return out;
}

/** The findings as one line, with how many of the type's sites differ where that is known. */
function titleOf(findings: Finding[], members: RootCauseCase[], relocations: string[]): string {
  const parts = findings.map((f) => f.text);
  if (relocations.length === 1 && members.every((c) => c.typeSites?.[relocations[0]!] !== undefined)) {
    const t = relocations[0]!;
    let total = 0;
    let differ = 0;
    for (const c of members) {
      total += c.typeSites![t]!;
      differ += new Set(c.comparison.ranges.flatMap((r) => r.attributions.filter((a): a is RelocAttr => a.kind === 'relocation' && a.type === t && Buffer.compare(a.ts, a.ref) !== 0).map((a) => `${a.relSection}:${a.relIndex}`))).size;
    }
    parts.push(differ === total ? `at every ${t} site` : `at ${differ} of ${total} ${t} sites`);
  }
  return parts.join('; ');
}

const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** A path as a user would type it: relative to the working directory when it lies below it. */
function displayPath(p: string): string {
  if (!isAbsolute(p)) return p;
  const r = relative(process.cwd(), p);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : p;
}

/** `relocate` (the TS engine) and `oracle run` (the reference) for one case. */
export function reproduceCommands(c: RootCauseCase): string[] {
  const file = shellWord(displayPath(c.file ?? `<${c.entry}>`));
  const common = [`--base ${hex(c.base)}`, ...(c.fill ? [`--fill ${hex(c.fill)}`] : []), ...c.symbols.map((s) => `--set ${shellWord(s)}`)];
  // Local builds (kexec-tools-<label>) are modelled as the release they report; relocate knows releases only.
  const profile = /^kexec-tools-(\d+\.\d+\.\d+)[-+]/.exec(c.profile) ? `kexec-tools-${/^kexec-tools-(\d+\.\d+\.\d+)/.exec(c.profile)![1]}` : /local/.test(c.profile) ? 'kexec-tools' : c.profile;
  return [
    ['npx purgatory-oracle relocate', file, ...common, `--profile ${profile}`, `--target ${c.target}`, ...(c.hostAddress && c.target !== 'x86_64' ? [`--host-address ${hex(c.hostAddress)}`] : [])].join(' '),
    ['npx purgatory-oracle oracle run', `--oracle ${shellWord(c.oracle)}`, file, ...common].join(' '),
  ];
}

/** `1 case`, `3 cases`. */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** A root cause's counts: `147 cases, 72 sites, 17 corpus entries, 4 bases`. */
export function rootCauseCounts(g: RootCause): string {
  return `${plural(g.cases.length, 'case')}, ${plural(g.sites, 'site')}, ${plural(g.entries, 'corpus entry', 'corpus entries')}, ${plural(g.bases, 'base')}`;
}

/** The one-line head of a root cause: counts and what differs. */
export function rootCauseLine(g: RootCause): string {
  return `${g.oracle} ${g.cls}: ${g.title} — ${rootCauseCounts(g)}`;
}
