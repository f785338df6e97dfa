import { describe, expect, it } from 'vitest';
import {
  calledNames, extractFunctions, KernelExtractError, listFunctions, prFmtDefinition,
} from '../../src/oracle/kernel-extract.ts';

// A synthetic C file with the constructs the kernel sources use around the functions we take.
const SRC = `// SPDX-License-Identifier: GPL-2.0-only
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kexec.h>

struct kexec_buf {
\tint a; /* { not a body */
};

static const struct thing table[] = { { 1, 2 }, { 3, 4 } };

int prototype_only(int x);

/*
 * doc comment with a brace {
 */
static const Elf_Sym *find_sym(struct purgatory_info *pi,
\t\t\t       const char *name)
{
\tconst char *s = "}{ \\" }";
\tchar c = '}';
\tchar d = '\\'';
\t// a } in a line comment
\tif (pi) {
\t\treturn NULL;
\t}
\treturn NULL;
}

int __weak weak_fn(void)
{
#ifdef CONFIG_X
\tif (a) {
#else
\tif (b) {
#endif
\t\tx();
\t}
\treturn helper(1) + other (2);
}

#ifndef arch_hook
static inline int
arch_hook(struct purgatory_info *pi, Elf_Shdr *section,
\t  const Elf_Shdr *relsec, const Elf_Shdr *symtab)
{
\tpr_err("RELA relocation unsupported.\\n");
\treturn -ENOEXEC;
}
#endif

#ifdef A
static int twice(void) { return 1; }
#else
static int twice(void) { return 2; }
#endif

static int __init with_attr(void) __attribute__((cold))
{ return 0; }
`;

describe('extractFunctions', () => {
  it('returns a definition unmodified, from its return type to its closing brace', () => {
    const f = extractFunctions(SRC, ['find_sym'], 'x.c').get('find_sym')!;
    expect(f.text.startsWith('static const Elf_Sym *find_sym(struct purgatory_info *pi,')).toBe(true);
    expect(f.text.endsWith('\treturn NULL;\n}')).toBe(true);
    expect(f.text).toContain(`char c = '}';`);
    expect(f.text).toContain('// a } in a line comment');
    expect(SRC.slice(f.start, f.end)).toBe(f.text);
    expect(SRC.split('\n')[f.startLine - 1]).toBe('static const Elf_Sym *find_sym(struct purgatory_info *pi,');
    expect(SRC.split('\n')[f.endLine - 1]).toBe('}');
  });

  it('counts one branch of an #if inside a body and keeps the directives as written', () => {
    const f = extractFunctions(SRC, ['weak_fn'], 'x.c').get('weak_fn')!;
    expect(f.text.startsWith('int __weak weak_fn(void)')).toBe(true);
    expect(f.text).toContain('#else\n\tif (b) {\n#endif');
    expect(f.text.endsWith('return helper(1) + other (2);\n}')).toBe(true);
  });

  it('finds a static inline definition under #ifndef in a header, not its guard', () => {
    const f = extractFunctions(SRC, ['arch_hook'], 'kexec.h').get('arch_hook')!;
    expect(f.text.startsWith('static inline int\narch_hook(')).toBe(true);
    expect(f.text).not.toContain('#endif');
  });

  it('takes trailing attributes and storage-class macros', () => {
    const f = extractFunctions(SRC, ['with_attr'], 'x.c').get('with_attr')!;
    expect(f.text).toBe('static int __init with_attr(void) __attribute__((cold))\n{ return 0; }');
  });

  it('fails loudly naming a missing function; prototypes and struct bodies are not definitions', () => {
    for (const name of ['prototype_only', 'kexec_buf', 'table', 'no_such_fn']) {
      let err: unknown;
      try { extractFunctions(SRC, ['find_sym', name], 'kernel/x.c'); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(KernelExtractError);
      expect((err as KernelExtractError).code).toBe('missing-function');
      expect((err as KernelExtractError).message).toBe(`kernel/x.c: no definition of function ${name}`);
    }
    expect(extractFunctions(SRC, ['no_such_fn'], 'x.c', { optional: ['no_such_fn'] }).size).toBe(0);
  });

  it('refuses to choose between two definitions', () => {
    expect(() => extractFunctions(SRC, ['twice'], 'x.c')).toThrow(/twice is defined 2 times \(lines 5\d, 5\d\)/);
  });

  it('reports unbalanced braces', () => {
    expect(() => extractFunctions('int f(void)\n{\n if (x) {\n', ['f'], 'bad.c')).toThrow(/bad.c:2: unbalanced braces in the body of f/);
  });

  it('lists definitions, the pr_fmt directive and called names', () => {
    expect(listFunctions(SRC)).toEqual(['find_sym', 'weak_fn', 'arch_hook', 'twice', 'twice', 'with_attr']);
    expect(prFmtDefinition(SRC)).toBe('#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt');
    expect(calledNames(extractFunctions(SRC, ['weak_fn']).get('weak_fn')!.text)).toEqual(['x', 'helper', 'other']);
  });
});
