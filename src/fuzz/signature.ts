// Finding signatures: (oracle, relocation type, class) plus the two sides' rejection classes, so
// that "TS rejects out-of-bounds where C crashes" and "TS rejects overflow where C loads" on the
// same relocation type are different findings. Cases with the same signature are one finding.
import { tsRejectionClass, type CaseComparison } from '../compare/compare.ts';
import type { Outcome } from '../types.ts';
import type { OracleResponse } from '../oracle/batch.ts';

export interface Signature {
  oracle: string;
  /** The relocation type involved ('-' when none: header and table checks). */
  relocation: string;
  cls: CaseComparison['cls'] | 'ts-exception' | 'ts-hang' | 'ts-memory';
  /** TS side ~ reference side, or what differs for byte/layout mismatches. */
  detail: string;
  /** Stable text key: "<oracle> <relocation> <class> <detail>". */
  key: string;
}

/**
 * What the C code would touch out of bounds, from the TS model's out-of-bounds message, with
 * indexes and names taken out (one signature per kind of access, not per index).
 */
export function oobWhat(message: string): string {
  // "e_shdr[9] (st_shndx)": the index checks (sh_info, sh_link, st_shndx == e_shnum...);
  // "e_shdr[9] (st_shndx (for a section symbol name))": the name of a section symbol (st_name 0).
  const shdr = /e_shdr\[\d+\] \(([^)(]+)(\(for a section symbol name)?/.exec(message);
  if (shdr) return `e_shdr[${shdr[1]!.trim().replace(/\s+/g, '_')}${shdr[2] ? ':name' : ''}]`;
  const acc = /access (.+?) at (?:file|image) buffer/.exec(message);
  if (acc) {
    const a = acc[1]!;
    const w =
      /^(the relocation location|R_\w+ location\b.*)$/.test(a) ? 'relocation-location'
      : /^(a relocation entry|relocation \d+)$/.test(a) ? 'rel-entry'
      : /^(a symbol|symbol \d+)$/.test(a) ? 'symbol'
      : /^symbol \S+$/.test(a) ? 'symbol-write'
      : /^section \d+ data$/.test(a) ? 'section-data'
      : /^section \d+ contents/.test(a) ? 'section-contents'
      : /^section \d+ copy destination/.test(a) ? 'section-copy'
      : a.replace(/\[\d+\]/g, '[i]').replace(/\s*\(.*\)$/, '').replace(/^(the|a|an) /, '');
    return w.replace(/\s+/g, '-');
  }
  if (/outside the file/.test(message)) return 'headers';
  if (/copy runs past the image/.test(message)) return 'section-copy';
  const read = /would read (?:the )?(.+?) (?:past|outside|beyond)/.exec(message);
  if (read) return read[1]!.replace(/\d+/g, 'i').replace(/\s+/g, '-').slice(0, 40);
  return message.replace(/^C loader would /, '').replace(/\d+/g, 'N').replace(/[^A-Za-z_[\]-]+/g, '-').slice(0, 40);
}

export const isOob = (ts: Outcome): boolean => ts.kind === 'rejected' && ts.code === 'out-of-bounds';

export function tsSide(ts: Outcome): string {
  if (ts.kind !== 'rejected') return ts.kind;
  const c = tsRejectionClass(ts.code);
  return c === 'out-of-bounds' ? `out-of-bounds:${oobWhat(ts.message)}` : c;
}

export function relocationOf(_elf: Uint8Array, ts: Outcome, ref: OracleResponse | undefined, cmp?: CaseComparison): string {
  if (cmp && cmp.cls === 'mismatch-bytes') {
    const types = new Set<string>();
    for (const r of cmp.ranges) for (const a of r.attributions) if (a.kind === 'relocation') types.add(a.type);
    if (types.size) return [...types].sort().join('+');
  }
  // Only where the type was dispatched (the TS model sets where.relocation then): symbol and
  // section checks come before the type switch, so the entry's type is noise for them.
  if (ts.kind === 'rejected' && ts.where?.relocation) return ts.where.relocation;
  if (ts.kind === 'rejected') return '-';
  if (ref && ref.kind === 'rejected') {
    const m = /R_(?:X86_64|PPC64)_\w+/.exec(ref.message);
    if (m) return m[0];
  }
  return '-';
}

/** The reference side. Where the TS model says the C code has undefined behaviour, an outcome that is
 * not a crash depends on heap garbage, so it is only 'ub' (one signature, not one per garbage value). */
function refSide(ref: OracleResponse, cmp: CaseComparison, tsUb: boolean): string {
  switch (ref.kind) {
    case 'ok': return tsUb ? 'ub' : 'ok';
    case 'rejected': return tsUb ? 'ub' : cmp.refClass ?? 'rejected';
    case 'crashed': {
      const asan = /AddressSanitizer: ([\w-]+)/.exec(ref.message ?? '');
      return asan ? `${ref.signal}:${asan[1]}` : ref.signal;
    }
    case 'timeout': return 'timeout';
  }
}

export function makeKey(oracle: string, relocation: string, cls: string, detail: string): string {
  return `${oracle} ${relocation} ${cls} ${detail}`;
}

export function signatureOf(oracle: string, elf: Uint8Array, ts: Outcome, ref: OracleResponse, cmp: CaseComparison): Signature {
  let detail: string;
  switch (cmp.cls) {
    case 'mismatch-bytes': {
      const kinds = new Set<string>();
      for (const r of cmp.ranges) for (const a of r.attributions) kinds.add(a.kind);
      detail = [...kinds].sort().join('+') || 'bytes';
      break;
    }
    case 'mismatch-layout':
      detail = [...new Set(cmp.layout.map((l) => l.field.replace(/^section\[\d+\] .* addr$/, 'section-addr')))].sort().join('+');
      break;
    default:
      detail = `${tsSide(ts)}~${refSide(ref, cmp, isOob(ts))}`;
  }
  // Out of bounds anywhere but the relocation's own location (symbol, section table, headers):
  // the relocation type is noise.
  const relocation = isOob(ts) && !/relocation-location$/.test(tsSide(ts)) ? '-' : relocationOf(elf, ts, ref, cmp);
  return { oracle, relocation, cls: cmp.cls, detail, key: makeKey(oracle, relocation, cmp.cls, detail) };
}

/** A file-system-safe directory name for a signature. */
export function signatureDir(key: string): string {
  return key.replace(/[^A-Za-z0-9._+-]+/g, '_').replace(/_+/g, '_').replace(/^_|_$/g, '').slice(0, 160);
}

/** UBSan/ASan report → a short stable signature ("kexec-elf-rel.c:361 load of misaligned address"). */
export function diagnosticSignature(text: string): string | undefined {
  const ub = /([\w./-]+\.c):(\d+):\d+: runtime error: ([^\n]*)/.exec(text);
  if (ub) {
    const what = ub[3]!.replace(/0x[0-9a-f]+/gi, 'N').replace(/-?\d+/g, 'N').replace(/'[^']*'/g, "'T'").slice(0, 80);
    return `${ub[1]!.replace(/^.*\//, '')}:${ub[2]} ${what}`;
  }
  const asan = /ERROR: AddressSanitizer: ([\w-]+)/.exec(text);
  if (asan) {
    const frame = /#\d+ 0x[0-9a-f]+ in (\w+) [^\n]*?([\w-]+\.c):(\d+)/.exec(text);
    return `asan ${asan[1]}${frame ? ` in ${frame[1]} ${frame[2]}:${frame[3]}` : ''}`;
  }
  return undefined;
}
