// Builds purgatory/purgatory.ro from Debian's kexec-tools sources, the way upstream's build does
// (./configure --host=<triplet>; make purgatory/purgatory.ro), for x86_64, ppc64 (ELFv1 BE),
// ppc64le (ELFv2), and arm64 and s390x (2.0.25 and 2.0.32 only), plus variants: clang+lld, -O2 instead of -Os, -ffunction-sections, and the same
// objects linked as a PIE. Every build happens in a scratch copy under the cache, never in the
// fetched tree. A variant that fails is recorded in the manifest's failures with its error tail.
//
// Usage: npx tsx scripts/corpus/build-from-source.ts [--version V]... [--target T]... [--variant N]...
//          [--jobs N] [--dry-run] [--keep]
//   (default: every version with plain gcc builds + PIE; all variants for 2.0.25 and 2.0.32)

import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { entryFromElf, type KexecToolsSourceOrigin, type ManifestEntry, type ManifestFailure, type Toolchain } from '../../src/corpus/manifest.ts';
import { CACHE, CORPUS_ELF, REPO, isMain, log, mergeManifest, pool, runAsync, run, tail, versionLine } from './common.ts';
import type { Arch } from '../../src/types.ts';

export const VERSIONS = ['2.0.20', '2.0.25', '2.0.29', '2.0.32'];
/** Versions that get every variant; the others get the plain build (and its PIE link). */
export const FULL_VERSIONS = ['2.0.25', '2.0.32'];

export interface Target {
  arch: Arch;
  triplet: string;
  /** Only these versions are built for the target (default: VERSIONS). */
  versions?: string[];
}
export const TARGETS: Target[] = [
  { arch: 'x86_64', triplet: 'x86_64-linux-gnu' },
  { arch: 'ppc64', triplet: 'powerpc64-linux-gnu' },
  { arch: 'ppc64le', triplet: 'powerpc64le-linux-gnu' },
  // The issue-19 arches: the full variant set for the two full versions only (Debian's own
  // 2.0.25/2.0.29/2.0.32 purgatories for them come from extract-debian.ts).
  { arch: 'arm64', triplet: 'aarch64-linux-gnu', versions: FULL_VERSIONS },
  { arch: 's390x', triplet: 's390x-linux-gnu', versions: FULL_VERSIONS },
];

export type Variant = 'gcc' | 'gcc-O2' | 'gcc-ffunction-sections' | 'clang-lld' | 'clang-bfd';
export const VARIANTS: Variant[] = ['gcc', 'gcc-O2', 'gcc-ffunction-sections', 'clang-lld', 'clang-bfd'];
/**
 * clang with GNU ld, only where clang+lld cannot build: Debian's lld (14) rejects ELFv1 objects
 * ("ABI version 1 is not supported"), so ppc64 big-endian gets its clang-compiled purgatory this way;
 * and lld 14 has no SystemZ support ("unknown emulation: elf64_s390"; `ld.lld -r` on an s390x object
 * crashes), so s390x does too (its clang-lld attempt stays in the manifest's failures).
 */
export const VARIANT_TARGETS: Partial<Record<Variant, Arch[]>> = { 'clang-bfd': ['ppc64', 's390x'] };

export interface BuildSpec {
  version: string;
  target: Target;
  variant: Variant;
}

export const BUILD_ROOT = join(CACHE, 'corpus/build');

interface SourceTree {
  path: string;
  debianVersion: string;
  suite: string;
}

/** Fetches (or finds in the cache) one kexec-tools version via scripts/fetch-kexec-tools.sh. */
export async function fetchTree(version: string): Promise<SourceTree> {
  const r = await runAsync('bash', [join(REPO, 'scripts/fetch-kexec-tools.sh'), version]);
  if (r.status !== 0) throw new Error(`scripts/fetch-kexec-tools.sh ${version} exited ${r.status}:\n${tail(r.stderr, 15)}`);
  const path = r.stdout.toString('utf8').trim().split('\n').pop() ?? '';
  const meta = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as { package_version: string; suite: string };
  return { path, debianVersion: meta.package_version, suite: meta.suite };
}

interface VariantSettings {
  env: Record<string, string>;
  cc: string;
  ld: string;
  /** Appended to configure's PURGATORY_EXTRA_CFLAGS on the make command line. */
  extraCflags?: string;
  /** Edit of a Makefile in the scratch copy: every ' from ' becomes ' to ' (expected count given). */
  makefileEdit?: { file: string; from: string; to: string; count: number; why: string };
  /** Tools for the PIE link and the strip. */
  pieLd: string;
  strip: string;
  ccVersion: string[];
  ldVersion: string[];
}

export function settings(spec: BuildSpec): VariantSettings {
  const t = spec.target.triplet;
  const gcc: VariantSettings = {
    env: {},
    cc: '',
    ld: '',
    pieLd: `${t}-ld`,
    strip: `${t}-strip`,
    ccVersion: [`${t}-gcc`],
    ldVersion: [`${t}-ld`],
  };
  switch (spec.variant) {
    case 'gcc':
      return gcc;
    case 'gcc-O2':
      return { ...gcc, makefileEdit: { file: 'purgatory/Makefile', from: '-Os', to: '-O2', count: 1, why: 'the purgatory CFLAGS line' } };
    case 'gcc-ffunction-sections':
      return { ...gcc, extraCflags: '-ffunction-sections' };
    case 'clang-lld': {
      // The purgatory is linked by the compiler driver (-r), so lld is chosen with -fuse-ld.
      const cc = `clang --target=${t} -fuse-ld=lld`;
      return { ...gcc, env: { CC: cc, LD: 'ld.lld' }, cc, ld: 'ld.lld', pieLd: 'ld.lld', ccVersion: ['clang'], ldVersion: ['ld.lld'] };
    }
    case 'clang-bfd': {
      const cc = `clang --target=${t}`;
      const bfd: VariantSettings = { ...gcc, env: { CC: cc }, cc, ccVersion: ['clang'] };
      if (spec.target.arch !== 'ppc64') return bfd;
      // clang has no -mcall-aixdesc (a GCC option); for powerpc64-linux-gnu it emits ELFv1 anyway.
      return { ...bfd, makefileEdit: { file: 'purgatory/arch/ppc64/Makefile', from: '-mcall-aixdesc', to: '', count: 2, why: 'clang rejects the GCC-only option (CFLAGS and ASFLAGS lines)' } };
    }
  }
}

export function buildId(spec: BuildSpec, pie = false, suffix = ''): string {
  return `src-kexec-tools-${spec.version}-${spec.target.arch}-${spec.variant}${pie ? '-pie' : ''}${suffix}`;
}

export interface BuildOutput {
  id: string;
  bytes: Uint8Array;
  origin: KexecToolsSourceOrigin;
  toolchain: Omit<Toolchain, 'comment'>;
}

export interface BuildResult {
  outputs: BuildOutput[];
  failures: ManifestFailure[];
  log: string[];
}

function fail(what: string, stage: string, r: { status: number; stderr: string; stdout: Buffer }, extra = ''): ManifestFailure {
  const text = `${r.stderr}\n${r.stdout.toString('utf8')}`.trim();
  return { producer: 'build-from-source', what, stage, error: `exit ${r.status}${extra ? `; ${extra}` : ''}\n${tail(text, 30)}` };
}

/** Builds one (version, target, variant) in a fresh scratch copy; also links its PIE. */
export async function buildOne(spec: BuildSpec, tree: SourceTree, opts: { keep?: boolean; root?: string } = {}): Promise<BuildResult> {
  const s = settings(spec);
  const id = buildId(spec);
  const dir = join(opts.root ?? BUILD_ROOT, id);
  const src = join(dir, 'src');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // A copy without Debian's packaging and quilt state: only the (patched) upstream tree builds.
  cpSync(tree.path, src, { recursive: true, filter: (p) => !/\/(\.pc|debian)(\/|$)/.test(p.slice(tree.path.length)) });
  const env = { ...process.env, ...s.env, LC_ALL: 'C' };
  const out: BuildResult = { outputs: [], failures: [], log: [] };
  const toolchain = { cc: versionLine(s.ccVersion), ld: versionLine(s.ldVersion), strip: versionLine([s.strip]) };

  const configureArgs = [`--host=${spec.target.triplet}`];
  const configureCmd = [...Object.entries(s.env).map(([k, v]) => `${k}='${v}'`), './configure', ...configureArgs].join(' ');
  const conf = await runAsync('./configure', configureArgs, { cwd: src, env });
  out.log.push(`${id}: configure ${conf.status} in ${(conf.ms / 1000).toFixed(1)} s`);
  if (conf.status !== 0) {
    // config.log ends with confdefs.h; the reason is in its error lines.
    const text = existsSync(join(src, 'config.log')) ? readFileSync(join(src, 'config.log'), 'utf8') : '';
    const lines = text.split('\n');
    const cl = [...new Set([...lines.filter((l) => /ld(\.lld)?: error|not supported/i.test(l)), ...lines.filter((l) => /error|cannot|unrecognized/i.test(l))])].slice(0, 12).join('\n');
    out.failures.push(fail(id, 'configure', { ...conf, stderr: `${conf.stderr}\n--- config.log error lines ---\n${cl}` }));
    return out;
  }
  let makefileEdit: string | undefined;
  if (s.makefileEdit) {
    const { file, from, to, count, why } = s.makefileEdit;
    const mf = join(src, file);
    const text = readFileSync(mf, 'utf8');
    // Match the flag as a whole word, at a line end too.
    const re = new RegExp(`(?<=\\s)${from.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}(?=\\s|$)`, 'gm');
    const n = (text.match(re) ?? []).length;
    if (n !== count) {
      out.failures.push({ producer: 'build-from-source', what: id, stage: 'makefile-edit', error: `expected ${count} '${from}' in ${file}, found ${n}` });
      return out;
    }
    writeFileSync(mf, text.replace(re, to));
    makefileEdit = `${file}: '${from}' -> '${to}' x${count} (${why})`;
  }
  const makeArgs = ['purgatory/purgatory.ro'];
  if (s.extraCflags) {
    // Keep what configure put in PURGATORY_EXTRA_CFLAGS and append the variant's flag.
    const configured = /^PURGATORY_EXTRA_CFLAGS\s*=\s*(.*)$/m.exec(readFileSync(join(src, 'Makefile'), 'utf8'))?.[1]?.trim() ?? '';
    makeArgs.push(`PURGATORY_EXTRA_CFLAGS=${[configured, s.extraCflags].filter(Boolean).join(' ')}`);
  }
  const makeCmd = ['make', ...makeArgs.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
  const mk = await runAsync('make', makeArgs, { cwd: src, env });
  out.log.push(`${id}: make ${mk.status} in ${(mk.ms / 1000).toFixed(1)} s`);
  if (mk.status !== 0) {
    out.failures.push(fail(id, 'make', mk));
    return out;
  }
  const ro = new Uint8Array(readFileSync(join(src, 'purgatory/purgatory.ro')));
  const origin: KexecToolsSourceOrigin = {
    kind: 'kexec-tools-source',
    version: spec.version,
    debianVersion: tree.debianVersion,
    suite: tree.suite,
    flags: { cc: s.cc, ld: s.ld, configure: configureCmd, make: makeCmd, ...(makefileEdit ? { makefileEdit } : {}) },
    variant: spec.variant,
  };
  out.outputs.push({ id, bytes: ro, origin, toolchain });

  // The PIE: the very objects that went into purgatory.ro, linked with -pie instead of -r.
  const echo = await runAsync('make', ['-s', 'echo'], { cwd: src, env });
  const objs = /^PURGATORY_OBJS\s+(.*)$/m.exec(echo.stdout.toString('utf8'))?.[1]?.trim().split(/\s+/) ?? [];
  if (echo.status !== 0 || objs.length === 0 || !objs.every((o) => existsSync(join(src, o)))) {
    out.failures.push(fail(`${buildId(spec, true)}`, 'pie-objects', echo, `objects: [${objs.join(' ')}]`));
    return out;
  }
  const attempts: { suffix: string; extra: string[] }[] = [{ suffix: '', extra: [] }];
  for (let i = 0; i < attempts.length; i++) {
    const a = attempts[i]!;
    const pid = buildId(spec, true, a.suffix);
    const linkArgs = ['-pie', '--no-dynamic-linker', ...a.extra, '-e', 'purgatory_start', '-o', 'purgatory/purgatory.pie.sym', ...objs];
    const link = await runAsync(s.pieLd, linkArgs, { cwd: src, env });
    out.log.push(`${pid}: link ${link.status} in ${(link.ms / 1000).toFixed(1)} s`);
    if (link.status !== 0) {
      out.failures.push(fail(pid, 'pie-link', link, `${s.pieLd} ${linkArgs.join(' ')}`));
      // lld refuses text relocations by default; try once more allowing them, as its message says.
      if (a.suffix === '' && /-z notext|DT_TEXTREL|recompile with -fPIC/.test(link.stderr)) attempts.push({ suffix: '-znotext', extra: ['-z', 'notext'] });
      continue;
    }
    const st = await runAsync(s.strip, ['--strip-debug', '-o', 'purgatory/purgatory.pie', 'purgatory/purgatory.pie.sym'], { cwd: src, env });
    if (st.status !== 0) {
      out.failures.push(fail(pid, 'pie-strip', st));
      continue;
    }
    const warn = link.stderr.trim() ? ` (linker said: ${link.stderr.trim().split('\n').join(' | ')})` : '';
    out.outputs.push({
      id: pid,
      bytes: new Uint8Array(readFileSync(join(src, 'purgatory/purgatory.pie'))),
      origin: { ...origin, flags: { ...origin.flags, ld: s.pieLd, link: `${s.pieLd} ${linkArgs.join(' ')}; ${s.strip} --strip-debug${warn}` } },
      toolchain,
    });
  }
  if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  return out;
}

export function defaultSpecs(): BuildSpec[] {
  const specs: BuildSpec[] = [];
  for (const version of VERSIONS) {
    for (const target of TARGETS) {
      if (target.versions && !target.versions.includes(version)) continue;
      for (const variant of FULL_VERSIONS.includes(version) ? VARIANTS : (['gcc'] as Variant[])) {
        const only = VARIANT_TARGETS[variant];
        if (!only || only.includes(target.arch)) specs.push({ version, target, variant });
      }
    }
  }
  return specs;
}

export function entryFor(o: BuildOutput): ManifestEntry {
  return entryFromElf(o.id, o.bytes, o.origin, o.toolchain);
}

async function main(argv: string[]): Promise<number> {
  const versions: string[] = [];
  const targets: string[] = [];
  const variants: string[] = [];
  let jobs = 2;
  let dryRun = false;
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--version') versions.push(argv[++i] ?? '');
    else if (a === '--target') targets.push(argv[++i] ?? '');
    else if (a === '--variant') variants.push(argv[++i] ?? '');
    else if (a === '--jobs') jobs = Number(argv[++i]);
    else if (a === '--dry-run') dryRun = true;
    else if (a === '--keep') keep = true;
    else {
      log(`unknown argument ${a}`);
      return 1;
    }
  }
  const specs = defaultSpecs().filter(
    (s) => (versions.length === 0 || versions.includes(s.version)) && (targets.length === 0 || targets.includes(s.target.arch)) && (variants.length === 0 || variants.includes(s.variant)),
  );
  const t0 = Date.now();
  const failures: ManifestFailure[] = [];
  // Each version is fetched once, on first use, so one version's mirror trouble delays no other's builds.
  const trees = new Map<string, Promise<SourceTree | Error>>();
  const treeFor = (v: string) => {
    let p = trees.get(v);
    if (!p) {
      p = fetchTree(v).then(
        (t) => (log(`kexec-tools ${v}: ${t.path} (${t.debianVersion}, ${t.suite})`), t),
        (e: unknown) => {
          const err = e instanceof Error ? e : new Error(String(e));
          failures.push({ producer: 'build-from-source', what: `kexec-tools ${v} (all builds)`, stage: 'fetch', error: err.message });
          log(`kexec-tools ${v}: FETCH FAILED: ${err.message}`);
          return err;
        },
      );
      trees.set(v, p);
    }
    return p;
  };
  // Versions whose source is already in the cache come first.
  const cached = (v: string) => existsSync(join(CACHE, 'src', `kexec-tools-${v}.json`));
  const ordered = [...specs].sort((a, b) => Number(cached(b.version)) - Number(cached(a.version)));
  log(`building ${ordered.length} configurations with ${jobs} jobs`);
  const results = await pool(ordered, jobs, async (s): Promise<BuildResult> => {
    const tree = await treeFor(s.version);
    if (tree instanceof Error) return { outputs: [], failures: [], log: [`${buildId(s)}: skipped, no source`] };
    const r = await buildOne(s, tree, { keep });
    for (const l of r.log) log(l);
    for (const f of r.failures) log(`FAILED ${f.what} at ${f.stage}: ${f.error.split('\n').slice(-3).join(' | ')}`);
    return r;
  });
  const outputs = results.flatMap((r) => r.outputs);
  failures.push(...results.flatMap((r) => r.failures));
  const entries = outputs.map(entryFor);
  log(`${entries.length} objects built, ${failures.length} failures in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (dryRun) return 0;
  mkdirSync(CORPUS_ELF, { recursive: true });
  for (const [i, e] of entries.entries()) writeFileSync(join(REPO, e.file), outputs[i]!.bytes);
  const partial = versions.length + targets.length + variants.length > 0;
  const ids = new Set(entries.map((e) => e.id));
  const own = (e: ManifestEntry) => e.origin.kind === 'kexec-tools-source' && (!partial || ids.has(e.id));
  // A partial run replaces only the failures of what it built (ids start with the spec's id).
  const scope = specs.map((s) => buildId(s));
  const ownFailure = (f: ManifestFailure) => !partial || scope.some((id) => f.what.startsWith(id)) || specs.some((s) => f.what.startsWith(`kexec-tools ${s.version} `));
  const m = mergeManifest(own, 'build-from-source', entries, failures, ownFailure);
  const named = new Set(m.entries.map((e) => basename(e.file)));
  for (const f of readdirSync(CORPUS_ELF)) {
    if (f.startsWith('src-') && !named.has(f)) {
      unlinkSync(join(CORPUS_ELF, f));
      log(`removed stale ${f}`);
    }
  }
  log(`manifest: ${m.entries.length} entries, ${m.failures.length} failures`);
  return 0;
}

if (isMain(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
