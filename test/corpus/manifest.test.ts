import { describe, expect, it } from 'vitest';
import { describeElf, markDuplicates, safeId, type ManifestEntry } from '../../src/corpus/manifest.ts';
import { CorpusFormatError } from '../../src/corpus/errors.ts';
import { synthElf } from './synth-elf.ts';

describe('describeElf', () => {
  it.each([
    ['x86_64 sysv', { machine: 62, endian: 'little' as const }, 0, 'x86_64', 'sysv'],
    ['ppc64 e_flags 1 = ELFv1', { machine: 21, endian: 'big' as const }, 1, 'ppc64', 'elfv1'],
    ['ppc64 e_flags 0 = ELFv1 by default', { machine: 21, endian: 'big' as const }, 0, 'ppc64', 'elfv1'],
    ['ppc64le e_flags 2 = ELFv2', { machine: 21, endian: 'little' as const }, 2, 'ppc64le', 'elfv2'],
    ['ppc64le e_flags 0 = ELFv2 by default', { machine: 21, endian: 'little' as const }, 0, 'ppc64le', 'elfv2'],
    // The other byte order of a one-target machine is held for the loaders' byte-order checks.
    ['EM_S390 (22) little-endian is s390x', { machine: 22, endian: 'little' as const }, 0, 's390x', 'sysv'],
    ['EM_RISCV (243) big-endian is riscv64', { machine: 243, endian: 'big' as const }, 0, 'riscv64', 'sysv'],
  ])('%s', (_n, o, flags, arch, abi) => {
    const obj = synthElf(o);
    new DataView(obj.buffer).setUint32(48, flags, o.endian === 'little');
    const d = describeElf(obj);
    expect([d.arch, d.abi, d.elfType, d.eFlags]).toEqual([arch, abi, 'rel', flags]);
  });

  it('names ET_DYN pie and ET_EXEC exec, and rejects other machines and types', () => {
    expect(describeElf(synthElf({ type: 3 })).elfType).toBe('pie');
    expect(describeElf(synthElf({ type: 2 })).elfType).toBe('exec');
    expect(() => describeElf(synthElf({ type: 4 }))).toThrow(CorpusFormatError);
    expect(() => describeElf(synthElf({ machine: 40 }))).toThrow(CorpusFormatError);
  });
});

describe('markDuplicates', () => {
  const e = (id: string, sha: string, kind: 'kexec-tools-source' | 'debian-kexec-tools-binary'): ManifestEntry =>
    ({ id, sha256: sha, origin: { kind } }) as unknown as ManifestEntry;
  it('points each copy at the first Debian-built entry, else the first id', () => {
    const out = markDuplicates([e('a-src', 'x', 'kexec-tools-source'), e('z-deb', 'x', 'debian-kexec-tools-binary'), e('b-src', 'y', 'kexec-tools-source'), e('c-src', 'y', 'kexec-tools-source')]);
    expect(out.map((x) => [x.id, x.duplicateOf])).toEqual([
      ['a-src', 'z-deb'],
      ['z-deb', undefined],
      ['b-src', undefined],
      ['c-src', 'b-src'],
    ]);
  });
});

it('safeId keeps ids to a file-name alphabet', () => {
  expect(safeId('debian-kexec-tools-2.0.25-3+deb12u3-amd64')).toBe('debian-kexec-tools-2.0.25-3_deb12u3-amd64');
});
