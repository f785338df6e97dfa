// Relocation name tables (src/arch/*.ts `names`): every (number, name) pair is checked against
// lists written out here from the ABI documents, independently of the source tables; adding names
// must change neither classification (which types a loader handles) nor the messages the real
// loaders print for the types they do not handle.
//
// Sources of the lists below:
// - x86_64: x86-64 psABI (gitlab.com/x86-psABIs/x86-64-ABI, object-files.tex, table "Relocation
//   Types": 0..38, 41..51, with 30, 39 and 40 marked deprecated); GNU binutils include/elf/x86-64.h
//   for the names binutils still gives 39/40 (PC32_BND, PLT32_BND) and the GNU extensions 250/251;
//   LLVM llvm/include/llvm/BinaryFormat/ELFRelocs/x86_64.def agrees on every type it lists.
//   (One stored binutils snapshot, 08b0f198, swaps 47/48; the psABI table, glibc and the other
//   linkers give 47 = CODE_5_GOTTPOFF, 48 = CODE_5_GOTPC32_TLSDESC, and so does this list.)
// - ppc64: 64-bit PowerPC ELF ABI supplement (ELFv1) and the ELFv2 ABI, with the Power10
//   additions; GNU binutils include/elf/ppc64.h (which also names 117..124, 128..151, 240..247 and
//   the GNU extensions 253/254); LLVM PowerPC64.def agrees on every type it lists.
// - Both lists are cross-checked at run time against the system's glibc <elf.h> when present.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { R_X86_64, x86_64 } from '../../src/arch/x86_64.ts';
import { R_PPC64, ppc64 } from '../../src/arch/ppc64.ts';
import type { ArchModule } from '../../src/arch/types.ts';
import { makeProfile } from '../../src/load/profile.ts';
import { cacheDir } from '../../src/oracle/registry.ts';
import { EM_PPC64, EM_X86_64, SHF_ALLOC, SHF_EXECINSTR, STT_FUNC } from '../../src/elf/constants.ts';
import { loadObject, rejection } from '../fixture.ts';
import type { Arch } from '../../src/types.ts';

/** "number NAME" lines, one pair per line; the R_<ARCH>_ prefix is added by the caller. */
function pairs(text: string): [number, string][] {
  return text.trim().split('\n').map((l) => {
    const [n, name] = l.trim().split(/\s+/);
    return [Number(n), name!];
  });
}

const X86_64_ABI = pairs(`
  0 NONE
  1 64
  2 PC32
  3 GOT32
  4 PLT32
  5 COPY
  6 GLOB_DAT
  7 JUMP_SLOT
  8 RELATIVE
  9 GOTPCREL
  10 32
  11 32S
  12 16
  13 PC16
  14 8
  15 PC8
  16 DTPMOD64
  17 DTPOFF64
  18 TPOFF64
  19 TLSGD
  20 TLSLD
  21 DTPOFF32
  22 GOTTPOFF
  23 TPOFF32
  24 PC64
  25 GOTOFF64
  26 GOTPC32
  27 GOT64
  28 GOTPCREL64
  29 GOTPC64
  30 GOTPLT64
  31 PLTOFF64
  32 SIZE32
  33 SIZE64
  34 GOTPC32_TLSDESC
  35 TLSDESC_CALL
  36 TLSDESC
  37 IRELATIVE
  38 RELATIVE64
  39 PC32_BND
  40 PLT32_BND
  41 GOTPCRELX
  42 REX_GOTPCRELX
  43 CODE_4_GOTPCRELX
  44 CODE_4_GOTTPOFF
  45 CODE_4_GOTPC32_TLSDESC
  46 CODE_5_GOTPCRELX
  47 CODE_5_GOTTPOFF
  48 CODE_5_GOTPC32_TLSDESC
  49 CODE_6_GOTPCRELX
  50 CODE_6_GOTTPOFF
  51 CODE_6_GOTPC32_TLSDESC
  250 GNU_VTINHERIT
  251 GNU_VTENTRY
`);

const PPC64_ABI = pairs(`
  0 NONE
  1 ADDR32
  2 ADDR24
  3 ADDR16
  4 ADDR16_LO
  5 ADDR16_HI
  6 ADDR16_HA
  7 ADDR14
  8 ADDR14_BRTAKEN
  9 ADDR14_BRNTAKEN
  10 REL24
  11 REL14
  12 REL14_BRTAKEN
  13 REL14_BRNTAKEN
  14 GOT16
  15 GOT16_LO
  16 GOT16_HI
  17 GOT16_HA
  19 COPY
  20 GLOB_DAT
  21 JMP_SLOT
  22 RELATIVE
  24 UADDR32
  25 UADDR16
  26 REL32
  27 PLT32
  28 PLTREL32
  29 PLT16_LO
  30 PLT16_HI
  31 PLT16_HA
  33 SECTOFF
  34 SECTOFF_LO
  35 SECTOFF_HI
  36 SECTOFF_HA
  37 ADDR30
  38 ADDR64
  39 ADDR16_HIGHER
  40 ADDR16_HIGHERA
  41 ADDR16_HIGHEST
  42 ADDR16_HIGHESTA
  43 UADDR64
  44 REL64
  45 PLT64
  46 PLTREL64
  47 TOC16
  48 TOC16_LO
  49 TOC16_HI
  50 TOC16_HA
  51 TOC
  52 PLTGOT16
  53 PLTGOT16_LO
  54 PLTGOT16_HI
  55 PLTGOT16_HA
  56 ADDR16_DS
  57 ADDR16_LO_DS
  58 GOT16_DS
  59 GOT16_LO_DS
  60 PLT16_LO_DS
  61 SECTOFF_DS
  62 SECTOFF_LO_DS
  63 TOC16_DS
  64 TOC16_LO_DS
  65 PLTGOT16_DS
  66 PLTGOT16_LO_DS
  67 TLS
  68 DTPMOD64
  69 TPREL16
  70 TPREL16_LO
  71 TPREL16_HI
  72 TPREL16_HA
  73 TPREL64
  74 DTPREL16
  75 DTPREL16_LO
  76 DTPREL16_HI
  77 DTPREL16_HA
  78 DTPREL64
  79 GOT_TLSGD16
  80 GOT_TLSGD16_LO
  81 GOT_TLSGD16_HI
  82 GOT_TLSGD16_HA
  83 GOT_TLSLD16
  84 GOT_TLSLD16_LO
  85 GOT_TLSLD16_HI
  86 GOT_TLSLD16_HA
  87 GOT_TPREL16_DS
  88 GOT_TPREL16_LO_DS
  89 GOT_TPREL16_HI
  90 GOT_TPREL16_HA
  91 GOT_DTPREL16_DS
  92 GOT_DTPREL16_LO_DS
  93 GOT_DTPREL16_HI
  94 GOT_DTPREL16_HA
  95 TPREL16_DS
  96 TPREL16_LO_DS
  97 TPREL16_HIGHER
  98 TPREL16_HIGHERA
  99 TPREL16_HIGHEST
  100 TPREL16_HIGHESTA
  101 DTPREL16_DS
  102 DTPREL16_LO_DS
  103 DTPREL16_HIGHER
  104 DTPREL16_HIGHERA
  105 DTPREL16_HIGHEST
  106 DTPREL16_HIGHESTA
  107 TLSGD
  108 TLSLD
  109 TOCSAVE
  110 ADDR16_HIGH
  111 ADDR16_HIGHA
  112 TPREL16_HIGH
  113 TPREL16_HIGHA
  114 DTPREL16_HIGH
  115 DTPREL16_HIGHA
  116 REL24_NOTOC
  117 ADDR64_LOCAL
  118 ENTRY
  119 PLTSEQ
  120 PLTCALL
  121 PLTSEQ_NOTOC
  122 PLTCALL_NOTOC
  123 PCREL_OPT
  124 REL24_P9NOTOC
  128 D34
  129 D34_LO
  130 D34_HI30
  131 D34_HA30
  132 PCREL34
  133 GOT_PCREL34
  134 PLT_PCREL34
  135 PLT_PCREL34_NOTOC
  136 ADDR16_HIGHER34
  137 ADDR16_HIGHERA34
  138 ADDR16_HIGHEST34
  139 ADDR16_HIGHESTA34
  140 REL16_HIGHER34
  141 REL16_HIGHERA34
  142 REL16_HIGHEST34
  143 REL16_HIGHESTA34
  144 D28
  145 PCREL28
  146 TPREL34
  147 DTPREL34
  148 GOT_TLSGD_PCREL34
  149 GOT_TLSLD_PCREL34
  150 GOT_TPREL_PCREL34
  151 GOT_DTPREL_PCREL34
  240 REL16_HIGH
  241 REL16_HIGHA
  242 REL16_HIGHER
  243 REL16_HIGHERA
  244 REL16_HIGHEST
  245 REL16_HIGHESTA
  246 REL16DX_HA
  247 JMP_IREL
  248 IRELATIVE
  249 REL16
  250 REL16_LO
  251 REL16_HI
  252 REL16_HA
  253 GNU_VTINHERIT
  254 GNU_VTENTRY
`);

const tables: [string, ArchModule, Record<string, number>, [number, string][], string][] = [
  ['x86_64', x86_64, R_X86_64, X86_64_ABI, 'R_X86_64_'],
  ['ppc64', ppc64, R_PPC64, PPC64_ABI, 'R_PPC64_'],
];

describe.each(tables)('%s relocation names', (_arch, mod, consts, abi, prefix) => {
  it('the exported constants and the name table hold exactly the ABI list (number ↔ name, both ways)', () => {
    expect([...mod.names.entries()].sort((a, b) => a[0] - b[0])).toEqual(abi.map(([n, name]) => [n, `${prefix}${name}`]));
    expect(Object.entries(consts).map(([k, v]) => [v, k]).sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual(abi);
  });
  it('numbers are unique, and typeName() of an unnamed number is R_<ARCH>_<n>', () => {
    expect(new Set(abi.map(([n]) => n)).size).toBe(abi.length);
    for (const n of [18, 23, 32, 125, 127, 152, 239, 255, 9999]) {
      if (!mod.names.has(n)) expect(mod.typeName(n)).toBe(`${prefix}${n}`);
    }
  });
});

/** `#define R_<ARCH>_<NAME> <number or alias>` from a C header, aliases resolved within the header. */
function headerDefines(text: string, prefix: string): Map<string, number> {
  const raw = new Map<string, string>();
  for (const m of text.matchAll(/^#define\s+(R_\w+)\s+(\w+)/gm)) raw.set(m[1]!, m[2]!);
  const value = (v: string, depth = 0): number | undefined =>
    /^\d+$/.test(v) ? Number(v) : depth < 4 && raw.has(v) ? value(raw.get(v)!, depth + 1) : undefined;
  const out = new Map<string, number>();
  for (const [k, v] of raw) {
    const n = value(v);
    if (k.startsWith(prefix) && !k.endsWith('_NUM') && n !== undefined) out.set(k, n);
  }
  return out;
}

const ELF_H = '/usr/include/elf.h';
describe.skipIf(!existsSync(ELF_H))('cross-check against the system glibc <elf.h>', () => {
  it.each(tables)('%s: every R_ name glibc defines is in the table, with the same number', (_arch, mod, _c, _abi, prefix) => {
    const defs = headerDefines(readFileSync(ELF_H, 'utf8'), prefix);
    expect(defs.size).toBeGreaterThan(30);
    for (const [name, n] of defs) expect([name, mod.names.get(n)]).toEqual([name, name]);
  });
});

describe('classification is unchanged by the names (which types each loader handles)', () => {
  // Worked out from the C switch statements: kexec-elf-rel-x86_64.c (NONE, 64, 32, 32S, PC32,
  // PLT32); kexec-elf-rel-ppc64.c (ADDR32, ADDR64, REL64, REL32, TOC, TOC16, TOC16_DS, TOC16_LO,
  // TOC16_LO_DS, TOC16_HI, TOC16_HA, REL24, ADDR16_LO/HI/HA/HIGHER/HIGHEST, REL16_HA/LO); the
  // ABI profiles add REL16_HI (the kernel's and the abi profile share the ABI semantics).
  const X86 = [0, 1, 2, 4, 10, 11];
  const PPC_KT = [1, 4, 5, 6, 10, 26, 38, 39, 41, 44, 47, 48, 49, 50, 51, 63, 64, 250, 252];
  const PPC_ABI = [...PPC_KT, 251].sort((a, b) => a - b);
  it.each([
    ['kexec-tools', 'x86_64', X86], ['abi', 'x86_64', X86], ['kernel-6.1', 'x86_64', X86], ['pie', 'x86_64', X86],
    ['kexec-tools', 'ppc64', PPC_KT], ['kexec-tools', 'ppc64le', PPC_KT], ['abi', 'ppc64le', PPC_ABI], ['pie', 'ppc64', PPC_ABI],
  ] as [string, Arch, number[]][])('%s/%s', (id, target, want) => {
    const sem = makeProfile(id, target).sem;
    const mod = target === 'x86_64' ? x86_64 : ppc64;
    const handled: number[] = [];
    for (let t = 0; t < 1024; t++) if (mod.classify(t, sem)) handled.push(t);
    expect(handled).toEqual(want);
  });
});

// kexec-tools' own reloc_name() (kexec/arch/x86_64/kexec-elf-rel-x86_64.c:21-59 in 2.0.25, 2.0.29 and 2.0.32):
// a table of the first 24 names, then sprintf("R_X86_64_%lu"). Written out here, and checked
// against the fetched C source when the oracle cache holds it.
const KT_RELOC_NAME = [
  'NONE', '64', 'PC32', 'GOT32', 'PLT32', 'COPY', 'GLOB_DAT', 'JUMP_SLOT', 'RELATIVE', 'GOTPCREL', '32', '32S',
  '16', 'PC16', '8', 'PC8', 'DTPMOD64', 'DTPOFF64', 'TPOFF64', 'TLSGD', 'TLSLD', 'DTPOFF32', 'GOTTPOFF', 'TPOFF32',
].map((n) => `R_X86_64_${n}`);
const ktReloc = (t: number) => KT_RELOC_NAME[t] ?? `R_X86_64_${t}`;

const srcRoot = join(cacheDir(), 'src');
const ktSources = existsSync(srcRoot) ? readdirSync(srcRoot).filter((d) => /^kexec-tools-\d/.test(d) && existsSync(join(srcRoot, d, 'kexec/arch/x86_64/kexec-elf-rel-x86_64.c'))) : [];

describe('unknown-type messages are unchanged (they print numbers, or kexec-tools\' shorter table)', () => {
  it.skipIf(ktSources.length === 0).each(ktSources)('%s reloc_name() table is the 24 names written out above', (dir) => {
    const c = readFileSync(join(srcRoot, dir, 'kexec/arch/x86_64/kexec-elf-rel-x86_64.c'), 'utf8');
    const body = /reloc_name\(unsigned long r_type\)\s*\{[^{]*\{([^}]*)\}/.exec(c)?.[1] ?? '';
    expect([...body.matchAll(/"([^"]+)"/g)].map((m) => m[1])).toEqual(KT_RELOC_NAME);
    expect(c).toContain('sprintf(buf, "R_X86_64_%lu", r_type);');
  });

  const probe = (mod: ArchModule) => [...mod.names.keys(), 52, 127, 200, 255, 256, 0xffff];
  it('x86_64 kexec-tools: die("Unhandled rela relocation: %s\\n", reloc_name(r_type)) for every unhandled type', () => {
    const sem = makeProfile('kexec-tools', 'x86_64').sem;
    for (const t of probe(x86_64)) expect(x86_64.unknownMessage(t, sem)).toBe(`Unhandled rela relocation: ${ktReloc(t)}\n`);
  });
  it('x86_64 kernel: pr_err("Unknown rela relocation: %llu\\n") with pr_fmt "kexec: " (machine_kexec_64.c)', () => {
    const sem = makeProfile('kernel-6.1', 'x86_64').sem;
    for (const t of probe(x86_64)) expect(x86_64.unknownMessage(t, sem)).toBe(`kexec: Unknown rela relocation: ${t}\n`);
  });
  it.each(['ppc64', 'ppc64le'] as const)('ppc64 kexec-tools (%s): die("Unknown rela relocation: " r_type as %lu) (kexec-elf-rel-ppc64.c:201)', (target) => {
    const sem = makeProfile('kexec-tools', target).sem;
    for (const t of probe(ppc64)) expect(ppc64.unknownMessage(t, sem)).toBe(`Unknown rela relocation: ${t}\n`);
  });

  const obj = (machine: number, endian: 'little' | 'big', type: number) => ({
    endian, machine,
    sections: [{ name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(0x20), addralign: 16n }],
    symbols: [{ name: 'fn', section: '.text', value: 0n, type: STT_FUNC }],
    relocations: [{ section: '.text', offset: 0n, type, symbol: 'fn' }],
  });
  it('through load(): a newly named type keeps the C message and gets its name in `where`', () => {
    const x = loadObject(obj(EM_X86_64, 'little', R_X86_64.CODE_4_GOTPCRELX));
    expect(rejection(x)).toEqual({ code: 'unknown-relocation', message: 'Unhandled rela relocation: R_X86_64_43\n' });
    expect(x.kind === 'rejected' && x.where?.relocation).toBe('R_X86_64_CODE_4_GOTPCRELX');
    const k = loadObject(obj(EM_X86_64, 'little', R_X86_64.GNU_VTENTRY), { profile: 'kernel-6.1' });
    expect(rejection(k).message).toBe('kexec: Unknown rela relocation: 251\n');
    const p = loadObject(obj(EM_PPC64, 'little', R_PPC64.PCREL34), { base: 0x4000000n, target: 'ppc64le' });
    expect(rejection(p)).toEqual({ code: 'unknown-relocation', message: 'Unknown rela relocation: 132\n' });
    expect(p.kind === 'rejected' && p.where?.relocation).toBe('R_PPC64_PCREL34');
  });
});
