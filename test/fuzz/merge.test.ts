// mergeSummaries (src/fuzz/merge.ts): the summaries of a campaign's parallel jobs → one summary.
// Hand-written job summaries; the expected values are worked out from the merge rules by hand.
// mergeFuzzSummaries / `fuzz merge`: the same for the --json summaries of a campaign's shards; live,
// the merged shards 0/2 + 1/2 must equal the unsharded campaign of the same seed and cases.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emptySummary, type CampaignSummary, type SignatureSummary } from '../../src/fuzz/campaign.ts';
import { mergeFuzzSummaries, mergeSummaries } from '../../src/fuzz/merge.ts';
import type { FuzzSummary } from '../../src/fuzz/run.ts';
import { runCli } from '../cli-run.ts';
import { kexecToolsOracleBuilt } from '../live-oracle.ts';

const ORACLE = 'kexec-tools-2.0.25/x86_64';

function sig(key: string, count: number, index: number, extra: Partial<SignatureSummary> = {}): SignatureSummary {
  return {
    key, oracle: ORACLE, relocation: '-', cls: 'one-rejected', detail: key, count, explainedBy: [], finding: false,
    first: { mode: 'mutate', index }, ...extra,
  };
}

function part(over: Partial<CampaignSummary>): CampaignSummary {
  return { ...emptySummary(ORACLE, 'x86_64'), ...over };
}

// Job 0 of 2 ran the even case indices, job 1 the odd ones.
const job0 = part({
  cases: 600, genErrors: 2, fuzzMs: 1000, minimizeMs: 300, casesPerSec: 600,
  byClass: { match: 400, 'both-rejected': 190, 'one-rejected': 10 }, byMode: { structured: 200, mutate: 400 },
  registry: { 'kt-a': { explained: 5, exercised: 0, matched: 0 }, 'kt-b': { explained: 0, exercised: 30, matched: 29 } },
  signatures: [
    // written by job 0 (minimized), hit first by job 1
    sig('A', 4, 8, { explainedBy: ['kt-a'], reproducer: '/r/A', minimized: { from: size(9), to: size(1), tests: 40, ms: 900 } }),
    // job 0 lost the claim of B to job 1: known, pointing at job 1's directory
    sig('B', 1, 20, { finding: true, known: 'regression', reproducer: '/r/B' }),
    sig('C', 2, 2, { explainedBy: ['kt-a'] }),
  ],
  confirmations: [sig('kt-b confirms', 1, 30, { cls: 'confirms', explainedBy: ['kt-b'], reproducer: '/r/kt-b' })],
  collateral: { A: 1 },
  diagnostics: [{ signature: 'x.c:1 load', count: 3, first: { mode: 'mutate', index: 44 }, excerpt: 'job0' }],
  tsSlow: 1, tsMaxMs: 12.5,
});
const job1 = part({
  cases: 500, genErrors: 1, fuzzMs: 1250, minimizeMs: 200, casesPerSec: 400,
  byClass: { match: 300, 'one-rejected': 150, 'oracle-crashed': 50 }, byMode: { mutate: 250, malformed: 250 },
  registry: { 'kt-b': { explained: 0, exercised: 20, matched: 20 }, 'kt-c': { explained: 7, exercised: 0, matched: 0 } },
  signatures: [
    sig('A', 3, 3, { explainedBy: ['kt-c'], known: 'regression', reproducer: '/r/A' }),
    sig('B', 2, 11, { finding: true, reproducer: '/r/B', minimized: { from: size(5), to: size(2), tests: 10, ms: 100 } }),
    sig('D', 1, 99, { finding: true }),
  ],
  confirmations: [],
  collateral: { A: 2, B: 1 },
  diagnostics: [
    { signature: 'x.c:1 load', count: 2, first: { mode: 'structured', index: 13 }, excerpt: 'job1' },
    { signature: 'y.c:2 store', count: 9, first: { mode: 'mutate', index: 5 }, excerpt: 'job1 y' },
  ],
  tsSlow: 0, tsMaxMs: 30,
});

function size(n: number) {
  return { sections: n, symbols: n, relocations: n, patches: n, bytes: 100 * n, zeroed: 0 };
}

describe('mergeSummaries', () => {
  const m = mergeSummaries([job0, job1]);

  it('sums the counters and takes the maximum of tsMaxMs', () => {
    expect(m.oracle).toBe(ORACLE);
    expect(m.target).toBe('x86_64');
    expect(m.cases).toBe(1100);
    expect(m.genErrors).toBe(3);
    expect(m.byClass).toEqual({ match: 700, 'both-rejected': 190, 'one-rejected': 160, 'oracle-crashed': 50 });
    expect(m.byMode).toEqual({ structured: 200, mutate: 650, malformed: 250 });
    expect(m.registry).toEqual({
      'kt-a': { explained: 5, exercised: 0, matched: 0 },
      'kt-b': { explained: 0, exercised: 50, matched: 49 },
      'kt-c': { explained: 7, exercised: 0, matched: 0 },
    });
    expect(m.collateral).toEqual({ A: 3, B: 1 });
    expect(m.tsSlow).toBe(1);
    expect(m.tsMaxMs).toBe(30);
    expect(m.error).toBeUndefined();
  });

  it('fuzzMs is the longest job (they run at the same time), casesPerSec the total over it; minimizeMs is summed', () => {
    expect(m.fuzzMs).toBe(1250);
    expect(m.casesPerSec).toBe(880); // 1100 cases / 1.25 s
    expect(m.minimizeMs).toBe(500);
  });

  it('merges signatures by key: counts summed, first the lowest index, explainedBy united, finding if any job says so', () => {
    expect(m.signatures.map((s) => [s.key, s.count, s.first.index, s.finding])).toEqual([
      // findings first, then by key
      ['B', 3, 11, true],
      ['D', 1, 99, true],
      ['A', 7, 3, false],
      ['C', 2, 2, false],
    ]);
    const a = m.signatures.find((s) => s.key === 'A')!;
    expect(a.explainedBy.sort()).toEqual(['kt-a', 'kt-c']);
  });

  it("keeps the reproducer, minimization and known state of the job that wrote the reproducer", () => {
    const by = new Map(m.signatures.map((s) => [s.key, s]));
    // A: written by job 0, job 1 found it written: a new reproducer of this run, not known
    expect(by.get('A')!.known).toBeUndefined();
    expect(by.get('A')!.reproducer).toBe('/r/A');
    expect(by.get('A')!.minimized?.tests).toBe(40);
    expect(by.get('A')!.first.mode).toBe('mutate');
    // B: job 1 won the claim
    expect(by.get('B')!.known).toBeUndefined();
    expect(by.get('B')!.minimized?.tests).toBe(10);
    expect(by.get('D')!.reproducer).toBeUndefined();
  });

  it('keeps `known` when every job found the reproducer already there', () => {
    const old = mergeSummaries([
      part({ signatures: [sig('E', 1, 4, { known: 'open', reproducer: '/open/E' })] }),
      part({ signatures: [sig('E', 5, 1, { known: 'open', reproducer: '/open/E' })] }),
    ]);
    expect(old.signatures).toHaveLength(1);
    expect(old.signatures[0]).toMatchObject({ key: 'E', count: 6, known: 'open', reproducer: '/open/E', first: { index: 1 } });
  });

  it('merges confirmations by key and diagnostics by signature', () => {
    expect(m.confirmations.map((s) => [s.key, s.reproducer])).toEqual([['kt-b confirms', '/r/kt-b']]);
    expect(m.diagnostics).toEqual([
      { signature: 'y.c:2 store', count: 9, first: { mode: 'mutate', index: 5 }, excerpt: 'job1 y' },
      { signature: 'x.c:1 load', count: 5, first: { mode: 'structured', index: 13 }, excerpt: 'job1' },
    ]);
  });

  it('does not modify its inputs', () => {
    expect(job0.signatures[0]!.count).toBe(4);
    expect(job1.signatures[1]!.known).toBeUndefined();
    expect(job0.diagnostics[0]!.count).toBe(3);
    expect(job0.diagnostics[0]!.first.index).toBe(44);
  });

  it('reports the errors of jobs that returned nothing, once each', () => {
    const e = mergeSummaries([job0], { errors: ['job 1/3: boom', 'oracle gone', 'oracle gone'] });
    expect(e.cases).toBe(600);
    expect(e.casesPerSec).toBe(600);
    expect(e.error).toBe('job 1/3: boom; oracle gone');
  });
});

function summary(shard: string, campaigns: CampaignSummary[], over: Partial<FuzzSummary> = {}): FuzzSummary {
  return {
    format: 'purgatory-oracle/fuzz-summary@1', seed: 7, modes: ['structured', 'mutate'], shard, campaigns, unavailable: [],
    findings: 0, openFindings: 0, reproducers: [], wallMs: 100, ...over,
  };
}

describe('mergeFuzzSummaries (fuzz merge)', () => {
  const other = { ...emptySummary('kernel-6.12/x86_64', 'x86_64'), cases: 10, fuzzMs: 5 };
  const s0 = summary('0/2', [job0, other], { reproducers: ['/r/A', '/r/kt-b'], wallMs: 900 });
  const s1 = summary('1/2', [job1], { reproducers: ['/r/B', '/r/A'], wallMs: 1400, unavailable: [{ oracle: 'kernel-6.12/x86_64', message: 'not built' }] });

  it('merges each oracle\'s campaigns with mergeSummaries, unites reproducers and unavailable oracles, counts findings again', () => {
    const m = mergeFuzzSummaries([s1, s0]);
    expect(m.shard).toBe('0,1/2');
    expect(m.seed).toBe(7);
    expect(m.campaigns.map((c) => c.oracle)).toEqual([ORACLE, 'kernel-6.12/x86_64']);
    expect(m.campaigns[0]).toEqual(mergeSummaries([job1, job0]));
    expect(m.campaigns[1]!.cases).toBe(10);
    expect(m.reproducers).toEqual(['/r/A', '/r/B', '/r/kt-b']);
    expect(m.unavailable).toEqual([{ oracle: 'kernel-6.12/x86_64', message: 'not built' }]);
    // B (job 1 wrote it: not known) and D are new findings; nothing is an open (known) finding.
    expect([m.findings, m.openFindings]).toEqual([2, 0]);
    expect(m.wallMs).toBe(1400);
  });

  it('TS-only robustness summaries: counters summed, ms and the slowest case the maximum, findings by key', () => {
    const rob = (cases: number, ms: number, slowestMs: number, slowestCase: number, findings: { key: string; count: number; index: number }[]) => ({
      cases, ms, casesPerSec: 0, workers: 2, genErrors: 1, untypedExceptions: findings.length, hangs: 0, hangMs: 1000, memoryFindings: 0,
      slowestMs, slowestCase, outcomes: { ok: cases - 1, 'rejected:x': 1 },
      heap: { startMiB: 10, maxMiB: cases, endMiB: 12, floorGrowthMiB: 1, unbounded: false, samples: 3 },
      findings: findings.map((f) => ({ key: f.key, kind: 'ts-exception' as const, count: f.count, first: { mode: 'malformed' as const, index: f.index } })),
    });
    const m = mergeFuzzSummaries([
      summary('0/2', [], { robustness: rob(100, 400, 3, 8, [{ key: 'E', count: 2, index: 40 }]) }),
      summary('1/2', [], { robustness: rob(120, 500, 2, 5, [{ key: 'E', count: 1, index: 9 }, { key: 'F', count: 1, index: 11 }]) }),
    ]);
    const r = m.robustness!;
    expect([r.cases, r.ms, r.casesPerSec, r.workers, r.genErrors, r.untypedExceptions]).toEqual([220, 500, 440, 4, 2, 3]);
    expect([r.slowestMs, r.slowestCase]).toEqual([3, 8]);
    expect(r.outcomes).toEqual({ ok: 218, 'rejected:x': 2 });
    expect([r.heap.maxMiB, r.heap.samples]).toEqual([120, 6]);
    expect(r.findings.map((f) => [f.key, f.count, f.first.index])).toEqual([['E', 3, 9], ['F', 1, 11]]);
    expect(m.findings).toBe(2);
  });

  it('refuses shards of different campaigns, a shard twice, a missing shard (unless allowPartial), and non-summaries', () => {
    expect(() => mergeFuzzSummaries([])).toThrow(/no summary/);
    expect(() => mergeFuzzSummaries([s0, { ...s1, seed: 8 }])).toThrow(/seed 8, not 7/);
    expect(() => mergeFuzzSummaries([s0, { ...s1, modes: ['malformed'] }])).toThrow(/modes malformed/);
    expect(() => mergeFuzzSummaries([s0, { ...s1, shard: '1/3' }])).toThrow(/shards of 2 and of 3/);
    expect(() => mergeFuzzSummaries([s0, s0])).toThrow(/shard 0\/2 appears twice/);
    expect(() => mergeFuzzSummaries([s1])).toThrow(/shard\(s\) 0\/2 missing/);
    expect(mergeFuzzSummaries([s1], { allowPartial: true }).shard).toBe('1/2');
    expect(() => mergeFuzzSummaries([{ format: 'x' } as unknown as FuzzSummary])).toThrow(/format 'x'/);
    // A merged summary merges again with the remaining shards.
    const three = [0, 1, 2].map((i) => summary(`${i}/3`, [job0]));
    expect(mergeFuzzSummaries([mergeFuzzSummaries(three.slice(0, 2), { allowPartial: true }), three[2]!]).campaigns[0]!.cases).toBe(1800);
  });
});

describe('fuzz merge (CLI), live: kexec-tools 2.0.25 x86_64', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'po-fuzz-merge-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const have = kexecToolsOracleBuilt('2.0.25', 'x86_64', 'live fuzz merge');
  const run = async (shard: string): Promise<string> => {
    const r = await runCli(['fuzz', '--oracle', 'kexec-tools-2.0.25/x86_64', '--seed', '20261206', '--cases', '400', '--shard', shard,
      '--no-minimize', '--out', join(tmp, `out-${shard.replace('/', '-')}`), '--json']);
    expect(r.code, r.err).toBe(0);
    const f = join(tmp, `shard-${shard.replace('/', '-')}.json`);
    writeFileSync(f, r.out);
    return f;
  };

  it.skipIf(!have)('the merged shards 0/2 and 1/2 are the campaign of shard 0/1 (same seed and cases)', async () => {
    const whole = JSON.parse(await runCli(['fuzz', 'merge', await run('0/1'), '--json']).then((r) => r.out)) as FuzzSummary;
    const files = [await run('1/2'), await run('0/2')];
    const out = join(tmp, 'merged.json');
    const r = await runCli(['fuzz', 'merge', ...files, '-o', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/shard 0,1\/2/);
    const merged = JSON.parse(await runCli(['fuzz', 'merge', out, '--allow-partial', '--json']).then((x) => x.out)) as FuzzSummary;
    const [a, b] = [whole.campaigns[0]!, merged.campaigns[0]!];
    expect(a.cases).toBe(400);
    expect(a.signatures.length, 'the comparison needs divergences').toBeGreaterThan(0);
    expect([b.cases, b.genErrors, b.byClass, b.byMode, b.registry]).toEqual([a.cases, a.genErrors, a.byClass, a.byMode, a.registry]);
    const sigs = (c: CampaignSummary) => c.signatures.map((s) => ({ key: s.key, count: s.count, first: s.first.index, finding: s.finding }));
    expect(sigs(b)).toEqual(sigs(a));
    expect(merged.findings).toBe(whole.findings);
  }, 120_000);

  it('usage errors: a missing file, a file that is not JSON, a missing shard (exit 2)', async () => {
    const notJson = join(tmp, 'not.json');
    writeFileSync(notJson, 'no');
    for (const [args, msg] of [
      [[join(tmp, 'nope.json')], /cannot read/],
      [[notJson], /not a JSON fuzz summary/],
    ] as const) {
      const r = await runCli(['fuzz', 'merge', ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
    }
    const half = join(tmp, 'half.json');
    writeFileSync(half, JSON.stringify(summary('1/2', [])));
    const r = await runCli(['fuzz', 'merge', half]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/shard\(s\) 0\/2 missing/);
  });
});
