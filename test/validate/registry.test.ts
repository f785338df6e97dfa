// The known-divergence registry: 'outcome' entries for TS out-of-bounds rejections are split by
// where the access starts, so each such case is explained by exactly one entry.
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { applyRegistry, loadRegistry, RegistryError } from '../../src/validate/registry.ts';
import { makeProfile } from '../../src/load/profile.ts';
import type { CaseComparison } from '../../src/compare/compare.ts';
import type { Outcome } from '../../src/types.ts';
import { REPO_ROOT } from '../../src/fuzz/run.ts';

const registry = loadRegistry(join(REPO_ROOT, 'corpus', 'known-divergences.json'));
const kt = makeProfile('kexec-tools-2.0.25', 'x86_64');
const crashed: CaseComparison = { cls: 'oracle-crashed', layout: [], ranges: [], differingBytes: 0, note: 'SIGSEGV' };
const oob = (offset?: bigint): Outcome => ({
  kind: 'rejected', code: 'out-of-bounds', message: 'C loader would access …',
  where: offset === undefined ? {} : { access: { buf: 'file', offset, length: 24n, size: 0x200n } },
});

describe('ts-out-of-bounds entries (kexec-tools)', () => {
  it.each([
    ['an access 8 bytes below the file buffer', 'kt-pointer-below-buffer', -8],
    ['an access past the end of the buffer', 'kt-off-by-one-section-index', 0x200],
    ['an out-of-bounds rejection without an access (e_shdr[e_shnum], a NULL walk)', 'kt-off-by-one-section-index', undefined],
  ])('%s is explained by %s', (_what, want, offset) => {
    expect(applyRegistry(registry, kt, oob(offset === undefined ? undefined : BigInt(offset)), crashed, 0).explainedBy).toEqual([want]);
  });
  it('the kernel entry is unsplit: it explains a below-buffer access too', () => {
    expect(applyRegistry(registry, makeProfile('kernel-6.1', 'x86_64'), oob(-8n), crashed, 0).explainedBy).toEqual(['kernel-trusts-blob-out-of-bounds']);
  });
  it('scope.access is refused without condition ts-out-of-bounds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'po-reg-'));
    const p = join(dir, 'r.json');
    writeFileSync(p, JSON.stringify({
      format: 'purgatory-oracle/known-divergences@1',
      entries: [{ id: 'x', kind: 'defect', scope: { access: 'below-buffer' }, handling: 'outcome', evidence: { file: 'f.c', line: 1, reasoning: 'r' } }],
    }));
    expect(() => loadRegistry(p)).toThrow(/scope.access/);
  });
});

describe('kind', () => {
  const write = (entry: object): string => {
    const p = join(mkdtempSync(join(tmpdir(), 'po-reg-')), 'r.json');
    writeFileSync(p, JSON.stringify({ format: 'purgatory-oracle/known-divergences@1', entries: [entry] }));
    return p;
  };
  const entry = { id: 'x', scope: {}, handling: 'outcome', evidence: { file: 'f.c', line: 1, reasoning: 'r' } };
  it.each([[undefined], ['bug'], ['']])('an entry of kind %s is refused', (kind) => {
    expect(() => loadRegistry(write({ ...entry, kind }))).toThrow(RegistryError);
    expect(() => loadRegistry(write({ ...entry, kind }))).toThrow(/kind/);
  });
  it.each([['defect'], ['artefact'], ['by-design']])('kind %s loads', (kind) => {
    expect(loadRegistry(write({ ...entry, kind })).entries[0]!.kind).toBe(kind);
  });
  it('the bundled registry classifies every entry (a harness limit is an artefact, PIE conventions by design)', () => {
    const kinds = Object.fromEntries(registry.entries.map((e) => [e.id, e.kind]));
    expect(kinds['oracle-harness-allocation-limit']).toBe('artefact');
    for (const e of registry.entries.filter((x) => x.id.startsWith('pie-'))) expect(e.kind).toBe('by-design');
    expect(kinds['kt-ppc64-rel16-rewrite']).toBe('defect');
  });
});

describe('version-difference entries', () => {
  const write = (entry: object): string => {
    const p = join(mkdtempSync(join(tmpdir(), 'po-reg-')), 'r.json');
    writeFileSync(p, JSON.stringify({ format: 'purgatory-oracle/known-divergences@1', entries: [entry] }));
    return p;
  };
  const evidence = { file: 'f.c', line: 1, reasoning: 'r' };
  it('a version-difference must be modelled and name its versions', () => {
    expect(() => loadRegistry(write({ id: 'v', kind: 'version-difference', scope: { versions: ['5.10'] }, handling: 'outcome', evidence }))).toThrow(/version-difference/);
    expect(() => loadRegistry(write({ id: 'v', kind: 'version-difference', scope: {}, handling: 'modelled', evidence }))).toThrow(/scope.versions/);
    expect(loadRegistry(write({ id: 'v', kind: 'version-difference', scope: { versions: ['5.10'] }, handling: 'modelled', evidence })).entries[0]!.kind).toBe('version-difference');
  });
  it('scope.rejection is a non-empty list on a modelled entry', () => {
    expect(() => loadRegistry(write({ id: 'v', kind: 'by-design', scope: { rejection: [] }, handling: 'modelled', evidence }))).toThrow(/scope.rejection/);
    expect(() => loadRegistry(write({ id: 'v', kind: 'by-design', scope: { rejection: ['unknown-relocation'] }, handling: 'outcome', evidence }))).toThrow(/scope.rejection/);
  });
  // kernel 5.10 s390x has no R_390_PLT32DBL mapping: its refusals of that type are the entry's coverage.
  const k510 = makeProfile('kernel-5.10', 's390x');
  const both: CaseComparison = { cls: 'both-rejected', layout: [], ranges: [], differingBytes: 0 };
  const refused = (relocation: string, code: 'unknown-relocation' | 'out-of-bounds' = 'unknown-relocation'): Outcome => ({
    kind: 'rejected', code, message: 'Unknown rela relocation: 20', where: { relocation },
  });
  const exercised = (o: Outcome) => applyRegistry(registry, k510, o, both, 0).exercised.map((x) => x.id);
  it('a refusal with the entry\'s code at one of its relocation types exercises it, and explains nothing', () => {
    expect(exercised(refused('R_390_PLT32DBL'))).toContain('kernel-s390x-5.10-no-plt32dbl');
    expect(applyRegistry(registry, k510, refused('R_390_PLT32DBL'), both, 0).explainedBy).toEqual([]);
  });
  it('another type, or another code, does not', () => {
    expect(exercised(refused('R_390_64'))).not.toContain('kernel-s390x-5.10-no-plt32dbl');
    expect(exercised(refused('R_390_PLT32DBL', 'out-of-bounds'))).not.toContain('kernel-s390x-5.10-no-plt32dbl');
  });
  it('out of scope (6.1 maps PLT32DBL), nothing is exercised', () => {
    expect(applyRegistry(registry, makeProfile('kernel-6.1', 's390x'), refused('R_390_PLT32DBL'), both, 0).exercised.map((x) => x.id)).not.toContain('kernel-s390x-5.10-no-plt32dbl');
  });
});
