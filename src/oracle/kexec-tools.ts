// The live kexec-tools oracle: the unmodified kexec-elf.c / kexec-elf-rel.c / arch relocation
// files of a Debian kexec-tools, built by scripts/build-oracle.sh into one batch process per
// (version, target). x86_64 runs natively; ppc64 and ppc64le run under qemu-user.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Arch, LoadedSection, Outcome } from '../types.ts';
import { BatchOracle, type BatchOptions, type OracleCommand, type OracleResponse } from './batch.ts';
import {
  cacheDir,
  kexecToolsBuildCommand,
  kexecToolsBuildDir,
  OracleUnavailableError,
  readKexecToolsBuild,
  type OracleBuild,
} from './registry.ts';

export interface KexecToolsOpenOptions extends BatchOptions {
  /** Use the ASan+UBSan build (x86_64 only); its reports come back as `diagnostics`. */
  sanitize?: boolean;
  /** Cache root (default: $PURGATORY_ORACLE_CACHE or <repo>/.cache). */
  cacheDir?: string;
  /**
   * Page size add_buffer aligns to (kexec-tools uses getpagesize()). Default: the oracle's own,
   * which is 4096 under qemu-user; real ppc64 machines usually run 64 KiB pages.
   */
  pageSize?: number;
  /** Extra environment for the oracle process. */
  env?: Record<string, string>;
}

/** Default per-request timeouts: native loads take microseconds, qemu adds start-up time. */
const DEFAULT_TIMEOUT_NATIVE_MS = 10_000;
const DEFAULT_TIMEOUT_EMULATED_MS = 30_000;

/** Whether the build's --info lists an optional protocol extension ("same-elf", "image-delta", "details"). */
export function supports(build: OracleBuild, feature: string): boolean {
  const info = (build.build as { info?: { features?: unknown } }).info;
  return Array.isArray(info?.features) && info.features.includes(feature);
}

function onPath(cmd: string): boolean {
  if (cmd.includes('/')) return existsSync(cmd);
  for (const d of (process.env.PATH ?? '').split(delimiter)) if (d && existsSync(join(d, cmd))) return true;
  return false;
}

/** A live kexec-tools oracle: one batch process of the build, requests pipelined by BatchOracle. */
export class KexecToolsOracle extends BatchOracle {
  readonly loader = 'kexec-tools' as const;
  readonly version: string;
  readonly target: Arch;

  private constructor(readonly build: OracleBuild, command: OracleCommand, opts: BatchOptions) {
    super(command, opts);
    this.version = build.version;
    this.target = build.target;
  }

  /** The identity validate uses: { loader, version, target }. */
  get oracle(): { loader: 'kexec-tools'; version: string; target: Arch } {
    return { loader: 'kexec-tools', version: this.version, target: this.target };
  }

  /**
   * Open the oracle of one kexec-tools version and target. Throws OracleUnavailableError (with
   * the command that fixes it) when the build or its emulator is missing. The process starts
   * with the first request.
   */
  static async open(version: string, target: Arch, opts: KexecToolsOpenOptions = {}): Promise<KexecToolsOracle> {
    const sanitize = opts.sanitize ?? false;
    if (sanitize && target !== 'x86_64') {
      throw new OracleUnavailableError(`the sanitizer build exists for x86_64 only, not ${target}`, kexecToolsBuildCommand(version, 'x86_64', true));
    }
    const dir = kexecToolsBuildDir(version, target, sanitize, opts.cacheDir ?? cacheDir());
    const build = readKexecToolsBuild(dir, { version, target, sanitize });
    return KexecToolsOracle.fromBuild(build, opts);
  }

  /** Open an oracle from a registry entry (see listKexecToolsOracles). */
  static fromBuild(build: OracleBuild, opts: KexecToolsOpenOptions = {}): KexecToolsOracle {
    if (build.loader !== 'kexec-tools') throw new OracleUnavailableError(`${build.dir} is not a kexec-tools oracle`, kexecToolsBuildCommand(build.version, build.target, build.sanitize));
    if (build.emulator && !onPath(build.emulator)) {
      throw new OracleUnavailableError(`${build.emulator} is needed to run the ${build.target} oracle and is not installed`, 'scripts/setup-toolchains.sh');
    }
    const args = build.sanitize ? ['--mark-stderr'] : [];
    const forkServer = (opts.forkServer ?? false) && supports(build, 'fork-server');
    const env: Record<string, string> = { ...opts.env };
    if (opts.pageSize !== undefined) env.PO_ORACLE_PAGESIZE = String(opts.pageSize);
    const command = build.emulator
      ? { file: build.emulator, args: [build.oracle, ...args], env, label: `kexec-tools-${build.version}/${build.target}` }
      : { file: build.oracle, args, env, label: `kexec-tools-${build.version}/${build.target}${build.sanitize ? '+sanitize' : ''}` };
    return new KexecToolsOracle(build, command, {
      timeoutMs: opts.timeoutMs ?? (build.emulator ? DEFAULT_TIMEOUT_EMULATED_MS : DEFAULT_TIMEOUT_NATIVE_MS),
      maxInFlight: opts.maxInFlight,
      maxInFlightBytes: opts.maxInFlightBytes,
      markStderr: opts.markStderr ?? build.sanitize,
      startupMs: opts.startupMs,
      sameElf: opts.sameElf ?? supports(build, 'same-elf'),
      imageDelta: opts.imageDelta ?? supports(build, 'image-delta'),
      details: opts.details ?? supports(build, 'details'),
      forkServer,
    });
  }
}

/**
 * An oracle response as an Outcome (src/types.ts). The C loader reports only section addresses:
 * sections carry index and addr, with name '' and size/flags unknown (size 0, alloc/nobits
 * false) until the caller fills them from the ELF; relocations are empty. Keep the raw response
 * for anything else (hostBuf, errno, diagnostics).
 */
export function responseToOutcome(r: OracleResponse): Outcome {
  switch (r.kind) {
    case 'ok': {
      const sections: LoadedSection[] = r.shAddr.map((addr, index) => ({ index, name: '', addr, size: 0n, alloc: false, nobits: false }));
      return {
        kind: 'ok',
        image: { base: r.relAddr, bytes: r.image, memsz: r.relSize, entry: r.entry, sections, relocations: [], ...(r.details ? { details: r.details } : {}) },
        hostAddress: r.hostBuf,
      };
    }
    case 'rejected':
      return { kind: 'rejected', code: 'died', message: r.message };
    case 'crashed':
      return r.message === undefined ? { kind: 'crashed', signal: r.signal } : { kind: 'crashed', signal: r.signal, message: r.message };
    case 'timeout':
      return { kind: 'timeout', ms: r.ms };
  }
}
