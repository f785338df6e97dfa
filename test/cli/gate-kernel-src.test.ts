// gate --kernel-src TREE, live: a copy of the kernel files fetched for the s390x/riscv64 oracles
// (Debian's 6.12.107, $CACHE/kernel/src/6.12-ports/linux: the top-level Makefile and the loader's
// files) is gated as a porter's tree. The clean copy passes against the kernel-6.12 model; the same
// copy with one line of the riscv64 hook changed (R_RISCV_ADD32 subtracts) fails, naming the type.
// The oracles are built in a scratch cache that is removed afterwards: the shared cache is not
// written (its released riscv64 oracle's build.json is the same before and after).
// Needs the fetched sources, riscv64-linux-gnu-gcc and qemu-riscv64-static: without CI=true a
// missing one skips (with the reason), with CI=true it fails.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheDir } from '../../src/oracle/registry.ts';
import { kernelSourceDir } from '../../src/oracle/kernel.ts';
import { runCli as run } from '../cli-run.ts';

const CI = process.env.CI === 'true';
const fetched = join(kernelSourceDir('6.12', 'riscv64'), 'linux');
const onPath = (cmd: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const missing = [
  ...(existsSync(join(fetched, 'arch/riscv/kernel/elf_kexec.c')) ? [] : [`the 6.12 ports sources in ${fetched} (scripts/fetch-kernel.sh 6.12 --set ports)`]),
  ...['riscv64-linux-gnu-gcc', 'qemu-riscv64-static'].filter((c) => !onPath(c)).map((c) => `${c} (scripts/setup-toolchains.sh)`),
];
const work = mkdtempSync(join(tmpdir(), 'po-kernel-src-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const sharedBuild = join(cacheDir(), 'build', 'kernel-6.12-riscv64', 'build.json');
const snapshot = () => (existsSync(sharedBuild) ? readFileSync(sharedBuild, 'utf8') : '');
const env = { CI: undefined };

describe('gate --kernel-src', () => {
  // Declared only when something is missing, so a complete machine reports no skipped test.
  if (missing.length > 0) {
    if (CI) it('has what it needs (CI=true)', () => { throw new Error(`missing: ${missing.join('; ')}`); });
    else it.skip(`skipped: missing ${missing.join('; ')}`, () => {});
  }

  describe.runIf(missing.length === 0)('live (scratch cache)', () => {
    it('a clean copy of Debian\'s 6.12 passes against the kernel-6.12 model; the shared cache is not written', async () => {
      const before = snapshot();
      const tree = join(work, 'clean');
      cpSync(fetched, tree, { recursive: true });
      const r = await run(['gate', '--no-fuzz', '--kernel-src', tree, '--target', 'riscv64', '--json'], env);
      expect(r.code, r.err).toBe(0);
      const j = JSON.parse(r.out) as { unexplained: number; sources: { oracle: string; mode: string; cases: number }[] };
      expect(j.sources.map((o) => [o.oracle, o.mode])).toEqual([['kernel-6.12/riscv64', 'live']]);
      expect(j.sources[0]!.cases).toBeGreaterThan(20);
      expect(j.unexplained).toBe(0);
      expect(snapshot()).toBe(before);
    }, 300_000);

    it('one changed line in the riscv64 hook (R_RISCV_ADD32 subtracts) fails the gate and names the type', async () => {
      const tree = join(work, 'bug');
      cpSync(fetched, tree, { recursive: true });
      const f = join(tree, 'arch/riscv/kernel/elf_kexec.c');
      const text = readFileSync(f, 'utf8');
      const line = /case R_RISCV_ADD32:\n\t+\*\(u32 \*\)loc \+= val;/;
      expect(text).toMatch(line);
      writeFileSync(f, text.replace(line, (m) => m.replace('+= val', '-= val')));
      const r = await run(['gate', '--no-fuzz', '--kernel-src', tree, '--target', 'riscv64'], env);
      expect(r.code, r.err).toBe(1);
      expect(r.out).toMatch(/R_RISCV_ADD32/);
      expect(r.out).not.toMatch(/\b0 unexplained/);
    }, 300_000);

    it('a tree whose Makefile says a version with no model is a usage error naming it', async () => {
      const tree = join(work, 'v613');
      cpSync(fetched, tree, { recursive: true });
      const mk = join(tree, 'Makefile');
      writeFileSync(mk, readFileSync(mk, 'utf8').replace(/^PATCHLEVEL = 12$/m, 'PATCHLEVEL = 13'));
      const r = await run(['gate', '--no-fuzz', '--kernel-src', tree], env);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/Linux 6\.13 has no kernel model \(modelled: 5\.10, 6\.1, 6\.12\)/);
    });
  });

  it('--kernel-src and --kexec-tools together are a usage error', async () => {
    const r = await run(['gate', '--no-fuzz', '--kernel-src', work, '--kexec-tools', work], env);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--kexec-tools and --kernel-src each gate one tree/);
  });
});
