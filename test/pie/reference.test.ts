// The linker as the reference for the PIE loader (src/pie/reference.ts). Unit tests of the
// comparison (regions, field-precise exclusions, the ELFv2 global-entry rule, the reference image
// of a PIE based at B), then the live comparison: the kexec-tools 2.0.25 purgatory objects linked
// by GNU ld and ld.lld at 0 and at three bases (plus one above 4 GiB for outcomes). Without CI=true
// a missing toolchain skips, naming the package; with CI=true it fails.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EM_PPC64, EM_X86_64, PF_R, PF_W, PF_X } from '../../src/elf/constants.ts';
import { buildPie } from '../../src/elf/pie-writer.ts';
import { R_PPC64 } from '../../src/arch/ppc64.ts';
import { R_X86_64 } from '../../src/arch/x86_64.ts';
import {
  compareImages, exclusionsFor, imageFromPieAtBase, linkerCommand, regionNamer, toolAvailable, type LinkerId, type ReferenceComparison,
} from '../../src/pie/reference.ts';
import type { Arch } from '../../src/types.ts';
import { hex } from '../../src/bytes.ts';
import { BASES, OUTCOME_BASE, ensureObjects, runLinker, registry, type LinkerRun } from '../../scripts/pie/link-reference.ts';

const CI = process.env.CI === 'true';
const REPO = join(import.meta.dirname, '../..');

describe('comparison machinery', () => {
  const text = new Uint8Array(0x40);
  const pie0 = buildPie({
    endian: 'little', machine: EM_X86_64, entry: 0x1010n,
    segments: [
      { name: '.text', vaddr: 0x1000n, data: text, flags: PF_R | PF_X },
      { name: '.data', vaddr: 0x2000n, data: new Uint8Array(0x10), flags: PF_R | PF_W },
    ],
    relocations: [{ offset: 0x2000n, type: R_X86_64.RELATIVE, addend: 0x1010n }],
  });

  it('names every byte of the span: ELF header, program headers, sections, gaps', () => {
    // buildPie puts no PT_LOAD at file offset 0, so there is no header region here.
    const name = regionNamer(pie0);
    expect(name(0x1004).name).toBe('.text');
    expect(name(0x2008)).toEqual({ name: '.data', start: 0x2000 });
    expect(name(0x1800).name).toBe('gap');
  });

  it('exclusions: whole regions, field ranges with a stride, and nothing else', () => {
    const ts = new Uint8Array(0x3000);
    const ref = { start: 0n, bytes: new Uint8Array(0x3000), known: new Uint8Array(0x3000).fill(1) };
    ref.bytes[0x1001] = 1; // .text +1
    ref.bytes[0x2000 + 2] = 1; // .data +2 (range [0,4) stride 8 covers 0..3, 8..11)
    ref.bytes[0x2000 + 9] = 1; // covered
    ref.bytes[0x2000 + 5] = 1; // not covered
    const r = compareImages(pie0, ts, ref, [{ id: 'x', regions: ['.data'], ranges: { '.data': [[0, 4, 8]] } }]);
    expect(r.excluded).toBe(2);
    expect(r.differing).toBe(2);
    expect(r.regions.map((d) => [d.region, d.bytes, d.excludedBy])).toEqual([['.text', 1, undefined], ['.data', 2, 'x'], ['.data', 1, undefined]]);
  });

  it('elfv2-global-entry rule: excluded only when addis r2,r12 / lis r2 compute the same r2', () => {
    const pie = buildPie({ endian: 'little', machine: EM_PPC64, segments: [{ name: '.text', vaddr: 0x500n, data: new Uint8Array(0x10), flags: PF_R | PF_X }] });
    const base = 0x1000000n;
    const le32 = (b: Uint8Array, o: number, w: number) => new DataView(b.buffer).setUint32(o, w, true);
    const ts = new Uint8Array(0x600);
    const ref = { start: base, bytes: new Uint8Array(0x600), known: new Uint8Array(0x600).fill(1) };
    // f at B + 0x500 = 0x1000500, .TOC. = 0x1027f00: PC-relative 0x1027f00 - 0x1000500 = 0x27a00 → addis 2,12,2; addi 2,2,0x7a00.
    le32(ts, 0x500, 0x3c4c0002); le32(ts, 0x504, 0x38427a00);
    // The static link's absolute form, wrong on purpose: lis 2,0x0103; addi 2,2,0x7f00 = 0x1037f00.
    le32(ref.bytes, 0x500, 0x3c400103); le32(ref.bytes, 0x504, 0x38427f00);
    // Not the same r2, so nothing is excluded…
    let r = compareImages(pie, ts, ref, [{ id: 'g', rule: 'elfv2-global-entry' }], base);
    expect(r.excluded).toBe(0);
    expect(r.differing).toBeGreaterThan(0);
    // …while lis 2,0x0102; addi 2,2,0x7f00 = 0x1027f00 is.
    le32(ref.bytes, 0x500, 0x3c400102);
    r = compareImages(pie, ts, ref, [{ id: 'g', rule: 'elfv2-global-entry' }], base);
    expect(r.differing).toBe(0);
    expect(r.exclusions).toEqual({ g: r.excluded });
  });

  it('the reference image of a PIE based at B: RELATIVE from r_addend, symbolic fields from st_value + r_addend', () => {
    // A big-endian "link at B = 0x130000": RELATIVE addend already B-based; ADDR16_HI against var.
    const based = buildPie({
      endian: 'big', machine: EM_PPC64,
      segments: [
        { name: '.text', vaddr: 0x130000n, data: new Uint8Array(0x10), flags: PF_R | PF_X },
        { name: '.data', vaddr: 0x140000n, data: new Uint8Array(0x10), flags: PF_R | PF_W },
      ],
      dynsyms: [{ name: 'var', value: 0x140008n, section: '.data' }],
      relocations: [
        { offset: 0x140000n, type: R_PPC64.RELATIVE, addend: 0x130004n },
        { offset: 0x130002n, type: R_PPC64.ADDR16_HI, symbol: 'var', addend: 0x8000n },
        { offset: 0x130006n, type: R_PPC64.ADDR16_HA, symbol: 'var', addend: 0x8000n },
      ],
      textrel: 'DT_TEXTREL',
    });
    const { image, applied } = imageFromPieAtBase(based, 0x130000n, 0x20000);
    expect(applied).toEqual({ relative: 1, symbolic: 2, alreadyHeld: 0, unknown: [] });
    expect([...image.bytes.slice(0x10000, 0x10008)]).toEqual([0, 0, 0, 0, 0, 0x13, 0, 4]);
    // 0x140008 + 0x8000 = 0x148008: #hi = 0x0014, #ha = 0x0015.
    expect([...image.bytes.slice(2, 4)]).toEqual([0, 0x14]);
    expect([...image.bytes.slice(6, 8)]).toEqual([0, 0x15]);
  });

  it('the registry\'s PIE entries load as exclusions, scoped by target, linker and reference kind', () => {
    const reg = JSON.parse(readFileSync(join(REPO, 'corpus/known-divergences.json'), 'utf8'));
    const ids = (t: Arch, l: LinkerId, k: 'pie-at-base' | 'static-at-layout') => exclusionsFor(reg, t, l, k).map((x) => x.id).sort();
    expect(ids('x86_64', 'bfd', 'pie-at-base')).toEqual(['pie-ref-dynamic-metadata', 'pie-ref-header-addresses']);
    expect(ids('ppc64le', 'bfd', 'pie-at-base')).toEqual(['pie-ref-dynamic-metadata', 'pie-ref-header-addresses', 'pie-ref-ppc64-got0-toc-base']);
    expect(ids('ppc64le', 'bfd', 'static-at-layout')).toEqual(['pie-ref-elfv2-global-entry-rewrite']);
    expect(ids('x86_64', 'lld', 'static-at-layout')).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------
// Live: the real linkers on the real objects.

const TARGETS: Arch[] = ['x86_64', 'ppc64', 'ppc64le'];
const PACKAGES: Record<Arch, string> = { x86_64: 'binutils-x86-64-linux-gnu', ppc64: 'binutils-powerpc64-linux-gnu', ppc64le: 'binutils-powerpc64le-linux-gnu',
  arm64: 'binutils-aarch64-linux-gnu', s390x: 'binutils-s390x-linux-gnu', riscv64: 'binutils-riscv64-linux-gnu',
};
const GCC: Record<Arch, string> = {
  x86_64: 'x86_64-linux-gnu-gcc', ppc64: 'powerpc64-linux-gnu-gcc', ppc64le: 'powerpc64le-linux-gnu-gcc',
  arm64: 'aarch64-linux-gnu-gcc', s390x: 's390x-linux-gnu-gcc', riscv64: 'riscv64-linux-gnu-gcc',
};

/** The registry ids a comparison may name: every excluded byte is explained by an entry. */
const knownIds = new Set(registry().entries.map((e) => e.id));

describe.each(TARGETS)('linker reference, %s (kexec-tools 2.0.25 objects, gcc)', (target) => {
  const tools = [linkerCommand('bfd', target), 'ld.lld', GCC[target]];
  const missing = tools.filter((t) => !toolAvailable(t));
  if (missing.length) {
    const why = `missing ${missing.join(', ')} (apt-get install ${PACKAGES[target]} lld gcc-${target === 'x86_64' ? 'x86-64' : target === 'ppc64' ? 'powerpc64' : 'powerpc64le'}-linux-gnu; scripts/setup-toolchains.sh)`;
    if (CI) it('the toolchain is installed (CI=true)', () => { throw new Error(why); });
    else it.skip(`toolchain missing: ${why}`, () => {});
    return;
  }
  const runs = new Map<LinkerId, LinkerRun>();
  beforeAll(async () => {
    const o = await ensureObjects(target);
    for (const linker of ['bfd', 'lld'] as LinkerId[]) runs.set(linker, runLinker(o, linker));
  }, 30 * 60_000);

  const at = (linker: LinkerId, kind: ReferenceComparison['kind'], base: bigint) =>
    runs.get(linker)!.comparisons.find((c) => c.kind === kind && c.base === base)!;

  it.each(BASES.map((b) => [hex(b), b] as const))('GNU ld, base %s: bytes match the PIE linked at the base and the static link at its layout', (_h, base) => {
    for (const kind of ['pie-at-base', 'static-at-layout'] as const) {
      const c = at('bfd', kind, base);
      expect(c.cls, `${kind}: ${JSON.stringify(c.regions, (_k, v) => (typeof v === 'bigint' ? hex(v) : v))}`).toMatch(/^match/);
      expect(c.differing).toBe(0);
      expect(c.compared).toBeGreaterThan(10_000);
      for (const id of Object.keys(c.exclusions)) expect(knownIds.has(id)).toBe(true);
    }
    // x86_64 and ELFv1: the static link agrees on every byte, text relocations included.
    if (target !== 'ppc64le') expect(at('bfd', 'static-at-layout', base).cls).toBe('match');
  });

  if (target === 'x86_64') {
    it.each(BASES.map((b) => [hex(b), b] as const))('ld.lld (-z notext), base %s: --apply-dynamic-relocs at the base, and the static link, match', (_h, base) => {
      expect(at('lld', 'pie-at-base', base).cls).toBe('match-with-exclusions');
      expect(at('lld', 'pie-at-base', base).differing).toBe(0);
      expect(at('lld', 'static-at-layout', base).cls).toBe('match');
    });
    it('above 4 GiB the x86_64 PIE (RELATIVE only) still matches', () => {
      expect(at('bfd', 'pie-at-base', OUTCOME_BASE).cls).toBe('match-with-exclusions');
      expect(at('bfd', 'static-at-layout', OUTCOME_BASE).cls).toBe('match');
    });
  } else {
    it('ld.lld cannot link the ppc64 PIE at all: the ADDR16 text relocations are refused even with -z notext', () => {
      expect(runs.get('lld')!.pieError).toMatch(/relocation R_PPC64_ADDR16_HIGHEST cannot be used against symbol 'run_at_load'/);
    });
    it('at 4 GiB: TS rejects R_PPC64_ADDR16_HI (int32 check); the static link is refused too; the GNU ld PIE is not checked', () => {
      const pie = at('bfd', 'pie-at-base', OUTCOME_BASE);
      const st = at('bfd', 'static-at-layout', OUTCOME_BASE);
      expect(pie.cls).toBe('ts-rejected');
      expect(pie.note).toMatch(/R_PPC64_ADDR16_HI out of range/);
      expect(st.cls).toBe('both-rejected');
      expect(st.note).toMatch(/relocation truncated to fit: R_PPC64_ADDR16_HI/);
    });
  }

  it('the TS loader loads the GNU ld PIE at every base it was compared at (no silent skip)', async () => {
    const o = await ensureObjects(target);
    expect(o.objs.length).toBeGreaterThan(5);
    const n = runs.get('bfd')!.comparisons.filter((c) => c.compared > 0).length;
    expect(n).toBe(BASES.length * 2 + (target === 'x86_64' ? 2 : 0));
  });
});
