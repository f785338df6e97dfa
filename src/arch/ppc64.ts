// ppc64 relocations (ELFv1 big-endian and ELFv2 little-endian), as kexec-tools'
// kexec/arch/ppc64/kexec-elf-rel-ppc64.c and the 64-bit ELF ABI supplements define them.
import { EM_PPC64 } from '../elf/constants.ts';
import type { ArchModule, RelocSpec, Semantics } from './types.ts';
import {
  absolute, pcRelative,
  RelocInput, U64, checkInt, checkIntOrUInt, classifierFor, outOfRange, lo, hi, ha, higher, highest, write16, write32, write64,
} from './types.ts';

/**
 * Every type the 64-bit PowerPC ELF ABI supplement (ELFv1), the ELFv2 ABI (with its Power10 additions)
 * and GNU binutils (include/elf/ppc64.h) define, for reports, the census and the fuzzer. Which of
 * them a loader handles is decided by table() below, not by this list. Binutils' internal-only
 * numbers (R_PPC64_LO_DS_OPT, R_PPC64_16DX_HA) never appear in object files and are left out.
 */
export const R_PPC64 = {
  NONE: 0, ADDR32: 1, ADDR24: 2, ADDR16: 3, ADDR16_LO: 4, ADDR16_HI: 5, ADDR16_HA: 6, ADDR14: 7,
  ADDR14_BRTAKEN: 8, ADDR14_BRNTAKEN: 9, REL24: 10, REL14: 11, REL14_BRTAKEN: 12, REL14_BRNTAKEN: 13,
  GOT16: 14, GOT16_LO: 15, GOT16_HI: 16, GOT16_HA: 17, COPY: 19, GLOB_DAT: 20, JMP_SLOT: 21, RELATIVE: 22,
  UADDR32: 24, UADDR16: 25, REL32: 26, PLT32: 27, PLTREL32: 28, PLT16_LO: 29, PLT16_HI: 30, PLT16_HA: 31,
  SECTOFF: 33, SECTOFF_LO: 34, SECTOFF_HI: 35, SECTOFF_HA: 36, ADDR30: 37, ADDR64: 38, ADDR16_HIGHER: 39,
  ADDR16_HIGHERA: 40, ADDR16_HIGHEST: 41, ADDR16_HIGHESTA: 42, UADDR64: 43, REL64: 44, PLT64: 45,
  PLTREL64: 46, TOC16: 47, TOC16_LO: 48, TOC16_HI: 49, TOC16_HA: 50, TOC: 51, PLTGOT16: 52,
  PLTGOT16_LO: 53, PLTGOT16_HI: 54, PLTGOT16_HA: 55, ADDR16_DS: 56, ADDR16_LO_DS: 57, GOT16_DS: 58,
  GOT16_LO_DS: 59, PLT16_LO_DS: 60, SECTOFF_DS: 61, SECTOFF_LO_DS: 62, TOC16_DS: 63, TOC16_LO_DS: 64,
  PLTGOT16_DS: 65, PLTGOT16_LO_DS: 66, TLS: 67, DTPMOD64: 68, TPREL16: 69, TPREL16_LO: 70, TPREL16_HI: 71,
  TPREL16_HA: 72, TPREL64: 73, DTPREL16: 74, DTPREL16_LO: 75, DTPREL16_HI: 76, DTPREL16_HA: 77,
  DTPREL64: 78, GOT_TLSGD16: 79, GOT_TLSGD16_LO: 80, GOT_TLSGD16_HI: 81, GOT_TLSGD16_HA: 82,
  GOT_TLSLD16: 83, GOT_TLSLD16_LO: 84, GOT_TLSLD16_HI: 85, GOT_TLSLD16_HA: 86, GOT_TPREL16_DS: 87,
  GOT_TPREL16_LO_DS: 88, GOT_TPREL16_HI: 89, GOT_TPREL16_HA: 90, GOT_DTPREL16_DS: 91,
  GOT_DTPREL16_LO_DS: 92, GOT_DTPREL16_HI: 93, GOT_DTPREL16_HA: 94, TPREL16_DS: 95, TPREL16_LO_DS: 96,
  TPREL16_HIGHER: 97, TPREL16_HIGHERA: 98, TPREL16_HIGHEST: 99, TPREL16_HIGHESTA: 100,
  DTPREL16_DS: 101, DTPREL16_LO_DS: 102, DTPREL16_HIGHER: 103, DTPREL16_HIGHERA: 104,
  DTPREL16_HIGHEST: 105, DTPREL16_HIGHESTA: 106, TLSGD: 107, TLSLD: 108, TOCSAVE: 109,
  ADDR16_HIGH: 110, ADDR16_HIGHA: 111, TPREL16_HIGH: 112, TPREL16_HIGHA: 113, DTPREL16_HIGH: 114,
  DTPREL16_HIGHA: 115, REL24_NOTOC: 116, ADDR64_LOCAL: 117, ENTRY: 118, PLTSEQ: 119, PLTCALL: 120,
  // Power10 (ELFv2 ABI 1.5): prefixed instructions and PC-relative addressing.
  PLTSEQ_NOTOC: 121, PLTCALL_NOTOC: 122, PCREL_OPT: 123, REL24_P9NOTOC: 124,
  D34: 128, D34_LO: 129, D34_HI30: 130, D34_HA30: 131, PCREL34: 132, GOT_PCREL34: 133,
  PLT_PCREL34: 134, PLT_PCREL34_NOTOC: 135, ADDR16_HIGHER34: 136, ADDR16_HIGHERA34: 137,
  ADDR16_HIGHEST34: 138, ADDR16_HIGHESTA34: 139, REL16_HIGHER34: 140, REL16_HIGHERA34: 141,
  REL16_HIGHEST34: 142, REL16_HIGHESTA34: 143, D28: 144, PCREL28: 145, TPREL34: 146, DTPREL34: 147,
  GOT_TLSGD_PCREL34: 148, GOT_TLSLD_PCREL34: 149, GOT_TPREL_PCREL34: 150, GOT_DTPREL_PCREL34: 151,
  REL16_HIGH: 240, REL16_HIGHA: 241, REL16_HIGHER: 242, REL16_HIGHERA: 243, REL16_HIGHEST: 244,
  REL16_HIGHESTA: 245, REL16DX_HA: 246, JMP_IREL: 247,
  IRELATIVE: 248, REL16: 249, REL16_LO: 250, REL16_HI: 251, REL16_HA: 252,
  GNU_VTINHERIT: 253, GNU_VTENTRY: 254,
} as const;

const R = R_PPC64;
const names = new Map<number, string>(Object.entries(R).map(([k, v]) => [v, `R_PPC64_${k}`]));
const nameOf = (t: number) => names.get(t) ?? `R_PPC64_${t}`;

/** ELFv2 local entry offset from st_other bits 5..7 (PPC64_LOCAL_ENTRY_OFFSET). */
export function localEntryOffset(other: number): number {
  return ((1 << ((other & 0xe0) >> 5)) >> 2) << 2;
}

// ---- bit writers (pure; they only place bits)
/** Keep the bits outside `mask` of the existing halfword (do_relative_toc). */
const write16Masked = (mask: number): RelocSpec['write'] => (v, off, x) =>
  v.setU16(off, (v.u16(off) & ~mask & 0xffff) | (x.lo & mask));
/** REL24: only bits 2..25 of the instruction word. */
const writeRel24: RelocSpec['write'] = (v, off, x) =>
  v.setU32(off, ((v.u32(off) & ~0x03fffffc) | (x.lo & 0x03fffffc)) >>> 0);
/** A halfword computed by compute() (lo/hi/ha/higher/highest), carried in out.lo. */
const half = (r: RelocInput, h: number): U64 => r.out.set(0, h);

/** value - my_r2 (u64). */
function tocRel(r: RelocInput): U64 {
  return r.out.from(r.value).sub(r.toc(r.tmp));
}

/** do_relative_toc() from kexec-tools: overflow and alignment checks, messages verbatim. */
function relativeToc(r: RelocInput, name: string, v: U64, mask: number, complainSigned: boolean): U64 {
  // (value + 0x8000) > 0xffff, unsigned
  if (complainSigned && !r.tmp.from(v).addN(0x8000).fitsUint(16)) {
    outOfRange('toc16-overflow', `TOC16 relocation overflows (${v.big()})\n`, r, name);
  }
  if ((~mask & 0xffff & v.lo) !== 0) {
    outOfRange('toc16-misaligned', `bad TOC16 relocation (${v.big()})\n`, r, name);
  }
  return v;
}

function localEntryEnabled(r: RelocInput): boolean {
  const le = r.sem.localEntry;
  return le === 'elfv2' || (le === 'e_flags' && (r.eFlags & 3) === 2);
}

function table(sem: Semantics): Map<number, RelocSpec> {
  const t = new Map<number, RelocSpec>();
  const add = (type: number, width: number, compute: RelocSpec['compute'], write: RelocSpec['write']) =>
    // my_r2(), do_relative_toc() and the REL24 range check all run before *location is touched.
    t.set(type, { type, name: nameOf(type), width, compute, write, checksFirst: true });
  const abi = sem.abiRangeChecks;

  add(R.ADDR32, 4, !abi ? absolute : (r) => {
    checkIntOrUInt(r, 'R_PPC64_ADDR32', r.value, 32);
    return r.value;
  }, write32);
  add(R.ADDR64, 8, absolute, write64);
  // kexec-tools: `case R_PPC64_REL64: *(uint64_t *)location = value;` (S+A, not S+A-P).
  add(R.REL64, 8, sem.rel64Absolute ? absolute : pcRelative, write64);
  // kexec-tools: `value - (uintptr_t)location`: the host pointer, not the target address.
  add(R.REL32, 4, (r) => {
    const v = r.out.from(r.value).sub(sem.rel32HostPointer ? r.hostLocation(r.tmp) : r.address);
    // S+A-P carries its range check (abi, and kexec-tools with the REL32 fix: docs/findings/kt-ppc64-rel32-host-pointer.patch).
    if (!sem.rel32HostPointer && sem.loader !== 'kernel') checkInt(r, 'R_PPC64_REL32', v, 32);
    return v;
  }, write32);
  add(R.TOC, 8, (r) => r.toc(r.out), write64);
  add(R.TOC16, 2, (r) => relativeToc(r, 'R_PPC64_TOC16', tocRel(r), 0xffff, true), write16Masked(0xffff));
  add(R.TOC16_DS, 2, (r) => relativeToc(r, 'R_PPC64_TOC16_DS', tocRel(r), 0xfffc, true), write16Masked(0xfffc));
  add(R.TOC16_LO, 2, (r) => relativeToc(r, 'R_PPC64_TOC16_LO', tocRel(r), 0xffff, false), write16Masked(0xffff));
  add(R.TOC16_LO_DS, 2, (r) => relativeToc(r, 'R_PPC64_TOC16_LO_DS', tocRel(r), 0xfffc, false), write16Masked(0xfffc));
  add(R.TOC16_HI, 2, (r) => relativeToc(r, 'R_PPC64_TOC16_HI', tocRel(r).shr(16), 0xffff, false), write16Masked(0xffff));
  add(R.TOC16_HA, 2, (r) => relativeToc(r, 'R_PPC64_TOC16_HA', tocRel(r).addN(0x8000).shr(16), 0xffff, false), write16Masked(0xffff));
  add(R.REL24, 4, (r) => {
    const v = r.out.from(r.value);
    if (localEntryEnabled(r)) v.addN(localEntryOffset(r.symOther));
    v.sub(r.address);
    // (value + 0x2000000) > 0x3ffffff || (value & 3) != 0, unsigned
    if (!r.tmp.from(v).addN(0x2000000).fitsUint(26) || (v.lo & 3) !== 0) {
      outOfRange('rel24-out-of-range', `REL24 ${v.signed()} out of range!\n`, r, 'R_PPC64_REL24');
    }
    return v;
  }, writeRel24);
  add(R.ADDR16_LO, 2, (r) => half(r, lo(r.value)), write16);
  add(R.ADDR16_HI, 2, (r) => {
    if (sem.addr16HiRangeChecks) checkInt(r, 'R_PPC64_ADDR16_HI', r.value, 32);
    return half(r, hi(r.value));
  }, write16);
  add(R.ADDR16_HA, 2, (r) => {
    if (sem.addr16HiRangeChecks) checkInt(r, 'R_PPC64_ADDR16_HA', r.tmp.from(r.value).addN(0x8000), 32);
    return half(r, ha(r.value));
  }, write16);
  add(R.ADDR16_HIGHER, 2, (r) => half(r, higher(r.value)), write16);
  add(R.ADDR16_HIGHEST, 2, (r) => half(r, highest(r.value)), write16);

  if (sem.rel16Rewrite) {
    // kexec-tools replaces `addis 2,12,.TOC.-0b@ha` by `lis 2,.TOC.@h` (no @ha carry) and keeps
    // `addi 2,2,.TOC.-0b@l` with value + my_r2 - 4. The instruction words are read host-endian.
    add(R.REL16_HA, 4, (r) => {
      if ((r.view.u32(r.off) & 0xffff0000) >>> 0 !== 0x3c4c0000) {
        outOfRange('rel16-unexpected-instruction', 'Unexpected instruction for  R_PPC64_REL16_HA', r, 'R_PPC64_REL16_HA');
      }
      const toc = r.toc(r.tmp).add(r.value);
      return r.out.set(0, 0x3c400000 + (sem.rel16Carry ? ha(toc) : hi(toc)));
    }, write32);
    // Reads the whole instruction word (4 bytes) but writes only the halfword at the location.
    add(R.REL16_LO, 4, (r) => {
      if ((r.view.u32(r.off) & 0xffff0000) >>> 0 !== 0x38420000) {
        outOfRange('rel16-unexpected-instruction', 'Unexpected instruction for R_PPC64_REL16_LO', r, 'R_PPC64_REL16_LO');
      }
      return half(r, lo(r.toc(r.tmp).add(r.value).addN(-4)));
    }, write16);
  } else {
    // ABI: #lo(S+A-P) and #ha(S+A-P) into the low halfword, instruction untouched. On a
    // big-endian target the halfword is at offset 2 of the word; the reloc offset already says so.
    add(R.REL16_LO, 2, (r) => half(r, lo(r.tmp.from(r.value).sub(r.address))), write16);
    add(R.REL16_HI, 2, (r) => {
      const v = r.tmp.from(r.value).sub(r.address);
      checkInt(r, 'R_PPC64_REL16_HI', v, 32);
      return half(r, hi(v));
    }, write16);
    add(R.REL16_HA, 2, (r) => {
      const v = r.tmp.from(r.value).sub(r.address);
      checkInt(r, 'R_PPC64_REL16_HA', r.out.from(v).addN(0x8000), 32);
      return half(r, ha(v));
    }, write16);
  }
  return t;
}


export const ppc64: ArchModule = {
  arch: 'ppc64',
  machine: EM_PPC64,
  names,
  typeName: nameOf,
  classify: classifierFor(table),
  // kexec-elf-rel-ppc64.c: die("Unknown rela relocation: %lu\n", r_type); the other profiles say the same.
  unknownMessage(type) {
    return `Unknown rela relocation: ${type >>> 0}\n`;
  },
};
