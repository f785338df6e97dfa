// The registry and the reports cannot drift apart: every defect entry has a report, a patch and an
// input; every report names a defect entry; the reports' versions and affected Debian binaries are
// what the model computes, not what someone wrote.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  affectedCorpus, affectedVersions, FINDINGS_DOCS, FINDINGS_INPUTS, formatFindingsList, loadFindings, parseFrontMatter, parseReport, REPO_DIR,
} from '../../src/findings/findings.ts';
import { loadRegistry } from '../../src/validate/registry.ts';
import { main } from '../../src/cli.ts';

const REGISTRY = join(REPO_DIR, 'corpus', 'known-divergences.json');
const findings = loadFindings();
const registry = loadRegistry(REGISTRY);

describe('registry and reports', () => {
  it('every defect has a report (loadRegistry refuses an unclassified entry, parseReport an open finding without a patch)', () => {
    const defects = registry.entries.filter((e) => e.kind === 'defect').map((e) => e.id);
    expect(defects.length).toBeGreaterThanOrEqual(9);
    expect(findings.map((f) => f.id).sort()).toEqual(defects.sort());
  });
  it('the issue\'s examples are defects, the harness limit an artefact', () => {
    const kind = (id: string) => registry.entries.find((e) => e.id === id)?.kind;
    for (const id of ['kt-ppc64-rel16-rewrite', 'kt-ppc64-rel32-host-pointer', 'kt-ppc64-rel64-absolute', 'kt-off-by-one-section-index', 'kt-heap-padding', 'kernel-no-align-zero-guard']) expect(kind(id), id).toBe('defect');
    expect(kind('oracle-harness-allocation-limit')).toBe('artefact');
    expect(kind('kt-ppc64-addr16-hi-unchecked')).toBe('by-design');
  });

  const scratch = (): { docs: string; inputs: string; registry: string } => {
    const d = mkdtempSync(join(tmpdir(), 'po-findings-'));
    cpSync(FINDINGS_DOCS, join(d, 'docs'), { recursive: true });
    cpSync(FINDINGS_INPUTS, join(d, 'inputs'), { recursive: true });
    cpSync(REGISTRY, join(d, 'registry.json'));
    return { docs: join(d, 'docs'), inputs: join(d, 'inputs'), registry: join(d, 'registry.json') };
  };
  const load = (s: ReturnType<typeof scratch>) => loadFindings({ docsDir: s.docs, inputsDir: s.inputs, registryPath: s.registry });

  it('a copy of the repository loads (the drift checks below start from a passing state)', () => {
    expect(load(scratch()).length).toBe(findings.length);
  });
  it('a defect entry without a report is refused', () => {
    const s = scratch();
    rmSync(join(s.docs, 'kt-heap-padding.md'));
    expect(() => load(s)).toThrow(/registry defect 'kt-heap-padding' has no report/);
  });
  it('a report naming no registry entry, or a by-design one, is refused', () => {
    const s = scratch();
    const text = readFileSync(join(s.docs, 'kt-heap-padding.md'), 'utf8');
    writeFileSync(join(s.docs, 'kt-no-such-thing.md'), text.replace('id: kt-heap-padding', 'id: kt-no-such-thing'));
    expect(() => load(s)).toThrow(/names 'kt-no-such-thing', which is not a registry entry/);
    rmSync(join(s.docs, 'kt-no-such-thing.md'));
    writeFileSync(join(s.docs, 'oracle-harness-allocation-limit.md'), text.replace('id: kt-heap-padding', 'id: oracle-harness-allocation-limit'));
    expect(() => load(s)).toThrow(/kind is 'artefact', not 'defect'/);
  });
  it('a missing patch, a missing input, or a report under another name are refused', () => {
    let s = scratch();
    rmSync(join(s.docs, 'kt-heap-padding.patch'));
    expect(() => load(s)).toThrow(/patch kt-heap-padding.patch is missing/);
    s = scratch();
    rmSync(join(s.inputs, 'kt-heap-padding'), { recursive: true });
    expect(() => load(s)).toThrow(/'kt-heap-padding' has no minimized input/);
    s = scratch();
    cpSync(join(s.docs, 'kt-heap-padding.md'), join(s.docs, 'heap.md'));
    expect(() => load(s)).toThrow(/heap.md: the file name is not its id/);
    expect(() => load(s)).toThrow(/both report .kt-heap-padding./);
  });
  it('a registry entry turned into a defect without a report is refused', () => {
    const s = scratch();
    writeFileSync(s.registry, readFileSync(s.registry, 'utf8').replace(/("id": "kt-ppc64-addr16-hi-unchecked",\n\s*"kind": )"by-design"/, '$1"defect"'));
    expect(() => load(s)).toThrow(/'kt-ppc64-addr16-hi-unchecked' has no report/);
  });
});

describe('front matter', () => {
  const good = readFileSync(join(FINDINGS_DOCS, 'kt-heap-padding.md'), 'utf8');
  it.each([
    ['no front matter', good.replace(/^---\n/, ''), /no front matter/],
    ['an unknown severity', good.replace('severity: low', 'severity: dire'), /severity 'dire'/],
    ['an unknown status', good.replace('status: open', 'status: wontfix'), /status 'wontfix'/],
    ['a fix that is no profile switch', good.replace('fix: zeroImage', 'fix: zeroHeap'), /fix 'zeroHeap'/],
    ['an open finding without a patch', good.replace('patch: kt-heap-padding.patch', 'patch: none'), /needs a patch/],
    ['a duplicated key', good.replace('severity: low', 'severity: low\nseverity: high'), /given twice/],
  ])('%s is refused', (_what, text, re) => {
    expect(() => parseReport(text, 'x.md')).toThrow(re);
  });
  it('status "fixed upstream in X" gives fixedIn', () => {
    expect(parseReport(readFileSync(join(FINDINGS_DOCS, 'kt-2.0.20-align-zero.md'), 'utf8'), 'x.md').fixedIn).toBe('2.0.24');
    expect(parseFrontMatter('---\na: 1\nb-c: x, y\n---\nbody', 'x')).toEqual({ a: '1', 'b-c': 'x, y' });
  });
});

describe.each(findings.map((f) => [f.id, f] as const))('%s', (_id, f) => {
  const inputs = f.inputs.map((p) => new Uint8Array(readFileSync(p)));
  it('its versions are the released versions whose model the fix changes on its inputs', () => {
    expect(f.versions).toEqual(affectedVersions(f, inputs));
  });
  it('its affected Debian binaries are the ones whose load the fix changes (newest affected version)', () => {
    const profile = `${f.loader}-${f.versions[f.versions.length - 1]}`;
    expect(f.affected).toEqual(affectedCorpus(f, profile));
    expect(f.impact === 'live').toBe(f.affected.length > 0);
  });
  it('its report names the source line, and the patch touches that file', () => {
    const text = readFileSync(f.path, 'utf8');
    expect(text).toContain(`${f.file}:${f.line}`);
    if (f.patch) expect(readFileSync(join(FINDINGS_DOCS, f.patch), 'utf8')).toContain(`+++ b/${f.file}`);
  });
});

describe('findings list', () => {
  it('prints one row per finding with its status', () => {
    const text = formatFindingsList(findings);
    expect(text.split('\n').filter(Boolean).length).toBe(findings.length + 1);
    expect(text).toMatch(/kt-2\.0\.20-align-zero\s+kexec-tools\s+2\.0\.20\s+low\s+fixed upstream in 2\.0\.24/);
    const json = JSON.parse(formatFindingsList(findings, true)) as { id: string; status: string; patch: string | null }[];
    expect(json.find((x) => x.id === 'kt-heap-padding')).toMatchObject({ status: 'open', patch: 'docs/findings/kt-heap-padding.patch' });
  });
  it('the CLI exits 0 and prints the table; findings show of an unknown id is a usage error', async () => {
    let out = '';
    expect(await main(['findings', 'list'], { out: (s) => (out += s), err: () => {} })).toBe(0);
    expect(out).toContain('kernel-no-align-zero-guard');
    expect(await main(['findings', 'show', 'kt-nope'], { out: () => {}, err: () => {} })).toBe(2);
  });
});
