// `fuzz --jobs 2` against the live kexec-tools 2.0.25 x86_64 oracle: the merged summary of two
// parallel jobs must equal the one-thread campaign of the same seed and cases; two jobs hitting the
// same new signatures write each reproducer once, whole; a job that throws does not stop the
// other. Without CI=true a missing oracle skips; with CI=true it fails (test/live-oracle.ts).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kexecToolsOracleBuilt } from '../live-oracle.ts';
import { caseIndices, jobShard } from '../../src/fuzz/campaign.ts';
import { runFuzz, type FuzzOptions } from '../../src/fuzz/run.ts';

const tmp = mkdtempSync(join(tmpdir(), 'po-jobs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const quiet = { out: () => {}, err: () => {} };
const ORACLE = 'kexec-tools-2.0.25/x86_64';

describe('live fuzz --jobs: kexec-tools 2.0.25 x86_64', () => {
  const have = kexecToolsOracleBuilt('2.0.25', 'x86_64', 'live fuzz --jobs');
  const base: FuzzOptions = { oracles: [ORACLE], seed: 20261126, cases: 400, out: null, minimize: false, progress: 'none' };

  it.skipIf(!have)('2 jobs merge to the summary of 1 job (same seed, 400 cases)', async () => {
    const [one, two] = [(await runFuzz({ ...base, jobs: 1 }, quiet)).campaigns[0]!, (await runFuzz({ ...base, jobs: 2 }, quiet)).campaigns[0]!];
    expect(one.error).toBeUndefined();
    expect(two.error).toBeUndefined();
    expect(one.cases).toBe(400);
    expect(one.signatures.length, 'the comparison below needs divergences').toBeGreaterThan(0);
    expect(two.cases).toBe(one.cases);
    expect(two.genErrors).toBe(one.genErrors);
    expect(two.byClass).toEqual(one.byClass);
    expect(two.byMode).toEqual(one.byMode);
    expect(two.registry).toEqual(one.registry);
    const sigs = (c: typeof one) => c.signatures.map((s) => ({ key: s.key, count: s.count, first: s.first.index, finding: s.finding }));
    expect(sigs(two)).toEqual(sigs(one));
    expect(two.fuzzMs).toBeGreaterThan(0);
  }, 120_000);

  it.skipIf(!have)('2 jobs write each new signature once, whole, and report it as new', async () => {
    const out = join(tmp, 'regressions');
    const s = await runFuzz({ ...base, cases: 200, out, known: [], jobs: 2 }, quiet);
    const c = s.campaigns[0]!;
    expect(c.error).toBeUndefined();
    expect(c.signatures.length).toBeGreaterThan(0);
    const dirs = readdirSync(out);
    expect(dirs.filter((d) => d.startsWith('.')), 'temporary directories left behind').toEqual([]);
    const written = [...c.signatures, ...c.confirmations];
    expect(dirs.length).toBe(written.length);
    for (const x of written) {
      expect(x.known, `${x.key}: written in this run`).toBeUndefined();
      expect(x.reproducer && existsSync(join(x.reproducer, 'case.elf')), x.key).toBe(true);
      expect(JSON.parse(readFileSync(join(x.reproducer!, 'request.json'), 'utf8')).signature).toBe(x.key);
    }
    expect(s.findings).toBe(c.signatures.filter((x) => x.finding).length);
  }, 120_000);

  it.skipIf(!have)('a job that throws is reported and the other job is merged', async () => {
    const s = await runFuzz({ ...base, cases: 100, jobs: 2, injectJobError: 1 }, quiet);
    const c = s.campaigns[0]!;
    expect(c.error).toMatch(/^job 1\/2: injected failure/);
    expect(c.cases + c.genErrors).toBe([...caseIndices(jobShard({ index: 0, count: 1 }, 2, 0), 100)].length);
    expect(s.unavailable).toEqual([]);
  }, 120_000);
});
