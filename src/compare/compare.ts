// Compare stage: outcomes first, bytes only when both sides are ok. Every differing byte range
// is attributed to what wrote it (a relocation, the layout/padding, a symbol write, or copied
// section contents).
import { hex } from '../bytes.ts';
import type { LoadDetails, LoadedImage, Outcome, RefOutcome, RejectionCode } from '../types.ts';

export type { RefOutcome } from '../types.ts';

/** Where a symbol write landed in the image (image offsets). */
export interface SymbolRange {
  name: string;
  start: number;
  end: number;
}

export type CaseClass =
  | 'match'
  | 'both-rejected'
  | 'mismatch-bytes'
  | 'mismatch-layout'
  | 'one-rejected'
  | 'oracle-crashed'
  | 'oracle-timeout';

export interface ByteRange {
  start: number;
  end: number;
}

export type Attribution =
  | { kind: 'relocation'; relSection: number; relIndex: number; type: string; symbol: string; addend: bigint; section: number; offset: bigint; address: bigint; value: bigint; imageOffset: number; width: number; ts: Uint8Array; ref: Uint8Array }
  | { kind: 'symbol-write'; symbol: string }
  | { kind: 'padding'; between: string }
  | { kind: 'section-content'; section: number; name: string; offset: number };

export interface RangeDiff extends ByteRange {
  attributions: Attribution[];
  ts: Uint8Array;
  ref: Uint8Array;
}

export interface LayoutDiff {
  field: string;
  ts: string;
  ref: string;
}

export interface CaseComparison {
  cls: CaseClass;
  /** Rejection classes on each side, when rejected. */
  tsClass?: string;
  refClass?: string;
  layout: LayoutDiff[];
  ranges: RangeDiff[];
  differingBytes: number;
  note?: string;
}

/** Normalise a rejection to a class both sides share. */
export function tsRejectionClass(code: RejectionCode | 'died'): string {
  switch (code) {
    case 'elf-format':
    case 'not-relocatable':
    case 'wrong-machine':
    case 'no-section-headers':
      return 'parse-failed';
    default:
      return code;
  }
}

const C_MESSAGES: [RegExp, string][] = [
  [/^ELF rel parse failed/, 'parse-failed'],
  [/^Invalid section number/, 'bad-section-index'],
  [/^Invalid section: /, 'bad-section-index'],
  // Not in any released kexec-tools: the messages of the checks docs/findings/kt-off-by-one-section-index.patch adds.
  [/^Invalid relocation (symbol|offset): /, 'bad-relocation'],
  [/^Undefined symbol/, 'undefined-symbol'],
  [/in common section/, 'common-symbol'],
  [/^(Unhandled|Unknown) rela relocation/, 'unknown-relocation'],
  [/^machine_apply_elf_rel: ERROR Unknown type/, 'unknown-relocation'], // arm64
  [/^machine_apply_elf_rel: ERROR Unaligned value/, 'misaligned'], // arm64
  [/^overflow in relocation/, 'overflow'],
  [/^TOC16 relocation overflows/, 'toc16-overflow'],
  [/^bad TOC16 relocation/, 'toc16-misaligned'],
  [/^REL24 .* out of range/, 'rel24-out-of-range'],
  [/^Unexpected instruction/, 'rel16-unexpected-instruction'],
  [/^TOC reloc without a toc/, 'no-toc-section'],
  [/not found cannot/, 'symbol-not-found'],
  [/has size: /, 'symbol-size-mismatch'],
  [/is in a bss section/, 'symbol-in-bss'],
  [/has Bad section index/, 'symbol-bad-section'],
  [/^Cannot (malloc|realloc)/, 'unsupported'],
];

/**
 * The die() text of a reference rejection. The oracles return everything printed since the request
 * began, and kexec-tools prints warnings with fprintf before it dies ("ELF Note corrupted !",
 * kexec-elf.c:728, then die("ELF rel parse failed\n"), kexec-elf-rel.c:433; "Warning: Elf Note name
 * is not null terminated", kexec-elf.c:739, then any later die()), while a die() that prints a
 * symbol's name spans several lines when the name holds newlines ("Invalid section: %d for symbol
 * %s\n", kexec-elf-rel.c:402). So the text runs from the first line that starts a known message
 * (`known`, anchored patterns tested line by line) to the last non-empty line, keeping the newline
 * that followed it; when no line starts one, it is the last non-empty line. A message of one line
 * comes back unchanged.
 */
export function dieText(message: string, known: readonly [RegExp, string][] = C_MESSAGES): string {
  const lines = message.split('\n');
  let end = lines.length - 1;
  while (end > 0 && lines[end] === '') end--;
  if (end === 0) return message;
  let start = 0;
  while (start < end && !known.some(([re]) => re.test(lines[start]!))) start++;
  return lines.slice(start, end + 1).join('\n') + (end < lines.length - 1 ? '\n' : '');
}

/** Classify a reference loader's die()/pr_err message by its die() text (dieText). */
export function refRejectionClass(message: string, extra: [RegExp, string][] = []): string {
  const known = [...extra, ...C_MESSAGES];
  const text = dieText(message, known);
  for (const [re, cls] of known) if (re.test(text)) return cls;
  return 'other';
}

/**
 * The text a reference rejection is classified by: its message, or `(errno N, no message)` when the
 * loader returned an error without printing anything (the kernel's silent -ENOEXEC, -EINVAL and
 * -ENOMEM returns), so that the errno still tells those cases apart.
 */
export function refRejectionText(ref: { errno: number; message: string }): string {
  return ref.message === '' && ref.errno !== 0 ? `(errno ${ref.errno}, no message)` : ref.message;
}

export interface CompareOptions {
  /**
   * Also compare the texts of two rejections of the same class (the kernel: its model prints the
   * exact pr_err text, symbol names included); a difference is a `message` layout difference.
   * kexec-tools rejections are compared by class only (its die() texts name types by reloc_name()).
   */
  exactMessages?: boolean;
}

export function compareOutcomes(ts: Outcome, ref: RefOutcome, symbols: SymbolRange[] = [], refClasses: [RegExp, string][] = [], opts: CompareOptions = {}): CaseComparison {
  const base: CaseComparison = { cls: 'match', layout: [], ranges: [], differingBytes: 0 };
  if (ref.kind === 'crashed') return { ...base, cls: 'oracle-crashed', note: `${ref.signal}${ref.message ? ': ' + ref.message : ''}`, tsClass: ts.kind === 'rejected' ? tsRejectionClass(ts.code) : ts.kind };
  if (ref.kind === 'timeout') return { ...base, cls: 'oracle-timeout', note: `${ref.ms} ms`, tsClass: ts.kind === 'rejected' ? tsRejectionClass(ts.code) : ts.kind };
  if (ts.kind === 'crashed' || ts.kind === 'timeout') return { ...base, cls: 'one-rejected', note: `TS engine ${ts.kind}` };
  if (ts.kind === 'rejected' && ref.kind === 'rejected') {
    const a = tsRejectionClass(ts.code);
    const b = refRejectionClass(refRejectionText(ref), refClasses);
    if (a === b && opts.exactMessages && ts.message !== ref.message) {
      return { ...base, cls: 'mismatch-layout', tsClass: a, refClass: b, layout: [{ field: 'message', ts: JSON.stringify(ts.message), ref: JSON.stringify(ref.message) }] };
    }
    return { ...base, cls: a === b ? 'both-rejected' : 'one-rejected', tsClass: a, refClass: b, note: a === b ? undefined : `TS: ${ts.message.trim()} / ref: ${refRejectionText(ref).trim()}` };
  }
  if (ts.kind === 'rejected') return { ...base, cls: 'one-rejected', tsClass: tsRejectionClass(ts.code), refClass: 'ok', note: `TS rejected: ${ts.message.trim()}` };
  if (ref.kind === 'rejected') return { ...base, cls: 'one-rejected', tsClass: 'ok', refClass: refRejectionClass(refRejectionText(ref), refClasses), note: `reference rejected: ${refRejectionText(ref).trim()}` };

  const img = ts.image;
  const layout: LayoutDiff[] = [];
  const cmp = (field: string, a: bigint, b: bigint) => a !== b && layout.push({ field, ts: hex(a), ref: hex(b) });
  cmp('base', img.base, ref.relAddr);
  cmp('memsz', img.memsz, ref.relSize);
  cmp('entry', img.entry, ref.entry);
  cmp('bufsz', BigInt(img.bytes.length), BigInt(ref.image.length));
  if (img.sections.length !== ref.shAddr.length) layout.push({ field: 'shnum', ts: String(img.sections.length), ref: String(ref.shAddr.length) });
  img.sections.forEach((s, i) => {
    const r = ref.shAddr[i];
    if (r !== undefined && s.addr !== r) cmp(`section[${i}] ${s.name} addr`, s.addr, r); // the name only when they differ
  });
  const ranges = diffRanges(img.bytes, ref.image).map((r) => ({ ...r, ts: img.bytes.slice(r.start, r.end), ref: ref.image.slice(r.start, r.end), attributions: attribute(img, r, ref.image, symbols) }));
  // A probe reads its bytes from the image (SHF_ALLOC sections) or the file copy, which no
  // relocation writes: when the images differ, the probes' bytes repeat that difference.
  if (img.details && ref.details) layout.push(...compareDetails(img.details, ref.details, refClasses, { bytes: !ranges.length }));
  const differingBytes = ranges.reduce((n, r) => n + countDiffering(r.ts, r.ref), 0);
  const cls: CaseClass = layout.length ? 'mismatch-layout' : ranges.length ? 'mismatch-bytes' : 'match';
  return { cls, layout, ranges, differingBytes };
}

/**
 * The details of two ok loads (FLAG_DETAILS), as layout differences: add_buffer's arguments,
 * e_entry, and each symbol probe (bytes when both read, unless `bytes: false`; the rejection class
 * when both failed: the kernel getter's silent -EINVAL is classified by its errno, as a load's is).
 */
export function compareDetails(ts: LoadDetails, ref: LoadDetails, refClasses: [RegExp, string][] = [], opts: { bytes?: boolean } = {}): LayoutDiff[] {
  const out: LayoutDiff[] = [];
  const cmp = (field: string, a: bigint, b: bigint) => a !== b && out.push({ field, ts: hex(a), ref: hex(b) });
  cmp('add_buffer memsz', ts.memsz, ref.memsz);
  cmp('add_buffer buf_align', ts.bufAlign, ref.bufAlign);
  cmp('add_buffer buf_min', ts.bufMin, ref.bufMin);
  cmp('add_buffer buf_max', ts.bufMax, ref.bufMax);
  if (ts.bufEnd !== ref.bufEnd) out.push({ field: 'add_buffer buf_end', ts: String(ts.bufEnd), ref: String(ref.bufEnd) });
  cmp('e_entry', ts.eEntry, ref.eEntry);
  if (ts.probes.length !== ref.probes.length) {
    out.push({ field: 'symbol probes', ts: String(ts.probes.length), ref: String(ref.probes.length) });
    return out;
  }
  const show = (b: Uint8Array) => Buffer.from(b.subarray(0, 32)).toString('hex') + (b.length > 32 ? `… (${b.length} bytes)` : '');
  ts.probes.forEach((t, i) => {
    const r = ref.probes[i]!;
    const field = `symbol probe ${t.name}`;
    if (t.ok && r.ok) {
      if (opts.bytes === false) return;
      if (t.bytes.length !== r.bytes.length || Buffer.compare(t.bytes, r.bytes) !== 0) out.push({ field, ts: show(t.bytes), ref: show(r.bytes) });
    } else if (!t.ok && !r.ok) {
      const a = t.code ? tsRejectionClass(t.code) : refRejectionClass(refRejectionText({ errno: t.errno ?? 0, message: t.message }), refClasses);
      const b = refRejectionClass(refRejectionText({ errno: r.errno ?? 0, message: r.message }), refClasses);
      if (a !== b) out.push({ field, ts: `${a}: ${t.message.trim()}`, ref: `${b}: ${r.message.trim()}` });
    } else {
      out.push({ field, ts: t.ok ? show(t.bytes) : `died: ${t.message.trim()}`, ref: r.ok ? show(r.bytes) : `died: ${r.message.trim()}` });
    }
  });
  return out;
}

function countDiffering(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) n++;
  return n;
}

/** Maximal runs of differing bytes (the shorter buffer's tail counts as differing). */
export function diffRanges(a: Uint8Array, b: Uint8Array, gap = 0): ByteRange[] {
  const out: ByteRange[] = [];
  if (a.length === b.length && Buffer.compare(a, b) === 0) return out;
  const n = Math.max(a.length, b.length);
  let i = 0;
  while (i < n) {
    if (i < a.length && i < b.length && a[i] === b[i]) { i++; continue; }
    const start = i;
    let last = i;
    while (i < n) {
      if (i >= a.length || i >= b.length || a[i] !== b[i]) last = i;
      else if (i - last > gap) break;
      i++;
    }
    out.push({ start, end: last + 1 });
    i = last + 1;
  }
  return out;
}

/** Name what wrote the bytes in [r.start, r.end). */
export function attribute(img: LoadedImage, r: ByteRange, refImage: Uint8Array, symbols: SymbolRange[]): Attribution[] {
  const out: Attribution[] = [];
  for (const rel of img.relocations) {
    if (rel.imageOffset < 0 || rel.width === 0) continue;
    if (rel.imageOffset < r.end && rel.imageOffset + rel.width > r.start) {
      out.push({
        kind: 'relocation', relSection: rel.relSection, relIndex: rel.relIndex, type: rel.typeName, symbol: rel.symbol,
        addend: rel.addend, section: rel.section, offset: rel.offset, address: rel.address, value: rel.value,
        imageOffset: rel.imageOffset, width: rel.width,
        ts: img.bytes.slice(rel.imageOffset, rel.imageOffset + rel.width),
        ref: refImage.slice(rel.imageOffset, rel.imageOffset + rel.width),
      });
    }
  }
  // Symbol writes land after relocation, so they overwrite relocated bytes.
  for (const s of symbols) if (s.start < r.end && s.end > r.start) out.push({ kind: 'symbol-write', symbol: s.name });
  if (!out.length) {
    const secs = img.sections.filter((s) => s.alloc && !s.nobits).map((s) => ({ s, off: Number(s.addr - img.base), end: Number(s.addr - img.base + s.size) }));
    const inside = secs.find((x) => r.start >= x.off && r.start < x.end);
    if (inside) out.push({ kind: 'section-content', section: inside.s.index, name: inside.s.name, offset: r.start - inside.off });
    else {
      const before = secs.filter((x) => x.end <= r.start).pop();
      const after = secs.find((x) => x.off >= r.end);
      out.push({ kind: 'padding', between: `${before?.s.name ?? '<start>'} … ${after?.s.name ?? '<end>'}` });
    }
  }
  return out;
}
