// Builds the kernel's own purgatory (arch/<karch>/purgatory/purgatory.ro, the blob kexec_file
// embeds as kexec_purgatory) from Debian's linux source package with Debian's cross compiler, for
// s390x (5.10, 6.1, 6.12) and riscv64 (6.1, 6.12). Debian's kernel images for these architectures
// embed none: their configs leave CONFIG_KEXEC_FILE unset (boot/config-6.1.0-50-s390x and
// boot/config-6.12.117+deb13-riscv64: "# CONFIG_KEXEC_FILE is not set"; bullseye no longer serves
// s390x). So the purgatory comes from Debian's source, configured as Debian configures the
// flavour (debian/config/config + debian/config/<arch>/config), with CONFIG_KEXEC_FILE=y added,
// `make olddefconfig`, `make prepare` and `make arch/<karch>/purgatory/`, in an out-of-tree build
// directory under the cache. The unpacked tree is Debian's (dpkg-source -x, every patch applied).
//
// Usage: npx tsx scripts/corpus/build-kernel-purgatory.ts [--only VERSION-ARCH]... [--dry-run]
// Output: corpus/elf/linux-src-<version>-<arch>.ro and manifest entries (origin kind kernel-source).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { entryFromElf, type KernelSourceOrigin, type ManifestEntry, type ManifestFailure } from '../../src/corpus/manifest.ts';
import { CACHE, CORPUS_ELF, REPO, isMain, log, mergeManifest, runAsync, tail, versionLine } from './common.ts';

interface Task { version: string; suite: string; arch: 's390x' | 'riscv64'; karch: string; triplet: string; why: string }

const SUITES: Record<string, string> = { '5.10': 'bullseye', '6.1': 'bookworm', '6.12': 'trixie' };
const CONFIG_NOTE: Record<string, string> = {
  '5.10/s390x': 'bullseye (LTS) no longer serves s390x: no Debian image to extract from',
  '6.1/s390x': 'linux-image-6.1.0-50-s390x 6.1.176-1, boot/config-6.1.0-50-s390x: "# CONFIG_KEXEC_FILE is not set" (no kexec_purgatory)',
  '6.12/s390x': 'linux-image-6.12.117+deb13-s390x is listed in trixie but the mirror answers 404; the 6.1 image shows the Debian config leaves CONFIG_KEXEC_FILE unset',
  '6.1/riscv64': 'bookworm has no riscv64 (a debian-ports architecture then): no Debian image to extract from',
  '6.12/riscv64': 'linux-image-6.12.117+deb13-riscv64 6.12.117-1, boot/config-6.12.117+deb13-riscv64: "# CONFIG_KEXEC_FILE is not set" (no kexec_purgatory)',
};

export const TASKS: Task[] = [
  ...['5.10', '6.1', '6.12'].map((version): Task => ({ version, suite: SUITES[version]!, arch: 's390x', karch: 's390', triplet: 's390x-linux-gnu', why: CONFIG_NOTE[`${version}/s390x`]! })),
  ...['6.1', '6.12'].map((version): Task => ({ version, suite: SUITES[version]!, arch: 'riscv64', karch: 'riscv', triplet: 'riscv64-linux-gnu', why: CONFIG_NOTE[`${version}/riscv64`]! })),
];

/** The Debian package version the kernel oracle of that series was built from (kernel/src/VERSION-ports). */
function pinnedVersion(version: string): string {
  const p = join(CACHE, 'kernel/src', `${version}-ports`, 'source.json');
  if (!existsSync(p)) throw new Error(`${p} is missing: run scripts/fetch-kernel.sh ${version} --set ports first (the purgatory is built from the oracle's package version)`);
  return (JSON.parse(readFileSync(p, 'utf8')) as { packageVersion: string }).packageVersion;
}

async function must(what: string, cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await runAsync(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${what}: ${cmd} ${args.join(' ')} exited ${r.status}:\n${tail(r.stderr, 20)}`);
  return r.stdout.toString('utf8');
}

export async function build(t: Task, buildRoot = join(CACHE, 'corpus/kernel-build')): Promise<ManifestEntry> {
  const debianVersion = pinnedVersion(t.version);
  const treeRoot = join(CACHE, 'corpus/kernel-tree', t.version);
  const out = (await must('unpack', 'bash', [join(REPO, 'scripts/debian-apt.sh'), 'source', t.suite, `linux=${debianVersion}`, treeRoot])).trim().split('\n').pop()!;
  const dscSha256 = readFileSync(`${out}.dsc-sha256`, 'utf8').trim();
  const dir = join(buildRoot, `${t.version}-${t.arch}`);
  mkdirSync(dir, { recursive: true });
  const fragments = ['debian/config/config', `debian/config/${t.arch}/config`];
  writeFileSync(join(dir, '.config'), fragments.map((f) => readFileSync(join(out, f), 'utf8')).join('\n') + '\nCONFIG_KEXEC_FILE=y\n');
  const make = ['-s', `O=${dir}`, `ARCH=${t.karch}`, `CROSS_COMPILE=${t.triplet}-`];
  await must('olddefconfig', 'make', [...make, 'olddefconfig'], { cwd: out });
  const config = readFileSync(join(dir, '.config'), 'utf8');
  if (!/^CONFIG_KEXEC_FILE=y$/m.test(config)) throw new Error(`olddefconfig dropped CONFIG_KEXEC_FILE=y for ${t.arch} ${t.version}`);
  await must('prepare', 'make', [...make, '-j2', 'prepare'], { cwd: out });
  await must('purgatory', 'make', [...make, '-j2', `arch/${t.karch}/purgatory/`], { cwd: out });
  const bytes = new Uint8Array(readFileSync(join(dir, 'arch', t.karch, 'purgatory', 'purgatory.ro')));
  const cc = versionLine([`${t.triplet}-gcc`, '--version']) ?? `${t.triplet}-gcc`;
  const origin: KernelSourceOrigin = {
    kind: 'kernel-source', version: t.version, debianVersion, suite: t.suite, dscSha256, karch: t.karch,
    flags: {
      config: `cat ${fragments.join(' ')} > .config; echo CONFIG_KEXEC_FILE=y >> .config; make olddefconfig`,
      make: `make O=<build> ARCH=${t.karch} CROSS_COMPILE=${t.triplet}- prepare arch/${t.karch}/purgatory/`,
      cc,
    },
    why: t.why,
  };
  return entryFromElf(`linux-src-${debianVersion}-${t.arch}`, bytes, origin, { cc, ld: versionLine([`${t.triplet}-ld`, '--version']) });
}

async function main(argv: string[]): Promise<number> {
  const only = new Set<string>();
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') only.add(argv[++i] ?? '');
    else if (argv[i] === '--dry-run') dryRun = true;
    else {
      log(`unknown argument ${argv[i]}\nusage: build-kernel-purgatory.ts [--only VERSION-ARCH]... [--dry-run]`);
      return 1;
    }
  }
  const tasks = TASKS.filter((t) => only.size === 0 || only.has(`${t.version}-${t.arch}`));
  if (tasks.length === 0) {
    log(`--only matches no task (tasks: ${TASKS.map((t) => `${t.version}-${t.arch}`).join(', ')})`);
    return 1;
  }
  const entries: ManifestEntry[] = [];
  const failures: ManifestFailure[] = [];
  for (const t of tasks) {
    const what = `linux ${t.version} ${t.arch} purgatory from source`;
    const t0 = Date.now();
    try {
      const e = await build(t);
      entries.push(e);
      if (!dryRun) writeFileSync(join(REPO, e.file), readFileSync(join(CACHE, 'corpus/kernel-build', `${t.version}-${t.arch}`, 'arch', t.karch, 'purgatory', 'purgatory.ro')));
      log(`${what}: ${e.id} (${e.size} bytes, ${e.relocationCount} relocations) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    } catch (err) {
      failures.push({ producer: 'build-kernel-purgatory', what, stage: 'build', error: (err as Error).message });
      log(`${what}: FAILED: ${(err as Error).message}`);
    }
  }
  if (dryRun) return failures.length ? 2 : 0;
  mkdirSync(CORPUS_ELF, { recursive: true });
  const redone = new Set(entries.map((e) => e.id));
  mergeManifest((e) => e.origin.kind === 'kernel-source' && (only.size === 0 || redone.has(e.id)), 'build-kernel-purgatory', entries, failures,
    (f) => only.size === 0 || tasks.some((t) => f.what.startsWith(`linux ${t.version} ${t.arch} `)));
  return failures.length ? 2 : 0;
}

if (isMain(import.meta.url)) process.exit(await main(process.argv.slice(2)));
