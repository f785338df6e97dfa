// The gate's fuzz stage: the same seed gives the same cases, a different seed others; --no-fuzz
// (fuzz: null) skips it; a finding fails the gate and is reported in every format.
import { describe, expect, it, afterEach } from 'vitest';
import { createHash } from 'node:crypto';
import { setLiveOpener } from '../../src/cli.ts';
import { runCli as run } from '../cli-run.ts';
import { gateFailed, runFuzzStage, runGate, type GateTarget } from '../../src/gate/gate.ts';
import { parseOracleSpec } from '../../src/fuzz/oracles.ts';
import { DEFAULT_CORPUS } from '../../src/validate/validate.ts';
import { formatJson, formatJunit, formatMarkdown, formatText } from '../../src/validate/report.ts';
import type { OracleResponse } from '../../src/oracle/batch.ts';
import type { LoadRequest } from '../../src/types.ts';
import { join } from 'node:path';

afterEach(() => setLiveOpener(undefined));

/** A stand-in oracle that records what it is asked and answers every request with a crash. */
function recordingTarget(seen: string[], opened: { n: number }): GateTarget {
  const spec = parseOracleSpec('kexec-tools-2.0.32/x86_64');
  const answer = (r: LoadRequest): OracleResponse => {
    seen.push(`${createHash('sha256').update(r.elf).digest('hex').slice(0, 16)} ${r.base.toString(16)} ${r.fill}`);
    return { kind: 'crashed', signal: 'SIGSEGV' };
  };
  return {
    spec,
    open: async () => {
      opened.n++;
      return { spec, run: async (r) => answer(r), runMany: async (rs) => rs.map(answer), close: async () => undefined, kill: () => undefined };
    },
  };
}

const registryPath = join(DEFAULT_CORPUS, 'known-divergences.json');

describe('gate fuzz stage', () => {
  it('sends the same cases for the same seed, and other cases for another seed', async () => {
    const a: string[] = [];
    const b: string[] = [];
    const c: string[] = [];
    const opened = { n: 0 };
    const fuzz = { seed: 7, cases: 60, minimize: false };
    const ra = await runFuzzStage([recordingTarget(a, opened)], fuzz, { registryPath });
    await runFuzzStage([recordingTarget(b, opened)], fuzz, { registryPath });
    await runFuzzStage([recordingTarget(c, opened)], { ...fuzz, seed: 8 }, { registryPath });
    // The campaign's own requests come first (fresh-process checks of findings follow them).
    expect(a.slice(0, 60)).toEqual(b.slice(0, 60));
    expect(a.slice(0, 60)).not.toEqual(c.slice(0, 60));
    expect(new Set(a.slice(0, 60)).size).toBeGreaterThan(50);
    expect(ra.oracles[0]!.cases).toBe(60);
    expect(ra.modes).toEqual(['structured']);
    // Every answer is a crash the TS engine does not predict: findings.
    expect(ra.findings).toBeGreaterThan(0);
  });

  it('is skipped with fuzz: null (--no-fuzz): no oracle is opened and the report has no fuzz section', async () => {
    const opened = { n: 0 };
    const r = await runGate({ corpusDir: DEFAULT_CORPUS, sources: [], fuzzTargets: [recordingTarget([], opened)], fuzz: null });
    expect(opened.n).toBe(0);
    expect(r.fuzz).toBeUndefined();
    expect(formatText(r)).not.toMatch(/Fuzz stage/);
  });

  it('fails the gate on a finding, stops at the first one when asked, and reports it in every format', async () => {
    const seen: string[] = [];
    const r = await runGate({
      corpusDir: DEFAULT_CORPUS, sources: [], fuzzTargets: [recordingTarget(seen, { n: 0 }), recordingTarget([], { n: 0 })],
      fuzz: { seed: 1, cases: 200, minimize: false }, stopEarly: true,
    });
    expect(gateFailed(r)).toBe(true);
    expect(r.fuzz!.findings).toBe(1);
    expect(r.fuzz!.stoppedEarly).toBe(true);
    expect(r.fuzz!.oracles).toHaveLength(1);
    expect(r.fuzz!.oracles[0]!.cases).toBeLessThan(200);
    const key = r.fuzz!.oracles[0]!.findings[0]!.key;
    expect(key).toMatch(/oracle-crashed/);
    expect(formatText(r)).toContain(key);
    expect(formatMarkdown(r)).toContain(key);
    expect(JSON.parse(formatJson(r)).fuzz.findings).toBe(1);
    expect(formatJunit(r)).toMatch(/<testsuite name="fuzz kexec-tools-2\.0\.32\/x86_64 [^"]*" tests="1" failures="1"/);
  });
});

describe('gate CLI fuzz options', () => {
  it('--fuzz-cases asks for the stage; with stored references only it says it did not run', async () => {
    const r = await run(['gate', '--stored-only', '--allow-missing', '--only', 'debian-kexec-tools-2.0.32-3-amd64', '--fuzz-cases', '10'], { CI: undefined });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Fuzz stage \(seed 1, 10 structured cases per oracle\):\n {2}not run: no live oracle to fuzz/);
  }, 60_000);

  it('--no-fuzz leaves the stage out even when CI=true', async () => {
    setLiveOpener(async () => []);
    const r = await run(['gate', '--only', 'debian-kexec-tools-2.0.32-3-amd64', '--allow-missing', '--no-fuzz'], { CI: 'true' });
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/Fuzz stage/);
    setLiveOpener(async () => []);
    const r2 = await run(['gate', '--only', 'debian-kexec-tools-2.0.32-3-amd64', '--allow-missing'], { CI: 'true' });
    expect(r2.out).toMatch(/Fuzz stage/);
  }, 60_000);

  it('rejects --fuzz-cases 0', async () => {
    const r = await run(['gate', '--stored-only', '--allow-missing', '--fuzz-cases', '0'], { CI: undefined });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--fuzz-cases must be at least 1/);
  });
});
