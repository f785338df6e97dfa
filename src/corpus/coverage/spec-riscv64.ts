// Coverage objects for the kernel's riscv64 relocation hook (arch/riscv/kernel/elf_kexec.c,
// arch_kexec_apply_relocations_add: 6.1.176 lines 365-470, 6.12.107 lines 372-480) and the
// kexec-tools 2.0.32 stub (kexec/arch/riscv/kexec-elf-riscv.c:172-184, `default: die("Unknown rela
// relocation: %lu\n", r_type)`: every type dies at the first relocation).
//
// Expected words are worked out from the kernel's macros (elf_kexec.c, RV_X / ENCODE_*_IMM /
// CLEAN_IMM), on the filler bytes: new = (old & ~ENCODE_X_IMM(-1)) | ENCODE_X_IMM(val - addr),
// with the masks B 0xfe000f80, J 0xfffff000, CB 0x1c7c, CJ 0x1ffc (32-bit accesses) and UI
// 0xfff00000fffff000 (the 64-bit access of CALL/CALL_PLT/PCREL_HI20). PC-relative values use a
// symbol in .text, so val - addr = r_addend - r_offset at every base.
import { SHN_ABS, SHN_COMMON, SHN_UNDEF, STB_GLOBAL, STB_LOCAL, STT_NOTYPE, STT_OBJECT } from '../../elf/constants.ts';
import { R_RISCV } from '../../arch/riscv64.ts';
import { A, AX, WA, enc, filler, foreignMachine, objectFor, refusedByMachineVerify, type CoverageSpec, type Expectation } from './spec.ts';

const SPEC = 'src/corpus/coverage/spec-riscv64.ts';
const R = R_RISCV;
const le = (w: number, v: bigint) => enc('little', w, v);
const text = filler(0x40);
const data = filler(0x20, 0x51);
/** kexec-tools 2.0.32: the stub dies on the object's first relocation. */
const ktDies = (type: number): Expectation => ({ kind: 'rejected', message: `Unknown rela relocation: ${type >>> 0}\n` });
const t0 = { name: 't0', section: '.text', value: 0n, bind: STB_LOCAL };

export const riscv64Specs: CoverageSpec[] = [
  {
    name: 'branch', arch: 'riscv64', spec: SPEC,
    covers: ['R_RISCV_BRANCH', 'R_RISCV_JAL', 'R_RISCV_RVC_BRANCH', 'R_RISCV_RVC_JUMP', 'R_RISCV_BRANCH:max', 'R_RISCV_BRANCH:min', 'R_RISCV_JAL:max', 'R_RISCV_JAL:min', 'R_RISCV_BRANCH:out-of-range'],
    note: 'B/J/CB/CJ immediates at their extremes, written into non-zero instruction words (the other bits stay); no range check (0x2002 loses bit 13 and bit 1 is not encoded)',
    object: objectFor('riscv64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: text, addralign: 16n }],
      symbols: [t0],
      relocations: [
        { section: '.text', offset: 0x00n, type: R.BRANCH, symbol: 't0', addend: 0x20n },
        { section: '.text', offset: 0x04n, type: R.BRANCH, symbol: 't0', addend: 0x04n - 0x1000n },
        { section: '.text', offset: 0x08n, type: R.JAL, symbol: 't0', addend: 0x08n + 0xffffen },
        { section: '.text', offset: 0x0cn, type: R.JAL, symbol: 't0', addend: 0x0cn - 0x100000n },
        { section: '.text', offset: 0x10n, type: R.RVC_BRANCH, symbol: 't0', addend: 0x10n + 0xfen },
        { section: '.text', offset: 0x14n, type: R.RVC_JUMP, symbol: 't0', addend: 0x14n - 0x800n },
        { section: '.text', offset: 0x18n, type: R.BRANCH, symbol: 't0', addend: 0x18n + 0x2002n },
      ],
    }),
    kexecTools: ktDies(R.BRANCH),
    kernel: {
      kind: 'ok',
      bytes: [
        { section: '.text', offset: 0x00, bytes: le(4, 0x033f3031n), why: 'BRANCH x=0x20: (0x473f3931 & ~0xfe000f80) | imm[10:5]=1<<25' },
        { section: '.text', offset: 0x04, bytes: le(4, 0x815b504dn), why: 'BRANCH x=-0x1000 (B min): imm[12]<<31 | imm[10:5]=0x3f<<25 | imm[11]<<7, imm[4:1]=0; old 0x635b554d' },
        { section: '.text', offset: 0x08, bytes: le(4, 0x7ffff169n), why: 'JAL x=0xffffe (J max): imm[10:1]<<21 | imm[11]<<20 | imm[19:12]<<12, imm[20]=0; old 0x7f777169' },
        { section: '.text', offset: 0x0c, bytes: le(4, 0x80000d85n), why: 'JAL x=-0x100000 (J min): only imm[20]<<31; old 0x9b938d85 keeps its low 12 bits' },
        { section: '.text', offset: 0x10, bytes: le(4, 0xb7afadfdn), why: 'RVC_BRANCH x=0xfe: a 32-bit access (*(u32 *)loc), CB bits 0x1c7c set but bit 12 (imm[8]=0); old 0xb7afa9a1 upper half kept' },
        { section: '.text', offset: 0x14, bytes: le(4, 0xd3cbd001n), why: 'RVC_JUMP x=-0x800: CJ imm[11]<<12 only; old 0xd3cbc5bd & ~0x1ffc' },
        { section: '.text', offset: 0x18, bytes: le(4, 0x01e7e159n), why: 'BRANCH x=0x2002: imm[12]=0, imm[11]=0, imm[10:5]=0, imm[4:1]=1 (bit 1) -> 1<<8; bit 13 dropped, no check; old 0xefe7e1d9' },
        { section: '.text', offset: 0x1c, bytes: text.slice(0x1c, 0x40), why: 'untouched' },
      ],
    },
  },
  {
    name: 'call', arch: 'riscv64', spec: SPEC,
    covers: ['R_RISCV_CALL', 'R_RISCV_CALL_PLT', 'R_RISCV_PCREL_HI20', 'R_RISCV_PCREL_LO12_I', 'R_RISCV_RELAX', 'R_RISCV_ALIGN', 'R_RISCV_CALL:carry', 'R_RISCV_PCREL_HI20:writes-next-insn'],
    note: 'auipc+jalr pairs through the 8-byte access: the @hi carry at 0x800, a negative offset, PCREL_HI20 writing its neighbour\'s I immediate (the kernel handles it like CALL), and the no-op PCREL_LO12_I, RELAX and ALIGN',
    object: objectFor('riscv64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: text, addralign: 16n }],
      symbols: [t0],
      relocations: [
        { section: '.text', offset: 0x20n, type: R.CALL, symbol: 't0', addend: 0x20n + 0x800n },
        { section: '.text', offset: 0x20n, type: R.RELAX, symbol: 0 },
        { section: '.text', offset: 0x28n, type: R.CALL_PLT, symbol: 't0', addend: 0x28n - 0x10n },
        { section: '.text', offset: 0x30n, type: R.PCREL_HI20, symbol: 't0', addend: 0x30n + 0x7ffn },
        { section: '.text', offset: 0x34n, type: R.PCREL_LO12_I, symbol: 't0', addend: 0x30n },
        { section: '.text', offset: 0x38n, type: R.ALIGN, symbol: 0, addend: 4n },
      ],
    }),
    kexecTools: ktDies(R.CALL),
    kernel: {
      kind: 'ok',
      bytes: [
        { section: '.text', offset: 0x00, bytes: text.slice(0, 0x20), why: 'untouched' },
        { section: '.text', offset: 0x20, bytes: le(8, 0x800b352d00001911n), why: 'CALL x=0x800: HIGH=(0x800+0x800)&~0xfff=0x1000 -> U imm 1<<12; LOW=-0x800 -> I imm 0x800<<20 in the upper word; old 0x433b352d271f1911 & ~0xfff00000fffff000' },
        { section: '.text', offset: 0x28, bytes: le(8, 0xff036d6500000149n), why: 'CALL_PLT x=-0x10: HIGH=0 -> U imm 0; LOW=-0x10 -> I imm 0xff0<<20; old 0x7b736d655f575149' },
        { section: '.text', offset: 0x30, bytes: le(8, 0x7ffba59d00000981n), why: 'PCREL_HI20 x=0x7ff: HIGH=0, LOW=0x7ff into the next word\'s I immediate too; the PCREL_LO12_I at 0x34 then does nothing; old 0xb3aba59d978f8981' },
        { section: '.text', offset: 0x38, bytes: text.slice(0x38, 0x40), why: 'ALIGN does nothing' },
      ],
    },
  },
  {
    name: 'add-sub', arch: 'riscv64', spec: SPEC,
    covers: ['R_RISCV_ADD16', 'R_RISCV_SUB16', 'R_RISCV_ADD32', 'R_RISCV_SUB32', 'R_RISCV_ADD16:wrap', 'R_RISCV_ADD32:truncate'],
    note: 'the in-place adds and subtracts (6.1 has ADD16/SUB16 since the stable backport of "riscv/kexec_file: Fix relocation type R_RISCV_ADD16 and R_RISCV_SUB16 unknown"), modulo 2^16 and 2^32',
    object: objectFor('riscv64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }, { name: '.data', flags: WA, data, addralign: 8n }],
      symbols: [
        { name: 'a', section: SHN_ABS, value: 0x1234n },
        { name: 'w', section: SHN_ABS, value: 0xfff0n },
        { name: 'b', section: SHN_ABS, value: 0x12345678n },
        { name: 'big', section: SHN_ABS, value: 0x100000010n },
      ],
      relocations: [
        { section: '.data', offset: 0x0n, type: R.ADD16, symbol: 'a' },
        { section: '.data', offset: 0x2n, type: R.SUB16, symbol: 'a' },
        { section: '.data', offset: 0x4n, type: R.ADD16, symbol: 'w' },
        { section: '.data', offset: 0x8n, type: R.ADD32, symbol: 'b' },
        { section: '.data', offset: 0xcn, type: R.SUB32, symbol: 'b' },
        { section: '.data', offset: 0x10n, type: R.ADD32, symbol: 'big' },
      ],
    }),
    kexecTools: ktDies(R.ADD16),
    kernel: {
      kind: 'ok',
      bytes: [
        { section: '.data', offset: 0x0, bytes: le(2, 0x6b85n), why: 'ADD16: 0x5951 + 0x1234' },
        { section: '.data', offset: 0x2, bytes: le(2, 0x552bn), why: 'SUB16: 0x675f - 0x1234' },
        { section: '.data', offset: 0x4, bytes: le(2, 0x755dn), why: 'ADD16: 0x756d + 0xfff0 mod 2^16' },
        { section: '.data', offset: 0x6, bytes: data.slice(6, 8), why: 'untouched' },
        { section: '.data', offset: 0x8, bytes: le(4, 0xb1cbe801n), why: 'ADD32: 0x9f979189 + 0x12345678' },
        { section: '.data', offset: 0xc, bytes: le(4, 0xa97f572dn), why: 'SUB32: 0xbbb3ada5 - 0x12345678' },
        { section: '.data', offset: 0x10, bytes: le(4, 0xd7cfc9d1n), why: 'ADD32: 0xd7cfc9c1 + 0x100000010 mod 2^32 (the high bit is lost)' },
      ],
    },
  },
  {
    name: 'abs64', arch: 'riscv64', spec: SPEC,
    covers: ['R_RISCV_64'],
    note: 'R_RISCV_64 is in 6.12\'s switch (elf_kexec.c:471-473) and not in 6.1\'s: the kernel\'s own 6.12 purgatory has three of them',
    object: objectFor('riscv64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }, { name: '.data', flags: WA, data, addralign: 8n }],
      symbols: [t0, { name: 'v', section: SHN_ABS, value: 0x1122334455667788n }],
      relocations: [
        { section: '.data', offset: 0x0n, type: R['64'], symbol: 'v', addend: 0x10n },
        { section: '.data', offset: 0x8n, type: R['64'], symbol: 't0', addend: 4n },
      ],
    }),
    kexecTools: ktDies(R['64']),
    kernel: {
      kind: 'ok',
      bytes: [{ section: '.data', offset: 0, bytes: le(8, 0x1122334455667798n), why: 'R_RISCV_64: S + A = 0x1122334455667788 + 0x10' }],
      computed: [{ section: '.data', offset: 8, width: 8, value: (base) => base + 4n, why: 'R_RISCV_64: .text (at the image base) + 4' }],
    },
    kernelVersions: { '6.1': { kind: 'rejected', message: 'kexec_image: Unknown rela relocation: 2\n' } },
  },
  {
    name: 'unknown-none', arch: 'riscv64', spec: SPEC,
    covers: ['error:unknown-type', 'R_RISCV_NONE:unhandled'],
    note: 'R_RISCV_NONE has no case in either switch',
    object: objectFor('riscv64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }],
      symbols: [t0],
      relocations: [{ section: '.text', offset: 0n, type: R.NONE, symbol: 't0' }],
    }),
    kexecTools: ktDies(R.NONE),
    kernel: { kind: 'rejected', message: 'kexec_image: Unknown rela relocation: 0\n' },
  },
  {
    name: 'unknown-negative', arch: 'riscv64', spec: SPEC,
    covers: ['error:unknown-type-int'],
    note: 'r_type 0xffffffff: the kernel keeps ELF64_R_TYPE in an int and prints %d; kexec-tools prints %lu',
    object: objectFor('riscv64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }],
      symbols: [t0],
      relocations: [{ section: '.text', offset: 0n, type: 0xffffffff, symbol: 't0' }],
    }),
    kexecTools: ktDies(0xffffffff),
    kernel: { kind: 'rejected', message: 'kexec_image: Unknown rela relocation: -1\n' },
  },
  {
    name: 'undefined-symbol', arch: 'riscv64', spec: SPEC,
    covers: ['symbol:undefined-unchecked'],
    note: 'the riscv hook has no SHN_UNDEF check: sec_base = sechdrs[0].sh_addr (0), so S = st_value; kexec-tools accepts an undefined STT_NOTYPE symbol too, then its stub dies',
    object: objectFor('riscv64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }, { name: '.data', flags: WA, data, addralign: 8n }],
      symbols: [{ name: 'u', section: SHN_UNDEF, bind: STB_GLOBAL, type: STT_NOTYPE }],
      relocations: [{ section: '.data', offset: 0x14n, type: R.ADD32, symbol: 'u', addend: 0x55n }],
    }),
    kexecTools: ktDies(R.ADD32),
    kernel: { kind: 'ok', bytes: [{ section: '.data', offset: 0x14, bytes: le(4, 0xf3ebe632n), why: 'ADD32: 0xf3ebe5dd + (0 + 0 + 0x55)' }] },
  },
  {
    name: 'common-symbol', arch: 'riscv64', spec: SPEC,
    covers: ['error:common-symbol'],
    note: 'no SHN_COMMON check either: 0xfff2 >= e_shnum is an invalid section (kexec-tools: its common-section die)',
    object: objectFor('riscv64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }, { name: '.data', flags: WA, data, addralign: 8n }],
      symbols: [{ name: 'c', section: SHN_COMMON, bind: STB_GLOBAL, value: 8n, size: 8n }],
      relocations: [{ section: '.data', offset: 0n, type: R.ADD32, symbol: 'c' }],
    }),
    kexecTools: { kind: 'rejected', message: "symbol: 'c' in common section\n" },
    kernel: { kind: 'rejected', message: 'kexec_image: Invalid section 65522 for symbol c\n' },
  },
  {
    name: 'bad-section', arch: 'riscv64', spec: SPEC,
    covers: ['error:bad-section-index'],
    note: 'st_shndx 0x50 >= e_shnum (kexec-tools checks > e_shnum)',
    object: objectFor('riscv64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 16n }, { name: '.rodata', flags: A, data, addralign: 8n }],
      symbols: [{ name: 's', section: 0x50, bind: STB_GLOBAL }],
      relocations: [{ section: '.rodata', offset: 0n, type: R.ADD32, symbol: 's' }],
    }),
    kexecTools: { kind: 'rejected', message: 'Invalid section: 80 for symbol s\n' },
    kernel: { kind: 'rejected', message: 'kexec_image: Invalid section 80 for symbol s\n' },
  },
  {
    name: 'symbol-writes', arch: 'riscv64', spec: SPEC,
    covers: ['layout:symbol-write-local-skipped', 'layout:symbol-write-1', 'layout:symbol-write-2', 'layout:symbol-write-4', 'layout:symbol-write-8', 'layout:symbol-write-odd', 'layout:symbol-write-large'],
    note: 'no relocations (kexec-tools\' stub dies on any): global data symbols of the realistic cases with sizes 1, 2, 4, 8 and 0x233 at odd offsets of two sections, a local of the same name first',
    object: objectFor('riscv64', {
      entry: 0n,
      sections: [
        { name: '.text', flags: AX, data: filler(0x10), addralign: 16n },
        { name: '.data', flags: WA, data: filler(0x40, 0x20), addralign: 8n },
        { name: '.data.big', flags: WA, data: filler(0x260, 0x30), addralign: 16n },
      ],
      symbols: [
        { name: 'sha256_digest', section: '.data', value: 0x30n, size: 1n, type: STT_OBJECT, bind: STB_LOCAL },
        { name: 'sha256_digest', section: '.data', value: 3n, size: 1n, type: STT_OBJECT, bind: STB_GLOBAL },
        { name: 'sha256_regions', section: '.data', value: 6n, size: 2n, type: STT_OBJECT, bind: STB_GLOBAL },
        { name: 'entry64_regs', section: '.data', value: 0xcn, size: 4n, type: STT_OBJECT, bind: STB_GLOBAL },
        { name: 'cmdline_end', section: '.data', value: 0x18n, size: 8n, type: STT_OBJECT, bind: STB_GLOBAL },
        { name: 'jump_back_entry', section: '.data.big', value: 0x21n, size: 0x233n, type: STT_OBJECT, bind: STB_GLOBAL },
      ],
    }),
    // .text at 0, .data ALIGN(0x10, 8) = 0x10, .data.big ALIGN(0x50, 16) = 0x50, end 0x2b0.
    kexecTools: { kind: 'ok', offsets: { '.text': 0n, '.data': 0x10n, '.data.big': 0x50n }, memsz: 0x2b0n, entry: 0n },
    // The kernel rounds memsz up to PAGE_SIZE (kexec_add_buffer).
    kernel: { kind: 'ok', offsets: { '.text': 0n, '.data': 0x10n, '.data.big': 0x50n }, memsz: 0x1000n, entry: 0n },
  },
  // machine_verify_elf_rel's other two checks (built for RV64): ei_data ELFDATA2LSB, ei_class
  // ELFCLASS64. No relocations, so the stub never dies in a loader that skipped them.
  ...refusedByMachineVerify('riscv64', SPEC, [
    { name: '.text', flags: AX, data: filler(0x10), addralign: 4n }, { name: '.data', flags: WA, data, addralign: 16n },
  ], [
    ['big-endian', 'error:wrong-byte-order', 'a big-endian (ELFDATA2MSB) ELFCLASS64 EM_RISCV object', { endian: 'big' }],
    ['elfclass32', 'error:wrong-class', 'a little-endian ELFCLASS32 EM_RISCV object (RV32)', { is64: false }],
  ]),
  foreignMachine('riscv64', SPEC, 'arm64', 'a little-endian ELF64 EM_AARCH64 object fed to the riscv64 loader: machine_verify_elf_rel refuses its e_machine'),
  {
    name: 'no-relocations', arch: 'riscv64', spec: SPEC, covers: ['layout:no-relocations'],
    note: 'no relocation to apply: elf_rel_load lays the sections out as on every arch',
    object: objectFor('riscv64', {
      entry: 4n,
      sections: [{ name: '.text', flags: AX, data: filler(0x14), addralign: 4n }, { name: '.data', flags: WA, data, addralign: 16n }],
      symbols: [{ name: 'v', section: '.data', value: 0n }],
    }),
    kexecTools: { kind: 'ok', offsets: { '.text': 0n, '.data': 0x20n }, memsz: 0x40n, entry: 4n, bytes: [{ section: '.data', offset: 0, bytes: data, why: 'copied as is' }] },
  },
];
