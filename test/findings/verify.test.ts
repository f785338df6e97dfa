// findings verify, live: a real patch is proven, a wrong patch and a wrong claim are not. x86_64
// only here (native builds take about a second); .ci/run verifies every finding on every target.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFindings, type Finding } from '../../src/findings/findings.ts';
import { verifyFinding } from '../../src/findings/verify.ts';
import { kexecToolsOracleBuilt } from '../live-oracle.ts';

const live = kexecToolsOracleBuilt('2.0.32', 'x86_64', 'findings verify');
const scratch = mkdtempSync(join(tmpdir(), 'po-findings-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const heap = { ...loadFindings().find((f) => f.id === 'kt-heap-padding')!, targets: ['x86_64'] } as Finding;
const verify = (f: Finding, dir: string) => verifyFinding(f, { scratch: join(scratch, dir) });

describe.runIf(live)('findings verify (kexec-tools 2.0.32, x86_64)', () => {
  it('proves the heap-padding patch: the fill case shows it before, nothing after, and only padding cases change in the corpus', async () => {
    const v = await verify(heap, 'ok');
    expect(v.reasons).toEqual([]);
    expect(v.ok).toBe(true);
    const t = v.targets[0]!;
    // casesFor() gives one non-zero-fill case per input: the only one where heap bytes show.
    expect([t.cases, t.shownBefore, t.unexplainedAfter]).toEqual([5, 1, 0]);
    expect(t.corpusChanged).toBeGreaterThan(0);
    expect(t.corpusChanged).toBe(t.corpusPredicted);
    expect([t.corpusUnexpected, t.corpusUnexplained]).toEqual([0, 0]);
  }, 180_000);
  it('does not prove a patch that fixes something else (the input still differs from abi)', async () => {
    const v = await verify({ ...heap, patch: 'kt-ppc64-rel64-absolute.patch' }, 'wrong-patch');
    expect(v.ok).toBe(false);
    expect(v.targets[0]!.unexplainedAfter).toBe(1);
    expect(v.reasons.join('\n')).toMatch(/still differ from abi after the patch/);
  }, 180_000);
  it('does not prove a patch whose corpus changes the claimed fix does not predict', async () => {
    const v = await verify({ ...heap, fix: [] }, 'no-fix');
    expect(v.ok).toBe(false);
    const t = v.targets[0]!;
    expect(t.corpusPredicted).toBe(0);
    expect(t.corpusUnexpected).toBe(t.corpusChanged);
    expect(t.corpusUnexpected).toBeGreaterThan(0);
  }, 180_000);
});
