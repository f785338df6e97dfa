// census on synthetic objects: counting (applied vs not applied), ET_REL↔PIE pairing, loader
// columns derived from classify(), grouping of identical columns, the three formatters.
import { describe, expect, it } from 'vitest';
import { EM_PPC64, EM_X86_64, PF_R, PF_W, PF_X, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, STT_FUNC } from '../../src/elf/constants.ts';
import { buildObject } from '../../src/elf/writer.ts';
import { buildPie } from '../../src/elf/pie-writer.ts';
import { R_X86_64 } from '../../src/arch/x86_64.ts';
import { R_PPC64 } from '../../src/arch/ppc64.ts';
import { census, censusEntry, formatCensusJson, formatCensusMarkdown, formatCensusText, groupColumns, pairKey } from '../../src/pie/census.ts';

const X = R_X86_64;
const P = R_PPC64;

// An x86_64 ET_REL: .text (2 × 64, 1 × PC32), .data (1 × 64), .debug_info (1 × 32, not allocated).
const x86Rel = buildObject({
  endian: 'little', machine: EM_X86_64,
  sections: [
    { name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(0x40) },
    { name: '.data', flags: SHF_ALLOC | SHF_WRITE, data: new Uint8Array(0x20) },
    { name: '.debug_info', flags: 0n, data: new Uint8Array(0x10) },
  ],
  symbols: [{ name: 'fn', section: '.text', type: STT_FUNC }, { name: 'd', section: '.data' }],
  relocations: [
    { section: '.text', offset: 0n, type: X['64'], symbol: 'd' },
    { section: '.text', offset: 8n, type: X['64'], symbol: 'd' },
    { section: '.text', offset: 0x10n, type: X.PC32, symbol: 'fn', addend: -4n },
    { section: '.data', offset: 0n, type: X['64'], symbol: 'fn' },
    { section: '.debug_info', offset: 0n, type: X['32'], symbol: 'fn' },
  ],
});
// Its PIE: the three absolute words became RELATIVE; the PC32 was resolved by the "linker".
const x86Pie = buildPie({
  endian: 'little', machine: EM_X86_64,
  segments: [
    { name: '.text', vaddr: 0n, data: new Uint8Array(0x40), flags: PF_R | PF_X },
    { name: '.data', vaddr: 0x1000n, data: new Uint8Array(0x20), flags: PF_R | PF_W },
  ],
  relocations: [
    { offset: 0n, type: X.RELATIVE, addend: 0x1000n },
    { offset: 8n, type: X.RELATIVE, addend: 0x1000n },
    { offset: 0x1000n, type: X.RELATIVE, addend: 0n },
  ],
  textrel: 'DT_TEXTREL',
});
// A ppc64le PIE with text relocations only.
const ppcPie = buildPie({
  endian: 'little', machine: EM_PPC64, eFlags: 2,
  segments: [
    { name: '.text', vaddr: 0n, data: new Uint8Array(0x20), flags: PF_R | PF_X, align: 0x10000n },
    { name: '.data', vaddr: 0x10000n, data: new Uint8Array(0x10), flags: PF_R | PF_W, align: 0x10000n },
  ],
  dynsyms: [{ name: '', value: 0x10000n, type: 3, section: '.data' }],
  relocations: [P.ADDR16_HIGHEST, P.ADDR16_HIGHER, P.ADDR16_HI, P.ADDR16_LO].map((type, i) => ({ offset: BigInt(i * 4 + 2), type, symbol: 1 })),
  textrel: 'DT_TEXTREL',
});

describe('census', () => {
  const c = census([
    { name: 'a-x86_64.ro', bytes: x86Rel },
    { name: 'a-x86_64-pie.pie', bytes: x86Pie },
    { name: 'b-ppc64le-pie.pie', bytes: ppcPie },
    { name: 'junk.ro', bytes: new Uint8Array([1, 2, 3]) },
  ]);

  it('ET_REL: types and sites a loader applies, per target section; relocations of non-ALLOC sections counted apart', () => {
    const e = c.entries[0]!;
    expect(e).toMatchObject({ target: 'x86_64', elfType: 'rel', sites: 4, notApplied: 1 });
    expect(e.types.map((t) => [t.name, t.sites, t.bySection])).toEqual([
      ['R_X86_64_64', 3, { '.text': 2, '.data': 1 }],
      ['R_X86_64_PC32', 1, { '.text': 1 }],
    ]);
  });

  it('PIE: the PT_DYNAMIC tables, attributed to the section holding r_offset; TEXTREL noted', () => {
    expect(c.entries[1]).toMatchObject({ elfType: 'pie', sites: 3, textrel: true });
    expect(c.entries[1]!.types.map((t) => [t.name, t.bySection])).toEqual([['R_X86_64_RELATIVE', { '.text': 2, '.data': 1 }]]);
    expect(c.entries[2]!.types.map((t) => t.name)).toEqual(['R_PPC64_ADDR16_HI', 'R_PPC64_ADDR16_HIGHER', 'R_PPC64_ADDR16_HIGHEST', 'R_PPC64_ADDR16_LO']);
  });

  it('an unreadable file is listed with its error, not thrown', () => {
    expect(c.entries[3]!.error).toMatch(/ELF format error/);
  });

  it('pairs ET_REL and PIE by name; counts types both ways', () => {
    expect(pairKey('corpus/elf/x-gcc.ro')).toBe('x-gcc');
    expect(pairKey('x-gcc-pie.pie')).toBe('x-gcc');
    expect(pairKey('x-clang-lld-pie-znotext.pie')).toBe('x-clang-lld');
    expect(c.pairs).toEqual([{
      rel: 'a-x86_64.ro', pie: 'a-x86_64-pie.pie', target: 'x86_64', relTypes: 2, pieTypes: 1, relSites: 4, pieSites: 3,
      onlyRel: ['R_X86_64_64', 'R_X86_64_PC32'], onlyPie: ['R_X86_64_RELATIVE'], both: [],
    }]);
  });

  it('loader columns come from classify(): kexec-tools and kernel (x86_64 hook) apply 64/PC32; only the PIE profile applies RELATIVE; no ppc64 kernel hook', () => {
    const s = (target: string, name: string) => c.support.find((x) => x.target === target && x.name === name)!;
    const h64 = s('x86_64', 'R_X86_64_64').handledBy;
    expect(h64['kexec-tools-2.0.25']).toBe(true);
    expect(h64['kernel-6.1']).toBe(true);
    expect(h64.abi).toBe(true);
    const rel = s('x86_64', 'R_X86_64_RELATIVE');
    expect(rel.handledBy).toMatchObject({ 'kexec-tools-2.0.32': false, 'kernel-6.12': false, abi: false, pie: true });
    expect(rel).toMatchObject({ relSites: 0, pieSites: 3 });
    const hi = s('ppc64le', 'R_PPC64_ADDR16_HI').handledBy;
    expect(hi).toMatchObject({ 'kexec-tools-2.0.20': true, 'kernel-5.10': false, 'kernel-6.12': false, abi: true, pie: true });
    expect(s('x86_64', 'R_X86_64_PC32').fate).toMatch(/resolved by the linker/);
  });

  it('identical columns of one family are grouped for display', () => {
    const labels = groupColumns(c).map((g) => g.label);
    expect(labels).toEqual(['kexec-tools 2.0.20–2.0.32', 'kernel 5.10–6.12', 'TS abi', 'TS pie']);
  });

  it('formatters: Markdown tables, text, JSON', () => {
    const md = formatCensusMarkdown(c);
    expect(md).toContain('| a-x86_64.ro | a-x86_64-pie.pie | x86_64 | **2 → 1** | 4 → 3 | 64 PC32 | RELATIVE |');
    expect(md).toContain('| x86_64 | R_X86_64_RELATIVE | 0 | 3 | – | – | – | yes | dynamic: B + A |');
    expect(md).toContain('+1 to non-ALLOC sections');
    const text = formatCensusText(c);
    expect(text).toContain('x86_64    2 -> 1  types, 4 -> 3 sites');
    expect(text).toMatch(/R_PPC64_ADDR16_HI\s+kexec-tools 2\.0\.20–2\.0\.32, TS abi, TS pie/);
    const json = JSON.parse(formatCensusJson(c));
    expect(json.pairs[0].relTypes).toBe(2);
    expect(json.columns.map((x: { id: string }) => x.id)).toContain('pie');
  });

  it('censusEntry on a malformed PIE (no DT_NULL) reports the loader\'s rejection', () => {
    const bad = buildPie({ endian: 'little', machine: EM_X86_64, segments: [{ vaddr: 0n, data: new Uint8Array(8) }], editDynamic: (d) => d.slice(0, -1) });
    expect(censusEntry({ name: 'bad.pie', bytes: bad }).error).toMatch(/DT_NULL/);
  });
});

describe('census rows for arm64, s390x and riscv64 (kexec-tools only: no kernel RELA hook or PIE model there)', () => {
  const obj = (machine: number, endian: 'little' | 'big', type: number) => buildObject({
    endian, machine,
    sections: [{ name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(16), addralign: 8n }],
    symbols: [{ name: 'f', section: '.text', value: 8n, type: STT_FUNC }],
    relocations: [{ section: '.text', offset: 0n, type, symbol: 'f' }],
  });
  it('names the target and the type, and says which loader columns handle it', () => {
    const c = census([
      { name: 'a.ro', bytes: obj(183, 'little', 283) }, // R_AARCH64_CALL26
      { name: 's.ro', bytes: obj(22, 'big', 19) }, // R_390_PC32DBL
      { name: 'r.ro', bytes: obj(243, 'little', 18) }, // R_RISCV_CALL
    ]);
    expect(c.entries.map((e) => [e.target, e.error])).toEqual([['arm64', undefined], ['s390x', undefined], ['riscv64', undefined]]);
    const row = (name: string) => c.support.find((s) => s.name === name)!;
    expect(row('R_AARCH64_CALL26').handledBy).toMatchObject({ 'kexec-tools-2.0.32': true, 'kernel-6.12': false, abi: true, pie: false });
    expect(row('R_390_PC32DBL').handledBy).toMatchObject({ 'kexec-tools-2.0.25': true, 'kernel-6.1': false, abi: true, pie: false });
    // riscv64: kexec-tools 2.0.32 dies on every type; 2.0.25 has no riscv loader at all.
    expect(row('R_RISCV_CALL').handledBy).toMatchObject({ 'kexec-tools-2.0.25': false, 'kexec-tools-2.0.32': false, abi: false });
    expect(c.support.map((s) => s.target)).toEqual(['arm64', 's390x', 'riscv64']);
  });
  it('an object of a machine no model emulates is an error row naming the machine', () => {
    expect(censusEntry({ name: 'arm.ro', bytes: obj(40, 'little', 2) }).error).toBe('e_machine 40 (EM_ARM): no model');
  });
});
