// `fuzz --jobs N` without an oracle: how a shard is split between the jobs, the aggregated
// progress line, --jobs parsing, and the race-free reproducer writes the jobs rely on.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.ts';
import { caseIndices, jobShard, type Shard } from '../../src/fuzz/campaign.ts';
import { aggregateProgress, progressLine, type ProgressState } from '../../src/fuzz/progress.ts';
import { claimName, REPRO_FORMAT, writeReproducer, type WriteReproducer } from '../../src/fuzz/reproducer.ts';
import { parseFuzzOptions, parseJobs, runFuzz } from '../../src/fuzz/run.ts';

const tmp = mkdtempSync(join(tmpdir(), 'po-parallel-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('jobShard: job j of N of shard I/C runs k ≡ I + C·j (mod C·N)', () => {
  const cases = 1000;
  const shards: Shard[] = [{ index: 0, count: 1 }, { index: 0, count: 4 }, { index: 3, count: 4 }, { index: 2, count: 3 }];
  describe.each(shards)('shard $index/$count', (shard) => {
    it.each([1, 2, 3, 8])('%i job(s): disjoint, and their union is the shard', (jobs) => {
      const parts = Array.from({ length: jobs }, (_x, j) => [...caseIndices(jobShard(shard, jobs, j), cases)]);
      const all = parts.flat();
      expect(new Set(all).size, 'a case index in two jobs').toBe(all.length);
      const want = [];
      for (let k = 0; k < cases; k++) if (k % shard.count === shard.index) want.push(k);
      expect(all.sort((a, b) => a - b)).toEqual(want);
      for (const [j, p] of parts.entries()) for (const k of p) expect(k % (shard.count * jobs)).toBe(shard.index + shard.count * j);
    });
  });

  it('one job is the shard itself', () => {
    expect(jobShard({ index: 3, count: 4 }, 1, 0)).toEqual({ index: 3, count: 4 });
  });
});

describe('aggregated progress of parallel jobs', () => {
  const st = (cases: number, elapsedMs: number, findings: string[], explained: string[], phase?: string): ProgressState => ({
    label: 'x', cases, elapsedMs, findings: findings.length, explained: explained.length, shard: '0/1', keys: { findings, explained }, ...(phase ? { phase } : {}),
  });
  const line = { label: 'kexec-tools-2.0.25/x86_64', shard: '1/4', jobs: 2, timeMs: 60_000 };

  it('sums the cases, takes the longest elapsed time and counts each signature once', () => {
    const a = aggregateProgress([st(300, 2000, ['F1'], ['E1', 'E2']), st(500, 2500, ['F1', 'F2'], ['E2'], 'minimizing')], line);
    expect(a).toMatchObject({ cases: 800, elapsedMs: 2500, findings: 2, explained: 2, phase: 'minimizing', jobs: 2, shard: '1/4' });
    expect(progressLine(a)).toBe('fuzz kexec-tools-2.0.25/x86_64: 800 cases, 320/s, findings 2 (+2 explained), shard 1/4, jobs 2 3s/60s [minimizing]');
  });

  it('prints no jobs for a campaign in one thread', () => {
    expect(progressLine({ label: 'o', cases: 10, elapsedMs: 1000, findings: 0, explained: 0, shard: '0/1' })).toBe('fuzz o: 10 cases, 10/s, findings 0 (+0 explained), shard 0/1 1s');
  });
});

describe('--jobs', () => {
  it('takes a positive integer or auto', () => {
    expect(parseJobs('3')).toBe(3);
    expect(parseJobs('auto')).toBe(availableParallelism());
    expect(parseFuzzOptions({ oracle: ['kexec-tools-2.0.25/x86_64'], jobs: '2' }).jobs).toBe(2);
    expect(parseFuzzOptions({ oracle: ['kexec-tools-2.0.25/x86_64'] }).jobs).toBeUndefined();
  });

  it.each(['0', '-1', '1.5', '2x', '', 'all'])("rejects '%s'", (s) => {
    expect(() => parseJobs(s)).toThrow(UsageError);
  });

  it('needs an oracle (TS-only robustness has --workers)', () => {
    expect(() => parseFuzzOptions({ jobs: '2' })).toThrow(/--workers/);
  });
});

describe('reproducer writes between parallel jobs', () => {
  const repro = (dir: string, report: string, overwrite?: boolean): WriteReproducer => ({
    dir, report, overwrite, elf: new Uint8Array([0x7f, 0x45, 0x4c, 0x46]),
    desc: { mode: 'structured', arch: 'x86_64', source: { kind: 'corpus', id: 'c', file: 'c.ro' }, patches: [], base: 0x100000n, fill: 0, symbols: [] },
    request: {
      format: REPRO_FORMAT, kind: 'divergence', signature: 's', profile: 'kexec-tools-2.0.25', target: 'x86_64', class: 'one-rejected', relocation: '-',
      detail: 'd', registry: [], base: '0x100000', fill: 0, symbols: [], found: { seed: 1, index: 0, mode: 'structured' },
    },
  });

  it('the first writer places the directory whole; a second writer writes nothing; overwrite replaces it', () => {
    const out = join(tmp, 'out');
    const dir = join(out, 'sig');
    expect(writeReproducer(repro(dir, 'first'))).toBe(true);
    expect(readFileSync(join(dir, 'report.txt'), 'utf8')).toBe('first\n');
    expect(writeReproducer(repro(dir, 'second'))).toBe(false);
    expect(readFileSync(join(dir, 'report.txt'), 'utf8')).toBe('first\n');
    expect(writeReproducer(repro(dir, 'third', true))).toBe(true);
    expect(readFileSync(join(dir, 'report.txt'), 'utf8')).toBe('third\n');
    // no temporary directory is left behind
    expect(readdirSync(out)).toEqual(['sig']);
    expect(readdirSync(dir).sort()).toEqual(['case.elf', 'desc.json', 'report.txt', 'request.json']);
  });

  it('a name is claimed once', () => {
    const claims = mkdtempSync(join(tmp, 'claims-'));
    expect(claimName(claims, 'a')).toBe(true);
    expect(claimName(claims, 'a')).toBe(false);
    expect(claimName(claims, 'b')).toBe(true);
  });
});

describe('--jobs with an oracle that is not built', () => {
  it('fails as a campaign in one thread does: unavailable, an empty campaign with the error', async () => {
    const quiet = { out: () => {}, err: () => {} };
    // 2.0.20 is a released version (buildable, so 'unavailable') that CI does not build: bullseye's source package is gone from the mirror.
    const o = { oracles: ['kexec-tools-2.0.20/x86_64'], seed: 1, cases: 10, out: null, progress: 'none' as const };
    const [one, two] = [await runFuzz({ ...o, jobs: 1 }, quiet), await runFuzz({ ...o, jobs: 2 }, quiet)];
    expect(one.unavailable).toHaveLength(1);
    expect(one.campaigns[0]!.error).toBeTruthy();
    expect({ ...two, wallMs: 0 }).toEqual({ ...one, wallMs: 0 });
  }, 60_000);
});
