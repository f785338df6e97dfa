// validate()'s registry table: only the entries in scope for what the run touched, and an entry
// covers only cases that agree or that it explains (a red run's cases are not "covered").
import { describe, expect, it } from 'vitest';
import { validate } from '../../src/validate/validate.ts';
import { plt32MinusFour, redSources as sources } from '../red-run.ts';

describe('validate: registry coverage', () => {
  // In scope for kexec-tools 2.0.32 on x86_64 (corpus/known-divergences.json): the kexec-tools
  // entries with no target restriction and no version restriction other than 2.0.32.
  const IN_SCOPE = ['kt-no-abi-range-checks', 'kt-heap-padding', 'kt-off-by-one-section-index', 'kt-pointer-below-buffer', 'oracle-harness-allocation-limit'];

  it('lists only the entries in scope; a green run covers kt-no-abi-range-checks (PC32/PLT32 in every ok case)', async () => {
    const r = await validate({ sources: sources() });
    expect(r.unexplained).toBe(0);
    expect(r.registry.map((e) => e.id)).toEqual(IN_SCOPE);
    const e = r.registry.find((x) => x.id === 'kt-no-abi-range-checks')!;
    expect(e.cases).toBe(r.sources[0]!.byClass.match);
    expect([e.unexplainedCases, e.stale]).toEqual([0, false]);
  });

  it('a red run does not count its unexplained cases as covered, and does not call the entry stale', async () => {
    const r = await validate({ sources: sources(), engineOverride: plt32MinusFour });
    expect(r.unexplained).toBeGreaterThan(0);
    const e = r.registry.find((x) => x.id === 'kt-no-abi-range-checks')!;
    expect([e.cases, e.bytes, e.unexplainedCases, e.stale]).toEqual([0, 0, r.unexplained, false]);
    expect(r.registry.map((x) => x.id)).toEqual(IN_SCOPE);
  });
});
