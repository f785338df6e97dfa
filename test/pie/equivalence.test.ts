// ET_REL against PIE (src/pie/equivalence.ts). A synthetic pair whose layouts differ on purpose
// (sections moved, merged strings reordered), then the real thing: the kexec-tools 2.0.25
// purgatory objects linked with ld -r (purgatory.ro, as kexec-tools builds it) and with -pie by
// GNU ld and ld.lld, loaded at three bases. Without CI=true a missing toolchain skips; with CI=true it fails.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EM_X86_64, PF_R, PF_W, PF_X, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, STT_FUNC, STT_OBJECT } from '../../src/elf/constants.ts';
import { buildObject, type ObjRelocation } from '../../src/elf/writer.ts';
import { buildPie, type PieRelocationSpec } from '../../src/elf/pie-writer.ts';
import { R_X86_64 } from '../../src/arch/x86_64.ts';
import { equivalence, formatEquivalence, type Equivalence } from '../../src/pie/equivalence.ts';
import { linkPie, linkerCommand, toolAvailable, type LinkerId } from '../../src/pie/reference.ts';
import { hex } from '../../src/bytes.ts';
import type { Arch } from '../../src/types.ts';
import { BASES, ensureObjects } from '../../scripts/pie/link-reference.ts';

const CI = process.env.CI === 'true';
const X = R_X86_64;
const SHF_MERGE_STRINGS = 0x30n;
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

// ET_REL: .text (fn), .data (d0, var), .rodata.str1.1 "hello\0world\0".
//   .text+2   R_X86_64_64  var          (movabs $var)
//   .text+0xc R_X86_64_PC32 var - 4     (lea var(%rip))
//   .data+0   R_X86_64_64  .rodata.str1.1 + 6   ("world")
function relObject(): Uint8Array {
  const relocs: ObjRelocation[] = [
    { section: '.text', offset: 2n, type: X['64'], symbol: 'var' },
    { section: '.text', offset: 0xcn, type: X.PC32, symbol: 'var', addend: -4n },
    { section: '.data', offset: 0n, type: X['64'], symbol: 3, addend: 6n }, // section symbol of .rodata.str1.1
  ];
  return buildObject({
    endian: 'little', machine: EM_X86_64, sectionSymbols: true,
    sections: [
      { name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(0x20).fill(0x90), addralign: 16n },
      { name: '.data', flags: SHF_ALLOC | SHF_WRITE, data: new Uint8Array(0x10), addralign: 8n },
      { name: '.rodata.str1.1', flags: SHF_ALLOC | SHF_MERGE_STRINGS, data: new TextEncoder().encode('hello\0world\0'), addralign: 1n },
    ],
    symbols: [
      { name: 'fn', section: '.text', type: STT_FUNC, size: 0x20n },
      { name: 'd0', section: '.data', value: 0n, type: STT_OBJECT, size: 8n },
      { name: 'var', section: '.data', value: 8n, type: STT_OBJECT, size: 8n },
    ],
    relocations: relocs,
  });
}

// The PIE a linker could make of it: .text at 0x1000, strings merged into .rodata at 0x1800 in
// another order ("world\0hello\0"), .data at 0x2000. PC32 resolved: var - 4 - 0x100c = 0xff8.
function pieOf(dataPointsTo: bigint): Uint8Array {
  const text = new Uint8Array(0x20).fill(0x90);
  text.set(le32(0xff8), 0xc);
  const relocations: PieRelocationSpec[] = [
    { offset: 0x1002n, type: X.RELATIVE, addend: 0x2008n },
    { offset: 0x2000n, type: X.RELATIVE, addend: dataPointsTo },
  ];
  return buildPie({
    endian: 'little', machine: EM_X86_64,
    segments: [
      { name: '.text', vaddr: 0x1000n, data: text, flags: PF_R | PF_X },
      { name: '.rodata', vaddr: 0x1800n, data: new TextEncoder().encode('world\0hello\0'), flags: PF_R },
      { name: '.data', vaddr: 0x2000n, data: new Uint8Array(0x10), flags: PF_R | PF_W },
    ],
    symbols: [
      { name: 'fn', value: 0x1000n, type: STT_FUNC, size: 0x20n },
      { name: 'd0', value: 0x2000n, type: STT_OBJECT, size: 8n },
      { name: 'var', value: 0x2008n, type: STT_OBJECT, size: 8n },
    ],
    relocations, textrel: 'DT_TEXTREL',
  });
}

describe('equivalence on a synthetic pair (layouts differ, strings reordered)', () => {
  it('every relocated pointer resolves to the same symbol+offset, or the same string', () => {
    const q = equivalence(relObject(), pieOf(0x1800n), 'x86_64', { base: 0x100000n });
    expect(q.sites.map((s) => [s.type, s.verdict, s.target])).toEqual([
      ['R_X86_64_64', 'same', 'var'],
      ['R_X86_64_PC32', 'same', 'd0+0x4'], // S + A = var - 4: the rip-relative field before the tail
      ['R_X86_64_64', 'same-string', '.rodata.str1.1+0x6 "world"'],
    ]);
    expect(q.sections.find((s) => s.name === '.text')).toMatchObject({ pieAddr: 0x101000n, by: 'symbols', agree: 1 });
    expect(q.sections.find((s) => s.name === '.rodata.str1.1')!.why).toMatch(/merged strings/);
    expect(q.pieOnly).toEqual([]);
  });

  it('a PIE pointer to the wrong string differs, and says which', () => {
    const q = equivalence(relObject(), pieOf(0x1806n), 'x86_64', { base: 0x100000n });
    const s = q.sites[2]!;
    expect(s.verdict).toBe('differs');
    expect(s.reason).toBe('string "world" became "hello"');
    expect(formatEquivalence(q)).toContain('differs            R_X86_64_64 at d0: .rodata.str1.1+0x6 "world"');
  });

  it('a PIE RELATIVE off by 8 is reported with the expected address', () => {
    const bad = buildPie({
      endian: 'little', machine: EM_X86_64,
      segments: [
        { name: '.text', vaddr: 0x1000n, data: (() => { const t = new Uint8Array(0x20).fill(0x90); t.set(le32(0xff8), 0xc); return t; })(), flags: PF_R | PF_X },
        { name: '.rodata', vaddr: 0x1800n, data: new TextEncoder().encode('world\0hello\0'), flags: PF_R },
        { name: '.data', vaddr: 0x2000n, data: new Uint8Array(0x10), flags: PF_R | PF_W },
      ],
      symbols: [{ name: 'fn', value: 0x1000n, type: STT_FUNC, size: 0x20n }, { name: 'd0', value: 0x2000n, type: STT_OBJECT, size: 8n }, { name: 'var', value: 0x2008n, type: STT_OBJECT, size: 8n }],
      relocations: [{ offset: 0x1002n, type: X.RELATIVE, addend: 0x2000n }, { offset: 0x2000n, type: X.RELATIVE, addend: 0x1800n }],
      textrel: 'DT_TEXTREL',
    });
    const q = equivalence(relObject(), bad, 'x86_64', { base: 0x100000n });
    expect(q.sites[0]).toMatchObject({ verdict: 'differs', target: 'var', pieTarget: 'd0', reason: 'expected 0x102008 (var), PIE has 0x102000' });
  });
});

// -------------------------------------------------------------------------------------------

const TARGETS: Arch[] = ['x86_64', 'ppc64', 'ppc64le'];
const GCC: Record<Arch, string> = {
  x86_64: 'x86_64-linux-gnu-gcc', ppc64: 'powerpc64-linux-gnu-gcc', ppc64le: 'powerpc64le-linux-gnu-gcc',
  arm64: 'aarch64-linux-gnu-gcc', s390x: 's390x-linux-gnu-gcc', riscv64: 'riscv64-linux-gnu-gcc',
};
const bad = (q: Equivalence) => q.sites.filter((s) => s.verdict === 'differs' || s.verdict === 'unmapped');

describe.each(TARGETS)('equivalence, %s (kexec-tools 2.0.25 purgatory.ro against its objects linked -pie)', (target) => {
  const tools = [linkerCommand('bfd', target), GCC[target], ...(target === 'x86_64' ? ['ld.lld'] : [])];
  const missing = tools.filter((t) => !toolAvailable(t));
  if (missing.length) {
    const why = `missing ${missing.join(', ')} (scripts/setup-toolchains.sh installs the Debian cross toolchains and lld)`;
    if (CI) it('the toolchain is installed (CI=true)', () => { throw new Error(why); });
    else it.skip(`toolchain missing: ${why}`, () => {});
    return;
  }
  let rel: Uint8Array;
  const pies = new Map<LinkerId, Uint8Array>();
  beforeAll(async () => {
    const o = await ensureObjects(target);
    rel = new Uint8Array(readFileSync(join(o.dir, 'purgatory/purgatory.ro')));
    for (const linker of (target === 'x86_64' ? ['bfd', 'lld'] : ['bfd']) as LinkerId[]) {
      const l = linkPie(linker, target, o.objs, o.dir);
      if (!l.ok) throw new Error(`${linker}: ${l.stderr}`);
      pies.set(linker, l.bytes!);
    }
  }, 30 * 60_000);

  it.each(BASES.map((b) => [hex(b), b] as const))('ABI ET_REL profile, base %s: every relocated pointer is equivalent', (_h, base) => {
    for (const [linker, pie] of pies) {
      const q = equivalence(rel, pie, target, { base, relProfile: 'abi' });
      expect(bad(q), `${linker}:\n${formatEquivalence(q)}`).toEqual([]);
      expect(q.sites.length).toBeGreaterThan(100);
    }
  });

  it.each(BASES.map((b) => [hex(b), b] as const))('kexec-tools 2.0.25 ET_REL profile, base %s: equivalent except the known REL16 @ha carry (ppc64le)', (_h, base) => {
    for (const [linker, pie] of pies) {
      const q = equivalence(rel, pie, target, { base, relProfile: 'kexec-tools-2.0.25' });
      const b = bad(q);
      if (target !== 'ppc64le') {
        expect(b, `${linker}:\n${formatEquivalence(q)}`).toEqual([]);
        continue;
      }
      // Every ELFv2 global entry: kexec-tools' lis 2,.TOC.@h (no carry) leaves r2 0x10000 low
      // because my_r2's low half is >= 0x8000 at every 64K-aligned base for this build.
      expect(b.length).toBeGreaterThan(0);
      for (const s of b) {
        expect(s.type).toMatch(/^R_PPC64_REL16_(HA|LO)$/);
        expect(s.reason).toMatch(/without the @ha carry: r2 is 0x10000 low \(registry kt-ppc64-rel16-rewrite\)/);
      }
      expect(b.filter((s) => s.type === 'R_PPC64_REL16_HA').length).toBe(b.filter((s) => s.type === 'R_PPC64_REL16_LO').length);
    }
  });

  if (target !== 'x86_64') {
    it('ppc64: the linker\'s TOC optimisation is seen and explained (.toc entries dropped, ld became addi)', () => {
      const q = equivalence(rel, pies.get('bfd')!, target, { base: BASES[0]!, relProfile: 'abi' });
      expect(q.summary['same-via-toc-entry']).toBeGreaterThan(0);
      const text = q.sections.find((s) => s.name === '.text')!;
      expect(text.diffs.length).toBeGreaterThan(0);
      for (const d of text.diffs) expect(d.why).toMatch(/^TOC optimisation/);
      expect(q.sections.find((s) => s.name === '.toc')!.why).toMatch(/TOC optimisation/);
    });
  } else {
    it('x86_64: outside the relocated fields .text and .data are byte-identical (GNU ld); ld.lld differs only in int3 padding', () => {
      for (const [linker, pie] of pies) {
        const q = equivalence(rel, pie, target, { base: BASES[0]!, relProfile: 'abi' });
        for (const name of ['.text', '.data']) {
          const s = q.sections.find((x) => x.name === name)!;
          expect(s.compared).toBeGreaterThan(1000);
          if (linker === 'bfd' || name === '.data') expect(s.diffs).toEqual([]);
          else for (const d of s.diffs) expect(d.why).toMatch(/^padding between input sections: ld\.lld fills code gaps with int3/);
        }
      }
    });
  }
});
