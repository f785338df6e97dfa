// x86_64 relocations through load(), kexec-tools profile (and the abi profile where it differs).
// Layout used throughout (worked out by hand from elf_rel_load): base 0x100000 (page aligned),
// .text (size 0x40, align 16) at 0x100000, .data (size 0x20, align 8) at 0x100040.
// Symbols: fn = .text+0x20 = 0x100020; abs = SHN_ABS with the value under test.
import { describe, expect, it } from 'vitest';
import { EM_X86_64, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, STT_FUNC } from '../../src/elf/constants.ts';
import type { ObjRelocation, ObjSymbol, ObjectSpec } from '../../src/elf/writer.ts';
import { R_X86_64 } from '../../src/arch/x86_64.ts';
import { le, loadObject, okImage, rejection, sectionBytes, type LoadOpts } from '../fixture.ts';

const R = R_X86_64;

function spec(relocations: ObjRelocation[], absValue = 0n, extra: Partial<ObjectSpec> = {}): ObjectSpec {
  const symbols: ObjSymbol[] = [
    { name: 'fn', section: '.text', value: 0x20n, type: STT_FUNC, size: 8n },
    { name: 'abs', section: SHN_ABS, value: absValue },
  ];
  return {
    endian: 'little', machine: EM_X86_64,
    sections: [
      { name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(0x40).fill(0xcc), addralign: 16n },
      { name: '.data', flags: SHF_ALLOC | SHF_WRITE, data: new Uint8Array(0x20).fill(0x11), addralign: 8n },
    ],
    symbols, relocations, ...extra,
  };
}

function run(relocations: ObjRelocation[], absValue = 0n, o: LoadOpts = {}, extra: Partial<ObjectSpec> = {}) {
  return loadObject(spec(relocations, absValue, extra), o);
}

/** The bytes at .data+off (or .text+off) after loading. */
function at(section: '.text' | '.data', off: number, n: number, relocations: ObjRelocation[], absValue = 0n, o: LoadOpts = {}, extra: Partial<ObjectSpec> = {}) {
  return [...sectionBytes(okImage(run(relocations, absValue, o, extra)), section).subarray(off, off + n)];
}

describe('x86_64 layout assumed by these tests', () => {
  it('.text at 0x100000, .data at 0x100040, fn at 0x100020', () => {
    const img = okImage(run([]));
    expect(img.base).toBe(0x100000n);
    expect(img.sections.find((s) => s.name === '.text')!.addr).toBe(0x100000n);
    expect(img.sections.find((s) => s.name === '.data')!.addr).toBe(0x100040n);
  });
});

describe('R_X86_64_NONE', () => {
  it('R_X86_64_NONE: writes nothing (kexec-elf-rel-x86_64.c: case R_X86_64_NONE: break)', () => {
    const img = okImage(run([{ section: '.text', offset: 0n, type: R.NONE, symbol: 'fn', addend: 0x1234n }]));
    expect([...sectionBytes(img, '.text')]).toEqual(new Array(0x40).fill(0xcc));
    expect(img.relocations).toHaveLength(1);
    expect(img.relocations[0]!.width).toBe(0);
  });
});

describe('R_X86_64_64', () => {
  it('R_X86_64_64: S+A = 0x100020+8 = 0x100028 as 8 LE bytes per x86-64 psABI', () => {
    expect(at('.data', 0, 8, [{ section: '.data', offset: 0n, type: R['64'], symbol: 'fn', addend: 8n }]))
      .toEqual([0x28, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00]);
  });
  it('R_X86_64_64: S+A wraps mod 2^64 (abs 0, A=-1 → all ones) per x86-64 psABI word64', () => {
    expect(at('.data', 8, 8, [{ section: '.data', offset: 8n, type: R['64'], symbol: 'abs', addend: -1n }]))
      .toEqual(new Array(8).fill(0xff));
  });
  it('R_X86_64_64: SHT_REL has no addend and kexec-tools ignores the in-place one (elf_rel(): r_addend = 0)', () => {
    // .data holds 0x11 bytes; with REL the implicit addend would be 0x1111111111111111 under the ABI,
    // but kexec-tools simply stores value = S.
    expect(at('.data', 0, 8, [{ section: '.data', offset: 0n, type: R['64'], symbol: 'fn' }], 0n, {}, { rel: true }))
      .toEqual(le(8, 0x100020n));
  });
});

describe('R_X86_64_32 (zero-extended word32, kexec-tools: value != (uint32_t)value → overflow)', () => {
  it('R_X86_64_32: S+A = 0x100030 per x86-64 psABI', () => {
    expect(at('.data', 0, 4, [{ section: '.data', offset: 0n, type: R['32'], symbol: 'fn', addend: 0x10n }]))
      .toEqual([0x30, 0x00, 0x10, 0x00]);
  });
  it('R_X86_64_32: 0xffffffff is the largest value that fits (psABI zero-extended word32; kexec-tools value == (uint32_t)value)', () => {
    expect(at('.data', 4, 4, [{ section: '.data', offset: 4n, type: R['32'], symbol: 'abs' }], 0xffffffffn))
      .toEqual([0xff, 0xff, 0xff, 0xff]);
  });
  it('R_X86_64_32 kexec-tools: 0x100000000 overflows with "overflow in relocation type %s val %lx"', () => {
    expect(rejection(run([{ section: '.data', offset: 4n, type: R['32'], symbol: 'abs' }], 0x100000000n)))
      .toEqual({ code: 'overflow', message: 'overflow in relocation type R_X86_64_32 val 100000000\n' });
  });
  it('R_X86_64_32 kexec-tools: 0xffffffff + A=1 overflows (the check is on S+A)', () => {
    expect(rejection(run([{ section: '.data', offset: 4n, type: R['32'], symbol: 'abs', addend: 1n }], 0xffffffffn)).message)
      .toBe('overflow in relocation type R_X86_64_32 val 100000000\n');
  });
  it('R_X86_64_32 kexec-tools: a negative S+A overflows (zero-extension cannot give it back)', () => {
    expect(rejection(run([{ section: '.data', offset: 4n, type: R['32'], symbol: 'abs', addend: -1n }])).message)
      .toBe('overflow in relocation type R_X86_64_32 val ffffffffffffffff\n');
  });
});

describe('R_X86_64_32S (sign-extended word32, kexec-tools: (int64_t)value != *(int32_t *)location → overflow)', () => {
  it('R_X86_64_32S: 0x7fffffff fits (psABI sign-extended word32; kexec-tools (int64_t)value == *(int32_t *)location)', () => {
    expect(at('.data', 0, 4, [{ section: '.data', offset: 0n, type: R['32S'], symbol: 'abs' }], 0x7fffffffn))
      .toEqual([0xff, 0xff, 0xff, 0x7f]);
  });
  it('R_X86_64_32S kexec-tools: 0x80000000 overflows', () => {
    expect(rejection(run([{ section: '.data', offset: 0n, type: R['32S'], symbol: 'abs' }], 0x80000000n)))
      .toEqual({ code: 'overflow', message: 'overflow in relocation type R_X86_64_32S val 80000000\n' });
  });
  it('R_X86_64_32S: -0x80000000 (0xffffffff80000000) fits and stores 0x80000000 (psABI sign-extended word32)', () => {
    expect(at('.data', 0, 4, [{ section: '.data', offset: 0n, type: R['32S'], symbol: 'abs', addend: -0x80000000n }]))
      .toEqual([0x00, 0x00, 0x00, 0x80]);
  });
  it('R_X86_64_32S kexec-tools: -0x80000001 overflows, printed as %lx', () => {
    expect(rejection(run([{ section: '.data', offset: 0n, type: R['32S'], symbol: 'abs', addend: -0x80000001n }])).message)
      .toBe('overflow in relocation type R_X86_64_32S val ffffffff7fffffff\n');
  });
  it('R_X86_64_32S: a kernel-style address 0xffffffff81000000 fits as -0x7f000000 (psABI sign-extended word32)', () => {
    expect(at('.data', 0, 4, [{ section: '.data', offset: 0n, type: R['32S'], symbol: 'abs' }], 0xffffffff81000000n))
      .toEqual([0x00, 0x00, 0x00, 0x81]);
  });
});

describe.each([['R_X86_64_PC32', R.PC32], ['R_X86_64_PLT32', R.PLT32]] as const)('%s (word32 S+A-P)', (name, type) => {
  it(`${name}: forward, S+A-P = 0x100020-4-0x100004 = 0x18 per x86-64 psABI`, () => {
    expect(at('.text', 4, 4, [{ section: '.text', offset: 4n, type, symbol: 'fn', addend: -4n }]))
      .toEqual([0x18, 0x00, 0x00, 0x00]);
  });
  it(`${name}: backward, 0x100020-4-0x100030 = -0x14 = 0xffffffec per x86-64 psABI`, () => {
    expect(at('.text', 0x30, 4, [{ section: '.text', offset: 0x30n, type, symbol: 'fn', addend: -4n }]))
      .toEqual([0xec, 0xff, 0xff, 0xff]);
  });
  it(`${name}: P is the placed address of another section (.data+0 = 0x100040; 0x100020-0x100040 = -0x20)`, () => {
    expect(at('.data', 0, 4, [{ section: '.data', offset: 0n, type, symbol: 'fn' }]))
      .toEqual([0xe0, 0xff, 0xff, 0xff]);
  });
  it(`${name} kexec-tools: no range check, 0x200000000-0x100000 is truncated to 0xfff00000 (kexec-elf-rel-x86_64.c)`, () => {
    expect(at('.text', 0, 4, [{ section: '.text', offset: 0n, type, symbol: 'abs' }], 0x200000000n))
      .toEqual([0x00, 0x00, 0xf0, 0xff]);
  });
  it(`${name} abi: the same value is out of range for a signed 32-bit field`, () => {
    expect(rejection(run([{ section: '.text', offset: 0n, type, symbol: 'abs' }], 0x200000000n, { profile: 'abi' })))
      .toEqual({ code: 'overflow', message: `relocation ${name} out of range: 8588886016 is not in [-2147483648, 2147483647]; references 'abs'` });
  });
  it(`${name} abi: -0x80000000 is the lowest value that fits`, () => {
    // abs = P - 0x80000000 with P = 0x100000000 + 0x100000... use A instead: S = 0, A = 0x100000 - 0x80000000 → S+A-P = -0x80000000.
    expect(at('.text', 0, 4, [{ section: '.text', offset: 0n, type, symbol: 'abs', addend: 0x100000n - 0x80000000n }], 0n, { profile: 'abi' }))
      .toEqual([0x00, 0x00, 0x00, 0x80]);
    expect(rejection(run([{ section: '.text', offset: 0n, type, symbol: 'abs', addend: 0x100000n - 0x80000001n }], 0n, { profile: 'abi' })).code)
      .toBe('overflow');
  });
});

describe('x86_64 relocation log', () => {
  it('records P, S+A and the bytes written', () => {
    const img = okImage(run([{ section: '.text', offset: 4n, type: R.PC32, symbol: 'fn', addend: -4n }]));
    expect(img.relocations).toHaveLength(1);
    const e = img.relocations[0]!;
    expect(e).toMatchObject({ typeName: 'R_X86_64_PC32', symbol: 'fn', address: 0x100004n, value: 0x10001cn, addend: -4n, imageOffset: 4, width: 4 });
    expect([...e.bytes]).toEqual([0x18, 0, 0, 0]);
  });
});

describe('x86_64 unhandled types: kexec-tools reloc_name() table stops at R_X86_64_TPOFF32 (23)', () => {
  it('R_X86_64_GOT32 (3) kexec-tools: "Unhandled rela relocation: R_X86_64_GOT32\\n" (kexec-elf-rel-x86_64.c default case)', () => {
    expect(rejection(run([{ section: '.text', offset: 0n, type: R.GOT32, symbol: 'fn' }])))
      .toEqual({ code: 'unknown-relocation', message: 'Unhandled rela relocation: R_X86_64_GOT32\n' });
  });
  it('R_X86_64_TPOFF32 (23) is the last named entry of kexec-tools reloc_name()', () => {
    expect(rejection(run([{ section: '.text', offset: 0n, type: R.TPOFF32, symbol: 'fn' }])).message)
      .toBe('Unhandled rela relocation: R_X86_64_TPOFF32\n');
  });
  it('R_X86_64_PC64 (24) kexec-tools reloc_name() prints it by number: "R_X86_64_24"', () => {
    expect(rejection(run([{ section: '.text', offset: 0n, type: R.PC64, symbol: 'fn' }])).message)
      .toBe('Unhandled rela relocation: R_X86_64_24\n');
  });
  it('R_X86_64_REX_GOTPCRELX (42) kexec-tools reloc_name() → "R_X86_64_42"', () => {
    expect(rejection(run([{ section: '.text', offset: 0n, type: R.REX_GOTPCRELX, symbol: 'fn' }])).message)
      .toBe('Unhandled rela relocation: R_X86_64_42\n');
  });
  it('R_X86_64_16, PC16, 8, PC8 are not handled by kexec-tools either', () => {
    for (const [t, n] of [[R['16'], 'R_X86_64_16'], [R.PC16, 'R_X86_64_PC16'], [R['8'], 'R_X86_64_8'], [R.PC8, 'R_X86_64_PC8']] as const) {
      expect(rejection(run([{ section: '.text', offset: 0n, type: t, symbol: 'fn' }])).message).toBe(`Unhandled rela relocation: ${n}\n`);
    }
  });
});

describe('x32 (ELFCLASS32 on x86_64)', () => {
  const x32 = (relocations: ObjRelocation[], absValue = 0n) => ({ ...spec(relocations, absValue), is64: false });

  it('accepted by kexec-tools >= 2.0.21 (commit 6b5667d), rejected as a parse failure by 2.0.20', () => {
    const s = x32([{ section: '.data', offset: 0n, type: R['32'], symbol: 'fn' }]);
    expect([...sectionBytes(okImage(loadObject(s)), '.data').subarray(0, 4)]).toEqual([0x20, 0x00, 0x10, 0x00]);
    expect(rejection(loadObject(s, { profile: 'kexec-tools-2.0.20' }))).toEqual({ code: 'wrong-machine', message: 'ELF rel parse failed\n' });
  });

  it('R_X86_64_32 with Elf32 r_addend -4: kexec-tools zero-extends it (mem_rela.r_addend = elf32_to_cpu(...)) → S+0xfffffffc overflows', () => {
    // value = 0x100020 + 0xfffffffc = 0x10010001c (unsigned long long addition).
    expect(rejection(loadObject(x32([{ section: '.data', offset: 0n, type: R['32'], symbol: 'fn', addend: -4n }]))).message)
      .toBe('overflow in relocation type R_X86_64_32 val 10010001c\n');
  });

  it('R_X86_64_PC32 kexec-tools with Elf32 r_addend -4: zero-extension does not change the low 32 bits of value - address (0x18)', () => {
    expect([...sectionBytes(okImage(loadObject(x32([{ section: '.text', offset: 4n, type: R.PC32, symbol: 'fn', addend: -4n }]))), '.text').subarray(4, 8)])
      .toEqual([0x18, 0x00, 0x00, 0x00]);
  });
});
