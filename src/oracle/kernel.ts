// The kernel oracle: the Linux kernel's own kexec_file purgatory loader (5.10, 6.1, 6.12), compiled
// in userspace by scripts/build-kernel-oracle.sh. This module finds the builds and opens them as
// live oracles speaking oracle/PROTOCOL.md. See oracle/kernel/NOTES.md for what they model.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PurgatoryOracleError } from '../errors.ts';
import type { RefOutcome } from '../compare/compare.ts';
import type { Arch, LoadRequest } from '../types.ts';
import type { LiveOracle } from '../validate/sources.ts';
import { InterimBatchRunner } from './kernel-interim-runner.ts';

export const KERNEL_VERSIONS = ['5.10', '6.1', '6.12'] as const;
export type KernelVersion = (typeof KERNEL_VERSIONS)[number];

/**
 * x86_64: the x86_64 loader. ppc64le: the generic loader with no RELA hook (arch/powerpc has
 * none), PAGE_SIZE 64K, run natively: valid for little-endian objects only.
 */
export const KERNEL_VARIANTS = ['x86_64', 'ppc64le'] as const;
export type KernelVariant = (typeof KERNEL_VARIANTS)[number];

/** build.json, as scripts/build-kernel-oracle.sh writes it. */
export interface KernelBuildInfo {
  kernelVersion: string;
  variant: KernelVariant;
  pageSize: number;
  source: 'debian' | 'checkout';
  packageVersion: string;
  dsc: string | null;
  dscSha256: string | null;
  checkout: string | null;
  functions: { name: string; file: string; startLine: number; endLine: number; sha256: string }[];
  compiler: string;
  cflags: string;
  harnessRevision: string;
  builtAt: string;
  key: string;
}

export interface KernelOracleBuild {
  version: KernelVersion;
  variant: KernelVariant;
  target: Arch;
  dir: string;
  binary: string;
  info: KernelBuildInfo;
}

const BRAND = Symbol.for('purgatory-oracle.KernelOracleUnavailableError');

/** The oracle is not built (or its build is unusable); the message says how to build it. */
export class KernelOracleUnavailableError extends PurgatoryOracleError {
  readonly [BRAND] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OracleUnavailableError';
  }
}

export const isKernelOracleUnavailableError = (e: unknown): e is KernelOracleUnavailableError =>
  typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;

const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** $PURGATORY_ORACLE_CACHE or <repo>/.cache, as the scripts use. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PURGATORY_ORACLE_CACHE ? resolve(env.PURGATORY_ORACLE_CACHE) : join(REPO_DIR, '.cache');
}

export const buildCommand = (version: string, variant: string): string =>
  `scripts/build-kernel-oracle.sh ${version} --variant ${variant}`;

export function kernelOracleDir(version: KernelVersion, variant: KernelVariant, cache = cacheDir()): string {
  return join(cache, 'build', `kernel-${version}-${variant}`);
}

/** The build of one version and variant; throws KernelOracleUnavailableError if it is not built. */
export function findKernelOracle(version: KernelVersion, variant: KernelVariant, cache = cacheDir()): KernelOracleBuild {
  const dir = kernelOracleDir(version, variant, cache);
  const binary = join(dir, 'oracle');
  const infoPath = join(dir, 'build.json');
  if (!existsSync(binary) || !existsSync(infoPath)) {
    throw new KernelOracleUnavailableError(
      `kernel ${version} ${variant} oracle is not built (no ${binary}); build it with: ${buildCommand(version, variant)}`);
  }
  try {
    accessSync(binary, constants.X_OK);
  } catch (cause) {
    throw new KernelOracleUnavailableError(`${binary} is not executable; rebuild with: ${buildCommand(version, variant)}`, { cause });
  }
  let info: KernelBuildInfo;
  try {
    info = JSON.parse(readFileSync(infoPath, 'utf8')) as KernelBuildInfo;
  } catch (cause) {
    throw new KernelOracleUnavailableError(`${infoPath} is unreadable; rebuild with: ${buildCommand(version, variant)}`, { cause });
  }
  if (info.kernelVersion !== version || info.variant !== variant) {
    throw new KernelOracleUnavailableError(`${infoPath} describes kernel ${info.kernelVersion} ${info.variant}, not ${version} ${variant}`);
  }
  return { version, variant, target: variant, dir, binary, info };
}

/** Every built kernel oracle, in version then variant order. */
export function listKernelOracles(cache = cacheDir()): KernelOracleBuild[] {
  const out: KernelOracleBuild[] = [];
  for (const v of KERNEL_VERSIONS) {
    for (const a of KERNEL_VARIANTS) {
      try {
        out.push(findKernelOracle(v, a, cache));
      } catch (e) {
        if (!isKernelOracleUnavailableError(e)) throw e;
      }
    }
  }
  return out;
}

export interface OpenKernelOracleOptions {
  timeoutMs?: number;
}

/** A live kernel oracle: one harness process, requests pipelined through it. */
export function openKernelOracle(build: KernelOracleBuild, opts: OpenKernelOracleOptions = {}): LiveOracle & { build: KernelOracleBuild } {
  const runner = new InterimBatchRunner(build.binary, [], { timeoutMs: opts.timeoutMs });
  return {
    oracle: { loader: 'kernel', version: build.version, target: build.target },
    build,
    runMany: (reqs: LoadRequest[]): Promise<RefOutcome[]> => runner.runMany(reqs),
    close: () => runner.close(),
  };
}
