// The engine's front door: one request + one profile → one Outcome. Never throws for bad input;
// only internal bugs escape as non-typed exceptions.
import { isLoadError, isPurgatoryOracleError } from './errors.ts';
import { ElfFile } from './elf/reader.ts';
import { loadKexecTools } from './load/kexec-tools.ts';
import { kexecToolsDetails } from './load/kexec-tools-details.ts';
import { loadKernel } from './load/kernel.ts';
import { loadPie } from './load/pie.ts';
import { defaultTarget, makeProfile, type Profile } from './load/profile.ts';
import { isNoModelError } from './arch/targets.ts';
import type { Arch, Endian, LoadRequest, Outcome } from './types.ts';

export interface EngineOptions {
  /** Profile id: 'kexec-tools', 'kexec-tools-2.0.25', 'abi', 'kernel-6.1'... */
  profile?: string;
  /** The target the reference loader was built for; default from the file. */
  target?: Arch;
  /** Host address of the image buffer, for kexec-tools' REL32 (from the oracle's response). */
  hostAddress?: bigint;
  log?: boolean;
}

/** e_machine and byte order from the ELF header; undefined when the header is unreadable. */
function machineOf(elf: Uint8Array): { machine: number; endian: Endian } | undefined {
  if (elf.length < 20 || elf[0] !== 0x7f) return undefined;
  const big = elf[5] === 2;
  return { machine: big ? (elf[18]! << 8) | elf[19]! : elf[18]! | (elf[19]! << 8), endian: big ? 'big' : 'little' };
}

/** Guess the target from the ELF header (machine, byte order); undefined when unreadable or no model emulates the machine. */
export function targetOf(elf: Uint8Array): Arch | undefined {
  const h = machineOf(elf);
  if (!h) return undefined;
  try {
    return defaultTarget(h.machine, h.endian);
  } catch (e) {
    if (isNoModelError(e)) return undefined;
    throw e;
  }
}

/**
 * The profile for a request: opts.target, else the file's machine. A machine no model emulates is a
 * NoModelError naming it (never a silent x86_64); an unreadable header is left to the loader to reject.
 */
export function resolveProfile(req: LoadRequest, opts: EngineOptions): Profile {
  const h = opts.target ? undefined : machineOf(req.elf);
  const target = opts.target ?? (h ? defaultTarget(h.machine, h.endian) : 'x86_64');
  return makeProfile(opts.profile ?? 'kexec-tools', target);
}

export function load(req: LoadRequest, opts: EngineOptions = {}): Outcome {
  let profile: Profile;
  try {
    profile = resolveProfile(req, opts);
  } catch (e) {
    return toRejection(e);
  }
  try {
    if (profile.loader === 'kernel') {
      const { image } = loadKernel(req.elf, req.base, profile, { log: opts.log, symbols: req.symbols, probes: req.probes });
      return { kind: 'ok', image };
    }
    if (profile.loader === 'pie') {
      const { image } = loadPie(req.elf, req.base, profile, { fill: req.fill, log: opts.log, symbols: req.symbols });
      return { kind: 'ok', image };
    }
    // kexec-tools leaves heap bytes in the padding (the request's fill); a zeroed-image profile does not.
    const fill = profile.zeroImage ? 0 : req.fill;
    const loaded = loadKexecTools(req.elf, req.base, profile, {
      fill, hostAddress: opts.hostAddress ?? 0n, log: opts.log, symbols: req.symbols,
    });
    const { image } = loaded; // (kt and layout are built only when asked for)
    if (req.probes) image.details = kexecToolsDetails(loaded.kt, loaded.layout, req.probes);
    return { kind: 'ok', image, hostAddress: opts.hostAddress };
  } catch (e) {
    return toRejection(e);
  }
}

function toRejection(e: unknown): Outcome {
  if (isLoadError(e)) return { kind: 'rejected', code: e.code, message: e.cMessage, where: e.where };
  if (isNoModelError(e)) return { kind: 'rejected', code: 'no-model', message: e.message };
  if (isPurgatoryOracleError(e)) return { kind: 'rejected', code: 'elf-format', message: e.message };
  throw e; // an internal bug: never masked as a rejection
}

export { ElfFile };
