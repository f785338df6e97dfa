// Choosing references (planSources) through the CLI: filters that match nothing and runs that
// check nothing are usage errors (exit 2) naming the filter and listing what exists; plain runs
// ask for the released live oracles only, --oracle for every build (then keeps the named ones).
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { setLiveOpener } from '../../src/cli.ts';
import type { LiveSelection } from '../../src/validate/sources.ts';
import { runCli as run } from '../cli-run.ts';
import { DEFAULT_CORPUS } from '../../src/validate/validate.ts';

const work = mkdtempSync(join(tmpdir(), 'po-sources-'));
const emptyCache = join(work, 'cache');
afterAll(() => rmSync(work, { recursive: true, force: true }));
afterEach(() => setLiveOpener(undefined));
const env = { CI: undefined, PURGATORY_ORACLE_CACHE: emptyCache };

describe('filters that match nothing: exit 2, naming the filter and listing what exists', () => {
  it.each([
    ['validate --only', ['validate', '--stored-only', '--only', 'no-such-entry'], /--only 'no-such-entry': no such corpus entry in .*; known: .*debian-kexec-tools-2\.0\.32-3-amd64/],
    ['gate --only (one of two unknown)', ['gate', '--stored-only', '--allow-missing', '--only', 'debian-kexec-tools-2.0.32-3-amd64,nope'], /--only 'nope': no such corpus entry/],
    ['gate --oracle', ['gate', '--stored-only', '--allow-missing', '--oracle', 'kexec-tools-9.9.9/x86_64'], /--oracle 'kexec-tools-9\.9\.9\/x86_64': no such oracle with stored references; known: .*kexec-tools-2\.0\.25\/x86_64/],
    ['validate --oracle (live too)', ['validate', '--oracle', 'kexec-tools-2.0.32+git-0000000/x86_64'], /--oracle 'kexec-tools-2\.0\.32\+git-0000000\/x86_64': no such oracle \(built, or with stored references\); known: .*kernel-6\.1\/x86_64/],
    ['matrix --only', ['matrix', '--stored-only', '--only', 'nope'], /--only 'nope': no such corpus entry/],
    ['matrix --oracle', ['matrix', '--stored-only', '--oracle', 'kernel-4.19/x86_64'], /--oracle 'kernel-4\.19\/x86_64': no such oracle/],
    ['fuzz --oracle (a local label not built)', ['fuzz', '--oracle', 'kexec-tools-2.0.32+git-0000000/x86_64', '--cases', '1'], /--oracle 'kexec-tools-2\.0\.32\+git-0000000\/x86_64': no such built oracle .*there is none/],
    ['oracle run --oracle (a local label not built)', ['oracle', 'run', '--oracle', 'kexec-tools-unknown-local-0123/x86_64', join(DEFAULT_CORPUS, 'elf', 'debian-kexec-tools-2.0.32-3-amd64.ro'), '--base', '0x100000'], /no such built oracle/],
  ])('%s', async (_what, argv, message) => {
    setLiveOpener(async () => []);
    const r = await run(argv, env);
    expect(r.err).toMatch(message);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
  }, 60_000);
});

describe('runs that check nothing: exit 2', () => {
  it('validate/gate on a corpus with no entries', async () => {
    // A corpus with its registry and an empty manifest.
    const empty = join(work, 'empty-corpus');
    mkdirSync(empty);
    copyFileSync(join(DEFAULT_CORPUS, 'known-divergences.json'), join(empty, 'known-divergences.json'));
    writeFileSync(join(empty, 'manifest.json'), JSON.stringify({ entries: [] }));
    for (const cmd of ['validate', 'gate']) {
      const r = await run([cmd, empty, '--allow-missing'].filter((x) => cmd === 'gate' || x !== '--allow-missing'), env);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/0 cases checked: no reference available/);
    }
  });

  it('an oracle with no corpus entry of its architecture selected', async () => {
    const r = await run(['validate', '--stored-only', '--oracle', 'kexec-tools-2.0.25/x86_64', '--only', 'debian-kexec-tools-2.0.32-3-ppc64el'], env);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/0 cases checked: no selected corpus entry has the architecture of the selected oracles \(kexec-tools-2\.0\.25\/x86_64\)/);
  });

  it('fuzz --cases 0 (TS-only)', async () => {
    const r = await run(['fuzz', '--cases', '0', '--workers', '0', '--json'], env);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/fuzz checked 0 cases/);
  }, 60_000);

  it('matrix comparing 0 cases (one reference)', async () => {
    const r = await run(['matrix', '--stored-only', '--oracle', 'kexec-tools-2.0.25/x86_64'], env);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/matrix compared 0 cases/);
  });
});

describe('--oracle selects exactly the named references', () => {
  it('stored: one oracle, its cases only (exit 0)', async () => {
    const r = await run(['validate', '--stored-only', '--oracle', 'kexec-tools-2.0.25/x86_64', '--only', 'debian-kexec-tools-2.0.32-3-amd64'], env);
    expect(r.code).toBe(0);
    const rows = r.out.split('\n').filter((l) => /^(kexec-tools|kernel)-/.test(l));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/^kexec-tools-2\.0\.25\/x86_64\s+stored\s+\d+/);
  });

  it('the live opener is asked for released oracles by default and for every build when oracles are named', async () => {
    const calls: (LiveSelection | undefined)[] = [];
    setLiveOpener(async (sel) => {
      calls.push(sel);
      return [];
    });
    await run(['validate', '--only', 'debian-kexec-tools-2.0.32-3-amd64'], env);
    await run(['validate', '--only', 'debian-kexec-tools-2.0.32-3-amd64', '--oracle', 'kexec-tools-2.0.25/x86_64,kexec-tools-2.0.29/x86_64'], env);
    expect(calls).toEqual([{}, { all: true }]);
  });
});

describe('gate --baseline: usage', () => {
  it.each([
    [['gate', '--baseline', '2.0.32'], /--baseline and --fail-on-change compare a tree built with --kexec-tools PATH/],
    [['gate', '--kexec-tools', '/nonexistent', '--fail-on-change'], /--fail-on-change needs --baseline VERSION/],
    [['gate', '--kexec-tools', '/nonexistent', '--baseline', '1.0'], /--baseline '1\.0': no such released kexec-tools version; known: 2\.0\.20, 2\.0\.25, 2\.0\.29, 2\.0\.32/],
  ])('%j: exit 2 before building anything', async (argv, message) => {
    const r = await run(argv, env);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/build-oracle/);
  });
});
