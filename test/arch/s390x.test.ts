// s390x relocations through load(): kexec-tools (kexec-elf-rel-s390.c) and abi profiles, and the
// kernel's arch_kexec_do_relocs classification. Expected bytes worked out by hand from the C source
// and the s390x ELF ABI. Layout (elf_rel_load, by hand): base 0x100000; .text (0x40, align 8) at
// 0x100000, .data (0x20, align 8) at 0x100040; fn = .text+0x20 = 0x100020; abs = SHN_ABS.
// Big-endian object and stores (s390x kexec-tools stores host-endian; the host is big-endian).
import { describe, expect, it } from 'vitest';
import { EM_S390, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, STT_FUNC } from '../../src/elf/constants.ts';
import type { ObjRelocation, ObjectSpec } from '../../src/elf/writer.ts';
import { R_390, s390x } from '../../src/arch/s390x.ts';
import { abiSemantics } from '../../src/load/profile.ts';
import { be, loadObject, okImage, rejection, sectionBytes, type LoadOpts } from '../fixture.ts';

const R = R_390;

function spec(relocations: ObjRelocation[], absValue = 0n): ObjectSpec {
  return {
    endian: 'big', machine: EM_S390,
    sections: [
      { name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(0x40).fill(0x07), addralign: 8n },
      { name: '.data', flags: SHF_ALLOC | SHF_WRITE, data: new Uint8Array(0x20).fill(0x11), addralign: 8n },
    ],
    symbols: [
      { name: 'fn', section: '.text', value: 0x20n, type: STT_FUNC, size: 8n },
      { name: 'abs', section: SHN_ABS, value: absValue },
    ],
    relocations,
  };
}
const run = (rels: ObjRelocation[], abs = 0n, o: LoadOpts = {}) => loadObject(spec(rels, abs), o);
const at = (section: '.text' | '.data', off: number, n: number, rels: ObjRelocation[], abs = 0n, o: LoadOpts = {}) =>
  [...sectionBytes(okImage(run(rels, abs, o)), section).subarray(off, off + n)];
const rel = (section: string, offset: bigint, type: number, symbol: string, addend = 0n): ObjRelocation => ({ section, offset, type, symbol, addend });

describe('s390x, kexec-tools (kexec-elf-rel-s390.c)', () => {
  it('the layout assumed here: .text at 0x100000, .data at 0x100040', () => {
    const img = okImage(run([]));
    expect(img.sections.find((s) => s.name === '.data')!.addr).toBe(0x100040n);
  });
  it('R_390_64 stores val big-endian', () => {
    expect(at('.data', 0, 8, [rel('.data', 0n, R['64'], 'abs')], 0x1122334455667788n)).toEqual(be(8, 0x1122334455667788n));
  });
  it('R_390_32/16/8 store the low bits of val with no range check', () => {
    expect(at('.data', 0, 4, [rel('.data', 0n, R['32'], 'abs')], 0x1_0000_0001n)).toEqual(be(4, 1n));
    expect(at('.data', 0, 2, [rel('.data', 0n, R['16'], 'abs')], 0x12345n)).toEqual(be(2, 0x2345n));
    expect(at('.data', 0, 2, [rel('.data', 0n, R['8'], 'abs')], 0x1ffn)).toEqual([0xff, 0x11]);
  });
  it('R_390_12 keeps the top nibble of the halfword: (0x1111 & 0xf000) | 0xabc', () => {
    expect(at('.data', 0, 2, [rel('.data', 0n, R['12'], 'abs')], 0xfabcn)).toEqual(be(2, 0x1abcn));
  });
  it('R_390_20 splits DL/DH: (0x11111111 & 0xf00000ff) | 0x345 << 16 | 0x12000 >> 4 = 0x13451211', () => {
    expect(at('.data', 0, 4, [rel('.data', 0n, R['20'], 'abs')], 0x12345n)).toEqual(be(4, 0x13451211n));
  });
  it('PC32DBL/PLT32DBL: (S+A-P) >> 1; backwards: 0x100020 - 0x100030 = -0x10, >> 1 of the unsigned long, low 32 bits 0xfffffff8', () => {
    expect(at('.text', 4, 4, [rel('.text', 4n, R.PC32DBL, 'fn', 2n)])).toEqual(be(4, 0xfn));
    expect(at('.text', 0x30, 4, [rel('.text', 0x30n, R.PLT32DBL, 'fn')])).toEqual(be(4, 0xfffffff8n));
    expect(at('.text', 0x30, 2, [rel('.text', 0x30n, R.PC16DBL, 'fn')])).toEqual(be(2, 0xfff8n));
  });
  it('PC16/PC32/PC64: S+A-P truncated, no range check', () => {
    expect(at('.text', 0x30, 2, [rel('.text', 0x30n, R.PC16, 'fn')])).toEqual(be(2, 0xfff0n));
    expect(at('.text', 0, 4, [rel('.text', 0n, R.PC32, 'abs')], 0x1_0010_0000n)).toEqual(be(4, 0n));
    expect(at('.data', 0, 8, [rel('.data', 0n, R.PC64, 'fn')])).toEqual(be(8, -0x20n));
  });
  it('R_390_NONE is not handled: die("Unknown rela relocation: 0x%lx 0x%lx\\n", r_type, address)', () => {
    expect(rejection(run([rel('.data', 8n, R.NONE, 'fn')]))).toEqual({ code: 'unknown-relocation', message: 'Unknown rela relocation: 0x0 0x100048\n' });
    expect(rejection(run([rel('.text', 4n, R.PLT32, 'fn')]))).toEqual({ code: 'unknown-relocation', message: 'Unknown rela relocation: 0x8 0x100004\n' });
  });
  it('machine_verify_elf_rel wants ELFDATA2MSB: a little-endian EM_S390 object fails to parse', () => {
    expect(rejection(loadObject({ ...spec([]), endian: 'little' }))).toEqual({ code: 'wrong-machine', message: 'ELF rel parse failed\n' });
  });
});

describe('s390x, abi profile', () => {
  it('range checks: R_390_32 of 2^32 + 1 and PC16DBL of an odd distance are rejected', () => {
    expect(rejection(run([rel('.data', 0n, R['32'], 'abs')], 0x1_0000_0001n, { profile: 'abi' })).code).toBe('overflow');
    expect(rejection(run([rel('.text', 0n, R.PC16DBL, 'fn', 1n)], 0n, { profile: 'abi' })).code).toBe('overflow');
    expect(rejection(run([rel('.data', 0n, R['12'], 'abs')], 0x1000n, { profile: 'abi' })).code).toBe('overflow');
  });
  it('R_390_NONE is a no-op', () => {
    expect(at('.data', 0, 4, [rel('.data', 0n, R.NONE, 'fn')], 0n, { profile: 'abi' })).toEqual([0x11, 0x11, 0x11, 0x11]);
  });
});

describe('s390x, kernel classification (arch_kexec_do_relocs)', () => {
  const kernel = { ...abiSemantics(), loader: 'kernel' as const, abiRangeChecks: false };
  it('handles NONE (no write), RELATIVE, GLOB_DAT and JMP_SLOT (8 bytes) besides kexec-tools\' types; PLT32DBL is not in its switch (the caller maps it)', () => {
    expect(s390x.classify(R.NONE, kernel)?.width).toBe(0);
    expect(s390x.classify(R.RELATIVE, kernel)?.width).toBe(8);
    expect(s390x.classify(R.GLOB_DAT, kernel)?.width).toBe(8);
    expect(s390x.classify(R.JMP_SLOT, kernel)?.width).toBe(8);
    expect(s390x.classify(R.PLT32DBL, kernel)).toBeUndefined();
    expect(s390x.classify(R.GOTENT, kernel)).toBeUndefined();
  });
  it('pr_err("Unknown rela relocation: %d\\n") with pr_fmt "kexec: " and an int r_type', () => {
    expect(s390x.unknownMessage(R.GOTENT, kernel)).toBe('kexec: Unknown rela relocation: 26\n');
    expect(s390x.unknownMessage(0x80000000, kernel)).toBe('kexec: Unknown rela relocation: -2147483648\n');
  });
});
