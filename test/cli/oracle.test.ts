// `purgatory-oracle oracle setup|build|build-kernel|list|run` through main(), the CLI's front door.
// Listing and argument errors run on a throw-away cache ($PURGATORY_ORACLE_CACHE); the live `run`
// suites use the real cache's native x86_64 oracles (kexec-tools 2.0.25, kernel 6.1) and check that
// the oracle's outcome, printed as `relocate` prints it, equals the TS engine's on corpus
// purgatories. Without CI=true an unbuilt oracle skips with the command that builds it; with
// CI=true it fails.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli as run } from '../cli-run.ts';
import { load } from '../../src/engine.ts';
import { imageManifest } from '../../src/image.ts';
import { buildObject } from '../../src/elf/writer.ts';
import { EM_X86_64, SHF_ALLOC, SHF_EXECINSTR, STT_FUNC } from '../../src/elf/constants.ts';
import { R_X86_64 } from '../../src/arch/x86_64.ts';
import { isOracleUnavailableError, kexecToolsBuildDir, readKexecToolsBuild, REPO_DIR } from '../../src/oracle/registry.ts';
import { findKernelOracle } from '../../src/oracle/kernel.ts';

const CI = process.env.CI === 'true';

const work = mkdtempSync(join(tmpdir(), 'po-cli-oracle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const emptyCache = join(work, 'empty-cache');
mkdirSync(emptyCache);

describe('oracle: commands and argument errors', () => {
  it('lists setup, build, build-kernel, list and run', async () => {
    const r = await run(['oracle', '--help']);
    expect(r.code).toBe(0);
    for (const c of ['setup', 'build', 'build-kernel', 'list', 'run']) expect(r.out).toMatch(new RegExp(`^  ${c} `, 'm'));
  });

  it.each([
    ['a malformed oracle id', ['oracle', 'run', '--oracle', 'bogus', 'x.ro', '--base', '0x100000'], /--oracle 'bogus': expected kexec-tools-<version>\/<target>/],
    ['a missing --base', ['oracle', 'run', '--oracle', 'kexec-tools-2.0.25/x86_64', 'x.ro'], /required option '--base <addr>'/],
    ['an unreadable file', ['oracle', 'run', '--oracle', 'kexec-tools-2.0.25/x86_64', join(work, 'nope.ro'), '--base', '0x100000'], /cannot read .*nope\.ro/],
    ['a --fill over 255', ['oracle', 'run', '--oracle', 'kexec-tools-2.0.25/x86_64', 'x.ro', '--base', '0x100000', '--fill', '256'], /--fill must be a byte/],
    ['an unknown build target', ['oracle', 'build', '--target', 'sparc'], /argument 'sparc' is invalid/],
    ['an unknown kernel version', ['oracle', 'build-kernel', '4.19'], /kernel version '4\.19': expected 5\.10, 6\.1, 6\.12 or all/],
    ['--kernel-src without a version', ['oracle', 'build-kernel', '--kernel-src', '/tmp'], /--kernel-src builds one version/],
    ['an unknown kexec-tools version to fetch', ['oracle', 'setup', '--kexec-tools', '1.0'], /known versions are 2\.0\.20, 2\.0\.25, 2\.0\.29, 2\.0\.32/],
  ])('%s: exit 2 (usage), nothing run', async (_why, argv, message) => {
    const r = await run(argv, { PURGATORY_ORACLE_CACHE: emptyCache });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('run: an oracle that is not built is exit 2, with the command that builds it', async () => {
    const elf = join(work, 'got32.ro');
    writeFileSync(elf, unknownTypeObject());
    const r = await run(['oracle', 'run', '--oracle', 'kexec-tools-2.0.25/x86_64', elf, '--base', '0x100000'], { PURGATORY_ORACLE_CACHE: emptyCache });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/kexec-tools 2\.0\.25 x86_64 oracle is not built .*fix: npx purgatory-oracle oracle build --kexec-tools 2\.0\.25 --target x86_64/);
    const k = await run(['oracle', 'run', '--oracle', 'kernel-6.1/x86_64', elf, '--base', '0x100000'], { PURGATORY_ORACLE_CACHE: emptyCache });
    expect(k.code).toBe(2);
    expect(k.err).toMatch(/fix: npx purgatory-oracle oracle build-kernel 6\.1 --variant x86_64/);
  });

  it('build: a failing build script is exit 2 (oracle unavailable), with its reason', async () => {
    const r = await run(['oracle', 'build', '--kexec-tools', join(work, 'no-such-tree'), '--target', 'x86_64'], { PURGATORY_ORACLE_CACHE: join(work, 'build-cache') });
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/scripts\/build-oracle\.sh --kexec-tools \/.*no-such-tree --target x86_64 failed \(exit \d\)/);
  }, 60_000);
});

describe('oracle list', () => {
  it('an empty cache: nothing listed, exit 0, and the build commands on stderr', async () => {
    const r = await run(['oracle', 'list'], { PURGATORY_ORACLE_CACHE: emptyCache });
    expect(r).toMatchObject({ code: 0, out: '' });
    expect(r.err).toMatch(/no oracle is built; build one with: purgatory-oracle oracle build/);
    expect((await run(['oracle', 'list', '--json'], { PURGATORY_ORACLE_CACHE: emptyCache })).out).toBe('[]\n');
  });

  it('builds as the scripts record them: id, version, target, features, page size, emulator, paths', async () => {
    const cache = join(work, 'listed-cache');
    const kt = join(cache, 'build', 'kexec-tools-2.0.25-ppc64le');
    const kernel = join(cache, 'build', 'kernel-6.1-x86_64');
    for (const [dir, info] of [
      [kt, {
        oracle: 'kexec-tools', version: '2.0.25', target: 'ppc64le', sanitize: false, source_path: '/src/kexec-tools-2.0.25',
        emulator: 'qemu-ppc64le-static', built_at: '2026-01-02T03:04:05Z',
        info: { oracle: 'kexec-tools', protocol: 1, pagesize: 4096, features: ['same-elf'] },
      }],
      [kernel, { kernelVersion: '6.1', variant: 'x86_64', pageSize: 4096, source: 'debian', packageVersion: '6.1.176-1', builtAt: '2026-01-02T03:04:06Z' }],
    ] as const) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'build.json'), JSON.stringify(info));
      writeFileSync(join(dir, 'oracle'), '#!/bin/sh\nexit 1\n');
      chmodSync(join(dir, 'oracle'), 0o755);
    }
    const r = await run(['oracle', 'list', '--json'], { PURGATORY_ORACLE_CACHE: cache });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([
      {
        id: 'kexec-tools-2.0.25/ppc64le', released: true, loader: 'kexec-tools', version: '2.0.25', target: 'ppc64le', sanitize: false, local: false,
        dir: kt, oracle: join(kt, 'oracle'), emulator: 'qemu-ppc64le-static', features: ['same-elf'], pageSize: 4096,
        source: '/src/kexec-tools-2.0.25', builtAt: '2026-01-02T03:04:05Z',
      },
      {
        id: 'kernel-6.1/x86_64', released: true, loader: 'kernel', version: '6.1', target: 'x86_64', sanitize: false, local: false,
        dir: kernel, oracle: join(kernel, 'oracle'), emulator: null, features: [], pageSize: 4096,
        source: 'linux 6.1.176-1', builtAt: '2026-01-02T03:04:06Z',
      },
    ]);
    const t = await run(['oracle', 'list'], { PURGATORY_ORACLE_CACHE: cache });
    expect(t.out.split('\n')[0]).toMatch(/^kexec-tools-2\.0\.25\/ppc64le\s+released\s+under qemu-ppc64le-static\s+page 4096\s+features same-elf\s+\/src\/kexec-tools-2\.0\.25\s+\S+\/oracle$/);
    expect(t.out.split('\n')[1]).toMatch(/^kernel-6\.1\/x86_64\s+released\s+native\s+page 4096\s+features -\s+linux 6\.1\.176-1\s+\S+\/oracle$/);
  });
});

/** A one-relocation x86_64 object whose type (R_X86_64_GOT32) neither loader handles. */
function unknownTypeObject(): Uint8Array {
  return buildObject({
    endian: 'little', machine: EM_X86_64,
    sections: [{ name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(0x20), addralign: 16n }],
    symbols: [{ name: 'fn', section: '.text', value: 0n, type: STT_FUNC }],
    relocations: [{ section: '.text', offset: 0n, type: R_X86_64.GOT32, symbol: 'fn' }],
  });
}

/** The build, or why there is none (it throws under CI=true, as the other live suites do). */
function liveOracle(find: () => unknown): string | undefined {
  try {
    find();
    return undefined;
  } catch (e) {
    if (!isOracleUnavailableError(e)) throw e;
    return (e as Error).message;
  }
}

const CASES = [
  {
    oracle: 'kexec-tools-2.0.25/x86_64', profile: 'kexec-tools-2.0.25', file: 'corpus/elf/debian-kexec-tools-2.0.25-3_deb12u3-amd64.ro',
    missing: liveOracle(() => readKexecToolsBuild(kexecToolsBuildDir('2.0.25', 'x86_64'), { version: '2.0.25', target: 'x86_64' })),
    unknown: 'rejected (unknown-relocation): Unhandled rela relocation: R_X86_64_GOT32\n',
  },
  {
    oracle: 'kernel-6.1/x86_64', profile: 'kernel-6.1', file: 'corpus/elf/debian-linux-6.1.176-1-amd64.ro',
    missing: liveOracle(() => findKernelOracle('6.1', 'x86_64')),
    unknown: 'rejected (unknown-relocation): kexec: Unknown rela relocation: 3\n',
  },
];

describe.each(CASES)('oracle run --oracle $oracle (live)', ({ oracle, profile, file, missing, unknown }) => {
  if (missing) {
    if (CI) it('is built (CI=true)', () => { throw new Error(missing); });
    else it.skip(`not built here: ${missing}`, () => {});
    return;
  }
  const elf = join(REPO_DIR, file);
  const base = '0x100000';

  it(`${file}: the oracle's image, layout and sections equal the TS engine's (--json)`, async () => {
    const r = await run(['oracle', 'run', '--oracle', oracle, elf, '--base', base, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const got = JSON.parse(r.out) as { oracle: string; profile: string; kind: string; image: Record<string, unknown> };
    expect(got).toMatchObject({ oracle, profile, kind: 'ok' });
    const ts = load({ elf: new Uint8Array(readFileSync(elf)), base: BigInt(base), fill: 0, symbols: [] }, { profile, target: 'x86_64' });
    if (ts.kind !== 'ok') expect.fail(`TS engine: ${ts.kind}`);
    const { relocations: _log, hostAddress: _host, ...want } = imageManifest(ts.image);
    const { hostAddress: _h, ...image } = got.image;
    expect(image).toEqual(want);
  });

  it(`${file}: the text is relocate's, line for line, but for the relocation log`, async () => {
    const o = await run(['oracle', 'run', '--oracle', oracle, elf, '--base', base]);
    const t = await run(['relocate', elf, '--base', base, '--profile', profile, '--target', 'x86_64']);
    expect([o.code, t.code]).toEqual([0, 0]);
    const ol = o.out.trimEnd().split('\n');
    const tl = t.out.trimEnd().split('\n');
    expect(ol.slice(0, -1)).toEqual(tl.slice(0, -1));
    expect(ol.at(-1)).toBe('  relocation log: not reported by the oracle');
    expect(tl.at(-1)).toMatch(/^ {2}\d+ relocation\(s\) applied$/);
  });

  it('an unhandled type (R_X86_64_GOT32): exit 1, and the same rejection line as relocate', async () => {
    const obj = join(work, `got32-${profile}.ro`);
    writeFileSync(obj, unknownTypeObject());
    const o = await run(['oracle', 'run', '--oracle', oracle, obj, '--base', base]);
    const t = await run(['relocate', obj, '--base', base, '--profile', profile]);
    expect(o).toMatchObject({ code: 1, out: unknown });
    expect(t).toMatchObject({ code: 1, out: unknown });
  });
});
