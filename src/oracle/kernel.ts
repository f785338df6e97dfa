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
 * none), PAGE_SIZE 64K, run natively: valid for little-endian objects only. s390x and riscv64:
 * their arch_kexec_apply_relocations_add, cross-compiled and run under qemu-user (s390x is
 * big-endian: the kernel reads its embedded blob and stores in its own byte order).
 */
export const KERNEL_VARIANTS = ['x86_64', 'ppc64le', 's390x', 'riscv64'] as const;
export type KernelVariant = (typeof KERNEL_VARIANTS)[number];

/**
 * How each variant is built (scripts/build-kernel-oracle.sh keeps the same table): the source set
 * scripts/fetch-kernel.sh fetches, Debian's PAGE_SIZE for that architecture, and the versions that
 * have the loader (riscv64's kexec_file, arch/riscv/kernel/elf_kexec.c, arrived in 5.19).
 */
export const KERNEL_VARIANT_INFO: Record<KernelVariant, { sourceSet: 'amd64' | 'ports'; pageSize: number; versions: readonly KernelVersion[] }> = {
  x86_64: { sourceSet: 'amd64', pageSize: 4096, versions: ['5.10', '6.1', '6.12'] },
  // Debian ppc64el: CONFIG_PPC_64K_PAGES=y.
  ppc64le: { sourceSet: 'amd64', pageSize: 65536, versions: ['5.10', '6.1', '6.12'] },
  // s390 has 4K pages only (arch/s390/include/asm/page.h: PAGE_SHIFT 12).
  s390x: { sourceSet: 'ports', pageSize: 4096, versions: ['5.10', '6.1', '6.12'] },
  // Debian riscv64: CONFIG_PAGE_SIZE_4KB (the only size arch/riscv offers).
  riscv64: { sourceSet: 'ports', pageSize: 4096, versions: ['6.1', '6.12'] },
};

/** The (version, variant) pairs that have a kernel oracle, in version then variant order. */
export const KERNEL_BUILDS: readonly { version: KernelVersion; variant: KernelVariant }[] =
  KERNEL_VERSIONS.flatMap((version) => KERNEL_VARIANTS.filter((variant) => KERNEL_VARIANT_INFO[variant].versions.includes(version)).map((variant) => ({ version, variant })));

/** Where scripts/fetch-kernel.sh puts a version's sources for a variant's source set. */
export function kernelSourceDir(version: string, variant: KernelVariant, cache = cacheDir()): string {
  return join(cache, 'kernel', 'src', KERNEL_VARIANT_INFO[variant].sourceSet === 'ports' ? `${version}-ports` : version);
}

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
  /** The qemu-user binary that runs it (s390x, riscv64); absent or null when native. */
  emulator?: string | null;
  /** The protocol extensions its harness implements, as its --info lists them ("details"); absent in builds before it had --info. */
  features?: string[];
}

/** Whether a kernel build's harness implements an optional protocol extension (oracle/PROTOCOL.md). */
export function kernelSupports(build: KernelOracleBuild, feature: string): boolean {
  return Array.isArray(build.info.features) && build.info.features.includes(feature);
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
  for (const { version, variant } of KERNEL_BUILDS) {
    try {
      out.push(findKernelOracle(version, variant, cache));
    } catch (e) {
      if (!isOracleUnavailableError(e)) throw e;
    }
  }
  return out;
}

export type OpenKernelOracleOptions = BatchOptions;

/**
 * A live kernel oracle: one harness process (started with the first request), requests
 * pipelined by the project's BatchOracle. WARN_ON reports come back as `diagnostics`. Requests
 * with probes get the load's details when the build's harness has the feature.
 */
export class KernelOracle extends BatchOracle {
  readonly loader = 'kernel' as const;

  constructor(readonly build: KernelOracleBuild, opts: OpenKernelOracleOptions = {}) {
    const emulator = build.info.emulator ?? null;
    super(
      emulator
        ? { file: emulator, args: [build.binary, '--mark-stderr'], label: `kernel-${build.version}/${build.variant}` }
        : { file: build.binary, args: ['--mark-stderr'], label: `kernel-${build.version}/${build.variant}` },
      { timeoutMs: 10_000, markStderr: true, details: kernelSupports(build, 'details'), ...opts },
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
