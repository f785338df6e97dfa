// Shared types of purgatory-oracle. Addresses, values and addends are bigint throughout.

/** A target a loader is built for (src/arch/targets.ts: machine, byte order). */
export type Arch = 'x86_64' | 'ppc64' | 'ppc64le' | 'arm64' | 's390x' | 'riscv64';
export type Abi = 'sysv' | 'elfv1' | 'elfv2';
export type Endian = 'little' | 'big';

/** A symbol write applied after load, as kexec-tools' elf_rel_set_symbol does. */
export interface SymbolWrite {
  name: string;
  bytes: Uint8Array;
}

/** One loader request: the same shape goes to the TS engine and to every live oracle. */
export interface LoadRequest {
  elf: Uint8Array;
  /** Requested base; the loader aligns it up the way add_buffer/locate_hole would. */
  base: bigint;
  /** Byte that fills fresh allocations (kexec-tools never zeroes its image buffer). */
  fill: number;
  symbols: SymbolWrite[];
  /**
   * Ask for the load's details (oracle/PROTOCOL.md, FLAG_DETAILS): add_buffer's arguments (the
   * kernel: kexec_add_buffer's kbuf), e_entry after the load, and each probe read with
   * elf_rel_get_symbol (the kernel: kexec_purgatory_get_set_symbol(..., true)) after the symbol
   * writes. Absent: no details are asked for or compared.
   */
  probes?: SymbolProbe[];
}

/** A symbol read after the load: elf_rel_get_symbol(ehdr, name, buf, size). */
export interface SymbolProbe {
  name: string;
  size: number;
}

/**
 * What a symbol probe got: the bytes, or the die()/pr_err text (reference; the kernel's getter
 * also returns its negative errno, which tells its silent failures apart) / rejection (model).
 */
export type ProbeResult =
  | { name: string; ok: true; bytes: Uint8Array }
  | { name: string; ok: false; message: string; code?: RejectionCode; errno?: number };

/**
 * What elf_rel_load handed to add_buffer (memsz, alignment, the (min, max, end) window after its
 * clamp to elf_max_addr), ehdr->e_entry after the load, and the symbol probes (FLAG_DETAILS).
 */
export interface LoadDetails {
  memsz: bigint;
  bufAlign: bigint;
  bufMin: bigint;
  bufMax: bigint;
  bufEnd: number;
  eEntry: bigint;
  probes: ProbeResult[];
}

export interface LoadedSection {
  index: number;
  name: string;
  /** Address after layout (unchanged sh_addr for sections the loader does not place). */
  addr: bigint;
  size: bigint;
  alloc: boolean;
  nobits: boolean;
}

/**
 * One relocation actually applied: enough to attribute every byte it changed.
 *
 * The load models' logs (`LoadedImage.relocations`) hold instances of one class, LoggedRelocation
 * (src/load/relocation-log.ts), so that a log costs one small object per relocation:
 * - relSection, relIndex, section, type, typeName, symbol, symIndex, imageOffset and width are own
 *   data properties;
 * - offset, address, addend, value and bytes are accessors on its prototype, computed from the log
 *   on each read (every read gives an equal bigint; `bytes` the same array every time);
 * - `toJSON()` gives this plain shape with every field, in the order below, so JSON.stringify (with a
 *   bigint replacer), util.inspect and pretty-printers see all fields. A spread (`{...e}`),
 *   Object.keys(), structuredClone/postMessage and equality that walks own properties see only the
 *   own fields: use `e.toJSON()` there (this repository's vitest setup, test/setup.ts, makes
 *   `toEqual` compare entries by it; `toMatchObject` reads accessors anyway).
 * Plain objects of this shape are valid entries too (tests and reports build them).
 */
export interface RelocationLogEntry {
  /** Index of the SHT_REL/SHT_RELA section and of the entry inside it. */
  relSection: number;
  relIndex: number;
  /** Target section index and the offset inside it. */
  section: number;
  offset: bigint;
  /** Final address of the location (P). */
  address: bigint;
  type: number;
  typeName: string;
  symbol: string;
  symIndex: number;
  addend: bigint;
  /** value as computed by the generic loop: S + sec_base + A. */
  value: bigint;
  /** Offset in the image buffer of the bytes written, or -1 when outside the buffer. */
  imageOffset: number;
  width: number;
  /** The bytes written, in store order. */
  bytes: Uint8Array;
}

export interface LoadedImage {
  /** The base the buffer was placed at (after alignment). */
  base: bigint;
  /** The buffer handed on (kexec-tools: bufsz bytes given to add_buffer; kernel: kbuf->bufsz). */
  bytes: Uint8Array;
  /** Memory footprint including bss (rel_size in kexec-tools). */
  memsz: bigint;
  entry: bigint;
  sections: LoadedSection[];
  relocations: RelocationLogEntry[];
  /**
   * Set by a kexec-tools load without a log (`log: false`): the relocations it applied, summed by
   * type name (count, bytes written), exactly what the log summed by typeName would give.
   */
  relocationTypes?: ReadonlyMap<string, { count: number; bytes: number }>;
  /** The load's details, when the request asked for them (LoadRequest.probes). */
  details?: LoadDetails;
}

/** Stable rejection codes. The C loaders die()/return -ENOEXEC; we return these. */
export type RejectionCode =
  | 'elf-format' // the file is not a well-formed ELF in a way the loader checks
  | 'not-relocatable'
  | 'not-pie' // the PIE loader was given something other than an ET_DYN with a PT_DYNAMIC
  | 'textrel-undeclared' // a dynamic relocation writes a non-writable segment without DT_TEXTREL/DF_TEXTREL
  | 'wrong-machine'
  | 'no-section-headers'
  | 'bad-section-index'
  | 'bad-relocation' // r_sym or r_offset outside its table or section (checkIndexes; kexec-tools never checks)
  | 'undefined-symbol'
  | 'common-symbol'
  | 'unknown-relocation'
  | 'overflow'
  | 'toc16-overflow'
  | 'toc16-misaligned'
  | 'rel24-out-of-range'
  | 'misaligned' // a value the relocation needs aligned is not (arm64 kexec-tools' "Unaligned value"; ABI alignment checks)
  | 'rel16-unexpected-instruction'
  | 'no-toc-section'
  | 'symbol-not-found'
  | 'symbol-size-mismatch'
  | 'symbol-in-bss'
  | 'symbol-bad-section'
  | 'out-of-bounds' // the C code would read or write outside its buffers (undefined behaviour)
  | 'unsupported'
  | 'no-memory-hole' // the kernel's kexec_add_buffer found no RAM range that holds the buffer (-EADDRNOTAVAIL)
  | 'no-model'; // no model emulates this file's machine, or this loader on its target (NoModelError)

export interface Where {
  section?: number;
  sectionName?: string;
  offset?: bigint;
  relSection?: number;
  relIndex?: number;
  relocation?: string;
  symbol?: string;
  /** out-of-bounds: the access the C code would make, and the size of the buffer it falls outside. */
  access?: { buf: 'file' | 'image'; offset: bigint; length: bigint; size: bigint };
}

export type Outcome =
  | { kind: 'ok'; image: LoadedImage; hostAddress?: bigint }
  | { kind: 'rejected'; code: RejectionCode | 'died'; message: string; where?: Where }
  | { kind: 'crashed'; signal: string; message?: string }
  | { kind: 'timeout'; ms: number };

/** What a reference loader reports for a successful load (oracle/PROTOCOL.md, status 0). */
export interface ReferenceLoad {
  relAddr: bigint;
  relSize: bigint;
  entry: bigint;
  hostBuf: bigint;
  shAddr: bigint[];
  image: Uint8Array;
  /** FLAG_DETAILS responses (status bit 0x100): the load's details. */
  details?: LoadDetails;
}

/** What a reference loader reported for one request: a live oracle's response, or a stored one. */
export type RefOutcome =
  | ({ kind: 'ok' } & ReferenceLoad)
  | { kind: 'rejected'; errno: number; message: string }
  | { kind: 'crashed'; signal: string; message?: string }
  | { kind: 'timeout'; ms: number };
