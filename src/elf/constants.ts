// ELF constants used by the reader, writer and loaders.
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;

export const EM_PPC64 = 21;
export const EM_X86_64 = 62;
export const EM_S390 = 22;
export const EM_AARCH64 = 183;
export const EM_RISCV = 243;

export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;
export const EV_CURRENT = 1;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_HASH = 5;
export const SHT_DYNAMIC = 6;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;

export const SHF_WRITE = 0x1n;
export const SHF_ALLOC = 0x2n;
export const SHF_EXECINSTR = 0x4n;

export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;

export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_NOTE = 4;
export const PT_PHDR = 6;

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export const DT_NULL = 0n;
export const DT_STRTAB = 5n;
export const DT_SYMTAB = 6n;
export const DT_RELA = 7n;
export const DT_RELASZ = 8n;
export const DT_RELAENT = 9n;
export const DT_SYMENT = 11n;
export const DT_REL = 17n;
export const DT_RELSZ = 18n;
export const DT_RELENT = 19n;
export const DT_TEXTREL = 22n;
export const DT_FLAGS = 30n;
export const DT_RELACOUNT = 0x6ffffff9n;
export const DT_NEEDED = 1n;
export const DT_PLTRELSZ = 2n;
export const DT_HASH = 4n;
export const DT_STRSZ = 10n;
export const DT_PLTREL = 20n;
export const DT_JMPREL = 23n;
export const DT_RELR = 36n;
export const DT_GNU_HASH = 0x6ffffef5n;
export const DT_FLAGS_1 = 0x6ffffffbn;
/** DT_FLAGS bit: relocations may write to a non-writable segment. */
export const DF_TEXTREL = 0x4n;

/** Entry sizes per class: [ELF32, ELF64]. */
export const SIZES = {
  ehdr: [52, 64],
  phdr: [32, 56],
  shdr: [40, 64],
  sym: [16, 24],
  rel: [8, 16],
  rela: [12, 24],
  dyn: [8, 16],
} as const;
