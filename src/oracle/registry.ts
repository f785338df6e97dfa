// Which live oracles are built: scans $CACHE/build (scripts/build-oracle.sh, and the kernel
// oracle's builds through src/oracle/kernel.ts).
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PurgatoryOracleError } from '../errors.ts';
import type { Arch } from '../types.ts';

export const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** kexec-tools versions the project fetches, and the Debian suite each comes from. */
export const KEXEC_TOOLS_VERSIONS = {
  '2.0.20': 'bullseye',
  '2.0.25': 'bookworm',
  '2.0.29': 'trixie',
  '2.0.32': 'sid',
} as const;
export type KexecToolsVersion = keyof typeof KEXEC_TOOLS_VERSIONS;
export const KEXEC_TOOLS_TARGETS = ['x86_64', 'ppc64', 'ppc64le', 'arm64', 's390x', 'riscv64'] as const satisfies readonly Arch[];

const BRAND = Symbol.for('purgatory-oracle.OracleUnavailableError');

/** A live oracle is not available here; `fix` is the command that makes it available. */
export class OracleUnavailableError extends PurgatoryOracleError {
  readonly [BRAND] = true;
  constructor(
    message: string,
    /** The exact command that fixes it, e.g. "npx purgatory-oracle oracle build --kexec-tools 2.0.25 --target ppc64". */
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super(`${message}; fix: ${fix}`, options);
    this.name = 'OracleUnavailableError';
  }
}

/** True for this module's error and for any other module copy's (also the kernel oracle's). */
export function isOracleUnavailableError(e: unknown): e is PurgatoryOracleError {
  if (typeof e !== 'object' || e === null) return false;
  return (e as Record<symbol, unknown>)[BRAND] === true || (e as Error).name === 'OracleUnavailableError';
}

/** $PURGATORY_ORACLE_CACHE or <repo>/.cache, exactly as the scripts resolve it. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PURGATORY_ORACLE_CACHE ? resolve(env.PURGATORY_ORACLE_CACHE) : join(REPO_DIR, '.cache');
}

/** build.json of a kexec-tools oracle, as scripts/build-oracle.sh writes it. */
export interface KexecToolsBuildInfo {
  oracle: 'kexec-tools';
  version: string;
  target: Arch;
  sanitize: boolean;
  source_path: string;
  source_meta: string;
  source_sha256: string;
  upstream_files: string[];
  compiler: string;
  compiler_version: string;
  cflags: string;
  ldflags: string;
  emulator: string | null;
  emulator_version: string | null;
  harness_revision: string;
  harness_sha256: string;
  build_key: string;
  compiler_warnings: number;
  build_seconds: number;
  built_at: string;
  info: {
    oracle: string;
    protocol: number;
    kexec_tools: string;
    target: string;
    pagesize: number;
    big_endian: boolean;
    call_elf: number;
    sanitize: boolean;
    long_bits: number;
    /** Optional protocol extensions the harness implements ("same-elf"). */
    features?: string[];
  };
}

/** One built oracle, whichever loader it wraps. */
export interface OracleBuild {
  loader: 'kexec-tools' | 'kernel';
  version: string;
  target: Arch;
  sanitize: boolean;
  /** Built from a local kexec-tools tree or tarball (--kexec-tools PATH), not a Debian package. */
  local: boolean;
  dir: string;
  /** The oracle binary. */
  oracle: string;
  /** The in-process timing binary, where built. */
  benchLoad?: string;
  /** The emulator that runs it (qemu-ppc64-static, ...), or null when native. */
  emulator: string | null;
  /** build.json as written by the build script. */
  build: Record<string, unknown>;
}

export const oracleBuildId = (b: Pick<OracleBuild, 'loader' | 'version' | 'target' | 'sanitize'>): string =>
  `${b.loader}-${b.version}/${b.target}${b.sanitize ? '+sanitize' : ''}`;

export const kexecToolsBuildDir = (version: string, target: Arch, sanitize = false, cache = cacheDir()): string =>
  join(cache, 'build', `kexec-tools-${version}-${target}${sanitize ? '-sanitize' : ''}`);

/** The CLI command that builds a kexec-tools oracle (`oracle build` runs scripts/build-oracle.sh). */
export const kexecToolsBuildCommand = (version: string, target: Arch, sanitize = false): string =>
  `npx purgatory-oracle oracle build --kexec-tools ${version} --target ${target}${sanitize ? ' --sanitize' : ''}`;

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The kexec-tools build in `dir`, or an OracleUnavailableError saying what is missing and which
 * command fixes it.
 */
export function readKexecToolsBuild(dir: string, expect?: { version?: string; target?: Arch; sanitize?: boolean }): OracleBuild {
  const version = expect?.version ?? '?';
  const target = expect?.target ?? 'x86_64';
  const fix = kexecToolsBuildCommand(version, target, expect?.sanitize);
  const infoPath = join(dir, 'build.json');
  const oracle = join(dir, 'oracle');
  if (!existsSync(infoPath) || !existsSync(oracle)) {
    throw new OracleUnavailableError(`kexec-tools ${version} ${target}${expect?.sanitize ? ' (sanitize)' : ''} oracle is not built (no ${oracle})`, fix);
  }
  if (!isExecutable(oracle)) throw new OracleUnavailableError(`${oracle} is not executable`, fix);
  let info: KexecToolsBuildInfo;
  try {
    info = JSON.parse(readFileSync(infoPath, 'utf8')) as KexecToolsBuildInfo;
  } catch (cause) {
    throw new OracleUnavailableError(`${infoPath} is unreadable`, fix, { cause });
  }
  if (info.oracle !== 'kexec-tools' || !info.version || !info.target) throw new OracleUnavailableError(`${infoPath} is not a kexec-tools oracle build`, fix);
  if (expect?.version && info.version !== expect.version) throw new OracleUnavailableError(`${infoPath} describes kexec-tools ${info.version}, not ${expect.version}`, fix);
  if (expect?.target && info.target !== expect.target) throw new OracleUnavailableError(`${infoPath} describes target ${info.target}, not ${expect.target}`, fix);
  const bench = join(dir, 'bench-load');
  return {
    loader: 'kexec-tools',
    version: info.version,
    target: info.target,
    sanitize: info.sanitize === true,
    local: isLocalBuildInfo(info),
    dir,
    oracle,
    benchLoad: existsSync(bench) ? bench : undefined,
    emulator: info.emulator ?? null,
    build: info as unknown as Record<string, unknown>,
  };
}

/**
 * Whether a kexec-tools build.json describes a local tree's build: scripts/build-oracle.sh records
 * `"local"`; builds from before that field count as local unless their version is a released one.
 */
function isLocalBuildInfo(info: KexecToolsBuildInfo): boolean {
  const local = (info as { local?: unknown }).local;
  return typeof local === 'boolean' ? local : !Object.hasOwn(KEXEC_TOOLS_VERSIONS, info.version);
}

/**
 * A released reference oracle: a kexec-tools version the project fetches from Debian
 * (KEXEC_TOOLS_VERSIONS) or a kernel built from Debian's source package, not a build of a local
 * tree. Plain validate/gate/matrix/fuzz all use these only; local builds are used when named.
 */
export function isReleasedBuild(b: Pick<OracleBuild, 'loader' | 'version' | 'local'>): boolean {
  if (b.local) return false;
  return b.loader === 'kexec-tools' ? Object.hasOwn(KEXEC_TOOLS_VERSIONS, b.version) : true;
}

/** Every built kexec-tools oracle under $CACHE/build, sorted by version, target, sanitize. */
export function listKexecToolsOracles(cache = cacheDir()): OracleBuild[] {
  const root = join(cache, 'build');
  if (!existsSync(root)) return [];
  const out: OracleBuild[] = [];
  for (const name of readdirSync(root)) {
    if (!name.startsWith('kexec-tools-') || name.endsWith('.tmp')) continue;
    try {
      out.push(readKexecToolsBuild(join(root, name)));
    } catch (e) {
      if (!isOracleUnavailableError(e)) throw e;
    }
  }
  const order = (t: Arch) => KEXEC_TOOLS_TARGETS.indexOf(t as (typeof KEXEC_TOOLS_TARGETS)[number]);
  out.sort((a, b) => compareVersions(a.version, b.version) || order(a.target) - order(b.target) || Number(a.sanitize) - Number(b.sanitize));
  return out;
}

/** Every built oracle: kexec-tools builds, then the kernel oracle's (via src/oracle/kernel.ts). */
export async function listOracles(cache = cacheDir()): Promise<OracleBuild[]> {
  const out = listKexecToolsOracles(cache);
  try {
    const kernel = await import('./kernel.ts');
    for (const k of kernel.listKernelOracles(cache)) {
      out.push({
        loader: 'kernel',
        version: k.version,
        target: k.target,
        sanitize: false,
        local: k.info.source === 'checkout',
        dir: k.dir,
        oracle: k.binary,
        emulator: k.info.emulator ?? null,
        build: k.info as unknown as Record<string, unknown>,
      });
    }
  } catch (e) {
    if (!(e instanceof Error && /Cannot find module|ERR_MODULE_NOT_FOUND/.test(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`))) throw e;
  }
  return out;
}

/** Numeric-aware version order: 2.0.9 < 2.0.20 < 2.0.25 < 2.0.25+git-…. */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
