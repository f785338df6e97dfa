// Replays every fuzz reproducer through the TS engine against the oracle outcome stored beside it
// (no oracle needed). corpus/regressions/<signature>/: each must match, or be explained by an entry
// of corpus/known-divergences.json; a confirmation must still match, and still diverge with its
// profile switch turned off; a robustness reproducer must load without an untyped exception.
// corpus/regressions-open/<signature>/: open findings (TS engine bugs, reported with these
// reproducers): they are expected to diverge unexplained; once fixed, the test says to move them.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load } from '../../src/engine.ts';
import { loadRegistry } from '../../src/validate/registry.ts';
import { divergesWithoutSwitch, evaluate } from '../../src/fuzz/evaluate.ts';
import { parseOracleSpec } from '../../src/fuzz/oracles.ts';
import { listReproducers, readReproducer, type Reproducer } from '../../src/fuzz/reproducer.ts';
import { REPO_ROOT } from '../../src/fuzz/run.ts';

const REGRESSIONS = join(REPO_ROOT, 'corpus', 'regressions');
const OPEN = join(REPO_ROOT, 'corpus', 'regressions-open');
const registry = loadRegistry(join(REPO_ROOT, 'corpus', 'known-divergences.json'));

interface Verdict {
  covered: boolean;
  why: string;
}

function replay(r: Reproducer): Verdict {
  const q = r.request;
  if (q.kind === 'robustness') {
    const t0 = performance.now();
    const o = load(r.req, { profile: q.profile, target: q.target }); // throws on an untyped exception
    const ms = performance.now() - t0;
    return { covered: ms < 1000, why: `load() returned ${o.kind} in ${ms.toFixed(0)} ms` };
  }
  if (!q.oracle || !r.ref) return { covered: false, why: 'no oracle outcome stored' };
  const spec = parseOracleSpec(q.oracle.id);
  const ev = evaluate(spec, registry, r.req, r.ref);
  if (q.kind === 'confirmation') {
    const entry = registry.entries.find((e) => e.id === q.registry[0]);
    if (!entry) return { covered: false, why: `confirms registry entry ${q.registry[0]}, which no longer exists` };
    if (ev.cmp.cls !== 'match') return { covered: false, why: `no longer matches the oracle: ${ev.cmp.cls} ${ev.cmp.note ?? ''}` };
    if (!divergesWithoutSwitch(spec, entry, r.req, r.ref)) return { covered: false, why: `matches, but no longer exercises ${entry.id} (same result with ${entry.switch} off)` };
    return { covered: true, why: `matches; diverges with ${entry.switch} off` };
  }
  if (ev.agree) return { covered: true, why: ev.cmp.cls };
  if (ev.verdict.explainedBy.length) return { covered: true, why: `${ev.cmp.cls} explained by ${ev.verdict.explainedBy.join(', ')}` };
  return { covered: false, why: `${ev.cmp.cls}, not explained by the registry: ${ev.cmp.note ?? ''} (TS ${ev.ts.kind}${ev.ts.kind === 'rejected' ? ` ${ev.ts.code}` : ''}, oracle ${r.ref.kind})` };
}

const regressions = listReproducers(REGRESSIONS);
const open = listReproducers(OPEN);

describe('fuzz regressions (corpus/regressions): matched or explained by the registry', () => {
  it('there are regressions to replay', () => {
    expect(regressions.length).toBeGreaterThan(0);
  });
  it.each(regressions.map((d) => [d.slice(REGRESSIONS.length + 1), d]))('%s', (_name, dir) => {
    const r = readReproducer(dir);
    const v = replay(r);
    expect(v.covered, `${r.request.signature}: ${v.why}\n  reproducer: ${dir}\n  new divergence classes need an entry in corpus/known-divergences.json (with kexec-tools file:line evidence), or a TS engine fix`).toBe(true);
  });
});

describe('open fuzz findings (corpus/regressions-open): TS engine bugs awaiting a fix', () => {
  // vitest rejects a suite without tests: with every finding fixed, this is the one test.
  if (!open.length) it('none are open', () => expect(open).toEqual([]));
  it.each(open.map((d) => [d.slice(OPEN.length + 1), d]))('%s still diverges (when this fails, the bug is fixed: move the reproducer to corpus/regressions)', (_name, dir) => {
    const r = readReproducer(dir);
    expect(r.request.kind).not.toBe('confirmation');
    expect(replay(r).covered).toBe(false);
  });
});
