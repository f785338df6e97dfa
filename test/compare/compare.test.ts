// Rejection classification of the reference loaders' output: by the die() line, which is the last
// line when the C code printed warnings first. The multi-line messages below are put together from
// the format strings of kexec-tools 2.0.25/2.0.29/2.0.32 (same line numbers in all three):
//   kexec/kexec-elf.c:728      fprintf(stderr, "ELF Note corrupted !\n"); return -1;
//   kexec/kexec-elf.c:739      fprintf(stderr, "Warning: Elf Note name is not null terminated\n"); (continues)
//   kexec/kexec-elf-rel.c:391  die("Undefined symbol: %s\n", name);
//   kexec/kexec-elf-rel.c:402  die("Invalid section: %d for symbol %s\n", ...);
//   kexec/kexec-elf-rel.c:433  die("ELF rel parse failed\n");
//   kexec/arch/x86_64/kexec-elf-rel-x86_64.c:87  die("Unhandled rela relocation: %s\n", reloc_name(r_type));
//   kexec/arch/ppc64/kexec-elf-rel-ppc64.c:70    die("TOC reloc without a toc section?");
import { describe, expect, it } from 'vitest';
import { compareDetails, compareOutcomes, dieText, refRejectionClass } from '../../src/compare/compare.ts';
import { dieText as fuzzDieText } from '../../src/fuzz/oracles.ts';
import { KERNEL_MESSAGE_CLASSES } from '../../src/load/kernel.ts';
import type { Outcome, RefOutcome } from '../../src/types.ts';

const NOTE_CORRUPTED = 'ELF Note corrupted !\n';
const NOTE_WARNING = 'Warning: Elf Note name is not null terminated\n';

describe('dieText: from the first line that starts a known message, else the last non-empty line', () => {
  it.each([
    ['one line, kept as is', 'ELF rel parse failed\n', 'ELF rel parse failed\n'],
    ['one line without a newline, kept as is', 'TOC reloc without a toc section?', 'TOC reloc without a toc section?'],
    ['kexec-elf.c:728 then kexec-elf-rel.c:433', NOTE_CORRUPTED + 'ELF rel parse failed\n', 'ELF rel parse failed\n'],
    ['kexec-elf.c:739 then kexec-elf-rel.c:402', NOTE_WARNING + 'Invalid section: 65523 for symbol s0\n', 'Invalid section: 65523 for symbol s0\n'],
    ['a die() without a newline after a warning (kexec-elf-rel-ppc64.c:70)', NOTE_WARNING + 'TOC reloc without a toc section?', 'TOC reloc without a toc section?'],
    ['trailing empty lines are skipped', NOTE_WARNING + 'Undefined symbol: foo\n\n\n', 'Undefined symbol: foo\n'],
    // kexec-elf-rel.c:402 die("Invalid section: %d for symbol %s\n") with a name that holds newlines
    // (fuzz seed 1, mutate case 234,323: a name read from code bytes)
    ['a die() whose symbol name holds newlines is kept whole', 'Invalid section: 35144 for symbol A\x89\nD1\n\t\x01\n', 'Invalid section: 35144 for symbol A\x89\nD1\n\t\x01\n'],
    ['a warning, then a die() of several lines', NOTE_WARNING + 'Undefined symbol: a\nb\n', 'Undefined symbol: a\nb\n'],
    ['no line starts a known message: the last non-empty line', 'first\nsecond\n', 'second\n'],
    ['empty', '', ''],
  ])('%s', (_why, message, want) => {
    expect(dieText(message)).toBe(want);
  });
  it('the fuzzer uses the same helper', () => {
    expect(fuzzDieText).toBe(dieText);
  });
});

describe('refRejectionClass classifies by the die() line, not the first line', () => {
  it.each([
    ['kexec-elf.c:728 + kexec-elf-rel.c:433', NOTE_CORRUPTED + 'ELF rel parse failed\n', 'parse-failed'],
    ['kexec-elf.c:739 + kexec-elf.c:728 + kexec-elf-rel.c:433 (a warned note, then a corrupt one)', NOTE_WARNING + NOTE_CORRUPTED + 'ELF rel parse failed\n', 'parse-failed'],
    ['kexec-elf.c:739 + kexec-elf-rel.c:391', NOTE_WARNING + 'Undefined symbol: foo\n', 'undefined-symbol'],
    ['kexec-elf.c:739 + kexec-elf-rel.c:402', NOTE_WARNING + 'Invalid section: 65523 for symbol s0\n', 'bad-section-index'],
    ['kexec-elf.c:739 + kexec-elf-rel-x86_64.c:87', NOTE_WARNING + 'Unhandled rela relocation: R_X86_64_GOT32\n', 'unknown-relocation'],
    ['kexec-elf.c:739 + kexec-elf-rel-ppc64.c:70', NOTE_WARNING + 'TOC reloc without a toc section?', 'no-toc-section'],
  ])('%s', (_src, message, cls) => {
    expect(refRejectionClass(message)).toBe(cls);
  });
  it('the messages of docs/findings/kt-off-by-one-section-index.patch classify as bad-relocation (not in any release)', () => {
    expect(refRejectionClass('Invalid relocation symbol: 1048576\n')).toBe('bad-relocation');
    expect(refRejectionClass('Invalid relocation offset: 0x100000\n')).toBe('bad-relocation');
    expect(refRejectionClass('Invalid relocation\n')).toBe('other');
  });
  it('a die() whose symbol name holds newlines classifies by its first line (or, for a name in the middle, by the line that ends it)', () => {
    expect(refRejectionClass('Invalid section: 35144 for symbol A\x89\nD1\n\t\x01\n')).toBe('bad-section-index');
    expect(refRejectionClass(NOTE_WARNING + 'Undefined symbol: a\nUnknown\n')).toBe('undefined-symbol');
    expect(refRejectionClass("symbol: 'a\nb' in common section\n")).toBe('common-symbol');
    expect(refRejectionClass('Symbol: a\nb not found cannot set\n')).toBe('symbol-not-found');
  });
  it('a warning alone is not a class; single-line messages classify as before', () => {
    expect(refRejectionClass(NOTE_WARNING)).toBe('other');
    expect(refRejectionClass('ELF rel parse failed\n')).toBe('parse-failed');
    expect(refRejectionClass('kexec: Unknown rela relocation: 3\n', KERNEL_MESSAGE_CLASSES)).toBe('unknown-relocation');
    expect(refRejectionClass('(errno -8, no message)', KERNEL_MESSAGE_CLASSES)).toBe('bad-section-index');
  });
});

describe('compareOutcomes: a warning before the die() no longer turns both-rejected into one-rejected', () => {
  const ref = (message: string): RefOutcome => ({ kind: 'rejected', errno: 0, message });
  it.each([
    [{ kind: 'rejected', code: 'elf-format', message: 'ELF rel parse failed\n' } as Outcome, NOTE_CORRUPTED + 'ELF rel parse failed\n', 'parse-failed'],
    [{ kind: 'rejected', code: 'undefined-symbol', message: 'Undefined symbol: foo\n' } as Outcome, NOTE_WARNING + 'Undefined symbol: foo\n', 'undefined-symbol'],
  ])('TS %j vs a two-line reference', (ts, message, cls) => {
    const c = compareOutcomes(ts, ref(message));
    expect(c).toMatchObject({ cls: 'both-rejected', tsClass: cls, refClass: cls });
  });
  it('different classes still differ, and the note shows the whole reference text', () => {
    const ts = { kind: 'rejected', code: 'overflow', message: 'overflow in relocation type R_X86_64_32 val 100000000\n' } as Outcome;
    const c = compareOutcomes(ts, ref(NOTE_WARNING + 'Undefined symbol: foo\n'));
    expect(c).toMatchObject({ cls: 'one-rejected', tsClass: 'overflow', refClass: 'undefined-symbol' });
    expect(c.note).toContain('Warning: Elf Note name is not null terminated');
  });
});

describe('compareOutcomes with exactMessages (the kernel): same class, other text is a message difference', () => {
  // machine_kexec_64.c:486: pr_err("Undefined symbol: %s\n", name) with pr_fmt "kexec: "
  const ts: Outcome = { kind: 'rejected', code: 'undefined-symbol', message: 'kexec: Undefined symbol: .text\n' };
  const ref = (message: string): RefOutcome => ({ kind: 'rejected', errno: -8, message });
  it('equal texts are both-rejected; a different name is mismatch-layout on `message`', () => {
    expect(compareOutcomes(ts, ref('kexec: Undefined symbol: .text\n'), [], KERNEL_MESSAGE_CLASSES, { exactMessages: true }).cls).toBe('both-rejected');
    const c = compareOutcomes(ts, ref('kexec: Undefined symbol: \n'), [], KERNEL_MESSAGE_CLASSES, { exactMessages: true });
    expect({ cls: c.cls, layout: c.layout }).toEqual({ cls: 'mismatch-layout', layout: [{ field: 'message', ts: '"kexec: Undefined symbol: .text\\n"', ref: '"kexec: Undefined symbol: \\n"' }] });
  });
  it('a missing message (the same errno, classified by it) differs too; without the option only the class counts', () => {
    const bad: Outcome = { kind: 'rejected', code: 'bad-section-index', message: 'kexec: Invalid section 9 for symbol s\n' };
    expect(compareOutcomes(bad, ref(''), [], KERNEL_MESSAGE_CLASSES, { exactMessages: true }).cls).toBe('mismatch-layout');
    expect(compareOutcomes(bad, ref(''), [], KERNEL_MESSAGE_CLASSES).cls).toBe('both-rejected');
  });
});

describe('compareDetails (FLAG_DETAILS)', () => {
  const base = {
    memsz: 0x34n, bufAlign: 16n, bufMin: 0x3000n, bufMax: 0x7fff_ffffn, bufEnd: -1, eEntry: 0x10_0004n,
    probes: [
      { name: 'cfg', ok: true as const, bytes: Uint8Array.from([1, 2]) },
      { name: 'x', ok: false as const, message: 'Symbol: x not found cannot get\n', code: 'symbol-not-found' as const },
    ],
  };
  it('equal details give no difference; a died probe compares by class (model code vs C message)', () => {
    expect(compareDetails(base, { ...base, probes: [base.probes[0]!, { name: 'x', ok: false, message: 'Symbol: x not found cannot get\n' }] })).toEqual([]);
  });
  it('names each differing add_buffer argument, e_entry and probe', () => {
    const ref = {
      ...base, bufMax: 0xffff_ffffn, eEntry: 4n,
      probes: [{ name: 'cfg', ok: true as const, bytes: Uint8Array.from([1, 3]) }, { name: 'x', ok: true as const, bytes: new Uint8Array(8) }],
    };
    expect(compareDetails(base, ref).map((d) => d.field)).toEqual(['add_buffer buf_max', 'e_entry', 'symbol probe cfg', 'symbol probe x']);
  });
  it('makes an ok case mismatch-layout only when both sides report details', () => {
    const img = { base: 0n, bytes: new Uint8Array(0), memsz: 0x34n, entry: 4n, sections: [], relocations: [] };
    const ref = { kind: 'ok' as const, relAddr: 0n, relSize: 0x34n, entry: 4n, hostBuf: 0n, shAddr: [], image: new Uint8Array(0) };
    expect(compareOutcomes({ kind: 'ok', image: { ...img, details: base } }, { ...ref, details: { ...base, memsz: 0x38n } }).cls).toBe('mismatch-layout');
    expect(compareOutcomes({ kind: 'ok', image: { ...img, details: base } }, ref).cls).toBe('match');
  });
});

describe('compareDetails when the images differ', () => {
  it('does not repeat a byte difference through the probes (they read the image), but still compares the rest', () => {
    const d = { memsz: 0x34n, bufAlign: 16n, bufMin: 0n, bufMax: 0n, bufEnd: 1, eEntry: 0n, probes: [{ name: 'f', ok: true as const, bytes: Uint8Array.from([1]) }] };
    const img = { base: 0n, bytes: Uint8Array.from([1]), memsz: 0x34n, entry: 0n, sections: [], relocations: [] };
    const ref = { kind: 'ok' as const, relAddr: 0n, relSize: 0x34n, entry: 0n, hostBuf: 0n, shAddr: [], image: Uint8Array.from([2]) };
    const probes = [{ name: 'f', ok: true as const, bytes: Uint8Array.from([2]) }];
    const c = compareOutcomes({ kind: 'ok', image: { ...img, details: d } }, { ...ref, details: { ...d, probes } });
    expect(c.cls).toBe('mismatch-bytes');
    expect(c.layout).toEqual([]);
    const e = compareOutcomes({ kind: 'ok', image: { ...img, details: d } }, { ...ref, details: { ...d, eEntry: 4n, probes } });
    expect(e.layout.map((x) => x.field)).toEqual(['e_entry']);
  });
});
