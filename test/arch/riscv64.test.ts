// The riscv64 arch module: the kernel's immediate encoders against the instruction formats of the
// RISC-V ISA manual (unprivileged spec, "Immediate Encoding Variants" and the RVC CB/CJ formats),
// with expected bits worked out by hand; the kernel's table per version; the messages.
import { describe, expect, it } from 'vitest';
import { ByteView } from '../../src/bytes.ts';
import { constHigh, encodeB, encodeCB, encodeCJ, encodeI, encodeJ, encodeU, encodeUJ, R_RISCV, riscv64 } from '../../src/arch/riscv64.ts';
import { U64 } from '../../src/arch/types.ts';
import { makeProfile } from '../../src/load/profile.ts';

const M64 = (1n << 64n) - 1n;

describe('encoders (ISA manual bit positions, hand-computed)', () => {
  it.each([
    ['B imm[5] -> bit 25', encodeB, 0x20n, 0x0200_0000n],
    ['B -2: imm[12] bit 31, imm[10:5] bits 30:25, imm[4:1] bits 11:8, imm[11] bit 7', encodeB, M64 - 1n, 0xfe00_0f80n],
    ['B imm[11] -> bit 7', encodeB, 0x800n, 0x80n],
    ['J imm[1] -> bit 21', encodeJ, 2n, 0x0020_0000n],
    ['J imm[11] -> bit 20', encodeJ, 0x800n, 0x0010_0000n],
    ['J imm[12] -> bit 12', encodeJ, 0x1000n, 0x1000n],
    ['J imm[20] -> bit 31', encodeJ, 0x10_0000n, 0x8000_0000n],
    ['I imm[11:0] -> bits 31:20', encodeI, 0xfffn, 0xfff0_0000n],
    ['U imm[31:12] -> bits 31:12, low 12 bits dropped', encodeU, 0x1234_5fffn, 0x1234_5000n],
    ['CB imm[8] -> bit 12', encodeCB, 0x100n, 0x1000n],
    ['CB imm[5] -> bit 2', encodeCB, 0x20n, 0x4n],
    ['CB imm[2:1] -> bits 4:3', encodeCB, 0x6n, 0x18n],
    ['CJ imm[11] -> bit 12', encodeCJ, 0x800n, 0x1000n],
    ['CJ imm[10] -> bit 8', encodeCJ, 0x400n, 0x100n],
    ['CJ imm[4] -> bit 11', encodeCJ, 0x10n, 0x800n],
    ['CJ imm[7] -> bit 6, imm[6] -> bit 7', encodeCJ, 0xc0n, 0xc0n],
  ] as const)('%s', (_n, f, x, want) => {
    expect(f(U64.of(x))).toBe(Number(want));
  });

  it('auipc+jalr: the high part carries when bit 11 is set (0x800 = 0x1000 - 0x800)', () => {
    expect(constHigh(U64.of(0x800n))).toBe(0x1000);
    expect(constHigh(U64.of(0x7ffn))).toBe(0);
    // auipc imm 1 (bits 31:12 of the low word), jalr imm -0x800 (0x800 in bits 31:20 of the high word)
    expect(encodeUJ(U64.of(0x800n), new U64()).big()).toBe(0x8000_0000_0000_1000n);
    // -0x10: no high part; jalr imm 0xff0
    expect(encodeUJ(U64.of(M64 - 0xfn), new U64()).big()).toBe(0xff00_0000_0000_0000n);
    // 0x7ffff800: the high part 0x80000000 (auipc imm 0x80000, bit 31), jalr imm -0x800 (0x800 at bits 31:20)
    expect(encodeUJ(U64.of(0x7fff_f800n), new U64()).big()).toBe(0x8000_0000_8000_0000n);
  });
});

describe('the kernel table (arch/riscv/kernel/elf_kexec.c)', () => {
  const k612 = makeProfile('kernel-6.12', 'riscv64').sem;
  const k61 = makeProfile('kernel-6.1', 'riscv64').sem;
  it('R_RISCV_64 is in 6.12 and not in 6.1; NONE and 32 are in neither', () => {
    expect(riscv64.classify(R_RISCV['64'], k612)?.width).toBe(8);
    expect(riscv64.classify(R_RISCV['64'], k61)).toBeUndefined();
    for (const sem of [k61, k612]) {
      expect(riscv64.classify(R_RISCV.NONE, sem)).toBeUndefined();
      expect(riscv64.classify(R_RISCV['32'], sem)).toBeUndefined();
    }
  });

  it('RVC_BRANCH accesses 4 bytes and keeps the upper halfword (*(u32 *)loc)', () => {
    const spec = riscv64.classify(R_RISCV.RVC_BRANCH, k612)!;
    expect(spec.width).toBe(4);
    const buf = new Uint8Array([0xff, 0xff, 0x34, 0x12]);
    spec.write(new ByteView(buf, 'little'), 0, U64.of(0x100n));
    // old 0x1234ffff & ~0x1c7c = 0x1234e383, | bit 12 (imm[8]) = 0x1234f383
    expect(new ByteView(buf, 'little').u32(0)).toBe(0x1234f383);
  });

  it('ADD16/SUB16 wrap at 16 bits', () => {
    const add = riscv64.classify(R_RISCV.ADD16, k61)!;
    const sub = riscv64.classify(R_RISCV.SUB16, k61)!;
    const buf = new Uint8Array([0xf0, 0xff, 0x00, 0x00]);
    const v = new ByteView(buf, 'little');
    add.write(v, 0, U64.of(0x20n));
    expect(v.u16(0)).toBe(0x0010);
    sub.write(v, 2, U64.of(1n));
    expect(v.u16(2)).toBe(0xffff);
  });

  it('messages: the kernel prints an int with its pr_fmt, kexec-tools an unsigned long', () => {
    expect(riscv64.unknownMessage(0xffffffff, k612)).toBe('kexec_image: Unknown rela relocation: -1\n');
    expect(riscv64.unknownMessage(0xffffffff, makeProfile('kexec-tools-2.0.32', 'riscv64').sem)).toBe('Unknown rela relocation: 4294967295\n');
  });

  it('kexec-tools 2.0.32 handles no type at all (its stub dies)', () => {
    const sem = makeProfile('kexec-tools-2.0.32', 'riscv64').sem;
    for (let t = 0; t < 64; t++) expect(riscv64.classify(t, sem)).toBeUndefined();
  });
});
