// Coverage objects for kexec-tools' riscv hook (2.0.32, kexec/arch/riscv/kexec-elf-riscv.c):
// machine_apply_elf_rel is `switch (r_type) { default: die("Unknown rela relocation: %lu\n", r_type); }`,
// so any relocation in an SHF_ALLOC section kills the load; an object without one loads.
import { SHN_ABS } from '../../elf/constants.ts';
import { R_RISCV } from '../../arch/riscv64.ts';
import { AX, WA, filler, objectFor, foreignMachine, type CoverageSpec } from './spec.ts';

const SPEC = 'src/corpus/coverage/spec-riscv64.ts';

function dies(type: number, name: string): CoverageSpec {
  return {
    name: `dies-${type}`, arch: 'riscv64', spec: SPEC, covers: [`${name}:dies`, 'error:unknown-type'],
    note: `${name}: every type dies`,
    object: objectFor('riscv64', {
      entry: 0n,
      sections: [{ name: '.text', flags: AX, data: filler(0x10), addralign: 4n }],
      symbols: [{ name: 'v', section: SHN_ABS, value: 0x10n }],
      relocations: [{ section: '.text', offset: 0n, type, symbol: 'v' }],
    }),
    kexecTools: { kind: 'rejected', message: `Unknown rela relocation: ${type}\n` },
  };
}

const data = filler(0x20, 0x45);

export const riscv64Specs: CoverageSpec[] = [
  foreignMachine('riscv64', SPEC, 'arm64', 'a little-endian ELF64 EM_AARCH64 object fed to the riscv64 loader: machine_verify_elf_rel refuses its e_machine'),
  dies(R_RISCV.NONE, 'R_RISCV_NONE'),
  dies(R_RISCV['64'], 'R_RISCV_64'),
  dies(R_RISCV.CALL, 'R_RISCV_CALL'),
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
