// Root-cause grouping over hand-built comparisons: the values at each site are worked out by hand
// (little-endian x86_64/ppc64le, big-endian ppc64), so each expected relation is checked, not echoed.
import { describe, expect, it } from 'vitest';
import { groupRootCauses, relationsAt, reproduceCommands, rootCauseLine, type RootCauseCase } from '../../src/report/root-causes.ts';
import type { Attribution, CaseComparison } from '../../src/compare/compare.ts';

const le32 = (v: number) => new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]);
const be32 = (v: number) => le32(v).reverse();

function site(type: string, relIndex: number, ts: Uint8Array, ref: Uint8Array): Attribution {
  return { kind: 'relocation', relSection: 2, relIndex, type, symbol: 'purgatory', addend: -4n, section: 1, offset: BigInt(relIndex * 8), address: 0n, value: 0n, imageOffset: relIndex * 8, width: ts.length, ts, ref };
}
function bytesCase(entry: string, base: bigint, sites: Attribution[], over: Partial<RootCauseCase> = {}): RootCauseCase {
  const comparison: CaseComparison = {
    cls: 'mismatch-bytes', layout: [], differingBytes: sites.length,
    ranges: sites.map((a) => ({ start: (a as { imageOffset: number }).imageOffset, end: (a as { imageOffset: number }).imageOffset + 4, ts: new Uint8Array(4), ref: new Uint8Array(4), attributions: [a] })),
  };
  return { oracle: 'kexec-tools-2.0.32/x86_64', target: 'x86_64', profile: 'kexec-tools-2.0.32', entry, caseId: `c${base}`, base, fill: 0, symbols: [], hostAddress: 0n, comparison, ...over };
}
const reject = (entry: string, note: string): RootCauseCase => ({
  oracle: 'kexec-tools-2.0.32/x86_64', target: 'x86_64', profile: 'kexec-tools-2.0.32', entry, caseId: 'x', base: 0x100000n, fill: 0, symbols: [], hostAddress: 0n,
  comparison: { cls: 'one-rejected', layout: [], ranges: [], differingBytes: 0, tsClass: 'ok', refClass: 'overflow', note },
});

describe('relationsAt (hand-computed values)', () => {
  it('PLT32 written 4 less: 0xfffff9c3 against 0xfffff9c7 is "reference = ts − 0x4"', () => {
    const r = relationsAt(le32(0xfffff9c7), le32(0xfffff9c3), true);
    expect(r.map((x) => x.key)).toContain('diff:-4');
    // 0xc7 ^ 0xc3 = 0x04: a single bit too, which is why grouping must count over sites.
    expect(r.map((x) => x.key)).toContain('bit:2');
  });
  it('reads ppc64 (big-endian) words in big-endian order', () => {
    // bl with LI=0x100 (0x48000101) against LI=0x104 (0x48000105): +4 in the word.
    expect(relationsAt(be32(0x48000101), be32(0x48000105), false).map((x) => x.key)).toContain('diff:4');
    expect(relationsAt(be32(0x48000101), be32(0x48000105), true).map((x) => x.key)).not.toContain('diff:4');
  });
  it('sign extension of the high half, shifts and masks', () => {
    const lo = le32(0x80001234);
    const zext = new Uint8Array([...lo, 0, 0, 0, 0]);
    const sext = new Uint8Array([...lo, 0xff, 0xff, 0xff, 0xff]);
    const keys = relationsAt(zext, sext, true).map((x) => x.key);
    expect(keys).toContain('sext');
    expect(keys).toContain('high-half');
    expect(relationsAt(le32(0x1234), le32(0x12340), true).map((x) => x.key)).toContain('shl:4');
    expect(relationsAt(le32(0x12345678), le32(0x5678), true).map((x) => x.key)).toContain('mask-b:16');
    expect(relationsAt(le32(5), le32(0xfffffffb), true).map((x) => x.key)).toContain('neg');
  });
});

describe('groupRootCauses', () => {
  it('one root cause for a constant difference at every site, over entries and bases', () => {
    const cases = [0x100000n, 0x7f000000n].flatMap((base) => ['a', 'b'].map((entry) => bytesCase(entry, base, [
      site('R_X86_64_PLT32', 1, le32(0xfffff9c7), le32(0xfffff9c3)),
      site('R_X86_64_PLT32', 2, le32(0xffffff2e), le32(0xffffff2a)),
      // 0x100 - 4 = 0xfc: eight bits change, no single flipped bit.
      site('R_X86_64_PLT32', 3, le32(0x100), le32(0xfc)),
    ], { typeSites: { R_X86_64_PLT32: 3, R_X86_64_64: 5 } })));
    const g = groupRootCauses(cases);
    expect(g).toHaveLength(1);
    expect(g[0]!.title).toBe('R_X86_64_PLT32: reference = ts − 0x4; at every R_X86_64_PLT32 site');
    expect([g[0]!.cases.length, g[0]!.sites, g[0]!.entries, g[0]!.bases]).toEqual([4, 6, 2, 2]);
    expect(rootCauseLine(g[0]!)).toMatch(/— 4 cases, 6 sites, 2 corpus entries, 2 bases$/);
  });

  it('a flipped bit stays one root cause although the difference is +4 at some sites and −4 at others', () => {
    const g = groupRootCauses([
      bytesCase('a', 1n, [site('R_X86_64_32', 1, le32(0x10), le32(0x14)), site('R_X86_64_32', 2, le32(0x24), le32(0x20))]),
      bytesCase('b', 1n, [site('R_X86_64_32', 1, le32(0x104), le32(0x100))]),
    ]);
    expect(g).toHaveLength(1);
    expect(g[0]!.findings.map((f) => f.text)).toEqual(['R_X86_64_32: one flipped bit (bit 2)']);
  });

  it('separates references, relocation types and relations', () => {
    const a = bytesCase('a', 1n, [site('R_X86_64_PC32', 1, le32(8), le32(4))]);
    const b = bytesCase('a', 1n, [site('R_X86_64_PC32', 1, le32(8), le32(4))], { oracle: 'kexec-tools-2.0.25/x86_64' });
    const c = bytesCase('a', 1n, [site('R_X86_64_32', 1, le32(8), le32(4))]);
    expect(groupRootCauses([a, b, c])).toHaveLength(3);
  });

  it('groups rejections by the pair of messages, numbers aside', () => {
    const g = groupRootCauses([
      reject('a', 'reference rejected: overflow in relocation type R_X86_64_32 val 1ffffffff'),
      reject('b', 'reference rejected: overflow in relocation type R_X86_64_32 val 0x2ffffffff'),
      reject('b', 'reference rejected: overflow in relocation type R_X86_64_32S val 0x2ffffffff'),
    ]);
    expect(g.map((x) => x.cases.length)).toEqual([2, 1]);
    expect(g[0]!.relocations).toEqual([]);
  });

  it('layout: memsz short by a different amount in each file is one root cause (the sign holds throughout)', () => {
    const layoutCase = (entry: string, ts: number, ref: number): RootCauseCase => ({
      ...reject(entry, ''),
      comparison: { cls: 'mismatch-layout', ranges: [], differingBytes: 0, layout: [{ field: 'memsz', ts: `0x${ts.toString(16)}`, ref: `0x${ref.toString(16)}` }] },
    });
    const g = groupRootCauses([layoutCase('a', 0x6000, 0x50e0), layoutCase('a', 0x6000, 0x50e0), layoutCase('b', 0x7000, 0x6120)]);
    expect(g).toHaveLength(1);
    expect(g[0]!.title).toBe('layout memsz: reference < ts (by varying amounts)');
    expect(groupRootCauses([layoutCase('a', 0x6000, 0x50e0), layoutCase('b', 0x7000, 0x60e0)])[0]!.title).toBe('layout memsz: reference = ts − 0xf20');
  });

  it('reproduces the representative with relocate and oracle run', () => {
    const c = bytesCase('a', 0x7f000000n, [], { file: '/abs/elf/a.ro', fill: 0xcc, symbols: ['sha256_regions=00ff'], oracle: 'kexec-tools-unknown-local-1234/ppc64', target: 'ppc64', profile: 'kexec-tools-unknown-local-1234', hostAddress: 0x1000n });
    expect(reproduceCommands(c)).toEqual([
      'npx purgatory-oracle relocate /abs/elf/a.ro --base 0x7f000000 --fill 0xcc --set sha256_regions=00ff --profile kexec-tools --target ppc64 --host-address 0x1000',
      'npx purgatory-oracle oracle run --oracle kexec-tools-unknown-local-1234/ppc64 /abs/elf/a.ro --base 0x7f000000 --fill 0xcc --set sha256_regions=00ff',
    ]);
  });
});
