// ppc64 relocations through load(): ppc64 BE ELFv1 (target 'ppc64') and ppc64le ELFv2 (target
// 'ppc64le'), kexec-tools profile, plus the abi profile where it differs.
//
// Layout used throughout, worked out by hand from elf_rel_load + machine_verify_elf_rel:
//   base 0x4000000; .text (size 0x40, align 4) at 0x4000000;
//   .toc (size 0x20, align 8 bumped to 256) at _ALIGN(0x4000040, 256) = 0x4000100;
//   .data (size 0x20, align 8) at 0x4000120.
//   my_r2 = .toc + 0x8000 = 0x4008100.
// Symbols: fn = .text+0x20 = 0x4000020 (st_other set per test); tocsym = .toc+0 = 0x4000100;
//   abs = SHN_ABS with the value under test; .TOC. = undefined STT_NOTYPE (value 0 in kexec-tools).
import { describe, expect, it } from 'vitest';
import { EM_PPC64, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, SHN_UNDEF, STT_FUNC, STT_NOTYPE } from '../../src/elf/constants.ts';
import { buildObject, type ObjRelocation, type ObjSection, type ObjSymbol, type ObjectSpec } from '../../src/elf/writer.ts';
import { R_PPC64, localEntryOffset } from '../../src/arch/ppc64.ts';
import { U64, ha, hi, higher, highest, lo } from '../../src/arch/types.ts';
import type { Arch, Endian } from '../../src/types.ts';
import { enc, loadBytes, loadObject, okImage, rejection, sectionAddr, sectionBytes, type LoadOpts } from '../fixture.ts';

const R = R_PPC64;
const BASE = 0x4000000n;
const R2 = 0x4008100n;

interface Variant {
  name: string;
  endian: Endian;
  flags: number;
  target: Arch;
}
const BE_V1: Variant = { name: 'ppc64 BE ELFv1', endian: 'big', flags: 1, target: 'ppc64' };
const LE_V2: Variant = { name: 'ppc64le ELFv2', endian: 'little', flags: 2, target: 'ppc64le' };
const variants = [BE_V1, LE_V2];

interface Opts extends LoadOpts {
  abs?: bigint;
  fnOther?: number;
  /** Words/halfwords to place in .text before loading: [offset, width, value], in the file's byte order. */
  text?: [number, number, bigint][];
  textSize?: number;
  flags?: number;
  endian?: Endian;
  noToc?: boolean;
  sections?: ObjSection[];
}

function spec(v: Variant, relocations: ObjRelocation[], o: Opts = {}): ObjectSpec {
  const endian = o.endian ?? v.endian;
  const text = new Uint8Array(o.textSize ?? 0x40);
  for (const [off, width, value] of o.text ?? []) text.set(enc(width, value, endian), off);
  const symbols: ObjSymbol[] = [
    { name: 'fn', section: '.text', value: 0x20n, type: STT_FUNC, size: 8n, other: o.fnOther ?? 0 },
    { name: 'abs', section: SHN_ABS, value: o.abs ?? 0n },
    { name: '.TOC.', section: SHN_UNDEF, type: STT_NOTYPE },
  ];
  const sections: ObjSection[] = o.sections ?? [
    { name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: text, addralign: 4n },
    ...(o.noToc ? [] : [{ name: '.toc', flags: SHF_ALLOC | SHF_WRITE, data: new Uint8Array(0x20), addralign: 8n }]),
    { name: '.data', flags: SHF_ALLOC | SHF_WRITE, data: new Uint8Array(0x20), addralign: 8n },
  ];
  if (sections.some((s) => s.name === '.toc')) symbols.push({ name: 'tocsym', section: '.toc', value: 0n });
  return { endian, machine: EM_PPC64, flags: o.flags ?? v.flags, sections, symbols, relocations };
}

function run(v: Variant, relocations: ObjRelocation[], o: Opts = {}) {
  const { abs: _a, fnOther: _f, text: _t, textSize: _s, flags: _fl, endian: _e, noToc: _n, sections: _sc, ...load } = o;
  return loadObject(spec(v, relocations, o), { base: BASE, target: v.target, ...load });
}

/** Decode `width` bytes at `off` of a section, in byte order `endian` (test-side decoder). */
function read(v: Variant, relocations: ObjRelocation[], section: string, off: number, width: number, o: Opts = {}, endian: Endian = v.endian): bigint {
  const b = sectionBytes(okImage(run(v, relocations, o)), section).subarray(off, off + width);
  const ordered = endian === 'little' ? [...b].reverse() : [...b];
  return ordered.reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
}

/** Signed hex for test titles. */
const sx = (n: bigint) => (n < 0n ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`);

const rel = (type: number, section: string, offset: number, symbol: string, addend = 0n): ObjRelocation =>
  ({ type, section, offset: BigInt(offset), symbol, addend });

describe('pure @l/@h/@ha/@higher/@highest helpers (ELFv2 ABI §3.5.2 definitions)', () => {
  it.each([
    [0x123456789abc8000n, 0x8000n, 0x9abcn, 0x9abdn, 0x5678n, 0x1234n],
    [0x12347fffn, 0x7fffn, 0x1234n, 0x1234n, 0n, 0n],
    [0xffff8000n, 0x8000n, 0xffffn, 0x0000n, 0n, 0n],
    [-1n, 0xffffn, 0xffffn, 0x0000n, 0xffffn, 0xffffn],
  ])('v=%s', (v, l, h, a, hr, hs) => {
    const u = U64.of(v);
    expect([lo(u), hi(u), ha(u), higher(u), highest(u)]).toEqual([l, h, a, hr, hs].map(Number));
  });
  it('PPC64_LOCAL_ENTRY_OFFSET(other) = ((1 << ((other & 0xe0) >> 5)) >> 2) << 2', () => {
    expect([0x00, 0x20, 0x40, 0x60, 0x80, 0xa0, 0xc0, 0xe0].map(localEntryOffset)).toEqual([0, 0, 4, 8, 16, 32, 64, 128]);
    expect(localEntryOffset(0x1f)).toBe(0); // the low bits are visibility, not the local entry
  });
});

describe.each(variants)('$name, kexec-tools profile', (v) => {
  const st = (width: number, value: bigint) => [...enc(width, value, v.endian)];

  it('layout: .text 0x4000000, .toc aligned up to 256 (machine_verify_elf_rel) at 0x4000100, .data 0x4000120', () => {
    const img = okImage(run(v, []));
    expect(img.base).toBe(BASE);
    expect(sectionAddr(img, '.text')).toBe(0x4000000n);
    expect(sectionAddr(img, '.toc')).toBe(0x4000100n);
    expect(sectionAddr(img, '.data')).toBe(0x4000120n);
    expect(img.bytes.length).toBe(0x140);
  });

  it('.toc alignment above 256 is kept (only "< 256" is bumped)', () => {
    const img = okImage(run(v, [], {
      sections: [
        { name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(0x40), addralign: 4n },
        { name: '.toc', flags: SHF_ALLOC | SHF_WRITE, data: new Uint8Array(8), addralign: 512n },
      ],
    }));
    expect(sectionAddr(img, '.toc')).toBe(0x4000200n);
  });

  it('R_PPC64_ADDR32: S+A = 0x4000020+4 = 0x4000024 (ELF ABI word32), host-endian store', () => {
    expect(read(v, [rel(R.ADDR32, '.data', 0, 'fn', 4n)], '.data', 0, 4)).toBe(0x4000024n);
    const img = okImage(run(v, [rel(R.ADDR32, '.data', 0, 'fn', 4n)]));
    expect([...sectionBytes(img, '.data').subarray(0, 4)]).toEqual(st(4, 0x4000024n));
  });
  it('R_PPC64_ADDR32 kexec-tools: no range check, 0x123456789 is truncated to 0x23456789 (kexec-elf-rel-ppc64.c)', () => {
    expect(read(v, [rel(R.ADDR32, '.data', 0, 'abs')], '.data', 0, 4, { abs: 0x123456789n })).toBe(0x23456789n);
  });

  it('R_PPC64_ADDR64: S+A = 0x4000020 as a doubleword (ELF ABI doubleword64)', () => {
    expect(read(v, [rel(R.ADDR64, '.data', 8, 'fn')], '.data', 8, 8)).toBe(0x4000020n);
  });
  it('R_PPC64_ADDR64: S+A wraps mod 2^64 (abs 1, A=-2 → 0xffffffffffffffff), unsigned long arithmetic in kexec-elf-rel.c', () => {
    expect(read(v, [rel(R.ADDR64, '.data', 8, 'abs', -2n)], '.data', 8, 8, { abs: 1n })).toBe(0xffffffffffffffffn);
  });

  it('R_PPC64_REL64 kexec-tools: S+A = 0x4000020, not S+A-P (shares the ADDR64 case in kexec-elf-rel-ppc64.c)', () => {
    expect(read(v, [rel(R.REL64, '.data', 0x10, 'fn')], '.data', 0x10, 8)).toBe(0x4000020n);
  });

  it('R_PPC64_REL32 kexec-tools: value - (uint32_t)host pointer (kexec-elf-rel-ppc64.c)', () => {
    // location = host 0x7fff12340000 + image offset 0x138 → (uint32_t) 0x12340138;
    // 0x4000020 - 0x12340138 = -0xe340118 → 0xf1cbfee8.
    expect(read(v, [rel(R.REL32, '.data', 0x18, 'fn')], '.data', 0x18, 4, { hostAddress: 0x7fff12340000n })).toBe(0xf1cbfee8n);
    // With the default host address 0: 0x4000020 - 0x138 = 0x3fffee8.
    expect(read(v, [rel(R.REL32, '.data', 0x18, 'fn')], '.data', 0x18, 4)).toBe(0x3fffee8n);
  });

  it('R_PPC64_REL32 kexec-tools: each load of one input subtracts its own host pointer (the loads after the first share a decoded plan)', () => {
    const elf = buildObject(spec(v, [rel(R.REL32, '.data', 0x18, 'fn'), rel(R.REL32, '.data', 0x1c, 'fn', 4n)]));
    // Image offsets 0x138 and 0x13c; (uint32_t)(host + offset) wraps for the last host.
    const cases: [bigint, number, number][] = [
      [0x7fff12340000n, 0xf1cbfee8, 0xf1cbfee8], // 0x4000020 - 0x12340138; 0x4000024 - 0x1234013c
      [0n, 0x3fffee8, 0x3fffee8],
      [0xffffffffffffff00n, 0x3ffffe8, 0x3ffffe8], // 0x4000020 - 0x38 (0xffffff00 + 0x138 = 0x1_0000_0038)
      [0x7fff12340000n, 0xf1cbfee8, 0xf1cbfee8],
    ];
    for (const [hostAddress, a, b] of cases) {
      const d = sectionBytes(okImage(loadBytes(elf, { base: BASE, profile: 'kexec-tools-2.0.25', target: v.target, hostAddress })), '.data');
      const dv = new DataView(d.buffer, d.byteOffset);
      expect([dv.getUint32(0x18, v.endian === 'little'), dv.getUint32(0x1c, v.endian === 'little')]).toEqual([a, b]);
    }
  });

  it('R_PPC64_TOC: my_r2 = .toc + 0x8000 = 0x4008100; S and A are ignored (kexec-elf-rel-ppc64.c)', () => {
    expect(read(v, [rel(R.TOC, '.data', 0, 'fn', 0x55n)], '.data', 0, 8)).toBe(R2);
  });
  it('R_PPC64_TOC kexec-tools: without a .toc section my_r2() dies "TOC reloc without a toc section?"', () => {
    expect(rejection(run(v, [rel(R.TOC, '.data', 0, 'fn')], { noToc: true })))
      .toEqual({ code: 'no-toc-section', message: 'TOC reloc without a toc section?' });
  });
  it('toc_section() skips a .toc of size 0', () => {
    const sections: ObjSection[] = [
      { name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(0x40), addralign: 4n },
      { name: '.toc', flags: SHF_ALLOC | SHF_WRITE, data: new Uint8Array(0), addralign: 8n },
      { name: '.data', flags: SHF_ALLOC | SHF_WRITE, data: new Uint8Array(0x20), addralign: 8n },
    ];
    expect(rejection(run(v, [rel(R.TOC, '.data', 0, 'fn')], { sections })).code).toBe('no-toc-section');
  });

  // TOC16 family: S = tocsym = .toc, so A = 0x8000 + X gives value - my_r2 = X exactly.
  // The halfword at .text+0x30 holds 0xaaab beforehand (low two bits 3: kept by the _DS forms).
  const toc16 = (type: number, x: bigint, o: Opts = {}) =>
    run(v, [rel(type, '.text', 0x30, 'tocsym', 0x8000n + x)], { text: [[0x30, 2, 0xaaabn]], ...o });
  const toc16Half = (type: number, x: bigint) => {
    const b = sectionBytes(okImage(toc16(type, x)), '.text').subarray(0x30, 0x32);
    return v.endian === 'little' ? b[0]! | (b[1]! << 8) : (b[0]! << 8) | b[1]!;
  };

  it.each(([
    ['R_PPC64_TOC16', R.TOC16, 0x1234n, 0x1234],
    ['R_PPC64_TOC16', R.TOC16, 0x7fffn, 0x7fff],
    ['R_PPC64_TOC16', R.TOC16, -0x8000n, 0x8000],
    ['R_PPC64_TOC16_DS', R.TOC16_DS, 0x7ffcn, 0x7fff],
    ['R_PPC64_TOC16_DS', R.TOC16_DS, -0x8000n, 0x8003],
    ['R_PPC64_TOC16_LO', R.TOC16_LO, 0x12345n, 0x2345],
    ['R_PPC64_TOC16_LO', R.TOC16_LO, -1n, 0xffff],
    ['R_PPC64_TOC16_LO_DS', R.TOC16_LO_DS, 0x12344n, 0x2347],
    ['R_PPC64_TOC16_LO_DS', R.TOC16_LO_DS, -4n, 0xffff],
    ['R_PPC64_TOC16_HI', R.TOC16_HI, 0x12345678n, 0x1234],
    ['R_PPC64_TOC16_HI', R.TOC16_HI, 0x12348000n, 0x1234],
    ['R_PPC64_TOC16_HI', R.TOC16_HI, -1n, 0xffff],
    ['R_PPC64_TOC16_HA', R.TOC16_HA, 0x12348000n, 0x1235],
    ['R_PPC64_TOC16_HA', R.TOC16_HA, 0x12347fffn, 0x1234],
    ['R_PPC64_TOC16_HA', R.TOC16_HA, -0x8000n, 0x0000],
    ['R_PPC64_TOC16_HA', R.TOC16_HA, -0x8001n, 0xffff],
  ] as [string, number, bigint, number][]).map(([n, t, x, w]) => [`${n}: value - my_r2 = ${sx(x)} → halfword ${sx(BigInt(w))} (do_relative_toc: (*loc & ~mask) | (v & mask))`, t, x, w] as const))('%s', (_n, type, x, want) => {
    expect(toc16Half(type, x)).toBe(want);
  });

  it.each(([
    ['R_PPC64_TOC16', R.TOC16, 0x8000n, '32768'],
    ['R_PPC64_TOC16', R.TOC16, -0x8001n, '18446744073709518847'],
    ['R_PPC64_TOC16_DS', R.TOC16_DS, 0x8000n, '32768'],
    ['R_PPC64_TOC16_DS', R.TOC16_DS, -0x8004n, '18446744073709518844'],
  ] as [string, number, bigint, string][]).map(([n, t, x, p]) => [`${n}: ${sx(x)} is outside ±32 KiB → "TOC16 relocation overflows (${p})" (do_relative_toc complain_signed)`, t, x, p] as const))('%s', (_n, type, x, printed) => {
    expect(rejection(toc16(type, x))).toEqual({ code: 'toc16-overflow', message: `TOC16 relocation overflows (${printed})\n` });
  });

  it.each(([
    ['R_PPC64_TOC16_DS', R.TOC16_DS, 0x7ffdn, '32765'],
    ['R_PPC64_TOC16_DS', R.TOC16_DS, 2n, '2'],
    ['R_PPC64_TOC16_LO_DS', R.TOC16_LO_DS, 0x12346n, '74566'],
    ['R_PPC64_TOC16_LO_DS', R.TOC16_LO_DS, -1n, '18446744073709551615'],
  ] as [string, number, bigint, string][]).map(([n, t, x, p]) => [`${n}: ${sx(x)} has low bits set under mask 0xfffc → "bad TOC16 relocation (${p})" (do_relative_toc)`, t, x, p] as const))('%s', (_n, type, x, printed) => {
    expect(rejection(toc16(type, x))).toEqual({ code: 'toc16-misaligned', message: `bad TOC16 relocation (${printed})\n` });
  });

  it('R_PPC64_TOC16 kexec-tools: without a .toc section my_r2() dies → no-toc-section', () => {
    expect(rejection(run(v, [rel(R.TOC16, '.text', 0x30, 'fn')], { noToc: true })).code).toBe('no-toc-section');
  });

  // REL24: `bl` = 0x48000001 at .text+0 (P = 0x4000000); only bits 0x03fffffc change.
  const bl = (o: Opts, sym = 'fn', addend = 0n, insn = 0x48000001n) =>
    run(v, [rel(R.REL24, '.text', 0, sym, addend)], { text: [[0, 4, insn]], ...o });
  const word0 = (o: Opts, sym = 'fn', addend = 0n, insn = 0x48000001n) => {
    const b = sectionBytes(okImage(bl(o, sym, addend, insn)), '.text').subarray(0, 4);
    const ordered = v.endian === 'little' ? [...b].reverse() : [...b];
    return ordered.reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
  };

  it('R_PPC64_REL24: S+A-P = 0x20 → bl 0x48000021 (ELF ABI low24*; kexec-tools keeps opcode and AA/LK)', () => {
    expect(word0({})).toBe(0x48000021n);
  });
  it('R_PPC64_REL24 kexec-tools: only bits 0x03fffffc change ("Only replace bits 2 through 26"): 0x4bffffff → 0x48000023, 0x48000002 → 0x48000022', () => {
    expect(word0({}, 'fn', 0n, 0x4bffffffn)).toBe(0x48000023n);
    expect(word0({}, 'fn', 0n, 0x48000002n)).toBe(0x48000022n);
  });
  it('R_PPC64_REL24: +0x1fffffc is the largest forward branch (kexec-tools: value + 0x2000000 <= 0x3ffffff; ABI low24* signed)', () => {
    expect(word0({ abs: 0x4000000n + 0x1fffffcn }, 'abs')).toBe(0x49fffffdn);
  });
  it('R_PPC64_REL24: -0x2000000 is the largest backward branch (kexec-tools range check; ABI low24* signed)', () => {
    expect(word0({ abs: 0x2000000n }, 'abs')).toBe(0x4a000001n);
  });
  it('R_PPC64_REL24 kexec-tools: +0x2000000 dies "REL24 %li out of range!"', () => {
    expect(rejection(bl({ abs: 0x6000000n }, 'abs'))).toEqual({ code: 'rel24-out-of-range', message: 'REL24 33554432 out of range!\n' });
  });
  it('R_PPC64_REL24 kexec-tools: -0x2000004 dies, printed signed', () => {
    expect(rejection(bl({ abs: 0x1fffffcn }, 'abs'))).toEqual({ code: 'rel24-out-of-range', message: 'REL24 -33554436 out of range!\n' });
  });
  it('R_PPC64_REL24 kexec-tools: a target that is not a multiple of 4 dies (value & 3)', () => {
    expect(rejection(bl({ abs: 0x4000002n }, 'abs'))).toEqual({ code: 'rel24-out-of-range', message: 'REL24 2 out of range!\n' });
  });

  // ADDR16 family on the halfword at .text+0x30.
  const a16 = (type: number, value: bigint, o: Opts = {}) =>
    run(v, [rel(type, '.text', 0x30, 'abs')], { abs: value, ...o });
  const a16Half = (type: number, value: bigint) => Number(read(v, [rel(type, '.text', 0x30, 'abs')], '.text', 0x30, 2, { abs: value }));

  it.each(([
    ['R_PPC64_ADDR16_LO', R.ADDR16_LO, 0x123456789abc8000n, 0x8000, '#lo(S+A)'],
    ['R_PPC64_ADDR16_HI', R.ADDR16_HI, 0x123456789abc8000n, 0x9abc, '#hi(S+A)'],
    ['R_PPC64_ADDR16_HA', R.ADDR16_HA, 0x123456789abc8000n, 0x9abd, '#ha(S+A)'],
    ['R_PPC64_ADDR16_HIGHER', R.ADDR16_HIGHER, 0x123456789abc8000n, 0x5678, '#higher(S+A)'],
    ['R_PPC64_ADDR16_HIGHEST', R.ADDR16_HIGHEST, 0x123456789abc8000n, 0x1234, '#highest(S+A)'],
    ['R_PPC64_ADDR16_HA', R.ADDR16_HA, 0x12347fffn, 0x1234, '#ha(S+A), just below the 0x8000 rounding edge'],
    ['R_PPC64_ADDR16_HA', R.ADDR16_HA, 0x12348000n, 0x1235, '#ha(S+A), at the 0x8000 rounding edge'],
    ['R_PPC64_ADDR16_HA', R.ADDR16_HA, 0xffff8000n, 0x0000, '#ha(S+A), the carry leaves the halfword'],
    ['R_PPC64_ADDR16_HI', R.ADDR16_HI, 0xffff8000n, 0xffff, '#hi(S+A), no rounding'],
    ['R_PPC64_ADDR16_HIGHER', R.ADDR16_HIGHER, 0xffffffffffff8000n, 0xffff, '#higher(S+A), no rounding (not HIGHERA)'],
    ['R_PPC64_ADDR16_HIGHEST', R.ADDR16_HIGHEST, 0x0000ffffffff8000n, 0x0000, '#highest(S+A), no rounding (not HIGHESTA)'],
  ] as [string, number, bigint, number, string][]).map(([n, t, x, w, why]) => [`${n}: S+A = ${sx(x)} → ${sx(BigInt(w))}, ${why} per ELFv2 ABI and kexec-elf-rel-ppc64.c`, t, x, w] as const))('%s', (_n, type, value, want) => {
    expect(a16Half(type, value)).toBe(want);
  });

  it('R_PPC64_ADDR16_HI/HA kexec-tools: no overflow check (0x123456789abc8000 is stored, not rejected)', () => {
    expect(okImage(a16(R.ADDR16_HI, 0x123456789abc8000n))).toBeTruthy();
    expect(okImage(a16(R.ADDR16_HA, 0x7fff8000n))).toBeTruthy();
  });

  it.each(([
    ['R_PPC64_ADDR16', R.ADDR16],
    ['R_PPC64_ADDR16_HIGHERA', R.ADDR16_HIGHERA],
    ['R_PPC64_ADDR16_HIGHESTA', R.ADDR16_HIGHESTA],
    ['R_PPC64_REL14', R.REL14],
    ['R_PPC64_REL16_HI', R.REL16_HI],
    ['R_PPC64_REL24_NOTOC', R.REL24_NOTOC],
    ['R_PPC64_NONE', R.NONE],
  ] as [string, number][]).map(([n, t]) => [`${n} (${t}) is not handled by kexec-tools: "Unknown rela relocation: ${t}\\n"`, t] as const))('%s', (_n, type) => {
    expect(rejection(run(v, [rel(type, '.text', 0, 'fn')]))).toEqual({ code: 'unknown-relocation', message: `Unknown rela relocation: ${type}\n` });
  });
});

describe('ppc64 local entry offset (REL24)', () => {
  const bl = (v: Variant, o: Opts & { profile?: string }) =>
    run(v, [rel(R.REL24, '.text', 0, 'fn')], { text: [[0, 4, 0x48000001n]], ...o });
  const word = (v: Variant, o: Opts & { profile?: string }, endian: Endian = o.endian ?? v.endian) => {
    const b = sectionBytes(okImage(bl(v, o)), '.text').subarray(0, 4);
    const ordered = endian === 'little' ? [...b].reverse() : [...b];
    return ordered.reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
  };

  it('R_PPC64_REL24 kexec-tools built for ELFv2 (_CALL_ELF == 2): st_other 3<<5 adds 8 → 0x28 (kexec-elf-rel-ppc64.c local_entry_offset)', () => {
    expect(word(LE_V2, { fnOther: 0x60 })).toBe(0x48000029n);
  });
  it('R_PPC64_REL24 kexec-tools ELFv2: st_other 2<<5 adds 4, 1<<5 adds 0, 7<<5 adds 128 (PPC64_LOCAL_ENTRY_OFFSET)', () => {
    expect(word(LE_V2, { fnOther: 0x40 })).toBe(0x48000025n);
    expect(word(LE_V2, { fnOther: 0x20 })).toBe(0x48000021n);
    expect(word(LE_V2, { fnOther: 0xe0 })).toBe(0x480000a1n);
  });
  it('R_PPC64_REL24 kexec-tools: the *target* decides, not e_flags: ELFv2-flagged BE object, ppc64 (ELFv1) build → no offset', () => {
    expect(word(BE_V1, { fnOther: 0x60, flags: 2 })).toBe(0x48000021n);
  });
  it('R_PPC64_REL24 kexec-tools: an ELFv1-flagged LE object on a ppc64le (ELFv2) build still gets the offset', () => {
    expect(word(LE_V2, { fnOther: 0x60, flags: 1 })).toBe(0x48000029n);
  });
  it('R_PPC64_REL24 abi: the offset follows e_flags (ELFv2 ABI: only for objects with e_flags & 3 == 2)', () => {
    expect(word(LE_V2, { fnOther: 0x60, flags: 2, profile: 'abi' })).toBe(0x48000029n);
    expect(word(LE_V2, { fnOther: 0x60, flags: 1, profile: 'abi' })).toBe(0x48000021n);
    expect(word(BE_V1, { fnOther: 0x60, flags: 2, profile: 'abi' })).toBe(0x48000029n);
    expect(word(BE_V1, { fnOther: 0x60, flags: 1, profile: 'abi' })).toBe(0x48000021n);
  });
  it('R_PPC64_REL24 kexec-tools ELFv2: the local entry offset is added before the range check (+0x1fffffc + 4 dies)', () => {
    const far = (other: number) => loadObject({
      ...spec(LE_V2, [rel(R.REL24, '.text', 0, 'far')], { text: [[0, 4, 0x48000001n]] }),
      symbols: [{ name: 'far', section: SHN_ABS, value: 0x4000000n + 0x1fffffcn, type: STT_FUNC, other }],
    }, { base: BASE, target: 'ppc64le' });
    expect(okImage(far(0))).toBeTruthy();
    expect(rejection(far(0x40))).toEqual({ code: 'rel24-out-of-range', message: 'REL24 33554432 out of range!\n' });
  });
});

describe('ppc64 REL16_HA / REL16_LO (ELFv2 global entry: addis 2,12,.TOC.-0b@ha; addi 2,2,.TOC.-0b@l)', () => {
  // LE object; the instructions at .text+0x10/0x14, relocations at the instruction addresses
  // (on little-endian the low halfword is at offset 0), addends 0 and 4 as the assembler emits.
  const prologue = (o: Opts & { profile?: string } = {}, ha = 0x3c4c0000n, lo = 0x38420000n) =>
    run(LE_V2, [rel(R.REL16_HA, '.text', 0x10, '.TOC.'), rel(R.REL16_LO, '.text', 0x14, '.TOC.', 4n)], { text: [[0x10, 4, ha], [0x14, 4, lo]], ...o });
  const words = (o: Opts & { profile?: string } = {}) => {
    const t = sectionBytes(okImage(prologue(o)), '.text');
    const w = (off: number) => BigInt(t[off]! | (t[off + 1]! << 8) | (t[off + 2]! << 16)) | (BigInt(t[off + 3]!) << 24n);
    return [w(0x10), w(0x14)];
  };

  it('R_PPC64_REL16_HA kexec-tools: rewritten to lis 2,(.TOC.+my_r2)>>16 = 0x3c400400; REL16_LO: halfword (A + my_r2 - 4) & 0xffff = 0x8100 (kexec-elf-rel-ppc64.c)', () => {
    // .TOC. is undefined NOTYPE: S = 0, sec_base = e_shdr[0].sh_addr = 0.
    // HA: value = 0 + my_r2 = 0x4008100 → 0x3c400000 + 0x0400. LO: value = 4 + 0x4008100 - 4.
    expect(words()).toEqual([0x3c400400n, 0x38428100n]);
    // This reproduces kexec-tools' @h (not @ha): lis 0x400 + addi -0x7f00 = 0x3ff8100 = my_r2 - 0x10000.
  });
  it('R_PPC64_REL16_HA/LO kexec-tools: exact when my_r2 & 0xffff < 0x8000 (.text of 0x8000 bytes → .toc 0x4008000, my_r2 0x4010000)', () => {
    const o: Opts = { textSize: 0x8000 };
    expect(words(o)).toEqual([0x3c400401n, 0x38420000n]);
  });
  it('R_PPC64_REL16_HA kexec-tools: a word other than addis 2,12 dies "Unexpected instruction for  R_PPC64_REL16_HA"', () => {
    expect(rejection(prologue({}, 0x3c6c0000n))).toEqual({ code: 'rel16-unexpected-instruction', message: 'Unexpected instruction for  R_PPC64_REL16_HA' });
  });
  it('R_PPC64_REL16_LO kexec-tools: a word other than addi 2,2 dies "Unexpected instruction for R_PPC64_REL16_LO"', () => {
    expect(rejection(prologue({}, 0x3c4c0000n, 0x38630000n))).toEqual({ code: 'rel16-unexpected-instruction', message: 'Unexpected instruction for R_PPC64_REL16_LO' });
  });
  it('R_PPC64_REL16_HA kexec-tools: the immediate bits do not matter to the check (mask 0xffff0000)', () => {
    expect(okImage(prologue({}, 0x3c4cffffn, 0x38421234n))).toBeTruthy();
  });
  it('R_PPC64_REL16_HA kexec-tools without .toc dies "TOC reloc without a toc section?"', () => {
    expect(rejection(prologue({ noToc: true })).code).toBe('no-toc-section');
  });
  it('R_PPC64_REL16_HA/LO abi: #ha(S+A-P) and #lo(S+A-P) with S = .TOC. = my_r2, instructions kept (ELFv2 ABI)', () => {
    // HA at P = 0x4000010: 0x4008100 - 0x4000010 = 0x80f0, #ha = (0x80f0 + 0x8000) >> 16 = 1.
    // LO at P = 0x4000014, A = 4: 0x4008100 + 4 - 0x4000014 = 0x80f0, #lo = 0x80f0.
    // Check: (1 << 16) + (int16_t)0x80f0 = 0x80f0 = .TOC. - 0b.
    expect(words({ profile: 'abi' })).toEqual([0x3c4c0001n, 0x384280f0n]);
  });
  it('R_PPC64_REL16_HA/LO abi on a big-endian object: the halfwords at insn+2 get the same #ha/#lo (A = 2 and 6 for .TOC.-0b)', () => {
    // HA at P = 0x4000012, A = 2: 0x4008100 + 2 - 0x4000012 = 0x80f0 → #ha 1.
    // LO at P = 0x4000016, A = 6: 0x4008100 + 6 - 0x4000016 = 0x80f0 → #lo 0x80f0.
    const o = run(BE_V1, [rel(R.REL16_HA, '.text', 0x12, '.TOC.', 2n), rel(R.REL16_LO, '.text', 0x16, '.TOC.', 6n)],
      { text: [[0x10, 4, 0x3c4c0000n], [0x14, 4, 0x38420000n]], profile: 'abi' });
    expect([...sectionBytes(okImage(o), '.text').subarray(0x10, 0x18)]).toEqual([0x3c, 0x4c, 0x00, 0x01, 0x38, 0x42, 0x80, 0xf0]);
  });
  it('R_PPC64_REL16_HA on a big-endian object: r_offset is insn+2, so kexec-tools\' 32-bit instruction check reads the wrong word and dies', () => {
    const o = run(BE_V1, [rel(R.REL16_HA, '.text', 0x12, '.TOC.', 2n)], { text: [[0x10, 4, 0x3c4c0000n], [0x14, 4, 0x38420000n]] });
    expect(rejection(o).code).toBe('rel16-unexpected-instruction');
  });
});

describe('ppc64 abi profile differences (one line each in makeProfile)', () => {
  it.each(variants)('R_PPC64_REL64 abi: S+A-P = 0x4000020 - 0x4000130 = -0x110 ($name)', (v) => {
    expect(read(v, [rel(R.REL64, '.data', 0x10, 'fn')], '.data', 0x10, 8, { profile: 'abi' })).toBe(0xfffffffffffffef0n);
  });
  it.each(variants)('R_PPC64_REL32 abi: S+A-P = 0x4000020 - 0x4000138 = -0x118, the host pointer plays no part ($name)', (v) => {
    expect(read(v, [rel(R.REL32, '.data', 0x18, 'fn')], '.data', 0x18, 4, { profile: 'abi', hostAddress: 0x7fff12340000n })).toBe(0xfffffee8n);
  });
  it('R_PPC64_ADDR32 abi: must fit int32 or uint32 (0xffffffff and -0x80000000 fit, 0x100000000 does not)', () => {
    expect(read(LE_V2, [rel(R.ADDR32, '.data', 0, 'abs')], '.data', 0, 4, { profile: 'abi', abs: 0xffffffffn })).toBe(0xffffffffn);
    expect(read(LE_V2, [rel(R.ADDR32, '.data', 0, 'abs')], '.data', 0, 4, { profile: 'abi', abs: 0xffffffff80000000n })).toBe(0x80000000n);
    expect(rejection(run(LE_V2, [rel(R.ADDR32, '.data', 0, 'abs')], { profile: 'abi', abs: 0x100000000n })).code).toBe('overflow');
  });
  it('R_PPC64_ADDR16_HI abi: overflow-checked as int32 (lld: 0x7fffffff ok, 0x80000000 not, 0xffffffff80000000 ok)', () => {
    const hiOf = (abs: bigint) => run(LE_V2, [rel(R.ADDR16_HI, '.text', 0x30, 'abs')], { profile: 'abi', abs });
    expect(okImage(hiOf(0x7fffffffn))).toBeTruthy();
    expect(rejection(hiOf(0x80000000n)).code).toBe('overflow');
    expect(okImage(hiOf(0xffffffff80000000n))).toBeTruthy();
  });
  it('R_PPC64_ADDR16_HA abi: v + 0x8000 checked as int32 (lld: 0x7fff7fff ok, 0x7fff8000 not, 0xffffffff7fff8000 ok)', () => {
    const haOf = (abs: bigint) => run(LE_V2, [rel(R.ADDR16_HA, '.text', 0x30, 'abs')], { profile: 'abi', abs });
    expect(okImage(haOf(0x7fff7fffn))).toBeTruthy();
    expect(rejection(haOf(0x7fff8000n)).code).toBe('overflow');
    expect(okImage(haOf(0xffffffff7fff8000n))).toBeTruthy();
  });
});

describe('ppc64 stores are host-endian (the profile\'s store endianness), not the file\'s', () => {
  it('a little-endian object loaded by a big-endian kexec-tools (target ppc64) gets big-endian stores', () => {
    const relocs = [rel(R.ADDR32, '.data', 0, 'fn', 4n), rel(R.ADDR64, '.data', 8, 'fn'), rel(R.ADDR16_LO, '.data', 0x10, 'abs')];
    const img = okImage(loadObject(spec(LE_V2, relocs, { abs: 0x1234n }), { base: BASE, target: 'ppc64' }));
    const d = [...sectionBytes(img, '.data')];
    expect(d.slice(0, 4)).toEqual([0x04, 0x00, 0x00, 0x24]);
    expect(d.slice(8, 16)).toEqual([0, 0, 0, 0, 0x04, 0x00, 0x00, 0x20]);
    expect(d.slice(0x10, 0x12)).toEqual([0x12, 0x34]);
  });
  it('a big-endian object loaded by a little-endian kexec-tools (target ppc64le) gets little-endian stores', () => {
    const img = okImage(loadObject(spec(BE_V1, [rel(R.ADDR32, '.data', 0, 'fn', 4n)]), { base: BASE, target: 'ppc64le' }));
    expect([...sectionBytes(img, '.data').subarray(0, 4)]).toEqual([0x24, 0x00, 0x00, 0x04]);
  });
  it('TOC16_DS reads the existing halfword host-endian too: BE bytes aa ab seen by an LE host as 0xabaa keep low bits 2', () => {
    // LE host reads bytes [aa ab] as 0xabaa; low two bits = 2. X = 0x1234 → (0xabaa & 3) | 0x1234 = 0x1236 → LE bytes [36 12].
    const o = loadObject(spec(BE_V1, [rel(R.TOC16_DS, '.text', 0x30, 'tocsym', 0x8000n + 0x1234n)], { text: [[0x30, 2, 0xaaabn]] }), { base: BASE, target: 'ppc64le' });
    expect([...sectionBytes(okImage(o), '.text').subarray(0x30, 0x32)]).toEqual([0x36, 0x12]);
  });
});
