// AArch64 relocations through load(): kexec-tools (kexec-arm64.c machine_apply_elf_rel) and abi
// profiles. Expected words worked out by hand from the C source and AAELF64. Layout (elf_rel_load,
// by hand): base 0x100000; .text (0x40, align 8, zero-filled: the instruction fields start empty
// unless a test says otherwise) at 0x100000, .data (0x20, align 8, 0x11 bytes) at 0x100040;
// fn = .text+0x20 = 0x100020; abs = SHN_ABS.
import { describe, expect, it } from 'vitest';
import { EM_AARCH64, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, STT_FUNC } from '../../src/elf/constants.ts';
import type { ObjRelocation, ObjectSpec } from '../../src/elf/writer.ts';
import { R_AARCH64, getBits32 } from '../../src/arch/arm64.ts';
import { U64 } from '../../src/arch/types.ts';
import { be, le, loadObject, okImage, rejection, sectionBytes, type LoadOpts } from '../fixture.ts';

const R = R_AARCH64;

function spec(relocations: ObjRelocation[], absValue = 0n, text: Uint8Array = new Uint8Array(0x40)): ObjectSpec {
  return {
    endian: 'little', machine: EM_AARCH64,
    sections: [
      { name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: text, addralign: 8n },
      { name: '.data', flags: SHF_ALLOC | SHF_WRITE, data: new Uint8Array(0x20).fill(0x11), addralign: 8n },
    ],
    symbols: [
      { name: 'fn', section: '.text', value: 0x20n, type: STT_FUNC, size: 8n },
      { name: 'abs', section: SHN_ABS, value: absValue },
    ],
    relocations,
  };
}
/** .text holding one instruction word (little-endian) at `off`. */
function textWith(off: number, insn: number): Uint8Array {
  const t = new Uint8Array(0x40);
  t.set(le(4, BigInt(insn)), off);
  return t;
}
const run = (rels: ObjRelocation[], abs = 0n, o: LoadOpts = {}, text?: Uint8Array) => loadObject(spec(rels, abs, text), o);
const word = (rels: ObjRelocation[], abs = 0n, o: LoadOpts = {}, text?: Uint8Array, off = 0) =>
  [...sectionBytes(okImage(run(rels, abs, o, text)), '.text').subarray(off, off + 4)];
const rel = (section: string, offset: bigint, type: number, symbol: string, addend = 0n): ObjRelocation => ({ section, offset, type, symbol, addend });

describe('arm64, kexec-tools (kexec-arm64.c)', () => {
  it('ABS64: cpu_to_elf64 (little-endian object: little-endian bytes)', () => {
    const img = okImage(run([rel('.data', 0n, R.ABS64, 'abs')], 0x1122334455667788n));
    expect([...sectionBytes(img, '.data').subarray(0, 8)]).toEqual(le(8, 0x1122334455667788n));
  });
  it('ABS64 and PREL32 of a big-endian object are stored big-endian (cpu_to_elf64/32), while its machine check passes', () => {
    const img = okImage(loadObject({ ...spec([rel('.data', 0n, R.ABS64, 'abs'), rel('.data', 8n, R.PREL32, 'fn')], 0x1122334455667788n), endian: 'big' }));
    const d = [...sectionBytes(img, '.data')];
    expect(d.slice(0, 8)).toEqual(be(8, 0x1122334455667788n));
    expect(d.slice(8, 12)).toEqual(be(4, 0x100020n - 0x100048n)); // S - P = -0x28
  });
  it('PREL32: S+A-P, no range check (0x1_0010_0000 - 0x100000: low 32 bits 0)', () => {
    const img = okImage(run([rel('.data', 0n, R.PREL32, 'fn'), rel('.data', 4n, R.PREL32, 'abs')], 0x1_0010_0044n));
    expect([...sectionBytes(img, '.data').subarray(0, 8)]).toEqual([...le(4, -0x20n), ...le(4, 0n)]);
  });
  it('MOVW_UABS_G0_NC/G1_NC: bits [15:0]/[31:16] << 5, added to the word (movz x0: 0xd2800000)', () => {
    expect(word([rel('.text', 0n, R.MOVW_UABS_G0_NC, 'abs')], 0x12345678n, {}, textWith(0, 0xd2800000))).toEqual(le(4, 0xd28acf00n));
    expect(word([rel('.text', 0n, R.MOVW_UABS_G1_NC, 'abs')], 0x12345678n, {}, textWith(0, 0xd2800000))).toEqual(le(4, 0xd2824680n));
  });
  it('the field is added, not inserted: imm16 0xffff + 1 carries into hw (0xd29fffe0 + 0x20 = 0xd2a00000)', () => {
    expect(word([rel('.text', 0n, R.MOVW_UABS_G0_NC, 'abs')], 1n, {}, textWith(0, 0xd29fffe0))).toEqual(le(4, 0xd2a00000n));
  });
  it('get_bits(uint32_t value, …): bits 32..63 are lost by the parameter type', () => {
    expect(getBits32(U64.of(0xabcd_1234_5678n), 0, 15)).toBe(0x5678);
    expect(getBits32(U64.of(0xabcd_1234_5678n), 16, 31)).toBe(0x1234);
    expect(getBits32(U64.of(0xabcd_1234_5678n), 32, 47)).toBe(0); // a 32-bit operand shifted by 32: 0 as compiled
  });
  it('CALL26/JUMP26: ((S+A-P) >> 2) & 0x3ffffff added to bl/b; no range check', () => {
    expect(word([rel('.text', 0n, R.CALL26, 'fn')], 0n, {}, textWith(0, 0x94000000))).toEqual(le(4, 0x94000008n));
    expect(word([rel('.text', 0x30n, R.JUMP26, 'fn')], 0n, {}, textWith(0x30, 0x14000000), 0x30)).toEqual(le(4, 0x17fffffcn));
    expect(word([rel('.text', 0n, R.CALL26, 'abs')], 0x1_0010_0000n, {}, textWith(0, 0x94000000))).toEqual(le(4, 0x94000000n));
  });
  it('ADR_PREL_PG_HI21: Page(0x12345678) - Page(0x100000) = 0x12245000; immlo 1 << 29, immhi 0x4891 << 5 (adrp 0x90000000)', () => {
    expect(word([rel('.text', 0n, R.ADR_PREL_PG_HI21, 'abs')], 0x12345678n, {}, textWith(0, 0x90000000))).toEqual(le(4, 0xb0091220n));
  });
  it('ADR_PREL_LO21 is encoded as LD_PREL_LO19 ((S+A-P) << 3 & 0xffffe0; immlo never set)', () => {
    // fn+4 - 0x100000 = 0x24: 0x24 << 3 = 0x120.
    expect(word([rel('.text', 0n, R.ADR_PREL_LO21, 'fn', 4n)], 0n, {}, textWith(0, 0x10000000))).toEqual(le(4, 0x10000120n));
    expect(word([rel('.text', 0n, R.LD_PREL_LO19, 'fn', 4n)], 0n, {}, textWith(0, 0x58000000))).toEqual(le(4, 0x58000120n));
  });
  it('ADD_ABS_LO12_NC: (S+A & 0xfff) << 10; LDST64/128: bits [11:3]/[11:4] << 10', () => {
    expect(word([rel('.text', 0n, R.ADD_ABS_LO12_NC, 'abs')], 0x12345678n, {}, textWith(0, 0x91000000))).toEqual(le(4, 0x9119e000n));
    expect(word([rel('.text', 0n, R.LDST64_ABS_LO12_NC, 'abs')], 0x12345678n, {}, textWith(0, 0xf9400000))).toEqual(le(4, 0xf9433c00n)); // 0x678 << 7 = 0x33c00;
    expect(word([rel('.text', 0n, R.LDST128_ABS_LO12_NC, 'abs')], 0x12345670n, {}, textWith(0, 0x3dc00000))).toEqual(le(4, 0x3dc19c00n));
  });
  it('dies on an unaligned value: LDST64 of 0x1004, LDST128 of 0x1008, ADR_PREL_LO21 of S+A = 0x100022', () => {
    const m = (v: string) => ({ code: 'misaligned', message: `machine_apply_elf_rel: ERROR Unaligned value: ${v}\n` });
    expect(rejection(run([rel('.text', 0n, R.LDST64_ABS_LO12_NC, 'abs')], 0x1004n))).toEqual(m('1004'));
    expect(rejection(run([rel('.text', 0n, R.LDST128_ABS_LO12_NC, 'abs')], 0x1008n))).toEqual(m('1008'));
    expect(rejection(run([rel('.text', 0n, R.ADR_PREL_LO21, 'fn', 2n)]))).toEqual(m('100022'));
  });
  it('dies on R_AARCH64_NONE and every other type: "machine_apply_elf_rel: ERROR Unknown type: %lu"', () => {
    expect(rejection(run([rel('.text', 0n, R.NONE, 'fn')]))).toEqual({ code: 'unknown-relocation', message: 'machine_apply_elf_rel: ERROR Unknown type: 0\n' });
    expect(rejection(run([rel('.text', 0n, R.ABS32, 'fn')]))).toEqual({ code: 'unknown-relocation', message: 'machine_apply_elf_rel: ERROR Unknown type: 258\n' });
  });
  it('reads 8 bytes at every location first (uint64_t data = *location): a 4-byte relocation in the last 4 bytes of the image is out of bounds', () => {
    expect(rejection(run([rel('.data', 0x1cn, R.PREL32, 'fn')])).code).toBe('out-of-bounds');
    expect(okImage(run([rel('.data', 0x18n, R.PREL32, 'fn')])).bytes.length).toBe(0x60);
  });
  it('the read comes before the type switch: an unknown type at a location past the image is out of bounds, not "Unknown type"', () => {
    expect(rejection(run([rel('.data', 0x1000n, R.ABS32, 'fn')])).code).toBe('out-of-bounds');
    expect(rejection(run([rel('.data', 0x18n, R.ABS32, 'fn')])).code).toBe('unknown-relocation');
  });
});

describe('arm64, abi profile (AAELF64)', () => {
  const abi = { profile: 'abi' };
  it('fields are inserted: imm16 0xffff replaced by 1 (0xd29fffe0 → 0xd2800020)', () => {
    expect(word([rel('.text', 0n, R.MOVW_UABS_G0_NC, 'abs')], 1n, abi, textWith(0, 0xd29fffe0))).toEqual(le(4, 0xd2800020n));
  });
  it('MOVW_UABS_G2_NC/G3 take bits [47:32]/[63:48]', () => {
    expect(word([rel('.text', 0n, R.MOVW_UABS_G2_NC, 'abs')], 0x9876_abcd_1234_5678n, abi, textWith(0, 0xf2c00000))).toEqual(le(4, 0xf2d579a0n));
    expect(word([rel('.text', 0n, R.MOVW_UABS_G3, 'abs')], 0x9876_abcd_1234_5678n, abi, textWith(0, 0xf2e00000))).toEqual(le(4, 0xf2f30ec0n));
  });
  it('ADR_PREL_LO21 sets immlo: S+A-P = 0x23 → immlo 3 << 29, immhi 8 << 5', () => {
    expect(word([rel('.text', 0n, R.ADR_PREL_LO21, 'fn', 3n)], 0n, abi, textWith(0, 0x10000000))).toEqual(le(4, 0x70000100n));
  });
  it('range checks: CALL26 beyond ±128 MiB, PREL32 beyond 32 bits, misaligned LDST64', () => {
    expect(rejection(run([rel('.text', 0n, R.CALL26, 'abs')], 0x1_0010_0000n, abi)).code).toBe('overflow');
    expect(rejection(run([rel('.data', 0n, R.PREL32, 'abs')], 0x2_0000_0000n, abi)).code).toBe('overflow');
    expect(rejection(run([rel('.text', 0n, R.LDST64_ABS_LO12_NC, 'abs')], 0x1004n, abi)).code).toBe('misaligned');
  });
});
