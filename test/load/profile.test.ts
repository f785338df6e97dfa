// Profile ids with '+SWITCH' suffixes: the loader with one quirk fixed, each switch at its ABI value.
import { describe, expect, it } from 'vitest';
import { abiSemantics, FIXES, makeProfile } from '../../src/load/profile.ts';
import { load } from '../../src/engine.ts';
import { UsageError } from '../../src/errors.ts';
import { FINDING_INPUTS } from '../../src/findings/inputs.ts';

const input = (id: string, name: string): Uint8Array => FINDING_INPUTS[id]!().find((x) => x.name === name)!.bytes;

describe('+SWITCH suffixes', () => {
  it('a fixed profile differs from its base in exactly that switch', () => {
    const base = makeProfile('kexec-tools-2.0.32', 'ppc64le');
    const fixed = makeProfile('kexec-tools-2.0.32+rel32HostPointer', 'ppc64le');
    expect(base.sem.rel32HostPointer).toBe(true);
    expect(fixed.sem.rel32HostPointer).toBe(false);
    expect({ ...fixed.sem, rel32HostPointer: true }).toEqual(base.sem);
    expect(fixed.fixes).toEqual(['rel32HostPointer']);
    expect(fixed.id).toBe('kexec-tools-2.0.32+rel32HostPointer');
    expect(fixed.version).toBe('2.0.32');
  });
  it('every fixable switch lands on the value the abi profile has', () => {
    const abi = makeProfile('abi', 'ppc64le');
    for (const f of FIXES) {
      const p = makeProfile(`kexec-tools-2.0.20+${f}`, 'ppc64le');
      const got = f in abiSemantics() ? p.sem[f as keyof typeof p.sem] : p[f as 'zeroImage'];
      const want = f in abiSemantics() ? abi.sem[f as keyof typeof abi.sem] : abi[f as 'zeroImage'];
      expect(got, f).toEqual(want);
    }
  });
  it('suffixes stack, and an unknown one is an unknown profile', () => {
    expect(makeProfile('kernel-6.12+alignZeroAsOne+zeroImage', 'x86_64').fixes).toEqual(['alignZeroAsOne', 'zeroImage']);
    expect(() => makeProfile('kexec-tools-2.0.32+noSuchQuirk', 'x86_64')).toThrow(UsageError);
  });
  it('released profiles fix nothing, and kexec-tools leaves its quirks on', () => {
    const kt = makeProfile('kexec-tools-2.0.32', 'x86_64');
    expect([kt.fixes, kt.zeroImage, kt.checkIndexes, kt.checkOffsetWrap]).toEqual([[], false, false, false]);
    const abi = makeProfile('abi', 'x86_64');
    expect([abi.zeroImage, abi.checkIndexes, abi.checkOffsetWrap]).toEqual([true, true, true]);
  });
});

describe('the fixed behaviours (expected values from the ABI and hand-computed layouts)', () => {
  const req = (elf: Uint8Array, fill = 0) => ({ elf, base: 0x100000n, fill, symbols: [] });
  it('rel16Carry: lis 2,.TOC.@ha. .toc at 0x100100 (256-aligned), my_r2 = 0x108100: @h = 0x10, @ha = 0x11', () => {
    const elf = input('kt-ppc64-rel16-rewrite', 'ppc64le');
    const word = (p: string) => {
      const o = load(req(elf), { profile: p });
      if (o.kind !== 'ok') throw new Error(o.kind);
      return Buffer.from(o.image.bytes.subarray(0, 4)).readUInt32LE(0);
    };
    expect(word('kexec-tools-2.0.32')).toBe(0x3c400010);
    expect(word('kexec-tools-2.0.32+rel16Carry')).toBe(0x3c400011);
  });
  it('rel32HostPointer fixed: S+A-P = 0x100008 - 0x100010 = -8, independent of the host address', () => {
    const elf = input('kt-ppc64-rel32-host-pointer', 'ppc64le');
    for (const hostAddress of [0n, 0x1000_0000_1234n]) {
      const o = load(req(elf), { profile: 'kexec-tools-2.0.32+rel32HostPointer', hostAddress });
      if (o.kind !== 'ok') throw new Error(o.kind);
      expect(Buffer.from(o.image.bytes.subarray(16, 20)).readInt32LE(0)).toBe(-8);
    }
  });
  it('zeroImage: the 60 bytes between a 4-byte .text and a 64-aligned .data are zero whatever the fill', () => {
    const elf = input('kt-heap-padding', 'x86_64');
    const pad = (p: string) => {
      const o = load(req(elf, 0xa5), { profile: p });
      if (o.kind !== 'ok') throw new Error(o.kind);
      return [...o.image.bytes.subarray(4, 64)];
    };
    expect(pad('kexec-tools-2.0.32')).toEqual(Array(60).fill(0xa5));
    expect(pad('kexec-tools-2.0.32+zeroImage')).toEqual(Array(60).fill(0));
  });
  it.each([
    ['x86_64-sh-info', 'bad-section-index', 'Invalid section number\n'],
    ['x86_64-st-shndx', 'bad-section-index', 'Invalid section: 6 for symbol g\n'],
    ['x86_64-r-sym', 'bad-relocation', 'Invalid relocation symbol: 1048576\n'],
    ['x86_64-r-offset', 'bad-relocation', 'Invalid relocation offset: 0x100000\n'],
  ])('checkIndexes: %s is refused (%s); kexec-tools reads past its buffers', (name, code, message) => {
    const elf = input('kt-off-by-one-section-index', name);
    expect(load(req(elf), { profile: 'kexec-tools-2.0.32+checkIndexes' })).toMatchObject({ kind: 'rejected', code, message });
    expect(load(req(elf), { profile: 'kexec-tools-2.0.32' })).toMatchObject({ kind: 'rejected', code: 'out-of-bounds' });
  });
  it('checkOffsetWrap: sh_offset 2^64-8 with sh_size 24 no longer passes the file-size check', () => {
    const elf = input('kt-pointer-below-buffer', 'x86_64');
    expect(load(req(elf), { profile: 'kexec-tools-2.0.32+checkOffsetWrap' })).toMatchObject({ kind: 'rejected', code: 'elf-format' });
    const o = load(req(elf), { profile: 'kexec-tools-2.0.32' });
    expect(o).toMatchObject({ kind: 'rejected', code: 'out-of-bounds' });
    expect(o.kind === 'rejected' && o.where?.access?.offset).toBe(-8n);
  });
  it('kernel alignZeroAsOne: .data (align 0) follows the 24-byte .text at +0x18 instead of landing on it', () => {
    const elf = input('kernel-no-align-zero-guard', 'x86_64');
    const addrOf = (p: string) => {
      const o = load(req(elf), { profile: p });
      if (o.kind !== 'ok') throw new Error(o.kind);
      return o.image.sections.find((s) => s.name === '.data')!.addr;
    };
    expect(addrOf('kernel-6.12')).toBe(0x100000n);
    expect(addrOf('kernel-6.12+alignZeroAsOne')).toBe(0x100018n);
  });
  it('REL32 is range-checked where it is S+A-P, not where it subtracts the host pointer', () => {
    // A REL32 to an absolute symbol at 8 GiB from .data at 0x100010: S+A-P does not fit int32.
    const elf = input('kt-no-abi-range-checks', 'ppc64le-addr32').slice();
    const rela = Buffer.from(elf);
    // Rewrite the relocation type ADDR32 (1) into REL32 (26): r_info's low word, in the only .rela entry.
    const at = rela.indexOf(Buffer.from([1, 0, 0, 0, 1, 0, 0, 0]));
    expect(at).toBeGreaterThan(0);
    rela[at] = 26;
    expect(load(req(new Uint8Array(rela)), { profile: 'kexec-tools-2.0.32+rel32HostPointer' })).toMatchObject({ kind: 'rejected', code: 'overflow' });
    expect(load(req(new Uint8Array(rela)), { profile: 'kexec-tools-2.0.32', hostAddress: 0x1000_0000_0000n }).kind).toBe('ok');
  });
});

describe("a local tree's build label (scripts/fetch-kexec-tools.sh) as a profile id", () => {
  it.each([
    ['kexec-tools-2.0.32+git-0f67cdf', '2.0.32'],
    ['kexec-tools-2.0.32+git-0f67cdf-dirty', '2.0.32'],
    ['kexec-tools-2.0.25+tar-0123456789ab', '2.0.25'],
    ['kexec-tools-2.0.20+src-0123456789ab', '2.0.20'],
    ['kexec-tools-unknown+src-0123456789ab', '2.0.32'], // no version: the newest release
    ['kexec-tools-unknown-local-0123456789ab', '2.0.32'], // builds from before the labels
  ])('%s models kexec-tools %s and keeps its label', (id, version) => {
    const p = makeProfile(id, 'x86_64');
    expect(p).toMatchObject({ id, loader: 'kexec-tools', version });
    // The version's own rules (2.0.24 made sh_addralign 0 act as 1), not the newest release's.
    expect(p.alignZeroAsOne).toBe(version !== '2.0.20');
  });
  it('with a quirk switch after the label', () => {
    expect(makeProfile('kexec-tools-2.0.32+git-0f67cdf-dirty+rel32HostPointer', 'ppc64le')).toMatchObject({ version: '2.0.32', fixes: ['rel32HostPointer'] });
  });
  it.each([['kexec-tools-2.0.32+noSuchQuirk'], ['kexec-tools-2.0.32+git'], ['kexec-tools-2.0.32+svn-1234']])('%s is an unknown profile', (id) => {
    expect(() => makeProfile(id, 'x86_64')).toThrow(UsageError);
  });
});
