// Replay of coverage-guided fuzzer inputs (raw ELF files) through the differential, and the
// libFuzzer / AFL++ entry point itself (oracle/kexec-tools/fuzz-entry.c, built by
// scripts/build-fuzz-harness.sh). The live parts need the built harness and the kexec-tools 2.0.25
// x86_64 oracle: without CI=true a missing build skips with the command that builds it; with
// CI=true it fails.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.ts';
import { ElfFile } from '../../src/elf/reader.ts';
import { SHT_RELA } from '../../src/elf/constants.ts';
import { cacheDir } from '../../src/oracle/registry.ts';
import { CI, kexecToolsOracleBuilt } from '../live-oracle.ts';
import { replayCases, replayFiles } from '../../src/fuzz/replay.ts';
import { parseFuzzOptions, REPO_ROOT, runFuzz } from '../../src/fuzz/run.ts';

const tmp = mkdtempSync(join(tmpdir(), 'po-replay-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DEBIAN = join(REPO_ROOT, 'corpus', 'elf', 'debian-kexec-tools-2.0.25-3_deb12u3-amd64.ro');

/**
 * The Debian purgatory with its first RELA entry's r_offset set to 2^36: kexec-elf-rel.c:355 forms
 * `location = sh_data + r_offset` with no bounds check (kexec-tools 2.0.25), so the C loader writes
 * 64 GiB past the image (a fault); the TS model names that access as out-of-bounds.
 */
function wildROffset(): Uint8Array {
  const b = new Uint8Array(readFileSync(DEBIAN));
  const rela = new ElfFile(b).sections.find((s) => s.type === SHT_RELA)!;
  new DataView(b.buffer).setBigUint64(Number(rela.offset), 1n << 36n, true);
  return b;
}

describe('replay inputs', () => {
  it('reads files and directories, skipping the fuzzers\' bookkeeping files', () => {
    const d = join(tmp, 'crashes');
    mkdirSync(d);
    writeFileSync(join(d, 'README.txt'), 'AFL++ writes this beside its crashes');
    writeFileSync(join(d, '.state'), '');
    writeFileSync(join(d, 'id:000001,sig:11'), 'b');
    writeFileSync(join(d, 'id:000000,sig:06'), 'a');
    const one = join(tmp, 'crash-1');
    writeFileSync(one, 'c');
    expect(replayFiles([d, one])).toEqual([join(d, 'id:000000,sig:06'), join(d, 'id:000001,sig:11'), one]);
  });

  it('a missing path or an empty directory is a usage error', () => {
    expect(() => replayFiles([join(tmp, 'nope')])).toThrow(UsageError);
    const e = join(tmp, 'empty');
    mkdirSync(e);
    expect(() => replayFiles([e])).toThrow(/no input files/);
  });

  it('one malformed-mode case per file, at the given base and fill, with no symbol writes', () => {
    const [c] = replayCases(['/x/crash-1'], 'x86_64', { base: 0x200000n, fill: 0xa5 });
    expect(c).toEqual({
      mode: 'malformed', arch: 'x86_64', source: { kind: 'corpus', id: 'replay:crash-1', file: '/x/crash-1' },
      patches: [], base: 0x200000n, fill: 0xa5, symbols: [],
    });
  });

  it('CLI options: --replay needs an oracle, --base/--fill need --replay, bad values are usage errors', () => {
    expect(() => parseFuzzOptions({ replay: ['x'] })).toThrow(/needs at least one --oracle/);
    expect(() => parseFuzzOptions({ oracle: ['kexec-tools-2.0.25/x86_64'], replay: ['x'], cases: '5' })).toThrow(/--cases does not apply/);
    expect(() => parseFuzzOptions({ base: '0x1000' })).toThrow(/--replay only/);
    expect(() => parseFuzzOptions({ oracle: ['kexec-tools-2.0.25/x86_64'], replay: ['x'], base: 'zz' })).toThrow(UsageError);
    expect(() => parseFuzzOptions({ oracle: ['kexec-tools-2.0.25/x86_64'], replay: ['x'], fill: '0x100' })).toThrow(UsageError);
    const o = parseFuzzOptions({ oracle: ['kexec-tools-2.0.25/x86_64'], replay: ['x'], base: '0x200000', fill: '0xa5' });
    expect([o.replay, o.replayBase, o.replayFill]).toEqual([['x'], 0x200000n, 0xa5]);
  });
});

describe('live replay: kexec-tools 2.0.25 x86_64', () => {
  const have = kexecToolsOracleBuilt('2.0.25', 'x86_64', 'live replay');
  it.skipIf(!have)('a fuzzer crash file goes through the differential: the C fault is the access the model predicts', async () => {
    const d = join(tmp, 'live');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'crash-wild-r_offset'), wildROffset());
    writeFileSync(join(d, 'clean'), readFileSync(DEBIAN));
    const s = await runFuzz({
      oracles: ['kexec-tools-2.0.25/x86_64'], seed: 1, replay: [d], out: join(tmp, 'out'), minimize: false, progress: 'none', confirm: false,
    }, { out: () => {}, err: () => {} });
    const c = s.campaigns[0]!;
    expect(c.error).toBeUndefined();
    expect(c.cases).toBe(2);
    expect(c.byClass).toEqual({ match: 1, 'oracle-crashed': 1 });
    expect(s.findings).toBe(0);
    const sig = c.signatures.find((x) => x.cls === 'oracle-crashed')!;
    expect(sig.relocation).toBe('R_X86_64_64'); // the first RELA entry of the Debian purgatory
    expect(sig.detail).toMatch(/^out-of-bounds:relocation-location~SIG(SEGV|BUS)$/);
    expect(sig.explainedBy).toEqual(['kt-off-by-one-section-index']);
  });
});

const HARNESS = join(cacheDir(), 'build', 'kexec-tools-2.0.25-x86_64-fuzz');

function harnessBuilt(engine: 'libfuzzer' | 'afl'): boolean {
  if (existsSync(join(HARNESS, engine))) return true;
  const msg = `${join(HARNESS, engine)} is not built (scripts/setup-toolchains.sh --fuzz && scripts/build-fuzz-harness.sh --kexec-tools 2.0.25)`;
  if (CI) throw new Error(msg);
  console.warn(`skipping: ${msg}`);
  return false;
}

describe('coverage-guided entry point (fuzz-entry.c)', () => {
  const corpusX86 = ['debian-kexec-tools-2.0.25-3_deb12u3-amd64.ro', 'debian-kexec-tools-2.0.32-3-amd64.ro', 'src-kexec-tools-2.0.25-x86_64-gcc.ro', 'src-kexec-tools-2.0.32-x86_64-clang-lld.ro']
    .map((f) => join(REPO_ROOT, 'corpus', 'elf', f));

  for (const engine of ['libfuzzer', 'afl'] as const) {
    const have = harnessBuilt(engine);
    it.skipIf(!have)(`${engine}: real purgatories load under ASan+UBSan without a report`, async () => {
      const args = engine === 'libfuzzer' ? ['-runs=0', ...corpusX86] : corpusX86;
      const r = await execa(join(HARNESS, engine), args, { reject: false, all: true });
      expect(r.exitCode, r.all).toBe(0);
      expect(r.all).not.toMatch(/runtime error|AddressSanitizer/);
    });
    it.skipIf(!have)(`${engine}: the unchecked r_offset (kexec-elf-rel.c:355) is a crash in machine_apply_elf_rel`, async () => {
      const f = join(tmp, `wild-${engine}`);
      writeFileSync(f, wildROffset());
      const r = await execa(join(HARNESS, engine), [f], { reject: false, all: true });
      expect(r.exitCode).not.toBe(0);
      expect(r.all).toMatch(/AddressSanitizer: (SEGV|unknown-crash|wild)/);
      expect(r.all).toMatch(/machine_apply_elf_rel .*kexec-elf-rel-x86_64\.c/);
    });
    it.skipIf(!have)(`${engine}: a die() is a normal return, not a crash`, async () => {
      const f = join(tmp, `not-elf-${engine}`);
      writeFileSync(f, 'not an ELF file at all');
      const r = await execa(join(HARNESS, engine), engine === 'libfuzzer' ? ['-runs=0', f] : [f], { reject: false, all: true });
      expect(r.exitCode, r.all).toBe(0);
    });
  }
});
