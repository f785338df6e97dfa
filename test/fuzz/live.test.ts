// Live differential fuzzing against the kexec-tools 2.0.25 x86_64 oracle (scripts/build-oracle.sh):
// a small seeded campaign in every mode must find no divergence class that is neither explained by
// the registry nor already known (a reproducer in corpus/regressions or corpus/regressions-open).
// Without CI=true a missing oracle skips with the command that builds it; with CI=true it fails.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kexecToolsOracleBuilt } from '../live-oracle.ts';
import { REPO_ROOT, runFuzz } from '../../src/fuzz/run.ts';

const tmp = mkdtempSync(join(tmpdir(), 'po-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('live fuzz: kexec-tools 2.0.25 x86_64', () => {
  const have = kexecToolsOracleBuilt('2.0.25', 'x86_64', 'live fuzz');

  it.skipIf(!have)('300 seeded cases (structured, mutate, malformed): no new divergence class', async () => {
    const s = await runFuzz({
      oracles: ['kexec-tools-2.0.25/x86_64'], seed: 20261125, cases: 300, out: join(tmp, 'regressions'),
      known: [join(REPO_ROOT, 'corpus', 'regressions'), join(REPO_ROOT, 'corpus', 'regressions-open')],
      minimize: false, progress: 'none',
    }, { out: () => {}, err: () => {} });
    const c = s.campaigns[0]!;
    expect(c.error).toBeUndefined();
    expect(c.cases).toBe(300);
    expect(c.byClass.match ?? 0).toBeGreaterThan(0);
    const fresh = c.signatures.filter((x) => x.finding && !x.known).map((x) => `${x.key} (${x.first.mode} case ${x.first.index}): ${x.note ?? ''}`);
    expect(fresh, 'new divergence classes: reproduce with `purgatory-oracle fuzz --oracle kexec-tools-2.0.25/x86_64 --seed 20261125 --cases 300`').toEqual([]);
  });
});
