// The kernel load model (src/load/kernel.ts): one test per difference between 5.10, 6.1 and 6.12,
// and per difference from kexec-tools. Expected values are worked out by hand from
// kernel/kexec_file.c and arch/x86/kernel/machine_kexec_64.c as oracle/kernel/NOTES.md quotes them
// (ALIGN(x, a) = (x + a-1) & ~(a-1); PAGE_SIZE 4K on x86_64, 64K on ppc64le).
// Every load made here is recorded, and the last test replays them all through the live kernel
// oracles: the hand-derived expectations are also the real kernel code's behaviour.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { load } from '../../src/engine.ts';
import { DEFAULT_CORPUS } from '../../src/validate/validate.ts';
import type { ManifestEntry } from '../../src/corpus/manifest.ts';
import {
  EM_PPC64, EM_X86_64, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, SHN_COMMON, SHN_UNDEF, SHT_NOBITS,
  STB_LOCAL, STB_WEAK, STT_FUNC, STT_OBJECT,
} from '../../src/elf/constants.ts';
import { buildObject, type ObjRelocation, type ObjSymbol, type ObjectSpec } from '../../src/elf/writer.ts';
import { ElfFile } from '../../src/elf/reader.ts';
import { R_X86_64 } from '../../src/arch/x86_64.ts';
import { makeProfile } from '../../src/load/profile.ts';
import {
  EINVAL, ENOEXEC, ENOMEM, KERNEL_ERRNO, KERNEL_MESSAGE_CLASSES, kernelEntry, layoutKernel, parseKernel, shiftKernelLayout, type KernelLayoutSection,
} from '../../src/load/kernel.ts';
import { shiftable } from '../../src/load/kexec-tools.ts';
import { refRejectionClass, refRejectionText, tsRejectionClass } from '../../src/compare/compare.ts';
import type { Outcome, RejectionCode } from '../../src/types.ts';
import { compareOutcomes } from '../../src/compare/compare.ts';
import { targetOf } from '../../src/engine.ts';
import { findKernelOracle, KERNEL_BUILDS, openKernelOracle, type KernelVersion } from '../../src/oracle/kernel.ts';
import { isOracleUnavailableError } from '../../src/oracle/registry.ts';
import type { Arch, LoadRequest } from '../../src/types.ts';
import {
  bytesOf, le, loadBytes as fixtureLoadBytes, okImage, patchShdr, rejection, sectionAddr, sectionBytes, sectionIndex, std, type LoadOpts,
} from '../fixture.ts';

/** Every kernel-profile load of this file, replayed live at the end. */
const recorded: { version: KernelVersion; target: Arch; req: LoadRequest; outcome: Outcome }[] = [];
function loadBytes(elf: Uint8Array, o: LoadOpts = {}): Outcome {
  const outcome = fixtureLoadBytes(elf, o);
  const version = /^kernel-(.*)$/.exec(o.profile ?? '')?.[1] as KernelVersion | undefined;
  const target = o.target ?? targetOf(elf);
  if (version && target) recorded.push({ version, target, req: { elf, base: o.base ?? 0x100000n, fill: o.fill ?? 0, symbols: o.symbols ?? [], ...(o.probes ? { probes: o.probes } : {}) }, outcome });
  return outcome;
}
const loadObject = (spec: ObjectSpec, o: LoadOpts = {}): Outcome => loadBytes(buildObject(spec), o);

const R = R_X86_64;
const AX = SHF_ALLOC | SHF_EXECINSTR;
const WA = SHF_ALLOC | SHF_WRITE;
const VERSIONS = ['5.10', '6.1', '6.12'] as const;
const kernel = (v: string, o: LoadOpts = {}): LoadOpts => ({ profile: `kernel-${v}`, ...o });

// The standard x86_64 object (test/fixture.ts std()): .text AX 0x20 align 16 → mem + 0, .data WA
// 0x10 align 8 → mem + 0x20, .bss NOBITS 0x40 align 32 → bufsz ALIGN(0x30, 32) = 0x40 → mem + 0x40.
const reloc = (type: number, offset: bigint, symbol: string | number, addend = 0n, section = '.text'): ObjRelocation =>
  ({ section, offset, type, symbol, addend });

/** .text (AX, 0x10) then .text.hot (AX, 0x20), both align 16; .data (WA, 0x10). */
function twoText(entry: bigint, symbols: ObjSymbol[] = []): ObjectSpec {
  return {
    endian: 'little', machine: EM_X86_64, entry,
    sections: [
      { name: '.text', flags: AX, data: new Uint8Array(0x10).fill(0x90), addralign: 16n },
      { name: '.text.hot', flags: AX, data: new Uint8Array(0x20).fill(0xc3), addralign: 16n },
      { name: '.data', flags: WA, data: new Uint8Array(0x10), addralign: 16n },
    ],
    symbols,
  };
}
const pstart = (section: string, value: bigint, bind?: number): ObjSymbol =>
  ({ name: 'purgatory_start', section, value, type: STT_FUNC, bind });

function rejectedWith(o: Outcome, code: RejectionCode, message: string): void {
  expect(rejection(o)).toEqual({ code, message });
}

// -------------------------------------------------------------------------------------------
describe('profiles: each version difference is one line', () => {
  it('5.10 re-matches e_entry; 6.1 and 6.12 use purgatory_start', () => {
    expect(makeProfile('kernel-5.10', 'x86_64').entryRule).toBe('exec-rematch');
    expect(makeProfile('kernel-6.1', 'x86_64').entryRule).toBe('purgatory-start');
    expect(makeProfile('kernel-6.12', 'x86_64').entryRule).toBe('purgatory-start');
  });
  it('PAGE_SIZE is 4K on x86_64 and 64K on ppc64le; sh_addralign 0 is not mapped to 1', () => {
    expect(makeProfile('kernel-6.1', 'x86_64').pageSize).toBe(4096n);
    expect(makeProfile('kernel-6.1', 'ppc64le').pageSize).toBe(65536n);
    expect(makeProfile('kernel-6.1', 'x86_64').alignZeroAsOne).toBe(false);
  });
  it('refuses a kernel version whose loader was not checked', () => {
    expect(() => makeProfile('kernel-4.19', 'x86_64')).toThrow(/unknown profile/);
  });
});

// -------------------------------------------------------------------------------------------
describe.each(VERSIONS.map((v) => [v]))('layout, kernel %s', (v) => {
  it('bufsz includes the padding up to the bss alignment; memsz is page-rounded', () => {
    const img = okImage(loadObject(std(), kernel(v, { fill: 0xa5 })));
    expect(img.base).toBe(0x100000n);
    expect(sectionAddr(img, '.text')).toBe(0x100000n);
    expect(sectionAddr(img, '.data')).toBe(0x100020n);
    expect(sectionAddr(img, '.bss')).toBe(0x100040n); // mem + bufsz
    expect(img.bytes.length).toBe(0x40); // ALIGN(0x30, 32); kexec-tools hands on 0x30
    expect([...img.bytes.subarray(0x30)]).toEqual(new Array(0x10).fill(0)); // vzalloc: zero whatever the fill
    expect(img.memsz).toBe(0x1000n); // ALIGN(0x40 + 0x40, 4096)
    expect(img.entry).toBe(0x100000n); // e_entry 0 in .text
  });

  it('aligns the base to max(buf_align, PAGE_SIZE)', () => {
    expect(okImage(loadObject(std(), kernel(v, { base: 0x100123n }))).base).toBe(0x101000n);
    const big = std();
    big.sections[1] = { ...big.sections[1]!, addralign: 0x2000n };
    expect(okImage(loadObject(big, kernel(v, { base: 0x100123n }))).base).toBe(0x102000n);
  });

  it('ppc64le: 64K pages', () => {
    const spec: ObjectSpec = {
      endian: 'little', machine: EM_PPC64, flags: 2,
      sections: [{ name: '.text', flags: AX, data: new Uint8Array(0x40).fill(0x60), addralign: 4n }],
      symbols: [pstart('.text', 0n)],
    };
    const img = okImage(loadObject(spec, kernel(v, { base: 0x123456n })));
    expect(img.base).toBe(0x130000n);
    expect(img.memsz).toBe(0x10000n);
    expect(img.bytes.length).toBe(0x40);
  });

  it('sh_addralign 0 on a PROGBITS section: ALIGN(x, 0) = 0 copies it over offset 0', () => {
    const spec = std();
    spec.sections = [spec.sections[0]!, { ...spec.sections[1]!, addralign: 0n }];
    spec.symbols = [];
    const img = okImage(loadObject(spec, kernel(v)));
    expect(sectionAddr(img, '.text')).toBe(0x100000n);
    expect(sectionAddr(img, '.data')).toBe(0x100000n); // kexec-tools >= 2.0.24: 0x100020
    expect(img.bytes.length).toBe(0x10); // bufsz = ALIGN(0x20, 0) + 0x10
    expect([...img.bytes]).toEqual(new Array(0x10).fill(0x11)); // .data over .text; .text's tail absorbed by the page
  });

  it('sh_addralign 0 on a NOBITS section: sh_addr = ALIGN(bss_addr, 0) = 0, absolute', () => {
    const spec = std();
    spec.sections = [spec.sections[0]!, { ...spec.sections[2]!, addralign: 0n }];
    spec.symbols = [];
    const img = okImage(loadObject(spec, kernel(v)));
    expect(sectionAddr(img, '.bss')).toBe(0n);
    expect(img.bytes.length).toBe(0x20); // bss_align stays 1
    expect(img.memsz).toBe(0x1000n); // ALIGN(0x20 + 0x40, 4096)
  });
});

describe('parseKernel: the section header table as decoded, before any check', () => {
  const x86 = makeProfile('kernel-6.12', 'x86_64');
  /** An Elf64_Ehdr (little-endian) with e_shoff and e_shnum, padded to `size` bytes. */
  function table(size: number, shoff: bigint, shnum: number): Uint8Array {
    const b = new Uint8Array(size);
    b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0x28, shoff, true);
    dv.setUint16(0x3c, shnum, true);
    return b;
  }

  it('a header wholly past the input reads as zeros; one straddling the end keeps the fields inside', () => {
    // 0x90 bytes, e_shoff 0x40: header 0 at 0x40 is whole, header 1 at 0x80 has sh_name, sh_type
    // and sh_flags (0x80..0x90) inside, header 2 at 0xc0 lies wholly past the end.
    const b = table(0x90, 0x40n, 3);
    const dv = new DataView(b.buffer);
    dv.setUint32(0x40, 7, true); dv.setBigUint64(0x48, 2n, true); dv.setBigUint64(0x78, 0x40n, true);
    dv.setUint32(0x80, 9, true); dv.setUint32(0x84, 1, true); dv.setBigUint64(0x88, 6n, true);
    const k = parseKernel(b, x86);
    const pick = ({ index, name, type, flags, size, addralign, entsize, hdrOffset }: (typeof k.sections)[number]) => ({ index, name, type, flags, size, addralign, entsize, hdrOffset });
    expect(k.sections.map(pick)).toEqual([
      { index: 0, name: 7, type: 0, flags: 2n, size: 0n, addralign: 0n, entsize: 0x40n, hdrOffset: 0x40 },
      { index: 1, name: 9, type: 1, flags: 6n, size: 0n, addralign: 0n, entsize: 0n, hdrOffset: 0x80 },
      { index: 2, name: 0, type: 0, flags: 0n, size: 0n, addralign: 0n, entsize: 0n, hdrOffset: 0xc0 },
    ]);
  });

  it('a header whose field offsets wrap past 2^64 into the input reads them from there', () => {
    // e_shoff 2^64 - 8: sh_name and sh_type lie past the end, sh_flags (+8) wraps to offset 0,
    // the ELF magic: 7f 45 4c 46 02 01 01 00 as a little-endian u64.
    const k = parseKernel(table(0x40, (1n << 64n) - 8n, 1), x86);
    expect(k.sections[0]!.name).toBe(0);
    expect(k.sections[0]!.flags).toBe(0x00010102464c457fn);
  });

  it('an ELF32 header read as Elf64: every one of its 29033 headers lies past the end and is a zero header', () => {
    // e_shoff 0x28000000000034 (the ELF32 e_shoff 0x34 and e_flags/e_ehsize read as one u64), e_shnum 29033.
    const k = parseKernel(table(0x198, 0x28000000000034n, 29033), x86);
    expect(k.sections).toHaveLength(29033);
    expect(k.sections.every((s) => s.flags === 0n && s.type === 0 && s.size === 0n)).toBe(true);
    expect(k.sections[29032]!.hdrOffset).toBe(Number((0x28000000000034n + 29032n * 64n) & 0xffffffffffffn));
  });
});

describe('layoutKernel (pure)', () => {
  const sec = (type: number, flags: bigint, size: bigint, addralign: bigint, offset = 0x1000n): KernelLayoutSection =>
    ({ type, flags, addr: 0n, size, addralign, offset });
  it('non-NOBITS: buffer offsets; NOBITS: addresses after bufsz and their file offset kept; non-ALLOC untouched', () => {
    const lay = layoutKernel([
      sec(0, 0n, 0n, 0n, 0n),
      sec(1, AX, 0x21n, 16n),
      sec(1, WA, 0x8n, 64n),
      sec(SHT_NOBITS, WA, 0x10n, 128n, 0x2000n),
      sec(1, 0n, 0x10n, 1n, 0x3000n),
    ], 0x5000n, 4096n);
    // bufsz: ALIGN(0x21, 64) + 8 = 0x48 → ALIGN(0x48, 128) = 0x80; buf_align max(64, 128) = 128
    expect(lay.bufsz).toBe(0x80n);
    expect(lay.bufAlign).toBe(128n);
    expect(lay.mem).toBe(0x5000n);
    expect(lay.memsz).toBe(0x1000n);
    expect(lay.addr).toEqual([0n, 0x5000n, 0x5040n, 0x5080n, 0n]);
    expect(lay.offset).toEqual([0n, 0n, 0x40n, 0x2000n, 0x3000n]);
  });

  // The premise of shiftKernelLayout: with power-of-two alignments (shiftable), ALIGN(mem + x, a) =
  // mem + ALIGN(x, a) mod 2^64 for mem aligned to max(buf_align, PAGE_SIZE). Checked against the
  // layout computed at the base itself, over every pair of sections from a grid (types, flags,
  // alignments, sizes up to wrapping) followed by a NOBITS one, at bases up to 2^64 - 1.
  it('every two-section table of a grid with power-of-two alignments: the layout at a base is the layout at 0 moved', () => {
    const kinds = [[1, AX], [1, 0n], [SHT_NOBITS, WA]] as const;
    const aligns = [0n, 1n, 16n, 0x1000n, 0x10000n, 1n << 40n, 1n << 63n];
    const sizes = [0x123n, 0x4000n, (1n << 64n) - 0x10n];
    const bases = [0n, 0x100000n, 0x12345678n, 0xdeadbeef12345n, (1n << 64n) - 0x1000n, (1n << 64n) - 1n];
    const x86 = makeProfile('kernel-6.1', 'x86_64');
    const ppc = makeProfile('kernel-6.12', 'ppc64le');
    let checked = 0, skipped = 0;
    for (const [t1, f1] of kinds) for (const a1 of aligns) for (const z1 of sizes) {
      for (const [t2, f2] of kinds) for (const a2 of aligns) {
        const secs: KernelLayoutSection[] = [
          { type: t1, flags: f1, addr: 0x40n, size: z1, addralign: a1, offset: 0x40n },
          { type: t2, flags: f2, addr: 0n, size: 0x30n, addralign: a2, offset: 0x1000n },
          { type: SHT_NOBITS, flags: WA, addr: 0n, size: 0x88n, addralign: 32n, offset: 0x2000n },
        ];
        const alloc = secs.map((x) => (x.flags & SHF_ALLOC) !== 0n);
        for (const p of [x86, ppc, { ...x86, alignZeroAsOne: true }]) {
          if (!shiftable(secs, p)) {
            skipped++;
            continue;
          }
          const l0 = layoutKernel(secs, 0n, p.pageSize, p.alignZeroAsOne);
          for (const base of bases) {
            expect(shiftKernelLayout(l0, alloc, base, p.pageSize)).toEqual(layoutKernel(secs, base, p.pageSize, p.alignZeroAsOne));
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(5000);
    expect(skipped).toBeGreaterThan(0); // align 0 (without alignZeroAsOne) is not shiftable
  });
});

// -------------------------------------------------------------------------------------------
describe('entry point (image->start) per version', () => {
  // [case, spec, base, 5.10, 6.1 and 6.12]
  const cases: [string, ObjectSpec, bigint, bigint, bigint][] = [
    ['an earlier exec section containing e_entry beats a later purgatory_start',
      twoText(0n, [pstart('.text.hot', 4n)]), 0x100000n, 0x100000n, 0x100000n],
    ['purgatory_start in the first exec section',
      twoText(0n, [pstart('.text', 8n)]), 0x100000n, 0x100000n, 0x100008n],
    ['5.10 re-matches while start == e_entry (base 0: .text lands at 0, .text.hot at 0x10)',
      twoText(0n), 0n, 0x10n, 0n],
    ['e_entry outside every section, purgatory_start in .text.hot (.text.hot at mem + 0x10)',
      twoText(0x100n, [pstart('.text.hot', 4n)]), 0x100000n, 0x100n, 0x100014n],
    ['a weak purgatory_start is not found',
      twoText(0x100n, [pstart('.text.hot', 4n, STB_WEAK)]), 0x100000n, 0x100n, 0x100n],
    ['a local purgatory_start is not found',
      twoText(0x100n, [pstart('.text.hot', 4n, STB_LOCAL)]), 0x100000n, 0x100n, 0x100n],
    ['purgatory_start in a non-exec section is ignored',
      twoText(0x100n, [pstart('.data', 0n)]), 0x100000n, 0x100n, 0x100n],
    ['purgatory_start with st_value >= sh_size is ignored',
      twoText(0x100n, [pstart('.text.hot', 0x20n)]), 0x100000n, 0x100n, 0x100n],
    ['e_entry only inside .text.hot (0x18 >= .text size 0x10)',
      twoText(0x18n), 0x100000n, 0x100028n, 0x100028n],
    ['an undefined first global purgatory_start makes find_symbol return NULL',
      twoText(0x100n, [{ name: 'purgatory_start', section: SHN_UNDEF }, pstart('.text.hot', 4n)]), 0x100000n, 0x100n, 0x100n],
  ];
  it.each(cases)('%s', (_name, spec, base, v510, v61) => {
    const elf = buildObject(spec);
    expect(okImage(loadBytes(elf, kernel('5.10', { base }))).entry).toBe(v510);
    expect(okImage(loadBytes(elf, kernel('6.1', { base }))).entry).toBe(v61);
    expect(okImage(loadBytes(elf, kernel('6.12', { base }))).entry).toBe(v61);
  });

  it('kernelEntry is pure: the rule and the symbol decide', () => {
    const secs: KernelLayoutSection[] = [
      { type: 0, flags: 0n, addr: 0n, size: 0n, addralign: 0n, offset: 0n },
      { type: 1, flags: AX, addr: 0n, size: 0x10n, addralign: 16n, offset: 0x40n },
      { type: 1, flags: AX, addr: 0n, size: 0x20n, addralign: 16n, offset: 0x50n },
    ];
    const lay = layoutKernel(secs, 0x200000n, 4096n);
    expect(kernelEntry(secs, 0n, lay, 'exec-rematch')).toBe(0x200000n);
    expect(kernelEntry(secs, 0n, lay, 'purgatory-start', { shndx: 1, value: 4n })).toBe(0x200004n);
    expect(kernelEntry(secs, 0x30n, lay, 'purgatory-start', { shndx: 2, value: 4n })).toBe(0x200014n);
  });
});

// -------------------------------------------------------------------------------------------
describe.each(VERSIONS.map((v) => [v]))('relocations and rejections, kernel %s', (v) => {
  it('applies R_X86_64_64, PC32, PLT32, 32 and 32S by the psABI over the kernel layout', () => {
    const img = okImage(loadObject(std([
      reloc(R['64'], 0n, 'var', 2n), reloc(R.PC32, 8n, 'var', -4n), reloc(R.PLT32, 12n, 'fn', -4n),
      reloc(R['32'], 16n, 'var'), reloc(R['32S'], 20n, 'absv'),
    ]), kernel(v)));
    // var = .data + 8 = 0x100028; P(.text+8) = 0x100008; P(.text+12) = 0x10000c
    expect([...sectionBytes(img, '.text').subarray(0, 24)]).toEqual([
      ...le(8, 0x10002an), ...le(4, 0x100028n - 4n - 0x100008n), ...le(4, 0x100000n - 4n - 0x10000cn),
      ...le(4, 0x100028n), ...le(4, 0x1234n),
    ]);
    expect(img.relocations.map((r) => [r.typeName, r.imageOffset, r.width])).toEqual([
      ['R_X86_64_64', 0, 8], ['R_X86_64_PC32', 8, 4], ['R_X86_64_PLT32', 12, 4], ['R_X86_64_32', 16, 4], ['R_X86_64_32S', 20, 4],
    ]);
  });

  it('the default log (replayed when read) describes the bytes that were loaded, even after the caller changed them', () => {
    const elf = buildObject(std([reloc(R['64'], 0n, 'var', 2n)]));
    const img = okImage(fixtureLoadBytes(elf, kernel(v))); // not recorded for the live replay: the bytes change below
    elf.fill(0); // the caller reuses its array before reading the log
    // var = .data + 8 = 0x100028, + 2
    expect(img.relocations.map((r) => [r.typeName, r.symbol, r.addend, r.value, [...r.bytes]])).toEqual([
      ['R_X86_64_64', 'var', 2n, 0x10002an, le(8, 0x10002an)],
    ]);
  });

  it('PC32 has no range check: the u32 is silently truncated', () => {
    // absv - P = 0x1234 - 0x100000000 → (u32) 0x1234
    const img = okImage(loadObject(std([reloc(R.PC32, 0n, 'absv')]), kernel(v, { base: 0x1_0000_0000n })));
    expect([...sectionBytes(img, '.text').subarray(0, 4)]).toEqual(le(4, 0x1234n));
  });

  it('R_X86_64_32 / 32S overflow: "%d" type and "0x%lx" value', () => {
    rejectedWith(loadObject(std([reloc(R['32'], 0n, 'var')]), kernel(v, { base: 0x1_0000_0000n })),
      'overflow', 'kexec: Overflow in relocation type 10 value 0x100000028\n');
    rejectedWith(loadObject(std([reloc(R['32S'], 0n, 'var')]), kernel(v, { base: 0x8000_0000n })),
      'overflow', 'kexec: Overflow in relocation type 11 value 0x80000028\n');
  });

  it('unknown types: "%llu" of ELF64_R_TYPE (GOTPCREL and PC64 are rejected too)', () => {
    rejectedWith(loadObject(std([reloc(R.GOTPCREL, 0n, 'var')]), kernel(v)), 'unknown-relocation', 'kexec: Unknown rela relocation: 9\n');
    rejectedWith(loadObject(std([reloc(R.PC64, 0n, 'var')]), kernel(v)), 'unknown-relocation', 'kexec: Unknown rela relocation: 24\n');
    rejectedWith(loadObject(std([reloc(0x12345678, 0n, 'var')]), kernel(v)), 'unknown-relocation', 'kexec: Unknown rela relocation: 305419896\n');
  });

  it('every undefined symbol is rejected, STT_NOTYPE included (kexec-tools accepts that one)', () => {
    const spec = std([reloc(R['64'], 0n, 'ext')], {}, [{ name: 'ext', section: SHN_UNDEF }]);
    rejectedWith(loadObject(spec, kernel(v)), 'undefined-symbol', 'kexec: Undefined symbol: ext\n');
    expect(loadObject(spec, { profile: 'kexec-tools' }).kind).toBe('ok');
  });

  it('common and out-of-range st_shndx: the hook\'s own messages; st_shndx == e_shnum is invalid (>=)', () => {
    rejectedWith(loadObject(std([reloc(R['64'], 0n, 'c')], {}, [{ name: 'c', section: SHN_COMMON, size: 8n }]), kernel(v)),
      'common-symbol', "kexec: symbol 'c' in common section\n");
    const shnum = new ElfFile(buildObject(std([reloc(R['64'], 0n, 'var')]))).sections.length; // 3 + .rela.text + 3
    expect(shnum).toBe(8);
    rejectedWith(loadObject(std([reloc(R['64'], 0n, 'bad')], {}, [{ name: 'bad', section: 8 }]), kernel(v)),
      'bad-section-index', 'kexec: Invalid section 8 for symbol bad\n');
  });

  it('relocation section sh_info or sh_link == e_shnum: -ENOEXEC with no message (kexec-tools checks >)', () => {
    const elf = buildObject(std([reloc(R['64'], 0n, 'var')]));
    const rel = sectionIndex(elf, '.rela.text');
    const shnum = new ElfFile(elf).sections.length;
    rejectedWith(loadBytes(patchShdr(elf, rel, 'info', shnum), kernel(v)), 'bad-section-index', '');
    rejectedWith(loadBytes(patchShdr(elf, rel, 'link', shnum), kernel(v)), 'bad-section-index', '');
  });

  it('symtab sh_link == e_shnum: the relocation section is skipped silently', () => {
    const elf = buildObject(std([reloc(R['64'], 0n, 'var')]));
    const img = okImage(loadBytes(patchShdr(elf, sectionIndex(elf, '.symtab'), 'link', new ElfFile(elf).sections.length), kernel(v)));
    expect(img.relocations).toEqual([]);
    expect([...sectionBytes(img, '.text').subarray(0, 8)]).toEqual(new Array(8).fill(0xcc));
  });

  it('relocations against a non-ALLOC section are skipped', () => {
    const spec = std([reloc(R['64'], 0n, 'var', 0n, '.note')]);
    spec.sections.push({ name: '.note', flags: 0n, data: new Uint8Array(8) });
    expect(okImage(loadObject(spec, kernel(v))).relocations).toEqual([]);
  });

  it('SHT_REL: -ENOEXEC "kexec_file: REL relocation unsupported."', () => {
    rejectedWith(loadObject(std([reloc(R['64'], 0n, 'var')], { rel: true }), kernel(v)), 'unknown-relocation', 'kexec_file: REL relocation unsupported.\n');
  });

  it('ppc64le has no RELA hook: -ENOEXEC "kexec_file: RELA relocation unsupported."', () => {
    const spec: ObjectSpec = {
      endian: 'little', machine: EM_PPC64, flags: 2,
      sections: [{ name: '.text', flags: AX, data: new Uint8Array(0x10), addralign: 4n }],
      symbols: [pstart('.text', 0n)],
      relocations: [reloc(38 /* R_PPC64_ADDR64 */, 8n, 'purgatory_start')],
    };
    rejectedWith(loadObject(spec, kernel(v)), 'unknown-relocation', 'kexec_file: RELA relocation unsupported.\n');
  });

  it('a relocation against a NOBITS section writes at its file offset (absorbed inside the last page here)', () => {
    const elf = buildObject(std([reloc(R['64'], 0n, 'var', 0n, '.bss')]));
    const fileOff = new ElfFile(elf).sections[sectionIndex(elf, '.bss')]!.offset;
    expect(fileOff).toBeGreaterThanOrEqual(0x40n); // past bufsz 0x40, inside the 4K page
    const img = okImage(loadBytes(elf, kernel(v)));
    expect(img.relocations).toHaveLength(1);
    expect(img.relocations[0]!.imageOffset).toBe(-1);
    expect(img.relocations[0]!.address).toBe(0x100040n); // P is the new sh_addr
  });

  it('an unnamed symbol with st_shndx SHN_ABS: sechdrs[0xfff1].sh_name is read (out-of-bounds)', () => {
    const spec = std([reloc(R['64'], 0n, '')], {}, [{ name: '', section: SHN_ABS, value: 5n }]);
    expect(rejection(loadObject(spec, kernel(v))).code).toBe('out-of-bounds');
  });

  it('a bad e_shstrndx is read by the hook (out-of-bounds), and only there', () => {
    const setShstrndx = (elf: Uint8Array) => { const b = elf.slice(); new DataView(b.buffer).setUint16(0x3e, 0xff00, true); return b; };
    expect(rejection(loadBytes(setShstrndx(buildObject(std([reloc(R['64'], 0n, 'var')]))), kernel(v))).code).toBe('out-of-bounds');
    expect(loadBytes(setShstrndx(buildObject(std())), kernel(v)).kind).toBe('ok');
  });
});

// -------------------------------------------------------------------------------------------
describe.each(VERSIONS.map((v) => [v]))('symbol writes and allocation failures, kernel %s', (v) => {
  it('writes at purgatory_buf + sh_offset + st_value', () => {
    const img = okImage(loadObject(std(), kernel(v, { symbols: [{ name: 'var', bytes: bytesOf(1, 2, 3, 4, 5, 6, 7, 8) }] })));
    expect([...img.bytes.subarray(0x28, 0x30)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('size mismatch, bss, and not found (-EINVAL, no message: local, weak, absent, SHN_ABS)', () => {
    const set = (name: string, n: number) => loadObject(std(), kernel(v, { symbols: [{ name, bytes: new Uint8Array(n) }] }));
    rejectedWith(set('var', 4), 'symbol-size-mismatch', 'kexec_file: symbol var size mismatch: expected 8 actual 4\n');
    rejectedWith(set('bssvar', 8), 'symbol-in-bss', 'kexec_file: symbol bssvar is in a bss section. Cannot set\n');
    for (const name of ['lvar', 'wvar', 'nosuch', 'absv']) rejectedWith(set(name, 8), 'symbol-not-found', '');
  });

  it('no bounds check on the write: inside the last page it is absorbed, past it out-of-bounds (access named)', () => {
    const spec = std([], {}, [
      { name: 'tail', section: '.data', value: 0x100n, type: STT_OBJECT, size: 4n },
      { name: 'far', section: '.data', value: 0x10000n, type: STT_OBJECT, size: 4n },
    ]);
    const img = okImage(loadObject(spec, kernel(v, { symbols: [{ name: 'tail', bytes: bytesOf(1, 2, 3, 4) }] })));
    expect(img.bytes.length).toBe(0x40); // written at 0x120, past bufsz: not in the image
    const o = loadObject(spec, kernel(v, { symbols: [{ name: 'far', bytes: bytesOf(1, 2, 3, 4) }] }));
    expect(o.kind === 'rejected' && o.code === 'out-of-bounds' && o.where?.access).toEqual({ buf: 'image', offset: 0x10020n, length: 4n, size: 0x1000n });
  });

  it('nothing to copy (bss only): vzalloc(0) is NULL → -ENOMEM', () => {
    const spec = std();
    spec.sections = [spec.sections[2]!];
    spec.symbols = [];
    rejectedWith(loadObject(spec, kernel(v)), 'unsupported', '');
  });

  it('a buffer above the model RAM (1 GiB) → -ENOMEM', () => {
    const spec = std();
    spec.sections[1] = { ...spec.sections[1]!, addralign: 1n << 30n }; // bufsz = 2^30 + 0x10 + bss padding
    rejectedWith(loadObject(spec, kernel(v)), 'unsupported', '');
  });

  it('kexec_add_buffer: memsz up to the model RAM (1 GiB) is placed; one page more finds no RAM range (-EADDRNOTAVAIL)', () => {
    // bufsz = ALIGN(0x30, 32) = 0x40 (std()); memsz = ALIGN(0x40 + bss, PAGE_SIZE); locate_mem_hole_callback
    // skips a range smaller than memsz, and the model machine's one range is its 1 GiB of RAM.
    const withBss = (size: bigint) => {
      const spec = std();
      spec.sections[2] = { ...spec.sections[2]!, size };
      return loadObject(spec, kernel(v));
    };
    expect(okImage(withBss((1n << 30n) - 0x40n)).memsz).toBe(1n << 30n);
    rejectedWith(withBss((1n << 30n) - 0x40n + 1n), 'no-memory-hole', '');
  });

  it('reads symbols back with the getter (get_value = true) after the writes: the load\'s details', () => {
    // Probes in order: var (8 bytes, written first), var with the wrong size, bssvar (NOBITS: "Cannot get"),
    // lvar (local: not found), fn (.text, 0x20 bytes of 0xcc). kbuf: memsz ALIGN(0x40 + 0x40, 4K),
    // buf_align max(16, 8, 32, PAGE_SIZE); e_entry as in the file (0, std()).
    const probes = [{ name: 'var', size: 8 }, { name: 'var', size: 4 }, { name: 'bssvar', size: 8 }, { name: 'lvar', size: 8 }, { name: 'fn', size: 0x20 }];
    const o = loadObject(std(), kernel(v, { symbols: [{ name: 'var', bytes: bytesOf(1, 2, 3, 4, 5, 6, 7, 8) }], probes }));
    const d = okImage(o).details!;
    expect({ ...d, probes: undefined }).toEqual({ memsz: 0x1000n, bufAlign: 0x1000n, bufMin: 0n, bufMax: 2n ** 64n - 1n, bufEnd: -1, eEntry: 0n, probes: undefined });
    expect(d.probes.map((p) => (p.ok ? [...p.bytes] : [p.code, p.message]))).toEqual([
      [1, 2, 3, 4, 5, 6, 7, 8],
      ['symbol-size-mismatch', 'kexec_file: symbol var size mismatch: expected 8 actual 4\n'],
      ['symbol-in-bss', 'kexec_file: symbol bssvar is in a bss section. Cannot get\n'],
      ['symbol-not-found', ''],
      Array(0x20).fill(0xcc),
    ]);
  });

  it('an empty input: kexec_purgatory_size <= 0 → -EINVAL', () => {
    rejectedWith(loadBytes(new Uint8Array(0), kernel(v, { target: 'x86_64' })), 'elf-format', '');
  });

  it('setup_kbuf reads only the low byte of sh_flags (and more of SHF_ALLOC headers) before vzalloc', () => {
    // One more header than the table holds, of which only 16 bytes (zero: not SHF_ALLOC) exist.
    const extend = (elf: Uint8Array) => {
      const b = new Uint8Array(elf.length + 16);
      b.set(elf);
      const dv = new DataView(b.buffer);
      dv.setUint16(0x3c, dv.getUint16(0x3c, true) + 1, true);
      return b;
    };
    const bssOnly = std();
    bssOnly.sections = [bssOnly.sections[2]!];
    bssOnly.symbols = [];
    rejectedWith(loadBytes(extend(buildObject(bssOnly)), kernel(v)), 'unsupported', ''); // vzalloc(0) before the table copy
    expect(rejection(loadBytes(extend(buildObject(std())), kernel(v))).code).toBe('out-of-bounds'); // memcpy of e_shnum headers
  });

  it('names in messages are the bytes printk copies, decoded as UTF-8 like every oracle message', () => {
    const name = '\u00c3\u00a9t\u00c3\u00a9'; // the bytes c3 a9 74 c3 a9
    rejectedWith(loadObject(std([reloc(R['64'], 0n, name)], {}, [{ name, section: SHN_UNDEF }]), kernel(v)),
      'undefined-symbol', 'kexec: Undefined symbol: \u00e9t\u00e9\n');
  });

  it('no ELF validation: headers past the input are out-of-bounds, not a parse error', () => {
    const elf = buildObject(std());
    const farShoff = elf.slice();
    new DataView(farShoff.buffer).setBigUint64(0x28, BigInt(elf.length) * 16n, true);
    expect(rejection(loadBytes(farShoff, kernel(v))).code).toBe('out-of-bounds');
    const noMagic = elf.slice();
    noMagic.set([0, 0, 0, 0], 0); // the kernel never looks at e_ident
    expect(loadBytes(noMagic, kernel(v, { target: 'x86_64' })).kind).toBe('ok');
  });
});

// -------------------------------------------------------------------------------------------
describe('KERNEL_MESSAGE_CLASSES', () => {
  const msgs: [RejectionCode, string][] = [
    ['overflow', 'kexec: Overflow in relocation type 10 value 0x100000028\n'],
    ['unknown-relocation', 'kexec: Unknown rela relocation: 9\n'],
    ['unknown-relocation', 'kexec_file: REL relocation unsupported.\n'],
    ['unknown-relocation', 'kexec_file: RELA relocation unsupported.\n'],
    ['undefined-symbol', 'kexec: Undefined symbol: ext\n'],
    ['common-symbol', "kexec: symbol 'c' in common section\n"],
    ['bad-section-index', 'kexec: Invalid section 8 for symbol bad\n'],
    ['bad-section-index', ''],
    ['symbol-size-mismatch', 'kexec_file: symbol var size mismatch: expected 8 actual 4\n'],
    ['symbol-in-bss', 'kexec_file: symbol bssvar is in a bss section. Cannot set\n'],
    ['symbol-in-bss', 'kexec_file: symbol bssvar is in a bss section. Cannot get\n'],
    ['symbol-not-found', ''],
    ['unsupported', ''],
    ['no-memory-hole', ''],
  ];
  it.each(msgs)('%s: %j classifies as the TS code does', (code, message) => {
    const errno = KERNEL_ERRNO[code]!;
    expect(errno).toBeDefined();
    expect(refRejectionClass(refRejectionText({ errno, message }), KERNEL_MESSAGE_CLASSES)).toBe(tsRejectionClass(code));
  });
  it('errnos: -ENOEXEC for relocation failures, -EINVAL for symbols, -ENOMEM for allocations', () => {
    expect([KERNEL_ERRNO['bad-section-index'], KERNEL_ERRNO.overflow, KERNEL_ERRNO['unknown-relocation']]).toEqual([ENOEXEC, ENOEXEC, ENOEXEC]);
    expect([KERNEL_ERRNO['symbol-not-found'], KERNEL_ERRNO['symbol-in-bss'], KERNEL_ERRNO['elf-format']]).toEqual([EINVAL, EINVAL, EINVAL]);
    expect(KERNEL_ERRNO.unsupported).toBe(ENOMEM);
    expect(KERNEL_ERRNO['no-memory-hole']).toBe(-99); // EADDRNOTAVAIL, include/uapi/asm-generic/errno.h
  });
});

// -------------------------------------------------------------------------------------------
// The s390x and riscv64 hooks (src/load/kernel.ts relaHookFor): what differs from x86_64's loop,
// hand-computed from arch/s390/kernel/machine_kexec_file.c + machine_kexec_reloc.c and
// arch/riscv/kernel/elf_kexec.c (riscv64's relocation bits are in the coverage specs,
// src/corpus/coverage/spec-riscv64.ts). s390x is big-endian: every store is.
describe('arch hooks: s390x and riscv64', () => {
  const S390 = 22;
  const hx = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  const be = (w: number, v: bigint) => { const out = new Uint8Array(w); for (let i = 0; i < w; i++) out[w - 1 - i] = Number((v >> BigInt(8 * i)) & 0xffn); return out; };
  const s390 = (relocations: ObjRelocation[], symbols: ObjSymbol[]): Uint8Array => buildObject({
    endian: 'big', machine: S390, entry: 0n,
    sections: [
      { name: '.text', flags: AX, data: new Uint8Array(0x20).fill(0x07), addralign: 8n },
      { name: '.data', flags: WA, data: new Uint8Array(0x20), addralign: 8n },
    ],
    symbols, relocations,
  });
  const s390Load = (elf: Uint8Array, v: string) => loadBytes(elf, { profile: `kernel-${v}`, target: 's390x' });
  const v = { name: 'v', section: SHN_ABS, value: 0x0102030405060708n };

  it.each(VERSIONS)('%s: R_390_64, GLOB_DAT, JMP_SLOT and RELATIVE store S+A in 8 big-endian bytes; NONE stores nothing', (ver) => {
    const img = okImage(s390Load(s390([
      reloc(22, 0n, 'v', 0n, '.data'), reloc(10, 8n, 'v', 1n, '.data'), reloc(11, 0x10n, 'v', 2n, '.data'), reloc(12, 0x18n, 'v', 3n, '.data'),
      reloc(0, 0n, 'v'),
    ], [v]), ver));
    const d = sectionBytes(img, '.data');
    expect(hx(d)).toEqual(hx(new Uint8Array([...be(8, 0x0102030405060708n), ...be(8, 0x0102030405060709n), ...be(8, 0x010203040506070an), ...be(8, 0x010203040506070bn)])));
    expect(hx(sectionBytes(img, '.text'))).toEqual(hx(new Uint8Array(0x20).fill(0x07)));
  });

  it.each(VERSIONS)('%s: R_390_20 splits DL/DH into the word, R_390_12 keeps the base-register nibble', (ver) => {
    const img = okImage(s390Load(s390([reloc(57, 4n, 'd'), reloc(2, 8n, 'b')], [
      { name: 'd', section: SHN_ABS, value: 0x12345n }, { name: 'b', section: SHN_ABS, value: 0xabcn },
    ]), ver));
    const t = sectionBytes(img, '.text');
    // (0x07070707 & 0xf00000ff) | (0x345 << 16) | (0x12000 >> 4) = 0x03451207
    expect(hx(t.slice(4, 8))).toEqual(hx(be(4, 0x03451207n)));
    // (0x0707 & 0xf000) | 0xabc
    expect(hx(t.slice(8, 10))).toEqual(hx(be(2, 0x0abcn)));
  });

  it('R_390_PLT32DBL: 6.1 and 6.12 map it to PC32DBL ((S+A-P) >> 1); 5.10 has no mapping and prints no pr_fmt', () => {
    const elf = s390([reloc(20, 2n, 'f')], [{ name: 'f', section: '.text', value: 0x10n, bind: STB_LOCAL }]);
    for (const ver of ['6.1', '6.12']) expect(hx(sectionBytes(okImage(s390Load(elf, ver)), '.text').slice(2, 6))).toEqual(hx(be(4, 7n))); // (0x10 - 0x2) >> 1
    rejectedWith(s390Load(elf, '5.10'), 'unknown-relocation', 'Unknown rela relocation: 20\n');
  });

  it('an undefined symbol: 6.1 and 6.12 print x86\'s message; 5.10 returns -ENOEXEC with no message (no name is read)', () => {
    const elf = s390([reloc(22, 0n, 'u', 0n, '.data')], [{ name: 'u', section: SHN_UNDEF }]);
    rejectedWith(s390Load(elf, '6.1'), 'undefined-symbol', 'kexec: Undefined symbol: u\n');
    rejectedWith(s390Load(elf, '6.12'), 'undefined-symbol', 'kexec: Undefined symbol: u\n');
    const o = s390Load(elf, '5.10');
    expect(rejection(o).message).toBe('');
    expect(refRejectionClass(refRejectionText({ errno: ENOEXEC, message: '' }), KERNEL_MESSAGE_CLASSES)).toBe(tsRejectionClass(rejection(o).code as RejectionCode));
  });

  it('riscv64: no SHN_UNDEF/SHN_COMMON check (COMMON is an invalid section), pr_fmt "kexec_image: "', () => {
    const rv = (sym: ObjSymbol) => buildObject({
      endian: 'little', machine: 243, entry: 0n,
      sections: [{ name: '.data', flags: WA, data: new Uint8Array(8), addralign: 8n }],
      symbols: [sym], relocations: [reloc(35, 0n, sym.name, 0x55n, '.data')],
    });
    for (const ver of ['6.1', '6.12']) {
      const img = okImage(loadBytes(rv({ name: 'u', section: SHN_UNDEF }), { profile: `kernel-${ver}`, target: 'riscv64' }));
      expect(hx(sectionBytes(img, '.data').slice(0, 4))).toEqual(hx(Uint8Array.from(le(4, 0x55n)))); // 0 + sechdrs[0].sh_addr (0) + 0x55
      rejectedWith(loadBytes(rv({ name: 'c', section: SHN_COMMON, value: 8n }), { profile: `kernel-${ver}`, target: 'riscv64' }),
        'bad-section-index', 'kexec_image: Invalid section 65522 for symbol c\n');
    }
  });
});

// -------------------------------------------------------------------------------------------
describe('one parse per input: later loads of the same bytes, the lazy log and sections', () => {
  // The manifest's census of each file (relocationCount: every entry of its RELA sections), counted when it was added.
  const manifest = (JSON.parse(readFileSync(resolve(DEFAULT_CORPUS, 'manifest.json'), 'utf8')) as { entries: ManifestEntry[] }).entries;
  const real = (id: string) => {
    const e = manifest.find((x) => x.id === id)!;
    return { e, elf: new Uint8Array(readFileSync(resolve(DEFAULT_CORPUS, '..', e.file))) };
  };
  const hx = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  const view = (o: Outcome) => {
    const img = okImage(o);
    return { ...img, bytes: hx(img.bytes), sections: [...img.sections], relocations: [...img.relocations] };
  };

  // A load of an array after its first reuses the parse, the checks before relocation and the
  // buffer after the section copies; a fresh copy of the bytes is a new input, loaded from scratch.
  for (const [id, ver] of [['debian-kexec-tools-2.0.32-3-amd64', '6.12'], ['debian-linux-6.1.176-1-amd64', '6.1'], ['debian-linux-6.1.176-1-amd64', '5.10']] as const) {
    it(`${id} under kernel-${ver}: one array at many bases, with and without the log = a fresh copy each time`, () => {
      const { e, elf } = real(id);
      const bases = [0x100000n, 0x3ffff000n, 0x123456789000n, 0x100000n, 0x7ffff0000000n];
      const runs = bases.flatMap((base) => [undefined, true, false].map((log) => ({ base, opts: { profile: `kernel-${ver}`, log } })));
      // The array's loads in a row (a fresh array between two of them would make each a first load).
      const shared = runs.map(({ base, opts }) => view(load({ elf, base, fill: 0, symbols: [] }, opts)));
      let loads = 0;
      runs.forEach(({ base, opts }, i) => {
        const again = shared[i]!;
        expect(again, `base ${base.toString(16)} log ${opts.log}`).toEqual(view(load({ elf: elf.slice(), base, fill: 0, symbols: [] }, opts)));
        expect(again.relocations.length).toBe(opts.log === false ? 0 : e.relocationCount);
        loads++;
      });
      expect(loads).toBe(15);
    });
  }

  it('the default log is the log: true one, read after later loads of the same array at other bases', () => {
    const { elf } = real('debian-kexec-tools-2.0.32-3-amd64');
    const first = okImage(load({ elf, base: 0x100000n, fill: 0, symbols: [] }, { profile: 'kernel-6.12' }));
    load({ elf, base: 0x40000000n, fill: 0, symbols: [] }, { profile: 'kernel-6.12' });
    const logged = okImage(load({ elf: elf.slice(), base: 0x100000n, fill: 0, symbols: [] }, { profile: 'kernel-6.12', log: true }));
    expect(first.relocations.length).toBe(146);
    expect([...first.relocations]).toEqual(logged.relocations);
    expect([...first.sections]).toEqual(logged.sections);
  });

  it("a caller's array changed after a load: the next load reads the new bytes", () => {
    const elf = buildObject(std([reloc(R['64'], 0n, 'fn')]));
    // (not recorded for the live replay: the array changes under the first load's request)
    const before = okImage(fixtureLoadBytes(elf, kernel('6.1')));
    const at = sectionIndex(elf, '.text');
    const text = Number(new ElfFile(elf).sections[at]!.offset);
    elf.fill(0x5a, text + 8, text + 16); // bytes the relocation does not cover
    const after = okImage(fixtureLoadBytes(elf, kernel('6.1')));
    const o = Number(sectionAddr(after, '.text') - after.base);
    expect(hx(after.bytes.slice(o + 8, o + 16))).toBe('5a'.repeat(8));
    expect(hx(before.bytes.slice(o + 8, o + 16))).not.toBe('5a'.repeat(8));
    expect(hx(after.bytes.slice(o, o + 8))).toBe(hx(before.bytes.slice(o, o + 8)));
  });
});

// -------------------------------------------------------------------------------------------
describe('every load above, replayed through the live kernel oracle', () => {
  const CI = process.env.CI === 'true';
  const builds = KERNEL_BUILDS.map(({ version: v, variant }) => {
    try {
      return { v, variant, build: findKernelOracle(v, variant) };
    } catch (e) {
      if (!isOracleUnavailableError(e)) throw e;
      return { v, variant, missing: `${(e as Error).message} (all of them: bash scripts/build-kernel-oracle.sh all)` };
    }
  });
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => { await Promise.all(closers.map((c) => c())); });
  it.each(builds.map((b) => [`${b.v} ${b.variant}`, b]))('kernel %s agrees', async (_n, b) => {
    if (!b.build) {
      if (CI) throw new Error(b.missing);
      console.warn(`skipped: ${b.missing}`);
      return;
    }
    const mine = recorded.filter((r) => r.version === b.v && r.target === b.variant);
    expect(mine.length).toBeGreaterThan(0);
    const oracle = openKernelOracle(b.build, { timeoutMs: 20_000 });
    closers.push(() => oracle.close());
    const refs = await oracle.runMany(mine.map((r) => r.req));
    const diffs = mine.flatMap((r, i) => {
      const ref = refs[i]!;
      const cmp = compareOutcomes(r.outcome, ref, [], KERNEL_MESSAGE_CLASSES);
      if (cmp.cls === 'match') return [];
      const ts = r.outcome;
      // Same errno, same text (this also covers the empty input: -EINVAL with no message, which by class alone reads as symbol-not-found).
      if (ts.kind === 'rejected' && ref.kind === 'rejected' && ts.message === ref.message && KERNEL_ERRNO[ts.code as RejectionCode] === ref.errno) return [];
      if (cmp.cls === 'oracle-crashed' && ts.kind === 'rejected' && ts.code === 'out-of-bounds') return [];
      return [`load ${i}: ${cmp.cls} ${cmp.note ?? ''} ${JSON.stringify(cmp.layout)}`];
    });
    expect(diffs).toEqual([]);
  }, 60_000);
});
