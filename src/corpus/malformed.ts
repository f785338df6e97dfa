// Deliberately malformed corpus objects. The corpus admits an object only if ElfFile.validate()
// passes, except one that declares its defects: it is admitted only if validate() finds exactly
// the declared defects (field, byte offset, value, reason) and nothing else. An undeclared
// defect, or a declared one that no longer occurs, is a CorpusDefectError naming it. The
// declaration says why the object exists (the loader branch only a malformed object reaches).

import type { ElfFile } from '../elf/reader.ts';
import type { ElfFormatError } from '../errors.ts';
import { CorpusDefectError } from './errors.ts';

/** One defect as ElfFile.validate() reports it, in a form JSON keeps (the manifest). */
export interface ElfDefect {
  /** The field ElfFormatError names, e.g. `section[5].sh_link`. */
  field: string;
  /** Byte offset of the field in the file. */
  offset: number;
  /** The offending value: `0x…` for a number, the text for a string. */
  value: string;
  /** ElfFormatError's reason, e.g. `symbol table sh_link is not a SHT_STRTAB`. */
  reason: string;
}

/** What a corpus entry (and a coverage spec) declares about a deliberately malformed object. */
export interface MalformedDeclaration {
  /** The loader branch the object targets, which only an object with these defects reaches. */
  why: string;
  /** Every defect validate() must report, no more and no fewer. */
  defects: ElfDefect[];
}

/** The JSON form of an ElfFormatError. */
export function defectOf(e: ElfFormatError): ElfDefect {
  const value = typeof e.value === 'string' ? e.value : `0x${BigInt(e.value).toString(16)}`;
  return { field: e.field, offset: Number(e.offset), value, reason: e.reason };
}

const key = (d: ElfDefect): string => JSON.stringify([d.field, d.offset, d.value, d.reason]);

export const describeDefect = (d: ElfDefect): string => `${d.field} at byte 0x${d.offset.toString(16)} = ${d.value}: ${d.reason}`;

/**
 * Checks validate()'s defects against a non-empty declaration (an object that declares none must
 * simply validate). Throws CorpusDefectError for the first undeclared defect, else for the first declared defect
 * that does not occur. Returns `elf`.
 */
export function checkDeclaredDefects(elf: ElfFile, declared: readonly ElfDefect[]): ElfFile {
  const found = elf.defects();
  const want = new Set(declared.map(key));
  if (want.size === 0) throw new Error('a malformed declaration lists no defect (a valid object declares none)');
  if (want.size !== declared.length) throw new Error(`a malformed declaration lists a defect twice: ${declared.map(describeDefect).join('; ')}`);
  const seen = new Set<string>();
  for (const e of found) {
    const d = defectOf(e);
    if (!want.has(key(d))) throw new CorpusDefectError('undeclared', d, { cause: e });
    seen.add(key(d));
  }
  const gone = declared.find((d) => !seen.has(key(d)));
  if (gone) throw new CorpusDefectError('missing', gone);
  return elf;
}
