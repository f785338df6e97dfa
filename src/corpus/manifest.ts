// The corpus manifest (corpus/manifest.json): what each committed ELF is, where it came from,
// how to reproduce it, and what relocations it carries. Pure: describing an ELF needs only bytes.

import { createHash } from 'node:crypto';
import { ET_DYN, ET_EXEC, ET_REL, EM_PPC64, EM_X86_64, SHN_UNDEF, SHT_STRTAB, SHT_SYMTAB } from '../elf/constants.ts';
import type { ElfFile } from '../elf/reader.ts';
import { relocationHistogram } from '../inspect.ts';
import { CorpusFormatError } from './errors.ts';
import { readCorpusElf } from './extract.ts';
import type { MalformedDeclaration } from './malformed.ts';
import type { Abi, Arch } from '../types.ts';
import { ALL_TARGETS, TARGETS } from '../arch/targets.ts';

/** e_machine → target for the machines with one target (ppc64/ppc64le are told apart by byte order). */
const TARGET_OF_MACHINE = new Map<number, Arch>(ALL_TARGETS.filter((t) => t !== 'ppc64' && t !== 'ppc64le').map((t) => [TARGETS[t].machine, t]));

export type ElfKind = 'rel' | 'pie' | 'exec';

export interface KexecToolsSourceOrigin {
  kind: 'kexec-tools-source';
  /** Upstream version, e.g. "2.0.25". */
  version: string;
  /** The Debian source package version it was unpacked from, e.g. "1:2.0.25-3". */
  debianVersion: string;
  suite: string;
  /** The exact settings and commands; `configure`/`make` are run in a scratch copy of the tree. */
  flags: {
    /** CC given to configure ('' = configure's own choice, <triplet>-gcc). */
    cc: string;
    /** LD given to configure, or the linker of the PIE link. */
    ld: string;
    configure: string;
    make: string;
    /** Edit made to the scratch copy's purgatory/Makefile, if any (e.g. -Os → -O2). */
    makefileEdit?: string;
    /** For PIE entries: the link command over the purgatory objects, then the strip. */
    link?: string;
  };
  variant: string;
}

export interface DebianKexecToolsBinaryOrigin {
  kind: 'debian-kexec-tools-binary';
  package: string;
  version: string;
  debArch: string;
  suite: string;
  /** Other suites whose package gave byte-identical purgatory. */
  alsoSuites?: string[];
  /** Where in the package: path and byte offset of the embedded object. */
  path: string;
  offset: number;
  debSha256: string;
}

export interface DebianKernelImageOrigin {
  kind: 'debian-kernel-image';
  package: string;
  version: string;
  suite: string;
  debArch: string;
  path: string;
  /** bzImage payload compression, or 'none' for an uncompressed vmlinux. */
  compression: string;
  /** Offset of the object inside the decompressed vmlinux. */
  offset: number;
  debSha256: string;
}

/** A synthetic object of the coverage corpus (src/corpus/coverage/), built from a declarative spec. */
export interface CoverageGeneratorOrigin {
  kind: 'coverage-generator';
  /** The generator and the spec module (repository paths). */
  generator: string;
  spec: string;
  /** The spec's name (the id is cov-<arch>-<name>). */
  specId: string;
  /** Relocation types, boundaries and layout branches it targets. */
  covers: string[];
  note: string;
  /**
   * Set when the object is for another arch than the loaders it is fed to (the entry's `arch`):
   * a foreign object that a loader's machine check must refuse.
   */
  objectArch?: Arch;
}

/**
 * The kernel's own purgatory (arch/<karch>/purgatory/purgatory.ro, the blob kexec_file embeds as
 * kexec_purgatory), built from Debian's linux source package with Debian's cross compiler, for an
 * architecture whose Debian kernel image embeds none (its config leaves CONFIG_KEXEC_FILE unset).
 */
export interface KernelSourceOrigin {
  kind: 'kernel-source';
  /** linux upstream series ("6.12") and the Debian source package version ("6.12.107-1"). */
  version: string;
  debianVersion: string;
  suite: string;
  /** sha256 of the .dsc the tree was unpacked from (apt checked it against the signed Sources). */
  dscSha256: string;
  /** Kernel ARCH (s390, riscv). */
  karch: string;
  flags: {
    /** How .config was made: Debian's config fragments, the one change, then olddefconfig. */
    config: string;
    make: string;
    cc: string;
  };
  /** Why a source build: what Debian's own kernel image of this series says. */
  why: string;
}

export type Origin = KexecToolsSourceOrigin | DebianKexecToolsBinaryOrigin | DebianKernelImageOrigin | CoverageGeneratorOrigin | KernelSourceOrigin;

export interface Toolchain {
  /** First line of `<cc> --version`. */
  cc?: string;
  /** First line of `<ld> --version`. */
  ld?: string;
  /** First line of `<strip> --version` (the purgatory is stripped of debug info). */
  strip?: string;
  /** Strings of the object's .comment section (what the compiler says it was). */
  comment: string[];
}

export interface ManifestEntry {
  id: string;
  file: string;
  arch: Arch;
  abi: Abi;
  elfType: ElfKind;
  eFlags: number;
  origin: Origin;
  toolchain: Toolchain;
  sha256: string;
  size: number;
  sections: number;
  relocationCount: number;
  relocations: Record<string, number>;
  /** Global/weak symbols left undefined (SHN_UNDEF): a loader must resolve or reject these. */
  undefinedSymbols: string[];
  /**
   * Set for a deliberately malformed object: the exact defects ElfFile.validate() reports and the
   * loader branch the object targets. Everything that reads a corpus object through
   * readCorpusElf/describeElf admits it only with exactly these defects.
   */
  malformed?: MalformedDeclaration;
  /**
   * The validate bases (names from src/validate/cases.ts BASES) when not all four: the coverage
   * objects are built so that their outcome does not depend on the base, and run at two.
   */
  bases?: string[];
  /**
   * Set when an earlier entry (Debian-built first, then by id) has byte-identical content: the
   * provenance differs, the object does not. Parity runs may skip these.
   */
  duplicateOf?: string;
}

export interface ManifestFailure {
  /** The script that recorded it, so each script rewrites only its own failures. */
  producer: 'extract-debian' | 'build-from-source' | 'coverage' | 'build-kernel-purgatory';
  /** What was being produced: an id or a description. */
  what: string;
  stage: string;
  error: string;
}

export interface Manifest {
  schema: 1;
  note: string;
  entries: ManifestEntry[];
  failures: ManifestFailure[];
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface ElfDescription {
  arch: Arch;
  abi: Abi;
  elfType: ElfKind;
  eFlags: number;
  sha256: string;
  size: number;
  sections: number;
  relocationCount: number;
  relocations: Record<string, number>;
  undefinedSymbols: string[];
  comment: string[];
}

function commentStrings(elf: ElfFile): string[] {
  const s = elf.sections.find((x) => elf.sectionName(x.index) === '.comment');
  if (!s) return [];
  const text = new TextDecoder('latin1').decode(elf.sectionData(s.index));
  return [...new Set(text.split('\0').filter((t) => t.length > 0))];
}

/**
 * Named SHN_UNDEF symbols of every SHT_SYMTAB (symbol 0 aside), sorted. A symbol table whose
 * sh_link is not a string table (a declared defect) names none.
 */
function undefinedSymbols(elf: ElfFile): string[] {
  const names: string[] = [];
  for (const symtab of elf.sections) {
    if (symtab.type !== SHT_SYMTAB || elf.sections[symtab.link]?.type !== SHT_STRTAB) continue;
    for (const x of elf.symbols(symtab.index)) {
      if (x.index > 0 && x.shndx === SHN_UNDEF) names.push(elf.stringAt(symtab.link, x.name));
    }
  }
  return names.filter((n) => n !== '').sort();
}

/**
 * Classifies and summarises one corpus ELF. Throws CorpusFormatError if it is not one we hold; a
 * declared malformed object (`malformed`) must show exactly its declared defects.
 */
export function describeElf(bytes: Uint8Array, malformed?: MalformedDeclaration): ElfDescription {
  // ELFCLASS32 and big-endian EM_X86_64 objects are held for the loaders' class and byte-order
  // checks (the coverage corpus): x32 loads in kexec-tools, the others are refused.
  const elf = readCorpusElf(bytes, { elf32: true, malformed });
  const h = elf.header;
  let arch: Arch;
  let abi: Abi;
  if (h.machine === EM_X86_64) {
    arch = 'x86_64';
    abi = 'sysv';
  } else if (h.machine === EM_PPC64) {
    arch = elf.endian === 'big' ? 'ppc64' : 'ppc64le';
    // e_flags bits 0-1: 1 = ELFv1, 2 = ELFv2, 0 = unspecified (then the byte order's default).
    const v = h.flags & 3;
    abi = v === 2 ? 'elfv2' : v === 1 ? 'elfv1' : arch === 'ppc64' ? 'elfv1' : 'elfv2';
  } else if (TARGET_OF_MACHINE.has(h.machine)) {
    // arm64, s390x, riscv64: one psABI each. The other byte order (a little-endian EM_S390, a
    // big-endian EM_RISCV) is held, as for x86_64, for the loaders' byte-order checks.
    arch = TARGET_OF_MACHINE.get(h.machine)!;
    abi = 'sysv';
  } else {
    throw new CorpusFormatError(18, 'e_machine', h.machine, `not a corpus machine (${elf.endian}-endian)`);
  }
  const elfType: ElfKind | undefined = h.type === ET_REL ? 'rel' : h.type === ET_DYN ? 'pie' : h.type === ET_EXEC ? 'exec' : undefined;
  if (!elfType) throw new CorpusFormatError(16, 'e_type', h.type, 'neither ET_REL, ET_DYN nor ET_EXEC');
  const relocations = relocationHistogram(elf);
  return {
    arch,
    abi,
    elfType,
    eFlags: h.flags,
    sha256: sha256(bytes),
    size: bytes.length,
    sections: h.shnum,
    relocationCount: Object.values(relocations).reduce((a, b) => a + b, 0),
    relocations,
    undefinedSymbols: undefinedSymbols(elf),
    comment: commentStrings(elf),
  };
}

/** Ids become file names: keep them to a safe alphabet. */
export function safeId(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** Marks byte-identical entries: the first of each sha256 (Debian-built first, then by id) is canonical. */
export function markDuplicates(entries: ManifestEntry[]): ManifestEntry[] {
  const rank = (e: ManifestEntry) => (e.origin.kind === 'kexec-tools-source' ? 1 : e.origin.kind === 'coverage-generator' ? 2 : 0);
  const order = [...entries].sort((a, b) => rank(a) - rank(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const first = new Map<string, string>();
  for (const e of order) if (!first.has(e.sha256)) first.set(e.sha256, e.id);
  return entries.map((e) => {
    const { duplicateOf: _drop, ...rest } = e;
    const canon = first.get(e.sha256);
    return canon !== undefined && canon !== e.id ? { ...rest, duplicateOf: canon } : rest;
  });
}

/**
 * The manifest entry for one corpus object: everything but id, origin and the toolchain the
 * producer ran is read from the ELF itself. `.ro` for relocatable objects, `.pie` otherwise.
 */
export function entryFromElf(
  id: string, bytes: Uint8Array, origin: Origin, toolchain: Omit<Toolchain, 'comment'> = {}, malformed?: MalformedDeclaration,
): ManifestEntry {
  const d = describeElf(bytes, malformed);
  return {
    id,
    file: `corpus/elf/${id}.${d.elfType === 'rel' ? 'ro' : 'pie'}`,
    arch: d.arch,
    abi: d.abi,
    elfType: d.elfType,
    eFlags: d.eFlags,
    origin,
    toolchain: { ...toolchain, comment: d.comment },
    sha256: d.sha256,
    size: d.size,
    sections: d.sections,
    relocationCount: d.relocationCount,
    relocations: d.relocations,
    undefinedSymbols: d.undefinedSymbols,
    ...(malformed ? { malformed } : {}),
  };
}
