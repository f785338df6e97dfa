// Which oracles a fuzz campaign talks to: parse "kexec-tools-2.0.25/x86_64[+sanitize]" and
// "kernel-6.1/x86_64", open them, and say which TS profile models each.
import { ALL_TARGETS } from '../arch/targets.ts';
import { isPurgatoryOracleError, requireMatches, UsageError } from '../errors.ts';
import { makeProfile } from '../load/profile.ts';
import { KexecToolsOracle } from '../oracle/kexec-tools.ts';
import { findKernelOracle, openKernelOracle, KERNEL_VERSIONS, KERNEL_VARIANTS, type KernelVersion, type KernelVariant, listKernelOracles } from '../oracle/kernel.ts';
import { isReleasedBuild, KEXEC_TOOLS_TARGETS, KEXEC_TOOLS_VERSIONS, listKexecToolsOracles, oracleBuildId } from '../oracle/registry.ts';
import type { OracleResponse } from '../oracle/batch.ts';
import { KERNEL_MESSAGE_CLASSES } from '../load/kernel.ts';
import { MAX_IMAGE } from '../load/kexec-tools.ts';
import type { Arch, LoadRequest } from '../types.ts';

export interface OracleSpec {
  loader: 'kexec-tools' | 'kernel';
  version: string;
  target: Arch;
  sanitize: boolean;
  /** "kexec-tools-2.0.25/x86_64+sanitize" */
  id: string;
  /** The TS profile that models it. */
  profile: string;
  /** Extra reference message classes (the kernel's pr_err texts). */
  refClasses: [RegExp, string][];
}

export interface FuzzOracle {
  spec: OracleSpec;
  run(req: LoadRequest): Promise<OracleResponse>;
  runMany(reqs: readonly LoadRequest[]): Promise<OracleResponse[]>;
  close(): Promise<void>;
  kill(): void;
}

/** A started oracle process (kexec-tools or kernel) as a FuzzOracle under `spec`. */
export function asFuzzOracle(spec: OracleSpec, o: Pick<FuzzOracle, 'run' | 'runMany' | 'close' | 'kill'>): FuzzOracle {
  return { spec, run: (r) => o.run(r), runMany: (r) => o.runMany(r), close: () => o.close(), kill: () => o.kill() };
}

/** The environment a campaign's kexec-tools oracle runs with: the fuzz limits, and the sanitizers' options for an ASan build. */
export function fuzzEnvOf(sanitize: boolean): Record<string, string> {
  return sanitize ? FUZZ_SANITIZE_ENV : FUZZ_ORACLE_ENV;
}

const TARGETS: readonly Arch[] = ALL_TARGETS;

export function parseOracleSpec(s: string): OracleSpec {
  const m = /^(kexec-tools|kernel)-([^/\s]+)\/(\w+?)(\+sanitize)?$/.exec(s.trim());
  if (!m || !TARGETS.includes(m[3] as Arch)) throw new UsageError(`--oracle '${s}': expected kexec-tools-<version>/<target>[+sanitize] or kernel-<version>/<target> (targets: ${TARGETS.join(', ')})`);
  const loader = m[1] as 'kexec-tools' | 'kernel';
  const version = m[2]!;
  const target = m[3] as Arch;
  const sanitize = Boolean(m[4]);
  if (loader === 'kernel') {
    if (sanitize) throw new UsageError(`--oracle '${s}': the kernel oracle has no sanitizer build`);
    if (!(KERNEL_VERSIONS as readonly string[]).includes(version)) throw new UsageError(`--oracle '${s}': kernel versions are ${KERNEL_VERSIONS.join(', ')}`);
    if (!(KERNEL_VARIANTS as readonly string[]).includes(target)) throw new UsageError(`--oracle '${s}': kernel oracle targets are ${KERNEL_VARIANTS.join(', ')}`);
  }
  if (sanitize && target !== 'x86_64') throw new UsageError(`--oracle '${s}': the sanitizer build exists for x86_64 only`);
  return {
    loader, version, target, sanitize,
    id: `${loader}-${version}/${target}${sanitize ? '+sanitize' : ''}`,
    profile: `${loader}-${version}`,
    refClasses: refClassesFor(loader),
  };
}

export function refClassesFor(loader: 'kexec-tools' | 'kernel'): [RegExp, string][] {
  return loader === 'kernel' ? KERNEL_MESSAGE_CLASSES : [];
}

/** The die() line of a kexec-tools rejection (shared with compareOutcomes). */
export { dieText } from '../compare/compare.ts';

/**
 * Every built released oracle that a TS profile models, as specs ("--oracle all"), sanitizer
 * builds included; builds of local trees are fuzzed only when named.
 */
export function builtOracleSpecs(): OracleSpec[] {
  const ids = [
    ...listKexecToolsOracles().filter((b) => isReleasedBuild(b)).map((b) => oracleBuildId(b)),
    ...listKernelOracles().filter((k) => k.info.source !== 'checkout').map((k) => `kernel-${k.version}/${k.target}`),
  ];
  const out: OracleSpec[] = [];
  for (const id of ids) {
    try {
      const spec = parseOracleSpec(id);
      makeProfile(spec.profile, spec.target);
      out.push(spec);
    } catch (e) {
      if (!isPurgatoryOracleError(e)) throw e;
    }
  }
  return out;
}

/**
 * A named kexec-tools oracle that is neither a released version (buildable: reported unavailable,
 * with its build command) nor built (a local tree's label, mistyped or pruned) matches nothing:
 * NoMatchError, listing the built oracles.
 */
export function requireKnownOracles(specs: readonly OracleSpec[], filter = '--oracle'): void {
  const built = listKexecToolsOracles();
  const unknown = specs.filter((s) => s.loader === 'kexec-tools' && !Object.hasOwn(KEXEC_TOOLS_VERSIONS, s.version) && !built.some((b) => oracleBuildId(b) === s.id));
  if (unknown.length) {
    requireMatches(filter, unknown.map((s) => s.id), [...built.map((b) => oracleBuildId(b)), ...listKernelOracles().map((k) => `kernel-${k.version}/${k.target}`)], 'built oracle (a released kexec-tools version, or a local build: see oracle list)');
  }
}

/**
 * The kexec-tools harness refuses allocations over PO_ORACLE_MAX_ALLOC (default 1 GiB) with a
 * 'resource-limit' exit; the TS model refuses images over MAX_IMAGE (512 MiB). Fuzzing aligns the
 * two so an image between the limits is not loaded (and shipped back) by one side only.
 */
export const FUZZ_ORACLE_ENV = { PO_ORACLE_MAX_ALLOC: String(MAX_IMAGE) };
/**
 * Under ASan a multi-GiB malloc succeeds and unpoisons its shadow (1/8 of it) before the harness
 * can refuse it, which takes seconds: cap ASan's allocator instead, so malloc returns NULL and
 * kexec-tools dies "Cannot malloc", as it does when the real malloc fails.
 * UBSan's reports come without a stack trace in campaigns: each ASan crash ends the fork server's
 * child, and symbolizing the stack of a fresh child's first UBSan report cost ≈50 ms (libbacktrace
 * reading the debug information again). The report keeps its file:line:col and message, which is
 * what diagnosticSignature() uses; `oracle run` on a reproducer prints the full stack. Measured on
 * 300 generated cases (seed 1): 6.9 ms per case instead of 25 ms (ok cases 3.1 ms instead of 52).
 */
export const FUZZ_SANITIZE_ENV = {
  ...FUZZ_ORACLE_ENV,
  ASAN_OPTIONS: `max_allocation_size_mb=${Number(MAX_IMAGE >> 20n)}:allocator_may_return_null=1`,
  UBSAN_OPTIONS: 'print_stacktrace=0',
};

/** Open an oracle; throws OracleUnavailableError (with the fix) when it is not built. */
export async function openOracle(spec: OracleSpec): Promise<FuzzOracle> {
  if (spec.loader === 'kexec-tools') {
    // fork server: about one generated case in ten crashes the C loader; the harness forks a
    // fresh child instead of the runner restarting the process (and qemu) each time
    return asFuzzOracle(spec, await KexecToolsOracle.open(spec.version, spec.target, { sanitize: spec.sanitize, env: fuzzEnvOf(spec.sanitize), forkServer: true }));
  }
  return asFuzzOracle(spec, openKernelOracle(findKernelOracle(spec.version as KernelVersion, spec.target as KernelVariant)));
}
