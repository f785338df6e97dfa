// Loader profiles: which loader, which version, built for which target. Every difference from
// the ABI-correct semantics is one named entry in DIVERGENCES, and one line in makeProfile().
import type { Semantics } from '../arch/types.ts';
import { UsageError } from '../errors.ts';
import { NoModelError, TARGETS, targetForMachine } from '../arch/targets.ts';
import type { Arch, Endian } from '../types.ts';

export type LoaderKind = 'kexec-tools' | 'kernel' | 'abi' | 'pie';

/**
 * How the entry point is found (oracle/kernel/NOTES.md, "Entry point"):
 * - 'first-exec': kexec-tools: the first SHF_ALLOC|SHF_EXECINSTR section containing e_entry by its
 *   original address (NOBITS included), once;
 * - 'exec-rematch': kernel 5.10: the same test on non-NOBITS sections, applied again by every
 *   later containing exec section while image->start still equals e_entry (only a WARN otherwise);
 * - 'purgatory-start': kernel 6.1 (stable backport, in 6.1.176) and 6.12: per section in index
 *   order, the global purgatory_start's exec section or an exec section containing e_entry,
 *   whichever comes first, fixes the entry.
 */
export type EntryRule = 'first-exec' | 'exec-rematch' | 'purgatory-start';

export interface Profile {
  id: string;
  loader: LoaderKind;
  version?: string;
  /** The target the loader was built for (kexec-tools stores host-endian and picks ELFv1/v2 at build time). */
  target: Arch;
  storeEndian: Endian;
  /** `sh_addralign == 0` counts as 1 (kexec-tools >= 2.0.24, commit 2b78a27); older: _ALIGN(x, 0) == 0. */
  alignZeroAsOne: boolean;
  /** x86_64 accepts ELFCLASS32 (x32) objects (kexec-tools >= 2.0.21, commit 6b5667d). */
  acceptX32: boolean;
  /** locate_hole aligns the base to at least getpagesize(); the kernel's kexec_add_buffer to PAGE_SIZE. */
  pageSize: bigint;
  entryRule: EntryRule;
  /** The image buffer starts zeroed (ABI); kexec-tools xmalloc()s it and leaves heap bytes in the padding. */
  zeroImage: boolean;
  /**
   * Section indexes are checked with `>=` e_shnum, and r_sym and r_offset against their tables
   * (ABI); kexec-tools checks indexes with `>` and never checks r_sym or r_offset.
   */
  checkIndexes: boolean;
  /** File offsets are checked against the file size without unsigned wrap-around (ABI); kexec-tools checks `off + size > len` modulo 2^64. */
  checkOffsetWrap: boolean;
  /** Quirks this profile has fixed (the `+SWITCH` suffixes of its id, see FIXES), in id order. */
  fixes: string[];
  sem: Semantics;
}

export const KEXEC_TOOLS_VERSIONS = ['2.0.20', '2.0.25', '2.0.29', '2.0.32'] as const;
export const KERNEL_VERSIONS = ['5.10', '6.1', '6.12'] as const;

/** Known divergences of kexec-tools from the ABI, as they appear in the semantics switches. */
export const DIVERGENCES = {
  rel32HostPointer: 'kexec/arch/ppc64/kexec-elf-rel-ppc64.c: R_PPC64_REL32 computes value - (uintptr_t)location (host pointer) instead of S+A-P',
  rel64Absolute: 'kexec/arch/ppc64/kexec-elf-rel-ppc64.c: R_PPC64_REL64 shares the ADDR64 case and writes S+A instead of S+A-P',
  rel16Rewrite: 'kexec/arch/ppc64/kexec-elf-rel-ppc64.c: R_PPC64_REL16_HA/LO rewrite addis 2,12 into lis 2 with (.TOC.>>16), no @ha carry',
  localEntry: 'kexec/arch/ppc64/kexec-elf-rel-ppc64.c: local entry offsets are applied when kexec-tools was built for ELFv2 (_CALL_ELF == 2), not from the object\'s e_flags',
  abiRangeChecks: 'kexec-tools checks no range for PC32/PLT32, ADDR32 (the ABI and lld do); REL32 is checked where it is S+A-P (rel32HostPointer off)',
  addr16HiRangeChecks: 'kexec-tools checks no range for ppc64 ADDR16_HI/HA, which its own purgatory (v2wrap.S: @h in a 64-bit address) relies on',
  resolveDotToc: 'kexec-tools resolves the undefined .TOC. symbol to 0 (STN_UNDEF with STT_NOTYPE) and adds my_r2 in the REL16 cases',
  rel16Carry: 'kexec/arch/ppc64/kexec-elf-rel-ppc64.c: the REL16_HA rewrite takes (value >> 16) where its comment says .TOC.@ha',
  movwGetBits32: 'kexec/arch/arm64/kexec-arm64.c: get_bits() takes a uint32_t, so R_AARCH64_MOVW_UABS_G2_NC/G3 add 0 instead of bits 32..47/48..63',
  zeroImage: 'kexec/kexec-elf-rel.c: the image buffer is xmalloc()ed and never zeroed; the padding between sections is heap garbage',
  checkIndexes: 'kexec/kexec-elf-rel.c: section indexes are checked with > e_shnum (off by one); r_sym and r_offset are never checked',
  checkOffsetWrap: 'kexec/kexec-elf.c: sh_offset + sh_size (and p_offset + p_filesz, e_shoff/e_phoff + table size) are checked against the file size modulo 2^64',
} as const;

/**
 * The quirks a profile id can fix with a `+SWITCH` suffix ('kexec-tools-2.0.32+rel32HostPointer',
 * 'kernel-6.12+alignZeroAsOne'): the profile as the loader would be with that one defect
 * corrected, each switch at its ABI-correct value. `findings verify` gates a patched oracle with it.
 */
export const FIXES = [
  'rel32HostPointer', 'rel64Absolute', 'rel16Rewrite', 'rel16Carry', 'localEntry', 'abiRangeChecks', 'addr16HiRangeChecks', 'resolveDotToc', 'movwGetBits32',
  'alignZeroAsOne', 'zeroImage', 'checkIndexes', 'checkOffsetWrap',
] as const;
export type Fix = (typeof FIXES)[number];

function applyFix(p: Profile, fix: Fix): Profile {
  switch (fix) {
    case 'alignZeroAsOne':
    case 'zeroImage':
    case 'checkIndexes':
    case 'checkOffsetWrap':
      return { ...p, [fix]: true };
    default:
      return { ...p, sem: { ...p.sem, [fix]: abiSemantics()[fix] } };
  }
}

function storeEndianOf(target: Arch): Endian {
  return TARGETS[target].endian;
}

/**
 * Which loaders have a model for which target: one line per (loader, target). kexec-tools: the
 * first release whose kexec/arch/<arch> has machine_apply_elf_rel (riscv arrived in 2.0.32).
 * Kernel: the targets whose kexec_file loads a purgatory and whose loader is modelled, with the
 * kernel's PAGE_SIZE there (Debian's configs). arm64's kexec_file loads no purgatory.
 */
const KEXEC_TOOLS_SINCE: Readonly<Record<Arch, string>> = {
  x86_64: '2.0.20', ppc64: '2.0.20', ppc64le: '2.0.20', arm64: '2.0.20', s390x: '2.0.20', riscv64: '2.0.32',
};
const KERNEL_PAGE_SIZE: Readonly<Partial<Record<Arch, bigint>>> = {
  x86_64: 4096n,
  // 64K on Debian's powerpc64 kernels (CONFIG_PPC_64K_PAGES=y).
  ppc64: 65536n, ppc64le: 65536n,
  // s390 has 4K pages only; riscv64: Debian's config (CONFIG_PAGE_SIZE_4KB, the only size arch/riscv offers).
  s390x: 4096n, riscv64: 4096n,
};
/** The arch hooks that changed between the modelled kernel versions (Semantics.hookRevision). */
const KERNEL_HOOK_REVISION: Readonly<Partial<Record<Arch, (version: string) => number>>> = {
  // arch/s390/kernel/machine_kexec_file.c: 5.10 returns bare -ENOEXEC for symbol errors and does not map PLT32DBL.
  s390x: (v) => (cmpVersion(v, '6.1') >= 0 ? 2 : 1),
  // arch/riscv/kernel/elf_kexec.c: 6.1 has no R_RISCV_64 case.
  riscv64: (v) => (cmpVersion(v, '6.12') >= 0 ? 2 : 1),
};
/** The ABI profile exists where the arch module has ABI semantics; the PIE loader where src/load/pie.ts has a dynamic table. */
const ABI_MODELS: ReadonlySet<Arch> = new Set<Arch>(['x86_64', 'ppc64', 'ppc64le', 'arm64', 's390x']);
const PIE_MODELS: ReadonlySet<Arch> = new Set<Arch>(['x86_64', 'ppc64', 'ppc64le']);

function noModel(target: Arch, loader: string): never {
  throw new NoModelError(TARGETS[target].machine, TARGETS[target].endian, loader);
}

export function kexecToolsSemantics(target: Arch): Semantics {
  return {
    loader: 'kexec-tools',
    rel32HostPointer: true,
    rel64Absolute: true,
    rel16Rewrite: true,
    localEntry: target === 'ppc64le' ? 'elfv2' : 'elfv1',
    abiRangeChecks: false,
    addr16HiRangeChecks: false,
    resolveDotToc: false,
    rel16Carry: false,
    movwGetBits32: true,
  };
}

export function abiSemantics(): Semantics {
  return {
    loader: 'abi',
    rel32HostPointer: false,
    rel64Absolute: false,
    rel16Rewrite: false,
    localEntry: 'e_flags',
    abiRangeChecks: true,
    addr16HiRangeChecks: true,
    resolveDotToc: true,
    rel16Carry: true,
    movwGetBits32: false,
  };
}

export const PROFILE_IDS = [
  'kexec-tools',
  ...KEXEC_TOOLS_VERSIONS.map((v) => `kexec-tools-${v}`),
  'abi',
  ...KERNEL_VERSIONS.map((v) => `kernel-${v}`),
  'pie',
] as const;

function cmpVersion(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

const profileCache = new Map<string, Profile>();

/** Build a profile by id ('kexec-tools', 'kexec-tools-2.0.25', 'abi', 'kernel-6.1') for a target (memoised; treat as read-only). */
export function makeProfile(id: string, target: Arch): Profile {
  if (id === last.id && target === last.target) return last.profile!; // a run of loads asks for one profile
  const key = `${id}/${target}`;
  let p = profileCache.get(key);
  if (!p) profileCache.set(key, (p = buildProfile(id, target)));
  last.id = id;
  last.target = target;
  last.profile = p;
  return p;
}
const last: { id?: string; target?: Arch; profile?: Profile } = {};

function buildProfile(id: string, target: Arch): Profile {
  // Trailing `+SWITCH` suffixes name fixed quirks (FIXES); anything else stays part of the id.
  const fixes: Fix[] = [];
  let baseId = id;
  for (let m; (m = /\+(\w+)$/.exec(baseId)) && (FIXES as readonly string[]).includes(m[1]!); ) {
    fixes.unshift(m[1] as Fix);
    baseId = baseId.slice(0, m.index);
  }
  if (fixes.length) return fixes.reduce(applyFix, { ...buildBaseProfile(baseId, target), id, fixes });
  return buildBaseProfile(id, target);
}

function buildBaseProfile(id: string, target: Arch): Profile {
  const pageSize = 4096n;
  // A PIE loaded from its program headers (src/load/pie.ts): ABI relocation semantics, no layout quirks.
  const abiChecks = { zeroImage: true, checkIndexes: true, checkOffsetWrap: true, fixes: [] };
  if (id === 'pie' && !PIE_MODELS.has(target)) noModel(target, 'PIE loader');
  if (id === 'abi' && !ABI_MODELS.has(target)) noModel(target, 'ABI');
  if (id === 'pie') return { id, loader: 'pie', target, storeEndian: storeEndianOf(target), alignZeroAsOne: true, acceptX32: false, pageSize, entryRule: 'first-exec', ...abiChecks, sem: abiSemantics() };
  if (id === 'abi') {
    return {
      id, loader: 'abi', target, storeEndian: storeEndianOf(target), alignZeroAsOne: true, acceptX32: true,
      pageSize, entryRule: 'first-exec', ...abiChecks, sem: abiSemantics(),
    };
  }
  // kexec-tools-<x.y.z>, or kexec-tools-<label> for a developer's own tree (modelled as the
  // newest release, keeping the label).
  // A release (x.y.z, optionally with a suffix such as 2.0.32-git) or a local tree's build label
  // (scripts/fetch-kexec-tools.sh names those <version>+git-<hash>[-dirty], <version>+tar-<hash>,
  // <version>+src-<hash>, with unknown for a tree with no version; older builds <version>-local-<hash>).
  const kt = /^kexec-tools(?:-(\d+\.\d+\.\d+(?:-[\w.]+|\+(?:git|tar|src)-[\w.+-]+)?|[\w.]*(?:\+(?:git|tar|src)|-?local)-[\w.+-]+))?$/.exec(id);
  if (kt) {
    const newest = KEXEC_TOOLS_VERSIONS[KEXEC_TOOLS_VERSIONS.length - 1]!;
    const label: string = kt[1] ?? newest;
    const version = /^\d+\.\d+\.\d+/.exec(label)?.[0] ?? newest;
    if (cmpVersion(version, KEXEC_TOOLS_SINCE[target]) < 0) noModel(target, `kexec-tools ${version}`);
    return {
      id: `kexec-tools-${label}`, loader: 'kexec-tools', version, target,
      storeEndian: storeEndianOf(target),
      alignZeroAsOne: cmpVersion(version, '2.0.24') >= 0,
      acceptX32: cmpVersion(version, '2.0.21') >= 0,
      pageSize,
      entryRule: 'first-exec',
      zeroImage: false, checkIndexes: false, checkOffsetWrap: false, fixes: [],
      sem: kexecToolsSemantics(target),
    };
  }
  const k = /^kernel-(\d+\.\d+)$/.exec(id);
  // Only the versions whose loader was read and checked live (NOTES.md); others may differ.
  if (k && (KERNEL_VERSIONS as readonly string[]).includes(k[1]!)) {
    const version = k[1]!;
    const pageSize = KERNEL_PAGE_SIZE[target] ?? noModel(target, `kernel ${version}`);
    return {
      id, loader: 'kernel', version, target, storeEndian: storeEndianOf(target),
      // ALIGN(x, 0) == 0: the kernel never maps sh_addralign 0 to 1.
      alignZeroAsOne: false, acceptX32: false,
      pageSize,
      entryRule: cmpVersion(version, '6.1') >= 0 ? 'purgatory-start' : 'exec-rematch',
      // The kernel's image is zeroed (vzalloc); it checks no index or offset (kernel-trusts-blob-out-of-bounds).
      zeroImage: true, checkIndexes: false, checkOffsetWrap: false, fixes: [],
      sem: { ...abiSemantics(), loader: 'kernel', abiRangeChecks: false, addr16HiRangeChecks: false, resolveDotToc: false, hookRevision: KERNEL_HOOK_REVISION[target]?.(version) },
    };
  }
  throw new UsageError(`unknown profile '${id}' (known: ${PROFILE_IDS.join(', ')})`);
}

/**
 * The target a purgatory is meant for: by machine; ppc64 by byte order (BE: ELFv1, LE: ELFv2).
 * Throws NoModelError (naming the machine) for a machine no model emulates.
 */
export function defaultTarget(machine: number, endian: Endian): Arch {
  return targetForMachine(machine, endian);
}
