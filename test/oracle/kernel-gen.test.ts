// The generator of the kernel oracles' C file (src/oracle/kernel-gen.ts, run by
// scripts/build-kernel-oracle.sh through the CLI). Reference: each built kernel oracle's own
// kernel_functions.c and build.json in the cache, written when that oracle was built. The
// generated file must be the one the oracle was compiled from, apart from its first comment line
// (which names the generator).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli-run.ts';
import { findKernelOracle, KERNEL_BUILDS, KERNEL_VARIANTS, KERNEL_VERSIONS, kernelSourceDir } from '../../src/oracle/kernel.ts';
import { cacheDir, isOracleUnavailableError } from '../../src/oracle/registry.ts';
import { writeKernelSources } from '../../src/oracle/kernel-gen.ts';
import { CI } from '../live-oracle.ts';

const scratch = mkdtempSync(join(tmpdir(), 'po-kernel-gen-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function built(version: (typeof KERNEL_VERSIONS)[number], variant: (typeof KERNEL_VARIANTS)[number]) {
  try {
    return findKernelOracle(version, variant);
  } catch (e) {
    if (!isOracleUnavailableError(e)) throw e;
    if (CI) throw e;
    console.warn(`skipping kernel ${version} ${variant}: ${(e as Error).message}`);
    return undefined;
  }
}

const body = (c: string): string => c.slice(c.indexOf('\n') + 1);

describe('writeKernelSources', () => {
  for (const version of KERNEL_VERSIONS) {
    it(`kernel ${version}: the C file and function records each built oracle was compiled from`, () => {
      const variants = KERNEL_BUILDS.filter((b) => b.version === version).map((b) => b.variant);
      const builds = variants.map((v) => built(version, v));
      if (builds.some((b) => !b)) return;
      // Read-only view of the fetched sources (both source sets); everything is written under the scratch cache.
      const cache = join(scratch, version);
      mkdirSync(join(cache, 'kernel', 'src'), { recursive: true });
      for (const dir of new Set(variants.map((v) => kernelSourceDir(version, v, '')))) symlinkSync(join(cacheDir(), dir), join(cache, dir));
      const written = writeKernelSources(cache, [version], variants);
      expect(written.map((w) => [w.version, w.variant, w.changed])).toEqual(variants.map((v) => [version, v, true]));
      for (const [i, w] of written.entries()) {
        const b = builds[i]!;
        const c = readFileSync(join(w.dir, 'kernel_functions.c'), 'utf8');
        expect(c.split('\n')[0]).toContain('src/oracle/kernel-gen.ts');
        expect(body(c)).toBe(body(readFileSync(join(b.dir, 'kernel_functions.c'), 'utf8')));
        expect(w.functions).toEqual(b.info.functions);
        expect(JSON.parse(readFileSync(join(w.dir, 'functions.json'), 'utf8'))).toEqual(b.info.functions);
      }
      // A second run rewrites nothing.
      expect(writeKernelSources(cache, [version], variants).map((w) => w.changed)).toEqual(variants.map(() => false));
    });
  }

  it('sources not fetched: OracleUnavailableError naming the fetch script', () => {
    const empty = join(scratch, 'empty');
    expect(() => writeKernelSources(empty, ['6.12'], ['x86_64'])).toThrow(/kernel\/kexec_file\.c is missing.*fix: scripts\/fetch-kernel\.sh/);
  });

  it('CLI: an unknown variant is a usage error (exit 2)', async () => {
    const r = await runCli(['oracle', 'gen-kernel-sources', '--cache', join(scratch, 'cli'), '--variants', 'arm64']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown variant arm64/);
  });
});
