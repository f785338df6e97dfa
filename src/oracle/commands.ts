// Library side of `purgatory-oracle oracle setup|build|build-kernel|list|run` (src/cli.ts wires them). None of
// these exits the process: failures are typed errors, progress goes to the `log` callback.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { autoPruneLocal } from './prune.ts';
import { execa } from 'execa';
import { PurgatoryOracleError, UsageError } from '../errors.ts';
import type { Arch, LoadRequest } from '../types.ts';
import type { OracleResponse } from './batch.ts';
import { findKernelOracle, KERNEL_BUILDS, KERNEL_VARIANT_INFO, KERNEL_VARIANTS, KERNEL_VERSIONS, listKernelOracles, type KernelOracleBuild, type KernelVariant, type KernelVersion } from './kernel.ts';
import { isReleasedBuild, KEXEC_TOOLS_VERSIONS, listOracles, oracleBuildId, readKexecToolsBuild, REPO_DIR, type OracleBuild } from './registry.ts';
import { openOracle, parseOracleSpec, requireKnownOracles, type OracleSpec } from '../fuzz/oracles.ts';

export type Log = (line: string) => void;
const defaultLog: Log = (line) => process.stderr.write(`${line}\n`);

/** A project script failed; `exitCode` and the tail of its stderr say why. */
export class OracleCommandError extends PurgatoryOracleError {
  constructor(
    readonly command: string,
    readonly exitCode: number | undefined,
    readonly stderrTail: string,
  ) {
    super(`${command} failed (${exitCode === undefined ? 'did not run' : `exit ${exitCode}`})${stderrTail ? `:\n${stderrTail}` : ''}`);
  }
}

interface ScriptResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Run scripts/<name> with args, streaming its stderr lines to `log`. Never throws on exit codes. */
async function runScript(name: string, args: string[], log: Log, env?: Record<string, string>): Promise<ScriptResult> {
  const proc = execa(join(REPO_DIR, 'scripts', name), args, { reject: false, stdin: 'ignore', env, extendEnv: true, cwd: REPO_DIR, lines: false, buffer: { stdout: true, stderr: false } });
  let stderr = '';
  let partial = '';
  proc.stderr?.on('data', (c: Buffer) => {
    const text = c.toString('utf8');
    stderr = (stderr + text).slice(-64 * 1024);
    partial += text;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      log(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
    }
  });
  const r = await proc;
  if (partial) log(partial);
  if (r.exitCode === undefined) throw new OracleCommandError(`scripts/${name}`, undefined, r.shortMessage ?? String(r.message));
  return { exitCode: r.exitCode, stdout: String(r.stdout ?? ''), stderr };
}

const lastLine = (s: string): string => s.trim().split('\n').pop() ?? '';
const tail = (s: string, n = 20): string => s.trim().split('\n').slice(-n).join('\n');

export interface SetupResult {
  fetched: { version: string; path: string }[];
  failed: { version: string; exitCode: number; message: string }[];
}

/**
 * Install the toolchains (scripts/setup-toolchains.sh) and fetch kexec-tools sources
 * (scripts/fetch-kexec-tools.sh). A version the mirror cannot serve is reported in `failed`;
 * a toolchain failure throws OracleCommandError.
 */
export async function oracleSetup(opts: { versions?: readonly string[]; log?: Log } = {}): Promise<SetupResult> {
  const log = opts.log ?? defaultLog;
  const tc = await runScript('setup-toolchains.sh', [], log);
  if (tc.exitCode !== 0) throw new OracleCommandError('scripts/setup-toolchains.sh', tc.exitCode, tail(tc.stderr));
  const out: SetupResult = { fetched: [], failed: [] };
  for (const v of opts.versions ?? Object.keys(KEXEC_TOOLS_VERSIONS)) {
    const r = await runScript('fetch-kexec-tools.sh', [v], log);
    if (r.exitCode === 0) out.fetched.push({ version: v, path: lastLine(r.stdout) });
    else out.failed.push({ version: v, exitCode: r.exitCode, message: tail(r.stderr, 8) });
  }
  return out;
}

export interface BuildOptions {
  /** An upstream version, "all" (every fetched version), or a local kexec-tools tree/tarball. */
  version?: string;
  target?: Arch | 'all';
  sanitize?: boolean;
  force?: boolean;
  log?: Log;
}

/** Build oracles with scripts/build-oracle.sh; returns the built oracle binaries. */
export async function oracleBuild(opts: BuildOptions = {}): Promise<string[]> {
  const args = ['--kexec-tools', opts.version ?? '2.0.25', '--target', opts.target ?? 'all'];
  if (opts.sanitize) args.push('--sanitize');
  if (opts.force) args.push('--force');
  const r = await runScript('build-oracle.sh', args, opts.log ?? defaultLog);
  if (r.exitCode !== 0) throw new OracleCommandError(`scripts/build-oracle.sh ${args.join(' ')}`, r.exitCode, tail(r.stderr));
  const built = r.stdout.trim().split('\n').filter(Boolean);
  // A local tree's build: apply the automatic limit on local builds (src/oracle/prune.ts).
  const local = built.map((p) => readKexecToolsBuild(dirname(p))).filter((b) => b.local);
  if (local.length) await autoPruneLocal(local.map((b) => b.version), opts.log ?? defaultLog);
  return built;
}

/**
 * Build kernel oracles with scripts/build-kernel-oracle.sh (it fetches the kernel sources it needs
 * through scripts/fetch-kernel.sh); returns the builds now present for those versions and variants.
 */
export async function oracleBuildKernel(opts: { version?: KernelVersion | 'all'; variant?: KernelVariant | 'all'; kernelSrc?: string; log?: Log } = {}): Promise<KernelOracleBuild[]> {
  const version = opts.version ?? 'all';
  const variant = opts.variant ?? 'all';
  const args = [version, '--variant', variant, ...(opts.kernelSrc ? ['--kernel-src', opts.kernelSrc] : [])];
  const r = await runScript('build-kernel-oracle.sh', args, opts.log ?? defaultLog);
  if (r.exitCode !== 0) throw new OracleCommandError(`scripts/build-kernel-oracle.sh ${args.join(' ')}`, r.exitCode, tail(r.stderr));
  const versions: readonly string[] = version === 'all' ? KERNEL_VERSIONS : [version];
  const variants: readonly string[] = variant === 'all' ? KERNEL_VARIANTS : [variant];
  return listKernelOracles().filter((k) => versions.includes(k.version) && variants.includes(k.variant));
}

/** VERSION.PATCHLEVEL of a kernel tree's top-level Makefile, or undefined when it has none. */
export function kernelTreeVersion(tree: string): string | undefined {
  const mk = join(tree, 'Makefile');
  if (!existsSync(mk)) return undefined;
  const text = readFileSync(mk, 'utf8');
  const v = /^VERSION\s*=\s*(\d+)\s*$/m.exec(text)?.[1];
  const p = /^PATCHLEVEL\s*=\s*(\d+)\s*$/m.exec(text)?.[1];
  return v && p ? `${v}.${p}` : undefined;
}

/**
 * Build kernel oracles from a porter's own kernel tree, as `gate --kernel-src` does: into `cache`
 * (a scratch cache: never the shared one, whose released builds other runs use), one per variant
 * `target` names (all: every variant the tree's version has). The version is the tree's Makefile's,
 * and must be one the model knows (its profile is what the tree is gated against).
 */
export async function buildKernelTree(tree: string, target: KernelVariant | 'all', cache: string, log: Log = defaultLog): Promise<KernelOracleBuild[]> {
  const found = kernelTreeVersion(tree);
  if (!found) throw new UsageError(`--kernel-src ${tree}: no VERSION/PATCHLEVEL in its Makefile (is it a Linux tree?)`);
  const version = KERNEL_VERSIONS.find((v) => v === found);
  if (!version) throw new UsageError(`--kernel-src ${tree}: Linux ${found} has no kernel model (modelled: ${KERNEL_VERSIONS.join(', ')})`);
  const variants = target === 'all' ? KERNEL_BUILDS.filter((b) => b.version === version).map((b) => b.variant) : [target];
  for (const variant of variants) {
    if (!KERNEL_VARIANT_INFO[variant].versions.includes(version)) throw new UsageError(`--kernel-src ${tree}: Linux ${version} has no ${variant} kexec_file loader (${variant}: ${KERNEL_VARIANT_INFO[variant].versions.join(', ')})`);
    const args = [version, '--variant', variant, '--kernel-src', tree];
    const r = await runScript('build-kernel-oracle.sh', args, log, { PURGATORY_ORACLE_CACHE: cache });
    if (r.exitCode !== 0) throw new OracleCommandError(`PURGATORY_ORACLE_CACHE=${cache} scripts/build-kernel-oracle.sh ${args.join(' ')}`, r.exitCode, tail(r.stderr));
  }
  return variants.map((variant) => findKernelOracle(version, variant, cache));
}

/** One built oracle as `oracle list` shows it: the registry's entry without its raw build.json, plus what it records. */
export interface OracleListing extends Omit<OracleBuild, 'build' | 'benchLoad'> {
  /** The id `oracle run --oracle` and `fuzz --oracle` take: kexec-tools-2.0.25/x86_64[+sanitize], kernel-6.1/x86_64. */
  id: string;
  /** A released reference oracle (plain validate/gate use these), not a build of a local tree. */
  released: boolean;
  /** Harness protocol extensions (kexec-tools build.json info.features: same-elf, image-delta, details; kernel build.json features: details). */
  features: string[];
  pageSize: number | null;
  /** Where the loader's sources came from: the kexec-tools tree, or the kernel source package version. */
  source: string | null;
  builtAt: string | null;
}

function listing(b: OracleBuild): OracleListing {
  const info = b.build as { info?: { features?: unknown; pagesize?: unknown }; features?: unknown; pageSize?: unknown; source_path?: unknown; packageVersion?: unknown; checkout?: unknown; built_at?: unknown; builtAt?: unknown };
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const listed = info.info?.features ?? info.features; // kexec-tools: build.json info.features; kernel: build.json features
  const features = Array.isArray(listed) ? listed.filter((f): f is string => typeof f === 'string') : [];
  const pageSize = typeof info.info?.pagesize === 'number' ? info.info.pagesize : typeof info.pageSize === 'number' ? info.pageSize : null;
  return {
    id: oracleBuildId(b), released: isReleasedBuild(b), loader: b.loader, version: b.version, target: b.target, sanitize: b.sanitize, local: b.local,
    dir: b.dir, oracle: b.oracle, emulator: b.emulator, features, pageSize,
    source: str(info.source_path) ?? str(info.checkout) ?? (str(info.packageVersion) ? `linux ${str(info.packageVersion)}` : null),
    builtAt: str(info.built_at) ?? str(info.builtAt),
  };
}

/** Every built oracle (kexec-tools, then kernel) under $PURGATORY_ORACLE_CACHE/build. */
export async function oracleList(): Promise<OracleListing[]> {
  return (await listOracles()).map(listing);
}

export interface RunOneResult {
  spec: OracleSpec;
  response: OracleResponse;
}

/**
 * One request through one live oracle, named as `fuzz --oracle` names it
 * (kexec-tools-<version>/<target>[+sanitize], kernel-<version>/<target>: a string, parsed here, or
 * parseOracleSpec()'s result). The oracle runs with the fuzzer's environment, so its allocation
 * limit is the TS engine's (MAX_IMAGE). Throws UsageError for a malformed id and
 * OracleUnavailableError (with the build command) when it is not built.
 */
export async function oracleRunOne(oracle: string | OracleSpec, req: LoadRequest): Promise<RunOneResult> {
  const spec = typeof oracle === 'string' ? parseOracleSpec(oracle) : oracle;
  requireKnownOracles([spec]);
  const o = await openOracle(spec);
  try {
    return { spec, response: await o.run(req) };
  } finally {
    await o.close();
  }
}
