// Targets and the no-model error: a file whose machine no model emulates is a typed error naming
// the machine, for every profile, unless the caller says which loader to emulate (opts.target).
import { describe, expect, it } from 'vitest';
import { EM_AARCH64, EM_RISCV, EM_S390, EM_X86_64, SHF_ALLOC, SHF_EXECINSTR } from '../../src/elf/constants.ts';
import type { ObjectSpec } from '../../src/elf/writer.ts';
import { ALL_TARGETS, NoModelError, TARGETS, isNoModelError, machineName } from '../../src/arch/targets.ts';
import { defaultTarget, makeProfile, PROFILE_IDS } from '../../src/load/profile.ts';
import { targetOf } from '../../src/engine.ts';
import { buildObject } from '../../src/elf/writer.ts';
import { R_RISCV } from '../../src/arch/riscv64.ts';
import { loadObject, okImage, rejection } from '../fixture.ts';

const obj = (machine: number, endian: 'little' | 'big' = 'little', extra: Partial<ObjectSpec> = {}): ObjectSpec => ({
  endian, machine,
  sections: [{ name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(16), addralign: 8n }],
  symbols: [{ name: 'f', section: '.text', value: 0n }],
  ...extra,
});

describe('targets', () => {
  it('machine numbers and byte orders (<elf.h>: EM_AARCH64 183, EM_S390 22, EM_RISCV 243)', () => {
    expect(defaultTarget(183, 'little')).toBe('arm64');
    expect(defaultTarget(22, 'big')).toBe('s390x');
    expect(defaultTarget(243, 'little')).toBe('riscv64');
    expect(defaultTarget(21, 'big')).toBe('ppc64');
    expect(defaultTarget(21, 'little')).toBe('ppc64le');
    expect(TARGETS.s390x.endian).toBe('big');
    expect(ALL_TARGETS).toEqual(['x86_64', 'ppc64', 'ppc64le', 'arm64', 's390x', 'riscv64']);
  });
  it('profiles store in the target\'s byte order', () => {
    expect(makeProfile('kexec-tools', 's390x').storeEndian).toBe('big');
    expect(makeProfile('kexec-tools', 'arm64').storeEndian).toBe('little');
  });
  it('an unknown machine is a NoModelError naming the number and name', () => {
    let err: unknown;
    try { defaultTarget(40, 'little'); } catch (e) { err = e; }
    expect(isNoModelError(err)).toBe(true);
    expect((err as NoModelError).machine).toBe(40);
    expect((err as Error).message).toMatch(/^no model for e_machine 40 \(EM_ARM\): .*--target/);
    expect(machineName(258)).toBe('EM_LOONGARCH');
    expect(targetOf(buildObject(obj(40)))).toBeUndefined();
  });
});

describe('no model: a typed rejection for every profile, never a silent x86_64', () => {
  it.each(PROFILE_IDS)('an EM_ARM object under %s names the machine', (profile) => {
    const r = rejection(loadObject(obj(40), { profile }));
    expect(r.code).toBe('no-model');
    expect(r.message).toContain('e_machine 40 (EM_ARM)');
  });
  it.each(['kernel-5.10', 'kernel-6.1', 'kernel-6.12', 'pie'])('an arm64 object under %s: that loader has no arm64 model', (profile) => {
    const r = rejection(loadObject(obj(EM_AARCH64), { profile }));
    expect(r).toEqual({ code: 'no-model', message: expect.stringMatching(/^no (kernel \d+\.\d+|PIE loader) model for e_machine 183 \(EM_AARCH64\), little-endian$/) });
  });
  it('riscv64 kexec-tools exists from 2.0.32 only', () => {
    expect(rejection(loadObject(obj(EM_RISCV), { profile: 'kexec-tools-2.0.29' }))).toEqual({ code: 'no-model', message: 'no kexec-tools 2.0.29 model for e_machine 243 (EM_RISCV), little-endian' });
  });
  it('--target chooses the loader: an arm64 object under kexec-tools built for x86_64 fails its machine_verify_elf_rel', () => {
    expect(rejection(loadObject(obj(EM_AARCH64), { target: 'x86_64' }))).toEqual({ code: 'wrong-machine', message: 'ELF rel parse failed\n' });
    expect(rejection(loadObject(obj(EM_S390, 'big'), { target: 'arm64' }))).toEqual({ code: 'wrong-machine', message: 'ELF rel parse failed\n' });
    expect(okImage(loadObject(obj(EM_X86_64)))).toBeDefined();
  });
});

describe('riscv64 kexec-tools 2.0.32: machine_apply_elf_rel dies on every type', () => {
  it.each([R_RISCV.NONE, R_RISCV['64'], R_RISCV.CALL, 9999])('type %i: "Unknown rela relocation: %%lu"', (type) => {
    const o = loadObject(obj(EM_RISCV, 'little', { relocations: [{ section: '.text', offset: 0n, type, symbol: 'f' }] }));
    expect(rejection(o)).toEqual({ code: 'unknown-relocation', message: `Unknown rela relocation: ${type}\n` });
  });
  it('an object without relocations loads', () => {
    expect(okImage(loadObject(obj(EM_RISCV))).bytes.length).toBe(16);
  });
});
