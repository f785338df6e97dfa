// The kernel oracle: the Linux kernel's own kexec_file purgatory loader (5.10, 6.1, 6.12), compiled
// in userspace by scripts/build-kernel-oracle.sh. This module finds the builds and opens them as
// live oracles speaking oracle/PROTOCOL.md. See oracle/kernel/NOTES.md for what they model.
import { existsSync, readFileSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { Arch } from '../types.ts';
import { BatchOracle, type BatchOptions } from './batch.ts';
import { cacheDir, isOracleUnavailableError, OracleUnavailableError } from './registry.ts';

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

/** The CLI command that builds a kernel oracle (`oracle build-kernel` runs scripts/build-kernel-oracle.sh). */
export const buildCommand = (version: string, variant: string): string =>
  `npx purgatory-oracle oracle build-kernel ${version} --variant ${variant}`;

export function kernelOracleDir(version: KernelVersion, variant: KernelVariant, cache = cacheDir()): string {
  return join(cache, 'build', `kernel-${version}-${variant}`);
}

/** The build of one version and variant; throws OracleUnavailableError (with the fix) if it is not built. */
export function findKernelOracle(version: KernelVersion, variant: KernelVariant, cache = cacheDir()): KernelOracleBuild {
  const dir = kernelOracleDir(version, variant, cache);
  const binary = join(dir, 'oracle');
  const infoPath = join(dir, 'build.json');
  const fix = buildCommand(version, variant);
  if (!existsSync(binary) || !existsSync(infoPath)) {
    throw new OracleUnavailableError(`kernel ${version} ${variant} oracle is not built (no ${binary})`, fix);
  }
  try {
    accessSync(binary, constants.X_OK);
  } catch (cause) {
    throw new OracleUnavailableError(`${binary} is not executable`, fix, { cause });
  }
  let info: KernelBuildInfo;
  try {
    info = JSON.parse(readFileSync(infoPath, 'utf8')) as KernelBuildInfo;
  } catch (cause) {
    throw new OracleUnavailableError(`${infoPath} is unreadable`, fix, { cause });
  }
  if (info.kernelVersion !== version || info.variant !== variant) {
    throw new OracleUnavailableError(`${infoPath} describes kernel ${info.kernelVersion} ${info.variant}, not ${version} ${variant}`, fix);
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
        if (!isOracleUnavailableError(e)) throw e;
      }
    }
  }
  return out;
}

export type OpenKernelOracleOptions = BatchOptions;

/**
 * A live kernel oracle: one harness process (started with the first request), requests
 * pipelined by the project's BatchOracle. WARN_ON reports come back as `diagnostics`.
 */
export class KernelOracle extends BatchOracle {
  readonly loader = 'kernel' as const;

  constructor(readonly build: KernelOracleBuild, opts: OpenKernelOracleOptions = {}) {
    super(
      { file: build.binary, args: ['--mark-stderr'], label: `kernel-${build.version}/${build.variant}` },
      { timeoutMs: 10_000, markStderr: true, ...opts },
    );
  }

  /** The identity validate uses: { loader, version, target }. */
  get oracle(): { loader: 'kernel'; version: string; target: Arch } {
    return { loader: 'kernel', version: this.build.version, target: this.build.target };
  }
}

/** Open a kernel oracle build (see findKernelOracle / listKernelOracles). */
export function openKernelOracle(build: KernelOracleBuild, opts: OpenKernelOracleOptions = {}): KernelOracle {
  return new KernelOracle(build, opts);
}
