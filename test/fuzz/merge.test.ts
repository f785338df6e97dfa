// mergeSummaries (src/fuzz/merge.ts): the summaries of a campaign's parallel jobs → one summary.
// Hand-written job summaries; the expected values are worked out from the merge rules by hand.
import { describe, expect, it } from 'vitest';
import { emptySummary, type CampaignSummary, type SignatureSummary } from '../../src/fuzz/campaign.ts';
import { mergeSummaries } from '../../src/fuzz/merge.ts';

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
