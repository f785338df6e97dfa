// Pure extraction helpers for the corpus: find ELF objects embedded in a larger binary (the
// purgatory inside kexec-tools' `kexec`, kexec_purgatory inside vmlinux) and read a bzImage's
// setup header to locate its compressed payload. No I/O here; the scripts do the downloading
// and the decompressing.

import { CorpusFormatError, isCorpusFormatError } from './errors.ts';
import { ElfFile } from '../elf/reader.ts';
import { isElfFormatError } from '../errors.ts';
import type { Endian } from '../types.ts';
import { checkDeclaredDefects, type MalformedDeclaration } from './malformed.ts';

export interface ReadCorpusOptions {
  /** Admit ELFCLASS32 too (coverage objects of the loaders' class checks, e.g. x32). */
  elf32?: boolean;
  /**
   * The object is deliberately malformed (a manifest entry's `malformed`): admitted only if
   * validate() reports exactly these defects; anything else is a CorpusDefectError naming it.
   */
  malformed?: MalformedDeclaration;
}

/**
 * One corpus object through the project's reader, checked with ElfFile.validate() and required to
 * be ELF64 with section headers (every purgatory this project handles is; `elf32`: ELFCLASS32 too,
 * for the coverage objects of the loaders' class checks, e.g. x32). A format error comes out as a
 * CorpusFormatError naming the same field, with the ElfFormatError as its cause. A declared
 * malformed object is checked against its declaration instead (src/corpus/malformed.ts).
 */
export function readCorpusElf(bytes: Uint8Array, opts: ReadCorpusOptions = {}): ElfFile {
  try {
    const elf = new ElfFile(bytes);
    const h = elf.header;
    if (!h.is64 && !opts.elf32) throw new CorpusFormatError(4, 'e_ident[EI_CLASS]', h.klass, 'not ELFCLASS64');
    if (h.shnum === 0) throw new CorpusFormatError(60, 'e_shnum', 0, 'no section headers');
    return opts.malformed ? checkDeclaredDefects(elf, opts.malformed.defects) : elf.validate();
  } catch (e) {
    if (!isElfFormatError(e)) throw e;
    throw new CorpusFormatError(Number(e.offset), e.field, e.value, e.reason, { cause: e });
  }
}

export interface ScanOptions {
  /** e_type to accept (1 = ET_REL). */
  type: number;
  /** e_machine to accept (62 = EM_X86_64, 21 = EM_PPC64). */
  machine: number;
  /** Told about every candidate that had the magic, type and machine but did not validate. */
  onReject?: (offset: number, error: CorpusFormatError) => void;
}

export interface EmbeddedElf {
  /** Offset of the `\x7fELF` magic inside the scanned buffer. */
  offset: number;
  /** e_shoff + e_shnum·e_shentsize, extended to the end of any section lying past it. */
  length: number;
  endian: Endian;
  /** The object's bytes (a view into the scanned buffer, not a copy). */
  bytes: Uint8Array;
  elf: ElfFile;
}

const MAGIC = Uint8Array.of(0x7f, 0x45, 0x4c, 0x46);

/** Offsets of every occurrence of `needle` in `buf`. */
function* occurrences(buf: Uint8Array, needle: Uint8Array): Generator<number> {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let at = b.indexOf(needle, 0); at >= 0; at = b.indexOf(needle, at + 1)) yield at;
}

/**
 * Finds ELF64 objects of one type and machine embedded anywhere in `buf`. A candidate counts only
 * if its header, section header table, section contents and section names all validate inside the
 * bytes that follow it. Candidates are reported in file order; they may overlap only if the buffer
 * really nests one object in another.
 */
export function scanEmbeddedElfs(buf: Uint8Array, opts: ScanOptions): EmbeddedElf[] {
  const found: EmbeddedElf[] = [];
  for (const at of occurrences(buf, MAGIC)) {
    if (at + 64 > buf.length) break;
    if (buf[at + 4] !== 2) continue; // ELFCLASS64 only
    const data = buf[at + 5];
    if (data !== 1 && data !== 2) continue;
    const le = data === 1;
    const dv = new DataView(buf.buffer, buf.byteOffset + at, 64);
    if (dv.getUint16(16, le) !== opts.type || dv.getUint16(18, le) !== opts.machine) continue;
    const shoff = dv.getBigUint64(40, le);
    const shentsize = BigInt(dv.getUint16(58, le));
    const shnum = BigInt(dv.getUint16(60, le));
    const shEnd = shoff + shnum * shentsize;
    try {
      if (shnum === 0n) throw new CorpusFormatError(at + 60, 'e_shnum', 0, 'embedded ELF has no section headers');
      if (shEnd > BigInt(buf.length - at)) {
        throw new CorpusFormatError(at + 40, 'e_shoff', shoff, `section header table ends 0x${shEnd.toString(16)} bytes in, past the buffer`);
      }
      // Read within everything that follows; sections may lie after the table in theory.
      const length = readCorpusElf(buf.subarray(at)).extent();
      const bytes = buf.subarray(at, at + length);
      const elf = readCorpusElf(bytes);
      found.push({ offset: at, length, endian: elf.endian, bytes, elf });
    } catch (e) {
      if (!isCorpusFormatError(e)) throw e;
      opts.onReject?.(at, e);
    }
  }
  return found;
}

export type Compression = 'gzip' | 'xz' | 'lz4' | 'zstd' | 'bzip2' | 'lzma' | 'none-elf' | 'unknown';

/** Names a compressed stream by its magic: the formats a bzImage payload can use. */
export function sniffCompression(b: Uint8Array): Compression {
  const at = (i: number) => b[i];
  if (at(0) === 0x1f && (at(1) === 0x8b || at(1) === 0x9e)) return 'gzip';
  if (at(0) === 0xfd && at(1) === 0x37 && at(2) === 0x7a && at(3) === 0x58 && at(4) === 0x5a && at(5) === 0x00) return 'xz';
  if (at(0) === 0x02 && at(1) === 0x21 && at(2) === 0x4c && at(3) === 0x18) return 'lz4'; // legacy frame
  if (at(0) === 0x28 && at(1) === 0xb5 && at(2) === 0x2f && at(3) === 0xfd) return 'zstd';
  if (at(0) === 0x42 && at(1) === 0x5a && at(2) === 0x68) return 'bzip2';
  if (at(0) === 0x5d && at(1) === 0x00 && at(2) === 0x00) return 'lzma';
  if (at(0) === 0x7f && at(1) === 0x45 && at(2) === 0x4c && at(3) === 0x46) return 'none-elf';
  return 'unknown';
}

export interface BzImageInfo {
  /** Boot protocol version, e.g. 0x020f. */
  protocol: number;
  /** setup_sects as stored (0 means 4, per the boot protocol; `setupSects` below is the effective value). */
  setupSectsRaw: number;
  setupSects: number;
  /** (setup_sects + 1) · 512: where the protected-mode code starts in the file. */
  protectedModeOffset: number;
  /** payload_offset (0x248): relative to the protected-mode code. */
  payloadOffset: number;
  payloadLength: number;
  /** protectedModeOffset + payloadOffset: where the payload starts in the file. */
  payloadFileOffset: number;
  compression: Compression;
  /** The compressed payload (a view). */
  payload: Uint8Array;
}

/** Reads a bzImage's setup header (Documentation/arch/x86/boot.rst) and locates its payload. */
export function parseBzImage(buf: Uint8Array): BzImageInfo {
  if (buf.length < 0x250) throw new CorpusFormatError(0, 'length', buf.length, 'too short for a bzImage setup header');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const bootFlag = dv.getUint16(0x1fe, true);
  if (bootFlag !== 0xaa55) throw new CorpusFormatError(0x1fe, 'boot_flag', bootFlag, 'not a bzImage (boot_flag)');
  const hdrs = dv.getUint32(0x202, true);
  if (hdrs !== 0x53726448) throw new CorpusFormatError(0x202, 'header', hdrs, 'no "HdrS" signature');
  const protocol = dv.getUint16(0x206, true);
  if (protocol < 0x0208) throw new CorpusFormatError(0x206, 'version', protocol, 'boot protocol older than 2.08 has no payload fields');
  const setupSectsRaw = dv.getUint8(0x1f1);
  const setupSects = setupSectsRaw === 0 ? 4 : setupSectsRaw;
  const protectedModeOffset = (setupSects + 1) * 512;
  const payloadOffset = dv.getUint32(0x248, true);
  const payloadLength = dv.getUint32(0x24c, true);
  const payloadFileOffset = protectedModeOffset + payloadOffset;
  if (payloadFileOffset + payloadLength > buf.length) {
    throw new CorpusFormatError(0x248, 'payload_offset', payloadOffset, `payload [0x${payloadFileOffset.toString(16)}, +0x${payloadLength.toString(16)}) exceeds the ${buf.length}-byte image`);
  }
  const payload = buf.subarray(payloadFileOffset, payloadFileOffset + payloadLength);
  return {
    protocol,
    setupSectsRaw,
    setupSects,
    protectedModeOffset,
    payloadOffset,
    payloadLength,
    payloadFileOffset,
    compression: sniffCompression(payload),
    payload,
  };
}

/**
 * The kernel's build appends the decompressed size as a little-endian u32 to most payloads
 * (scripts/Makefile.lib size_append). Returns it, for checking a decompressor's output length.
 */
export function appendedSize(payload: Uint8Array): number | undefined {
  if (payload.length < 4) return undefined;
  return new DataView(payload.buffer, payload.byteOffset + payload.length - 4, 4).getUint32(0, true);
}
