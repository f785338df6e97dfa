// Generates, per kernel version and variant, the C file that puts the kernel's own purgatory
// loader functions (extracted unmodified from the fetched sources) in front of our shim, plus
// functions.json recording which function came from which file:line.
//
// scripts/build-kernel-oracle.sh runs it through the CLI (compiled, so an installed package needs
// no tsx): purgatory-oracle oracle gen-kernel-sources --cache DIR --versions 5.10,6.1,6.12 \
//       --variants x86_64,ppc64le
//
// Writes $CACHE/build/kernel-<ver>-<variant>/{kernel_functions.c,functions.json}, rewriting a file
// only when its content changes (so the build script can skip compiling).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractFunctions, extractMacros, prFmtDefinition, type ExtractedFunction } from './kernel-extract.ts';
import { kernelSourceDir, type KernelVariant } from './kernel.ts';
import { OracleUnavailableError } from './registry.ts';

/** The loader proper, in an order that needs no forward declarations. */
export const KEXEC_FILE_FUNCTIONS = [
  'locate_mem_hole_bottom_up', // placement (called through our arch_kexec_locate_mem_hole)
  'kexec_add_buffer',
  'kexec_purgatory_find_symbol',
  'kexec_purgatory_setup_kbuf',
  'kexec_purgatory_setup_sechdrs',
  'kexec_apply_relocations',
  'kexec_load_purgatory',
  'kexec_purgatory_get_set_symbol',
] as const;

interface Group { file: string; modname: string; functions: ExtractedFunction[]; macros?: string[] }

/**
 * Each variant's arch hooks: the file holding arch_kexec_apply_relocations_add (and what it
 * calls), the functions, the file-level #defines they use, and the prototypes kexec_file.c needs
 * to call them (the kernel gets those from <asm/kexec.h>; shim.h declares x86_64's). ppc64le has
 * no RELA hook: the generic one from include/linux/kexec.h rejects every RELA section.
 */
interface ArchHook { file: string; modname: string; functions: string[]; macros?: string[] }
const HOOK_PROTOTYPE = 'int arch_kexec_apply_relocations_add(struct purgatory_info *pi, Elf_Shdr *section, const Elf_Shdr *relsec, const Elf_Shdr *symtab);';
const ARCH_HOOKS: Record<KernelVariant, { hooks: ArchHook[]; prototypes: string[] } | null> = {
  x86_64: { hooks: [{ file: 'arch/x86/kernel/machine_kexec_64.c', modname: 'machine_kexec_64', functions: ['arch_kexec_apply_relocations_add'] }], prototypes: [] },
  ppc64le: null,
  s390x: {
    hooks: [
      { file: 'arch/s390/kernel/machine_kexec_reloc.c', modname: 'machine_kexec_reloc', functions: ['arch_kexec_do_relocs'] },
      { file: 'arch/s390/kernel/machine_kexec_file.c', modname: 'machine_kexec_file', functions: ['arch_kexec_apply_relocations_add'] },
    ],
    prototypes: [HOOK_PROTOTYPE, 'int arch_kexec_do_relocs(int r_type, void *loc, unsigned long val, unsigned long addr);'],
  },
  riscv64: {
    // 6.1 and 6.12 (Debian's 6.12.107 still has it here; upstream moved it to machine_kexec_file.c in 6.13).
    hooks: [{
      file: 'arch/riscv/kernel/elf_kexec.c', modname: 'elf_kexec', functions: ['arch_kexec_apply_relocations_add'],
      macros: ['RV_X', 'RISCV_IMM_BITS', 'RISCV_IMM_REACH', 'RISCV_CONST_HIGH_PART', 'RISCV_CONST_LOW_PART', 'ENCODE_ITYPE_IMM',
        'ENCODE_BTYPE_IMM', 'ENCODE_UTYPE_IMM', 'ENCODE_JTYPE_IMM', 'ENCODE_CBTYPE_IMM', 'ENCODE_CJTYPE_IMM', 'ENCODE_UJTYPE_IMM',
        'ENCODE_UITYPE_IMM', 'CLEAN_IMM'],
    }],
    prototypes: [HOOK_PROTOTYPE],
  },
};

export interface FunctionRecord { name: string; file: string; startLine: number; endLine: number; sha256: string }

export interface Generated { c: string; functions: FunctionRecord[] }

/** Source files by path (kernel/kexec_file.c, …) that replace the fetched ones (mutants). */
export type SourceOverrides = ReadonlyMap<string, string>;

function read(srcDir: string, rel: string, overrides?: SourceOverrides): string {
  const o = overrides?.get(rel);
  if (o !== undefined) return o;
  const p = join(srcDir, 'linux', rel);
  if (!existsSync(p)) throw new OracleUnavailableError(`${p} is missing: the kernel sources are not fetched`, `scripts/fetch-kernel.sh all${srcDir.endsWith('-ports') ? ' --set ports' : ''}`);
  return readFileSync(p, 'utf8');
}

/**
 * The generic, hook-less arch_kexec_apply_relocations_add / arch_kexec_apply_relocations: a
 * static inline under #ifndef in include/linux/kexec.h in the versions we fetch, a __weak
 * function in kernel/kexec_file.c in older ones. Returns it with the file it came from.
 */
function genericHook(srcDir: string, name: string, overrides?: SourceOverrides): { fn: ExtractedFunction; fromKexecFile: boolean } {
  const h = extractFunctions(read(srcDir, 'include/linux/kexec.h', overrides), [name], 'include/linux/kexec.h', { optional: [name] });
  const fn = h.get(name);
  if (fn) return { fn, fromKexecFile: false };
  const k = extractFunctions(read(srcDir, 'kernel/kexec_file.c', overrides), [name], 'kernel/kexec_file.c');
  return { fn: k.get(name)!, fromKexecFile: true };
}

export function generate(srcDir: string, variant: KernelVariant, overrides?: SourceOverrides): Generated {
  const kexecFile = read(srcDir, 'kernel/kexec_file.c', overrides);
  const loader = extractFunctions(kexecFile, KEXEC_FILE_FUNCTIONS, 'kernel/kexec_file.c');
  const arch = ARCH_HOOKS[variant];
  const hooks = [genericHook(srcDir, 'arch_kexec_apply_relocations', overrides)];
  if (!arch) hooks.push(genericHook(srcDir, 'arch_kexec_apply_relocations_add', overrides));

  // The generic hooks print with kexec_file.c's pr_fmt: the header is included from there.
  const groups: Group[] = [{
    file: 'kernel/kexec_file.c',
    modname: 'kexec_file',
    functions: [...hooks.map((h) => h.fn), ...KEXEC_FILE_FUNCTIONS.map((n) => loader.get(n)!)],
  }];
  const prFmts = new Map<string, string | null>([['kernel/kexec_file.c', prFmtDefinition(kexecFile)]]);
  for (const h of arch?.hooks ?? []) {
    const src = read(srcDir, h.file, overrides);
    prFmts.set(h.file, prFmtDefinition(src));
    const fns = extractFunctions(src, h.functions, h.file);
    const macros = h.macros ? extractMacros(src, h.macros, h.file) : undefined;
    groups.push({
      file: h.file, modname: h.modname,
      functions: h.functions.map((n) => fns.get(n)!),
      macros: h.macros?.map((n) => { const m = macros!.get(n)!; return `#line ${m.startLine} "${m.file}"\n${m.text}`; }),
    });
  }

  const lines: string[] = [
    '/* Generated by src/oracle/kernel-gen.ts from the fetched kernel sources: do not edit,',
    ' * do not commit. The functions below are the kernel\'s, unmodified; #line points at their origin. */',
    `#define SHIM_ARCH_X86_64 ${variant === 'x86_64' ? 1 : 0}`,
    '#include "shim.h"',
    ...(arch?.prototypes.length ? ['/* The arch hooks, as <asm/kexec.h> declares them for kexec_file.c. */', ...arch.prototypes] : []),
  ];
  const emitGenerated = (): void => { lines.push(`#line ${lines.length + 2} "kernel_functions.c"`); };
  for (const g of groups) {
    emitGenerated();
    // kbuild passes -DKBUILD_MODNAME with the object's basename; pr_fmt is the file's own.
    lines.push('#undef KBUILD_MODNAME', '#undef pr_fmt', `#define KBUILD_MODNAME "${g.modname}"`);
    lines.push(prFmts.get(g.file) ?? '#define pr_fmt(fmt) fmt');
    for (const m of g.macros ?? []) lines.push(...m.split('\n'));
    for (const f of g.functions) {
      lines.push(`#line ${f.startLine} "${f.file}"`);
      lines.push(...f.text.split('\n'));
    }
  }
  emitGenerated();
  lines.push(
    '/* Glue: lets harness.c call the static placement helper above. */',
    'int shim_locate_mem_hole_bottom_up(unsigned long start, unsigned long end, struct kexec_buf *kbuf)',
    '{',
    '\treturn locate_mem_hole_bottom_up(start, end, kbuf);',
    '}',
    '',
  );
  const functions = groups.flatMap((g) => g.functions).map((f) => ({
    name: f.name, file: f.file, startLine: f.startLine, endLine: f.endLine,
    sha256: createHash('sha256').update(f.text).digest('hex'),
  }));
  return { c: lines.join('\n'), functions };
}

function writeIfChanged(path: string, content: string): boolean {
  if (existsSync(path) && readFileSync(path, 'utf8') === content) return false;
  writeFileSync(path, content);
  return true;
}

/** What writeKernelSources did for one version and variant. */
export interface KernelSourcesWritten { version: string; variant: KernelVariant; dir: string; changed: boolean; functions: FunctionRecord[] }

/**
 * Generate and write kernel_functions.c and functions.json for every version × variant from the
 * sources fetched into <cache>/kernel/src/<version>[-ports] (scripts/fetch-kernel.sh, kernelSourceDir).
 */
export function writeKernelSources(cache: string, versions: readonly string[], variants: readonly KernelVariant[]): KernelSourcesWritten[] {
  const out: KernelSourcesWritten[] = [];
  for (const version of versions) {
    for (const variant of variants) {
      const srcDir = kernelSourceDir(version, variant, cache);
      const dir = join(cache, 'build', `kernel-${version}-${variant}`);
      mkdirSync(dir, { recursive: true });
      const g = generate(srcDir, variant);
      const changed = writeIfChanged(join(dir, 'kernel_functions.c'), g.c);
      writeIfChanged(join(dir, 'functions.json'), JSON.stringify(g.functions, null, 2) + '\n');
      out.push({ version, variant, dir, changed, functions: g.functions });
    }
  }
  return out;
}
