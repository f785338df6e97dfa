// Building mutants as oracles, cheaply: the unmutated tree is built once per target by the
// project's own build scripts into a scratch cache, and each mutant recompiles only its mutated
// file with that build's recorded compiler and flags, then relinks against the other objects.
// A mutant whose object code equals the original's (debug information aside) is not built further.
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { PurgatoryOracleError } from '../errors.ts';
import { OracleUnavailableError, readKexecToolsBuild, type OracleBuild } from '../oracle/registry.ts';
import type { KernelOracleBuild, KernelVariant, KernelVersion } from '../oracle/kernel.ts';
import { generate, type SourceOverrides } from '../oracle/kernel-gen.ts';
import type { Arch } from '../types.ts';

const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KT_HARNESS = join(REPO_DIR, 'oracle', 'kexec-tools');
const KERNEL_HARNESS = join(REPO_DIR, 'oracle', 'kernel');

export class MutantBuildError extends PurgatoryOracleError {
  constructor(message: string, readonly log: string) {
    super(message);
  }
}

export type MutantBuild =
  | { kind: 'built'; dir: string }
  | { kind: 'identical' }
  | { kind: 'build-failed'; log: string };

/** One target's base build and what a mutant of it needs. */
export interface MutantBuilder {
  target: Arch;
  /** The base (unmutated) oracle. */
  base: { kind: 'kexec-tools'; build: OracleBuild } | { kind: 'kernel'; build: KernelOracleBuild };
  /** Build `text` as the new content of `file` into `dir` (one directory per job, reused). */
  buildMutant(file: string, text: string, dir: string): Promise<MutantBuild>;
}

async function run(file: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ ok: boolean; log: string }> {
  const r = await execa(file, args, { reject: false, all: true, cwd: opts.cwd, env: opts.env });
  return { ok: r.exitCode === 0, log: `$ ${file} ${args.join(' ')}\n${r.all ?? ''}` };
}

/** Code and data of an object file: the object without its debug sections. */
async function codeOf(objcopy: string, obj: string): Promise<Buffer | undefined> {
  const out = `${obj}.nodebug`;
  const r = await run(objcopy, ['--strip-debug', obj, out]);
  return r.ok ? readFileSync(out) : undefined;
}

/**
 * Whether a mutant's object is the same code and data as the base's (debug sections aside). The
 * base's stripped bytes are computed once per object (jobs share them).
 */
function sameCodeAs(objcopy: string): (obj: string, base: string) => Promise<boolean> {
  const bases = new Map<string, Promise<Buffer | undefined>>();
  return async (obj, base) => {
    let b = bases.get(base);
    if (!b) bases.set(base, (b = codeOf(objcopy, base)));
    const [x, y] = await Promise.all([codeOf(objcopy, obj), b]);
    return !!x && !!y && Buffer.compare(x, y) === 0;
  };
}

const split = (s: string): string[] => s.split(/\s+/).filter(Boolean);

/** kexec/arch/<dir> of each target (scripts/build-oracle.sh's `arch`). */
const KEXEC_TOOLS_ARCH_DIR: Record<Arch, string> = { x86_64: 'x86_64', ppc64: 'ppc64', ppc64le: 'ppc64', arm64: 'arm64', s390x: 's390', riscv64: 'riscv' };

/**
 * kexec-tools: copy `tree` into scratch, build it with scripts/build-oracle.sh into the scratch
 * cache, and check that recompiling each upstream file the way buildMutant does reproduces its
 * object exactly (so that "identical object code" means what it says).
 */
export async function kexecToolsBuilder(tree: string, target: Arch, scratch: string, log: (s: string) => void): Promise<MutantBuilder> {
  const baseTree = join(scratch, 'tree');
  if (!existsSync(baseTree)) cpSync(tree, baseTree, { recursive: true });
  const script = join(REPO_DIR, 'scripts', 'build-oracle.sh');
  const r = await execa('bash', [script, '--kexec-tools', baseTree, '--target', target], {
    reject: false, all: true, env: { PURGATORY_ORACLE_CACHE: join(scratch, 'cache'), KEXEC_TOOLS_SRC: '' },
  });
  if (r.exitCode !== 0) throw new OracleUnavailableError(`building the unmutated ${target} oracle from ${tree} failed (exit ${r.exitCode}):\n${r.all}`, `bash ${script} --kexec-tools ${tree} --target ${target}`);
  const line = String(r.stdout).split('\n').find((l) => l.endsWith('/oracle'));
  if (!line) throw new MutantBuildError('build-oracle.sh printed no oracle path', String(r.all));
  const build = readKexecToolsBuild(dirname(line));
  const info = build.build as { compiler: string; cflags: string; ldflags: string; upstream_files: string[]; version: string };
  const cc = info.compiler;
  const objcopy = cc.replace(/gcc$/, 'objcopy');
  const arch = KEXEC_TOOLS_ARCH_DIR[target];
  const objDir = join(build.dir, 'obj');
  const objOf = (f: string) => `up-${basename(f, '.c')}.o`;
  const sameCode = sameCodeAs(objcopy);
  const compile = async (treeDir: string, file: string, out: string) => {
    // arm64/riscv: the two hook functions are copied out of their loader file, as build-oracle.sh does.
    let src = join(treeDir, file);
    const extra: string[] = [];
    if (file.startsWith('kexec/arch/') && !/\/kexec-elf-rel-[^/]+\.c$/.test(file)) {
      src = `${out.replace(/\.o$/, '')}-rel.c`;
      const x = await execa('bash', [join(REPO_DIR, 'scripts', 'extract-rel-functions.sh'), treeDir, file], { reject: false, all: true });
      if (x.exitCode !== 0) return { ok: false, log: `extract-rel-functions.sh ${file}: exit ${x.exitCode}\n${x.all}` };
      writeFileSync(src, x.stdout + '\n');
      extra.push(`-I${treeDir}/kexec`);
    }
    const args = [
      ...split(info.cflags), `-ffile-prefix-map=${treeDir}=kexec-tools-${info.version}`,
      `-I${KT_HARNESS}/compat`, `-I${treeDir}/include`, `-I${treeDir}/util_lib/include`, `-I${treeDir}/kexec/arch/${arch}/include`, ...extra,
      '-c', src, '-o', out,
    ];
    const c = await run(cc, args);
    if (!c.ok) return c;
    const o = await run(objcopy, ['--redefine-sym', 'free=harness_free', out]);
    return { ok: o.ok, log: c.log + o.log };
  };
  // The reproduction check, in a job directory of its own.
  const check = join(scratch, 'check');
  mkdirSync(check, { recursive: true });
  if (!existsSync(join(check, 'tree'))) cpSync(baseTree, join(check, 'tree'), { recursive: true });
  for (const f of info.upstream_files) {
    const out = join(check, objOf(f));
    const c = await compile(join(check, 'tree'), f, out);
    if (!c.ok || !(await sameCode(out, join(objDir, objOf(f))))) {
      throw new MutantBuildError(`recompiling ${f} outside scripts/build-oracle.sh does not reproduce its object; mutants cannot be built reliably`, c.log);
    }
  }
  log(`base ${target} oracle: ${build.oracle}`);
  return {
    target,
    base: { kind: 'kexec-tools', build },
    async buildMutant(file, text, dir) {
      const jobTree = join(dir, 'tree');
      if (!existsSync(jobTree)) cpSync(baseTree, jobTree, { recursive: true });
      const path = join(jobTree, file);
      writeFileSync(path, text);
      try {
        const obj = join(dir, objOf(file));
        const c = await compile(jobTree, file, obj);
        if (!c.ok) return { kind: 'build-failed', log: c.log };
        if (await sameCode(obj, join(objDir, objOf(file)))) return { kind: 'identical' };
        const objs = ['harness.o', 'load.o', 'shim.o'].map((o) => join(objDir, o));
        for (const f of info.upstream_files) objs.push(f === file ? obj : join(objDir, objOf(f)));
        const l = await run(cc, [...split(info.ldflags), '-o', join(dir, 'oracle'), ...objs]);
        if (!l.ok) return { kind: 'build-failed', log: l.log };
        copyFileSync(join(build.dir, 'build.json'), join(dir, 'build.json'));
        return { kind: 'built', dir };
      } finally {
        copyFileSync(join(baseTree, file), path);
      }
    },
  };
}

/** The kernel source files each variant's oracle functions come from (gen-kernel-oracle reads these). */
export const KERNEL_SOURCE_FILES: Record<KernelVariant, readonly string[]> = {
  x86_64: ['kernel/kexec_file.c', 'include/linux/kexec.h', 'arch/x86/kernel/machine_kexec_64.c'],
  ppc64le: ['kernel/kexec_file.c', 'include/linux/kexec.h'],
  s390x: ['kernel/kexec_file.c', 'include/linux/kexec.h', 'arch/s390/kernel/machine_kexec_file.c', 'arch/s390/kernel/machine_kexec_reloc.c'],
  riscv64: ['kernel/kexec_file.c', 'include/linux/kexec.h', 'arch/riscv/kernel/elf_kexec.c'],
};

/** The cross toolchain prefix of an emulated variant ('' natively). */
const TOOL_PREFIX: Record<KernelVariant, string> = { x86_64: '', ppc64le: '', s390x: 's390x-linux-gnu-', riscv64: 'riscv64-linux-gnu-' };

/**
 * Kernel: the oracle's C file is generated from the sources (with one file replaced by its
 * mutant), compiled with the compiler and flags of the cache's kernel build of that variant (the
 * cross compiler for s390x/riscv64), and linked with the harness object, compiled once.
 */
export async function kernelBuilder(version: KernelVersion, sources: Map<string, string>, reference: KernelOracleBuild, scratch: string, log: (s: string) => void): Promise<MutantBuilder> {
  const cflags = split(reference.info.cflags);
  const variant = reference.variant;
  const prefix = TOOL_PREFIX[variant];
  const cc = prefix ? `${prefix}gcc` : (process.env.CC ?? 'gcc');
  const sameCode = sameCodeAs(`${prefix}objcopy`);
  mkdirSync(scratch, { recursive: true });
  const harnessObj = join(scratch, 'harness.o');
  const h = await run(cc, [...cflags, '-I', KERNEL_HARNESS, '-c', join(KERNEL_HARNESS, 'harness.c'), '-o', harnessObj]);
  if (!h.ok) throw new MutantBuildError('compiling oracle/kernel/harness.c failed', h.log);
  const overrides = (file?: string, text?: string): SourceOverrides => {
    const m = new Map(sources);
    if (file !== undefined && text !== undefined) m.set(file, text);
    return m;
  };
  const compileFns = async (dir: string, ov: SourceOverrides): Promise<{ ok: boolean; log: string; obj: string; functions: ReturnType<typeof generate>['functions'] }> => {
    mkdirSync(dir, { recursive: true });
    const g = generate('', variant, ov);
    const c = join(dir, 'kernel_functions.c');
    writeFileSync(c, g.c);
    const obj = join(dir, 'kernel_functions.o');
    const r = await run(cc, [...cflags, '-I', KERNEL_HARNESS, '-c', c, '-o', obj]);
    return { ...r, obj, functions: g.functions };
  };
  const link = async (dir: string, obj: string) => run(cc, [...cflags, '-o', join(dir, 'oracle'), harnessObj, obj]);
  const baseDir = join(scratch, 'base');
  const b = await compileFns(baseDir, overrides());
  if (!b.ok) throw new MutantBuildError('compiling the unmutated kernel functions failed', b.log);
  const l = await link(baseDir, b.obj);
  if (!l.ok) throw new MutantBuildError('linking the unmutated kernel oracle failed', l.log);
  // The protocol extensions of this harness (its --info), not those of the cache's build.
  const emulator = reference.info.emulator ?? null;
  const baseOracle = join(baseDir, 'oracle');
  const i = await run(emulator ?? baseOracle, emulator ? [baseOracle, '--info'] : ['--info']);
  let features: string[];
  try {
    features = (JSON.parse(i.log.slice(i.log.indexOf('\n') + 1)) as { features: string[] }).features;
  } catch {
    throw new MutantBuildError('the unmutated kernel oracle does not answer --info', i.log);
  }
  const buildOf = (dir: string, functions: typeof b.functions): KernelOracleBuild => ({
    version, variant, target: reference.target, dir, binary: join(dir, 'oracle'),
    info: { ...reference.info, functions, checkout: null, features },
  });
  log(`base kernel ${version} ${variant} oracle: ${join(baseDir, 'oracle')}`);
  return {
    target: reference.target,
    base: { kind: 'kernel', build: buildOf(baseDir, b.functions) },
    async buildMutant(file, text, dir) {
      let m: Awaited<ReturnType<typeof compileFns>>;
      try {
        m = await compileFns(dir, overrides(file, text));
      } catch (e) {
        // The mutant broke the extractor's view of the file (unbalanced braces cannot happen: no
        // rule adds or removes a brace; kept for safety).
        return { kind: 'build-failed', log: (e as Error).message };
      }
      if (!m.ok) return { kind: 'build-failed', log: m.log };
      if (await sameCode(m.obj, b.obj)) return { kind: 'identical' };
      const ln = await link(dir, m.obj);
      if (!ln.ok) return { kind: 'build-failed', log: ln.log };
      return { kind: 'built', dir };
    },
  };
}

/** A kernel build of a mutant directory, as the gate opens it. */
export function kernelMutantBuild(base: KernelOracleBuild, dir: string): KernelOracleBuild {
  return { ...base, dir, binary: join(dir, 'oracle') };
}
