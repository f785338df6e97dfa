// The minimized inputs of docs/findings/: one small relocatable object per case a finding needs,
// built by our own ELF writer (buildObject) from a spec that names the one relocation, index or
// offset the defect is about. corpus/findings/<id>/<name>.ro holds the bytes (for the report's
// command line); test/findings/inputs.test.ts checks they are exactly what these generators give.
import { buildObject, type ObjectSpec } from '../elf/writer.ts';
import { ByteView } from '../bytes.ts';
import { EM_AARCH64, EM_PPC64, EM_X86_64, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, SIZES, STT_FUNC, STT_OBJECT } from '../elf/constants.ts';
import { R_PPC64 } from '../arch/ppc64.ts';
import { R_X86_64 } from '../arch/x86_64.ts';
import { R_AARCH64 } from '../arch/arm64.ts';
import type { Endian } from '../types.ts';

export interface FindingInput {
  /** File name under corpus/findings/<id>/ (without .ro). */
  name: string;
  bytes: Uint8Array;
}

const AX = SHF_ALLOC | SHF_EXECINSTR;
const WA = SHF_ALLOC | SHF_WRITE;

/** Instruction words in the file's byte order. */
function words(endian: Endian, ...ws: number[]): Uint8Array {
  const out = new Uint8Array(4 * ws.length);
  const v = new ByteView(out, endian);
  ws.forEach((w, i) => v.setU32(4 * i, w));
  return out;
}

const ppc = (endian: Endian) => ({ endian, machine: EM_PPC64, flags: endian === 'little' ? 2 : 1 });
const PPC_TARGETS: [string, Endian][] = [['ppc64le', 'little'], ['ppc64', 'big']];
const NOP = 0x60000000;

/** .text (a function `f`) and .data holding one relocation of `type` against `f`, for each ppc64 byte order. */
function ppcDataReloc(type: number, size: number): FindingInput[] {
  return PPC_TARGETS.map(([t, endian]) => ({
    name: t,
    bytes: buildObject({
      ...ppc(endian),
      sections: [
        { name: '.text', flags: AX, data: words(endian, NOP, NOP, NOP, NOP), addralign: 4n },
        { name: '.data', flags: WA, data: new Uint8Array(size), addralign: BigInt(size) },
      ],
      symbols: [{ name: 'f', section: '.text', value: 8n, type: STT_FUNC, size: 8n }],
      relocations: [{ section: '.data', offset: 0n, type, symbol: 'f' }],
    }),
  }));
}

/** Set one field of a section header in a built object (the writer lays out well-formed headers only). */
function setShdr(bytes: Uint8Array, index: number, field: 'sh_offset' | 'sh_info', value: bigint): Uint8Array {
  const out = bytes.slice();
  const v = new ByteView(out, out[5] === 1 ? 'little' : 'big');
  const sh = Number(v.u64(40)) + index * SIZES.shdr[1];
  if (field === 'sh_offset') v.setU64(sh + 24, value);
  else v.setU32(sh + 44, Number(value));
  return out;
}

/** e_shnum of a built 64-bit object. */
function shnumOf(bytes: Uint8Array): number {
  return new ByteView(bytes, bytes[5] === 1 ? 'little' : 'big').u16(60);
}

/** A 16-byte .text with one relocation, x86_64. */
function x86Text(extra: Partial<ObjectSpec> & Pick<ObjectSpec, 'relocations'>): ObjectSpec {
  return {
    endian: 'little', machine: EM_X86_64,
    sections: [{ name: '.text', flags: AX, data: new Uint8Array(16).fill(0x90), addralign: 16n }],
    symbols: [{ name: 'f', section: '.text', value: 0n, type: STT_FUNC, size: 16n }],
    ...extra,
  };
}

// The first section of every object is .text (index 1); buildObject puts .rela.text right after the user sections.
const RELA_TEXT = 2;

export const FINDING_INPUTS: Record<string, () => FindingInput[]> = {
  // REL32 against a function 8 bytes into .text, from .data: S+A-P is small and negative.
  'kt-ppc64-rel32-host-pointer': () => ppcDataReloc(R_PPC64.REL32, 4),
  'kt-ppc64-rel64-absolute': () => ppcDataReloc(R_PPC64.REL64, 8),
  // movz/movk x0 building an absolute address above 4 GiB, one MOVW_UABS group per instruction.
  'kt-arm64-movw-get-bits': () => [{
    name: 'arm64-movw',
    bytes: buildObject({
      endian: 'little', machine: EM_AARCH64,
      sections: [{ name: '.text', flags: AX, data: words('little', 0xd2800000, 0xf2a00000, 0xf2c00000, 0xf2e00000, 0xd65f03c0), addralign: 4n }],
      symbols: [{ name: 'far', section: SHN_ABS, value: 0x1_2345_6789_abcdn, type: STT_OBJECT }],
      relocations: [R_AARCH64.MOVW_UABS_G0_NC, R_AARCH64.MOVW_UABS_G1_NC, R_AARCH64.MOVW_UABS_G2_NC, R_AARCH64.MOVW_UABS_G3]
        .map((type, i) => ({ section: '.text', offset: BigInt(4 * i), type, symbol: 'far' })),
    }),
  }],
  // The ELFv2 global-entry prologue `0: addis 2,12,.TOC.-0b@ha; addi 2,2,.TOC.-0b@l` and a .toc
  // right after it: at a base with a zero low half, my_r2 = .toc + 0x8000 has its low half >= 0x8000.
  'kt-ppc64-rel16-rewrite': () => [{
    name: 'ppc64le',
    bytes: buildObject({
      ...ppc('little'),
      sections: [
        { name: '.text', flags: AX, data: words('little', 0x3c4c0000, 0x38420000, NOP, 0x4e800020), addralign: 16n },
        { name: '.toc', flags: WA, data: new Uint8Array(8), addralign: 8n },
      ],
      symbols: [
        { name: 'f', section: '.text', value: 0n, type: STT_FUNC, size: 16n },
        { name: '.TOC.', section: 0 },
      ],
      relocations: [
        { section: '.text', offset: 0n, type: R_PPC64.REL16_HA, symbol: '.TOC.', addend: 0n },
        { section: '.text', offset: 4n, type: R_PPC64.REL16_LO, symbol: '.TOC.', addend: 4n },
      ],
    }),
  }],
  // One relocation per type whose field cannot hold the value, against an absolute symbol far
  // above every base (x86_64: 8 GiB; ppc64: 4 GiB + 0x12340000, beyond 32 bits signed or unsigned).
  'kt-no-abi-range-checks': () => [
    ...([['x86_64-pc32', R_X86_64.PC32], ['x86_64-plt32', R_X86_64.PLT32]] as const).map(([name, type]) => ({
      name,
      bytes: buildObject(x86Text({
        symbols: [{ name: 'far', section: SHN_ABS, value: 0x2_0000_0000n }],
        relocations: [{ section: '.text', offset: 4n, type, symbol: 'far', addend: -4n }],
      })),
    })),
    ...([['addr32', R_PPC64.ADDR32, 4]] as const).flatMap(([what, type, off]) =>
      PPC_TARGETS.map(([t, endian]) => ({
        name: `${t}-${what}`,
        bytes: buildObject({
          ...ppc(endian),
          sections: [{ name: '.data', flags: WA, data: new Uint8Array(8), addralign: 8n }],
          symbols: [{ name: 'far', section: SHN_ABS, value: 0x1_1234_0000n, type: STT_OBJECT }],
          relocations: [{ section: '.data', offset: BigInt(off), type, symbol: 'far' }],
        }),
      }))),
  ],
  // .text of 4 bytes, then .data aligned to 64: 60 bytes of padding between them.
  'kt-heap-padding': () => [{
    name: 'x86_64',
    bytes: buildObject({
      endian: 'little', machine: EM_X86_64,
      sections: [
        { name: '.text', flags: AX, data: Uint8Array.of(0x0f, 0x0b, 0xeb, 0xfe), addralign: 4n },
        { name: '.data', flags: WA, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), addralign: 64n },
      ],
    }),
  }],
  'kt-off-by-one-section-index': () => {
    const abs = buildObject(x86Text({ relocations: [{ section: '.text', offset: 0n, type: R_X86_64['64'], symbol: 'f' }] }));
    const shnum = shnumOf(abs);
    return [
      // .rela.text's sh_info == e_shnum: passes `sh_info > e_shnum`, then e_shdr[e_shnum] is read.
      { name: 'x86_64-sh-info', bytes: setShdr(abs, RELA_TEXT, 'sh_info', BigInt(shnum)) },
      // A named symbol with st_shndx == e_shnum: passes `st_shndx > e_shnum`.
      {
        name: 'x86_64-st-shndx',
        bytes: buildObject(x86Text({
          symbols: [{ name: 'f', section: '.text', value: 0n, type: STT_FUNC, size: 16n }, { name: 'g', section: shnum, value: 0n }],
          relocations: [{ section: '.text', offset: 0n, type: R_X86_64['64'], symbol: 'g' }],
        })),
      },
      // r_sym far past the symbol table, and r_offset far past .text: never checked.
      { name: 'x86_64-r-sym', bytes: buildObject(x86Text({ relocations: [{ section: '.text', offset: 0n, type: R_X86_64['64'], symbol: 0x100000 }] })) },
      { name: 'x86_64-r-offset', bytes: buildObject(x86Text({ relocations: [{ section: '.text', offset: 0x100000n, type: R_X86_64['64'], symbol: 'f' }] })) },
    ];
  },
  // .rela.text at sh_offset 2^64 - 8 (24 bytes): sh_offset + sh_size wraps to 16 <= len.
  'kt-pointer-below-buffer': () => [{
    name: 'x86_64',
    bytes: setShdr(buildObject(x86Text({ relocations: [{ section: '.text', offset: 0n, type: R_X86_64['64'], symbol: 'f' }] })), RELA_TEXT, 'sh_offset', 0xffff_ffff_ffff_fff8n),
  }],
  // A section with sh_addralign 0 after one with a real alignment (gABI: 0 and 1 both mean none).
  'kernel-no-align-zero-guard': () => [{ name: 'x86_64', bytes: alignZero() }],
  'kt-2.0.20-align-zero': () => [{ name: 'x86_64', bytes: alignZero() }],
};

function alignZero(): Uint8Array {
  return buildObject({
    endian: 'little', machine: EM_X86_64,
    sections: [
      { name: '.text', flags: AX, data: new Uint8Array(24).fill(0x90), addralign: 16n },
      { name: '.data', flags: WA, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), addralign: 0n },
    ],
    symbols: [{ name: 'd', section: '.data', value: 0n, type: STT_OBJECT, size: 8n }],
    relocations: [{ section: '.text', offset: 0n, type: R_X86_64['64'], symbol: 'd' }],
  });
}
