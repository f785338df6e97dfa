// The targets a loader can be built for: machine number, byte order, and the name reports use.
// One table; every per-arch fact that is not a relocation (those live in src/arch/<arch>.ts) is here.
import { UsageError, isPurgatoryOracleError } from '../errors.ts';
import type { Arch, Endian } from '../types.ts';

export interface TargetInfo {
  /** e_machine. */
  machine: number;
  /** <elf.h> name of e_machine. */
  machineName: string;
  /** The target's byte order: kexec-tools stores host-endian, so this is also its store order. */
  endian: Endian;
}

export const TARGETS: Readonly<Record<Arch, TargetInfo>> = {
  x86_64: { machine: 62, machineName: 'EM_X86_64', endian: 'little' },
  ppc64: { machine: 21, machineName: 'EM_PPC64', endian: 'big' },
  ppc64le: { machine: 21, machineName: 'EM_PPC64', endian: 'little' },
  arm64: { machine: 183, machineName: 'EM_AARCH64', endian: 'little' },
  s390x: { machine: 22, machineName: 'EM_S390', endian: 'big' },
  riscv64: { machine: 243, machineName: 'EM_RISCV', endian: 'little' },
};

/** Every target, in report order. */
export const ALL_TARGETS = Object.keys(TARGETS) as Arch[];

/**
 * <elf.h> names of machines that have a kexec purgatory loader somewhere but no model here (or that
 * users plausibly feed in), so the no-model error can name them.
 */
const OTHER_MACHINES: Readonly<Record<number, string>> = {
  2: 'EM_SPARC', 3: 'EM_386', 8: 'EM_MIPS', 15: 'EM_PARISC', 20: 'EM_PPC', 40: 'EM_ARM', 42: 'EM_SH',
  43: 'EM_SPARCV9', 50: 'EM_IA_64', 76: 'EM_CRIS', 258: 'EM_LOONGARCH',
};

export function machineName(machine: number): string {
  for (const t of Object.values(TARGETS)) if (t.machine === machine) return t.machineName;
  return OTHER_MACHINES[machine] ?? 'unknown machine';
}

/**
 * A file whose e_machine (or machine and byte order) no model here emulates, or a (loader, target)
 * pair with no model: names the machine, number and name, and how to choose a loader instead.
 */
export class NoModelError extends UsageError {
  constructor(
    readonly machine: number,
    readonly endian: Endian | undefined,
    /** The loader asked for, when the target is known but that loader has no model for it. */
    readonly loader?: string,
  ) {
    super(loader
      ? `no ${loader} model for e_machine ${machine} (${machineName(machine)})${endian ? `, ${endian}-endian` : ''}`
      : `no model for e_machine ${machine} (${machineName(machine)}): purgatory-oracle models ${ALL_TARGETS.map((t) => `${t} (${TARGETS[t].machine})`).join(', ')}; pass --target (opts.target) to emulate one of those loaders on this file`);
  }
}

export function isNoModelError(e: unknown): e is NoModelError {
  return isPurgatoryOracleError(e) && (e as Error).name === 'NoModelError';
}

/**
 * The target a file is meant for: by machine; where two targets share a machine (ppc64), by byte
 * order (big: ELFv1 ppc64, little: ELFv2 ppc64le). A machine with one target gets it in either
 * byte order (the loader itself decides whether it accepts the other one).
 */
export function targetForMachine(machine: number, endian: Endian): Arch {
  const hits = ALL_TARGETS.filter((t) => TARGETS[t].machine === machine);
  if (hits.length === 0) throw new NoModelError(machine, endian);
  return hits.find((t) => TARGETS[t].endian === endian) ?? hits[0]!;
}
