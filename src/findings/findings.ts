// Findings: the registry's defect entries joined with their reports (docs/findings/<id>.md, front
// matter) and minimized inputs (corpus/findings/<id>/*.ro). `findings list` prints this join;
// test/findings/findings.test.ts checks that the two sides cannot drift apart.
import { ALL_TARGETS } from '../arch/targets.ts';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PurgatoryOracleError } from '../errors.ts';
import { loadRegistry, type RegistryEntry } from '../validate/registry.ts';
import { FIXES, KERNEL_VERSIONS, KEXEC_TOOLS_VERSIONS, type Fix } from '../load/profile.ts';
import { load, targetOf } from '../engine.ts';
import { casesFor, requestOf } from '../validate/cases.ts';
import { loadManifest } from '../validate/validate.ts';
import type { Arch, Outcome } from '../types.ts';

export const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FINDINGS_DOCS = join(REPO_DIR, 'docs', 'findings');
export const FINDINGS_INPUTS = join(REPO_DIR, 'corpus', 'findings');

export class FindingsError extends PurgatoryOracleError {}

export type Severity = 'low' | 'medium' | 'high';
const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high'];

/** A report's front matter: what `findings list` shows and what `findings verify` runs. */
export interface FindingReport {
  id: string;
  title: string;
  loader: 'kexec-tools' | 'kernel';
  /** Released versions that have the defect (checked against the profiles by the tests). */
  versions: string[];
  severity: Severity;
  /** Upstream version that fixed it, or undefined (open). */
  fixedIn?: string;
  summary: string;
  /** The upstream file and line (in `source`) of the defect. */
  file: string;
  line: number;
  /** The tree the patch applies to and the oracle is built from: kexec-tools-<version> or kernel-<version>. */
  source: string;
  /** Patch file name under docs/findings/ (none when fixed upstream). */
  patch?: string;
  targets: Arch[];
  /** Profile switches the patch corrects: the verified oracle must behave as `<source>+<fix>…` on the corpus. */
  fix: Fix[];
  /** The profile the finding's own cases must match once patched (normally `abi`). */
  expect: string;
  /** 'live': real purgatories load differently; 'latent': only crafted input shows it. */
  impact: 'live' | 'latent';
  /** Debian binaries of the corpus whose load the fix changes (computed: see affectedCorpus). */
  affected: string[];
  /** Path of the report. */
  path: string;
}

export interface Finding extends FindingReport {
  entry: RegistryEntry;
  /** Minimized inputs, corpus/findings/<id>/*.ro (repo-relative paths). */
  inputs: string[];
}

const list = (v: string | undefined): string[] => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);

/** Parse the `---` front matter of a report: `key: value` lines, lists comma-separated. */
export function parseFrontMatter(text: string, path: string): Record<string, string> {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(text);
  if (!m) throw new FindingsError(`${path}: no front matter (a --- block of key: value lines at the top)`);
  const out: Record<string, string> = {};
  for (const line of m[1]!.split('\n')) {
    if (!line.trim()) continue;
    const kv = /^([a-z][a-z0-9-]*):\s*(.*)$/.exec(line);
    if (!kv) throw new FindingsError(`${path}: front matter line '${line}' is not 'key: value'`);
    if (kv[1]! in out) throw new FindingsError(`${path}: front matter key '${kv[1]}' given twice`);
    out[kv[1]!] = kv[2]!.trim();
  }
  return out;
}

export function parseReport(text: string, path: string): FindingReport {
  const f = parseFrontMatter(text, path);
  const need = (k: string): string => {
    const v = f[k];
    if (!v) throw new FindingsError(`${path}: front matter has no '${k}'`);
    return v;
  };
  const loader = need('loader');
  if (loader !== 'kexec-tools' && loader !== 'kernel') throw new FindingsError(`${path}: loader '${loader}' is not kexec-tools or kernel`);
  const severity = need('severity') as Severity;
  if (!SEVERITIES.includes(severity)) throw new FindingsError(`${path}: severity '${severity}' (one of ${SEVERITIES.join(', ')})`);
  const status = need('status');
  const fixed = /^fixed upstream in (\S+)$/.exec(status);
  if (status !== 'open' && !fixed) throw new FindingsError(`${path}: status '${status}' is neither 'open' nor 'fixed upstream in VERSION'`);
  const fix = list(need('fix'));
  for (const x of fix) if (!(FIXES as readonly string[]).includes(x)) throw new FindingsError(`${path}: fix '${x}' is not a profile switch (${FIXES.join(', ')})`);
  const targets = list(need('targets'));
  for (const t of targets) if (!(ALL_TARGETS as string[]).includes(t)) throw new FindingsError(`${path}: target '${t}'`);
  const impact = need('impact');
  if (impact !== 'live' && impact !== 'latent') throw new FindingsError(`${path}: impact '${impact}' is not live or latent`);
  const line = Number(need('line'));
  if (!Number.isInteger(line) || line <= 0) throw new FindingsError(`${path}: line '${f.line}'`);
  const patch = f.patch && f.patch !== 'none' ? f.patch : undefined;
  if (!patch && !fixed) throw new FindingsError(`${path}: an open finding needs a patch`);
  return {
    id: need('id'), title: need('title'), loader, versions: list(need('versions')), severity,
    fixedIn: fixed?.[1], summary: need('summary'), file: need('file'), line, source: need('source'), patch,
    targets: targets as Arch[], fix: fix as Fix[], expect: need('expect'), impact,
    affected: f.affected === 'none' ? [] : list(need('affected')), path,
  };
}

export function loadReports(dir = FINDINGS_DOCS): FindingReport[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => n.endsWith('.md') && n !== 'README.md').sort()
    .map((n) => parseReport(readFileSync(join(dir, n), 'utf8'), join(dir, n)));
}

/**
 * Join the registry and the reports. Throws when they drift: a defect entry without a report, a
 * report naming no registry entry or a non-defect one, a report whose file name is not its id, a
 * missing patch file or a finding without a minimized input.
 */
export function loadFindings(opts: { registryPath?: string; docsDir?: string; inputsDir?: string } = {}): Finding[] {
  const registry = loadRegistry(opts.registryPath ?? join(REPO_DIR, 'corpus', 'known-divergences.json'));
  const docsDir = opts.docsDir ?? FINDINGS_DOCS;
  const inputsDir = opts.inputsDir ?? FINDINGS_INPUTS;
  const problems: string[] = [];
  const reports = new Map<string, FindingReport>();
  for (const r of loadReports(docsDir)) {
    const other = reports.get(r.id);
    if (other) problems.push(`${r.path} and ${other.path} both report '${r.id}'`);
    if (!r.path.endsWith(`/${r.id}.md`)) problems.push(`${r.path}: the file name is not its id (${r.id}.md)`);
    reports.set(r.id, r);
  }
  for (const r of reports.values()) {
    const e = registry.entries.find((x) => x.id === r.id);
    if (!e) problems.push(`${r.path} names '${r.id}', which is not a registry entry`);
    else if (e.kind !== 'defect') problems.push(`${r.path} reports '${r.id}', whose registry kind is '${e.kind}', not 'defect'`);
    if (r.patch && !existsSync(join(docsDir, r.patch))) problems.push(`${r.path}: patch ${r.patch} is missing`);
  }
  const out: Finding[] = [];
  for (const e of registry.entries) {
    if (e.kind !== 'defect') continue;
    const r = reports.get(e.id);
    if (!r) {
      problems.push(`registry defect '${e.id}' has no report (${join(docsDir, `${e.id}.md`)})`);
      continue;
    }
    const dir = join(inputsDir, e.id);
    const inputs = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.ro')).sort().map((n) => join(dir, n)) : [];
    if (!inputs.length) problems.push(`finding '${e.id}' has no minimized input (${dir}/*.ro)`);
    out.push({ ...r, entry: e, inputs });
  }
  if (problems.length) throw new FindingsError(`findings and registry disagree:\n  ${problems.join('\n  ')}`);
  return out;
}

export const statusOf = (f: Pick<FindingReport, 'fixedIn'>): string => (f.fixedIn ? `fixed upstream in ${f.fixedIn}` : 'open');

export function formatFindingsList(fs: Finding[], json = false): string {
  if (json) {
    return JSON.stringify(fs.map((f) => ({
      id: f.id, loader: f.loader, versions: f.versions, severity: f.severity, status: statusOf(f), summary: f.summary,
      file: f.file, line: f.line, impact: f.impact, affected: f.affected, report: f.path.replace(`${REPO_DIR}/`, ''),
      patch: f.patch ? `docs/findings/${f.patch}` : null, inputs: f.inputs.map((p) => p.replace(`${REPO_DIR}/`, '')),
    })), null, 2) + '\n';
  }
  const rows = fs.map((f) => [f.id, f.loader, f.versions.join(','), f.severity, statusOf(f), f.summary]);
  const head = ['id', 'loader', 'versions', 'severity', 'status', 'summary'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ') + '\n';
  return fmt(head) + rows.map(fmt).join('');
}

// ---------------------------------------------------------------------------------------------
// What the model says about a finding (the tests hold the reports to it).

/** The profile of a released loader version with the finding's quirks fixed ('kexec-tools-2.0.32+rel32HostPointer'). */
export const fixedProfileId = (base: string, fix: readonly Fix[]): string => [base, ...fix].join('+');

/** A fixed host address for kexec-tools' ppc64 REL32 (it subtracts the heap pointer of the buffer). */
const HOST = 0x1000_0000_0000n;

/** Two model outcomes alike: the same image (base, memsz, entry, bytes), or rejections with the same code. */
export function sameOutcome(a: Outcome, b: Outcome): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'ok' && b.kind === 'ok') {
    return a.image.base === b.image.base && a.image.memsz === b.image.memsz && a.image.entry === b.image.entry
      && Buffer.compare(a.image.bytes, b.image.bytes) === 0;
  }
  if (a.kind === 'rejected' && b.kind === 'rejected') return a.code === b.code;
  return true;
}

/** Whether the fix changes how `profile` loads this file, in any case of the validate matrix. */
export function fixChanges(bytes: Uint8Array, profile: string, fix: readonly Fix[], target?: Arch, bases?: readonly string[]): boolean {
  const t = target ?? targetOf(bytes);
  if (!t) return false;
  return casesFor(bytes, bases).some((c) => {
    const req = requestOf(bytes, c);
    const opts = { target: t, hostAddress: HOST, log: false };
    return !sameOutcome(load(req, { ...opts, profile }), load(req, { ...opts, profile: fixedProfileId(profile, fix) }));
  });
}

/** Released versions of the finding's loader whose model the fix changes on the finding's inputs. */
export function affectedVersions(f: Pick<Finding, 'loader' | 'fix' | 'targets'>, inputs: Uint8Array[]): string[] {
  const versions = f.loader === 'kernel' ? KERNEL_VERSIONS : KEXEC_TOOLS_VERSIONS;
  return versions.filter((v) => inputs.some((b) => {
    const t = targetOf(b);
    return t !== undefined && f.targets.includes(t) && fixChanges(b, `${f.loader}-${v}`, f.fix, t);
  }));
}

/** Debian binaries of the corpus (kexec-tools packages, or kernel images) whose load under `profile` the fix changes. */
export function affectedCorpus(f: Pick<Finding, 'loader' | 'fix' | 'targets'>, profile: string, corpusDir = join(REPO_DIR, 'corpus')): string[] {
  const kind = f.loader === 'kernel' ? 'debian-kernel-image' : 'debian-kexec-tools-binary';
  return loadManifest(corpusDir)
    .filter((e) => e.origin?.kind === kind && f.targets.includes(e.arch))
    .filter((e) => fixChanges(new Uint8Array(readFileSync(resolve(corpusDir, '..', e.file))), profile, f.fix, e.arch, e.bases))
    .map((e) => e.id);
}
