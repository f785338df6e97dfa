// The coverage corpus generator: deterministic bytes, the committed objects and manifest entries
// are what the specs give, and together the specs cover every relocation type each reference
// loader handles (read from the arch tables through the profiles: a type added to a table without
// a coverage object fails here), every checked type's boundaries and every listed layout branch.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COVERAGE_BASES, GENERATOR, coverageSpecs, generate, idOf } from '../../../src/corpus/coverage/generate.ts';
import { sha256, type Manifest } from '../../../src/corpus/manifest.ts';
import { x86_64 } from '../../../src/arch/x86_64.ts';
import { ppc64 } from '../../../src/arch/ppc64.ts';
import { arm64 } from '../../../src/arch/arm64.ts';
import { s390x } from '../../../src/arch/s390x.ts';
import { riscv64 } from '../../../src/arch/riscv64.ts';
import type { ArchModule } from '../../../src/arch/types.ts';
import { makeProfile } from '../../../src/load/profile.ts';
import type { Arch } from '../../../src/types.ts';
import { ARCHES } from '../../../src/corpus/coverage/spec.ts';

const REPO = join(import.meta.dirname, '../../..');
const specs = coverageSpecs();
const manifest = JSON.parse(readFileSync(join(REPO, 'corpus/manifest.json'), 'utf8')) as Manifest;
const covEntries = manifest.entries.filter((e) => e.origin.kind === 'coverage-generator');
const coversOf = (arch: Arch) => new Set(specs.filter((s) => s.arch === arch).flatMap((s) => s.covers));

describe('generator', () => {
  it('builds the same bytes on every run (fresh spec objects each time)', () => {
    const a = coverageSpecs().map((s) => sha256(generate(s)));
    const b = coverageSpecs().map((s) => sha256(generate(s)));
    expect(a).toEqual(b);
    expect(new Set(a).size, 'no two specs build the same object').toBe(a.length);
  });

  it('the committed objects and manifest entries are what the specs give (npm run corpus:coverage)', () => {
    expect(covEntries.map((e) => e.id).sort()).toEqual(specs.map(idOf).sort());
    for (const s of specs) {
      const e = covEntries.find((x) => x.id === idOf(s))!;
      const bytes = generate(s);
      expect(sha256(bytes), e.id).toBe(e.sha256);
      expect(sha256(readFileSync(join(REPO, e.file))), e.file).toBe(e.sha256);
      expect(e.file).toBe(`corpus/elf/${idOf(s)}.ro`);
      expect(e.arch).toBe(s.arch);
      expect(e.bases).toEqual([...COVERAGE_BASES]);
      const foreign = s.object.machine !== ARCHES[s.arch].machine || s.object.endian !== ARCHES[s.arch].endian;
      expect(e.origin).toEqual({
        kind: 'coverage-generator', generator: GENERATOR, spec: s.spec, specId: s.name, covers: s.covers, note: s.note,
        ...(foreign ? { objectArch: e.origin.kind === 'coverage-generator' ? e.origin.objectArch : undefined } : {}),
      });
      if (foreign) expect(e.origin.kind === 'coverage-generator' && e.origin.objectArch).not.toBe(s.arch);
    }
  });
});

/** Every type a loader's table handles, by name (types 0..255, and every number the arch names: AArch64's run to 1032). */
function handled(arch: ArchModule, profileId: string, target: Arch): string[] {
  const sem = makeProfile(profileId, target).sem;
  const out: string[] = [];
  const numbers = new Set([...Array.from({ length: 256 }, (_, t) => t), ...arch.names.keys()]);
  for (const t of [...numbers].sort((a, b) => a - b)) if (arch.classify(t, sem)) out.push(arch.typeName(t));
  return out;
}

describe('completeness', () => {
  const loaders: [string, ArchModule, string, Arch][] = [
    ['kexec-tools x86_64', x86_64, 'kexec-tools-2.0.32', 'x86_64'],
    ['kernel x86_64', x86_64, 'kernel-6.12', 'x86_64'],
    ['kexec-tools ppc64', ppc64, 'kexec-tools-2.0.32', 'ppc64'],
    ['kexec-tools ppc64le', ppc64, 'kexec-tools-2.0.32', 'ppc64le'],
    ['kexec-tools arm64', arm64, 'kexec-tools-2.0.32', 'arm64'],
    ['kexec-tools s390x', s390x, 'kexec-tools-2.0.32', 's390x'],
    ['kernel riscv64', riscv64, 'kernel-6.12', 'riscv64'],
  ];
  // Types each table handles at least (kexec-elf-rel-x86_64.c: 6, kexec-elf-rel-ppc64.c: 19, kexec-arm64.c: 14, kexec-elf-rel-s390.c: 12; the kernel's riscv64 elf_kexec.c: 15).
  const least: Partial<Record<Arch, number>> = { x86_64: 6, ppc64: 19, ppc64le: 19, arm64: 14, s390x: 12, riscv64: 15 };
  it.each(loaders)('%s: every relocation type the loader handles has an object', (_n, arch, profile, target) => {
    const types = handled(arch, profile, target);
    expect(types.length).toBeGreaterThanOrEqual(least[target]!);
    const covered = coversOf(target);
    expect(types.filter((t) => !covered.has(t))).toEqual([]);
  });

  // Checked types: the last value that fits and the first that does not, at both ends; DS and
  // REL24 alignment; @ha carries at low half 0x7fff / 0x8000.
  const boundaries: [Arch[], string, string[]][] = [
    [['x86_64'], 'R_X86_64_32', ['max-fit', 'max-overflow', 'min-fit', 'min-overflow']],
    [['x86_64'], 'R_X86_64_32S', ['max-fit', 'max-overflow', 'min-fit', 'min-overflow']],
    [['ppc64', 'ppc64le'], 'R_PPC64_TOC16', ['max-fit', 'max-overflow', 'min-fit', 'min-overflow']],
    [['ppc64', 'ppc64le'], 'R_PPC64_TOC16_DS', ['max-fit', 'max-overflow', 'min-fit', 'min-overflow', 'misaligned']],
    [['ppc64', 'ppc64le'], 'R_PPC64_TOC16_LO_DS', ['misaligned']],
    [['ppc64', 'ppc64le'], 'R_PPC64_REL24', ['max-fit', 'max-overflow', 'min-fit', 'min-overflow', 'misaligned']],
    [['ppc64', 'ppc64le'], 'R_PPC64_ADDR16_HA', ['low-7fff', 'low-8000']],
    [['ppc64', 'ppc64le'], 'R_PPC64_TOC16_HA', ['low-7fff', 'low-8000']],
    [['ppc64', 'ppc64le'], 'R_PPC64_REL16_HA', ['unexpected-instruction']],
    [['ppc64', 'ppc64le'], 'R_PPC64_REL16_LO', ['unexpected-instruction']],
  ];
  it.each(boundaries.flatMap(([arches, t, bs]) => arches.map((a) => [a, t, bs] as const)))('%s %s: boundaries %j', (arch, type, bs) => {
    const covered = coversOf(arch);
    expect(bs.filter((b) => !covered.has(`${type}:${b}`))).toEqual([]);
  });

  const layout = [
    'layout:bss-padding', 'layout:bss-no-padding', 'layout:nobits-several', 'layout:align-above-base', 'layout:align-above-bss',
    'layout:bss-align-above-base', 'layout:bss-align-above-progbits', 'layout:addralign-zero-progbits', 'layout:addralign-zero-nobits',
    'layout:entry-not-first-section', 'layout:entry-section-end-exclusive', 'layout:entry-section-start', 'layout:entry-outside-exec',
    'layout:entry-skip-nonalloc', 'layout:entry-skip-nonexec', 'layout:entry-first-match', 'layout:reloc-target-nonalloc',
    'layout:symbol-write-1', 'layout:symbol-write-2', 'layout:symbol-write-4', 'layout:symbol-write-8', 'layout:symbol-write-odd',
    'layout:symbol-write-large', 'kernel:purgatory-start', 'kernel:purgatory-start-nonexec', 'kernel:purgatory-start-past-end',
    'symbol:abs', 'symbol:abs-addend', 'symbol:section', 'symbol:section-addend', 'symbol:local', 'symbol:nobits', 'symbol:undef-notype',
    'symbol:index-zero', 'reloc-section:rel', 'reloc-section:rela',
    'error:undefined-symbol', 'error:common-symbol', 'error:bad-section-index', 'error:reloc-section-bad-info',
    'layout:reloc-symtab-bad-link-skipped', 'layout:symbol-write-local-skipped', 'layout:no-nobits-odd-bufsz',
    'error:symbol-write-undefined', 'error:symbol-write-nobits', 'error:symbol-write-size', 'layout:align-one',
  ];
  it.each(['x86_64', 'ppc64', 'ppc64le', 'arm64', 's390x'] as Arch[])('%s: every layout branch, symbol kind and generic error path', (arch) => {
    const covered = coversOf(arch);
    expect(layout.filter((b) => !covered.has(b))).toEqual([]);
  });

  it('the class and byte-order checks of machine_verify_elf_rel: x32 loads, big-endian EM_X86_64 and ELFCLASS32 EM_PPC64 are refused', () => {
    expect(coversOf('x86_64').has('elf:class32-x32')).toBe(true);
    expect(coversOf('x86_64').has('error:wrong-byte-order')).toBe(true);
    for (const a of ['ppc64', 'ppc64le'] as Arch[]) expect(coversOf(a).has('error:wrong-class')).toBe(true);
  });

  it.each(['ppc64', 'ppc64le'] as Arch[])('%s: every TOC form (.toc placement, my_r2, empty .toc, no .toc) and local entries', (arch) => {
    const covered = coversOf(arch);
    const want = ['toc:align-256', 'toc:align-above-256', 'toc:my-r2', 'toc:empty-toc-skipped', 'toc:missing', 'toc:got-is-not-toc',
      arch === 'ppc64le' ? 'R_PPC64_REL24:local-entry' : 'R_PPC64_REL24:elfv1-no-local-entry', 'error:unknown-type'];
    expect(want.filter((b) => !covered.has(b))).toEqual([]);
  });

  it('riscv64 (kexec-tools 2.0.32) handles no type, and NONE dies like the rest', () => {
    expect(handled(riscv64, 'kexec-tools-2.0.32', 'riscv64')).toEqual([]);
    // Every riscv64 object carries the stub's expectation (spec-riscv64.ts: ktDies), NONE included.
    expect(['R_RISCV_NONE:unhandled', 'error:unknown-type', 'layout:no-relocations'].filter((b) => !coversOf('riscv64').has(b))).toEqual([]);
  });

  it.each([['arm64', ['R_AARCH64_LDST64_ABS_LO12_NC:misaligned', 'R_AARCH64_LDST128_ABS_LO12_NC:misaligned', 'R_AARCH64_ADR_PREL_LO21:misaligned',
    'R_AARCH64_MOVW_UABS_G2_NC:get-bits-truncated', 'R_AARCH64_MOVW_UABS_G3:get-bits-truncated', 'R_AARCH64_MOVW_UABS_G0_NC:carry-out-of-field', 'R_AARCH64_NONE:dies']],
  ['s390x', ['R_390_NONE:dies', 'R_390_PC32DBL:odd-unchecked', 'R_390_PC32:overflow-unchecked', 'R_390_8:truncated-unchecked']]] as [Arch, string[]][])(
    '%s: every die() and every quirk of machine_apply_elf_rel', (arch, want) => {
      expect(want.filter((b) => !coversOf(arch).has(b))).toEqual([]);
    });

  it('x86_64: unknown types through both name paths of reloc_name()', () => {
    const covered = coversOf('x86_64');
    expect(['error:unknown-type-named', 'error:unknown-type-numbered'].filter((b) => !covered.has(b))).toEqual([]);
  });
});
