// The mutant generator on a small hand-written C function: the expected list is worked out by
// hand from the rules in src/mutate/mutants.ts (see the comments beside each line).
import { describe, expect, it } from 'vitest';
import { applyMutant, constantVariants, generateMutants, mutantDiff, parseIntConstant } from '../../src/mutate/mutants.ts';

const SRC = `#include "x.h"
/* helper */
static int f(int a, unsigned long *p)
{
	int r = a + 1;
	if (a < 0x10)
		r <<= 2;
	*p = r & 0x3;
	dbgprintf("%d\\n", r);
	return r;
}
`;

describe('generateMutants on a hand-written function', () => {
  const ms = generateMutants(SRC, 'dir/x.c', ['f']);

  it('produces exactly the mutants the rules give, in source order', () => {
    expect(ms.map((m) => [m.rule, m.original, m.replacement, m.line])).toEqual([
      // int r = a + 1;  (a declaration: only its initializer is mutated)
      ['arithmetic', '+', '-', 5],
      ['constant', '1', '0', 5],
      ['constant', '1', '2', 5],
      // if (a < 0x10): the condition removed (0, 1) and negated, then its tokens
      ['remove-condition', 'a < 0x10', '0', 6],
      ['remove-condition', 'a < 0x10', '1', 6],
      ['negate-condition', 'a < 0x10', '!(a < 0x10)', 6],
      ['relational', '<', '<=', 6],
      ['relational', '<', '>=', 6],
      // 0x10 = 16, one bit set: n+1, n-1, shifted left and right (no flips: not a mask)
      ['constant', '0x10', '0x11', 6],
      ['constant', '0x10', '0xf', 6],
      ['constant', '0x10', '0x20', 6],
      ['constant', '0x10', '0x8', 6],
      // r <<= 2;  (the if's statement)
      ['remove-statement', 'r <<= 2;', ';', 7],
      ['assignment', '<<=', '>>=', 7],
      ['constant', '2', '3', 7],
      ['constant', '2', '1', 7],
      // *p = r & 0x3;  (the leading * is a dereference, not an operator)
      ['remove-statement', '*p = r & 0x3;', ';', 8],
      ['bitwise', '&', '|', 8],
      ['bitwise', '&', '^', 8],
      // 0x3, a mask of two bits: n+1=4, n-1=2, highest bit flipped 1, bit above set 7, <<1 6
      // (lowest bit flipped = 2 and >>1 = 1 are duplicates)
      ['constant', '0x3', '0x4', 8],
      ['constant', '0x3', '0x2', 8],
      ['constant', '0x3', '0x1', 8],
      ['constant', '0x3', '0x7', 8],
      ['constant', '0x3', '0x6', 8],
      // dbgprintf(...) is output only; `return r;` ends the function (not removed)
    ]);
  });

  it('numbers ordinals per function and rule, and names file, function, rule, ordinal and context hash in the id', () => {
    const consts = ms.filter((m) => m.rule === 'constant');
    expect(consts.map((m) => m.ordinal)).toEqual(consts.map((_, i) => i + 1));
    for (const m of ms) expect(m.id).toBe(`x.c:f:${m.rule}:${m.ordinal}:${m.contextHash}`);
    expect(new Set(ms.map((m) => m.id)).size).toBe(ms.length);
    expect(ms.every((m) => /^[0-9a-f]{12}$/.test(m.contextHash))).toBe(true);
  });

  it('applies a mutant as one textual change and shows it as a unified diff', () => {
    const m = ms.find((x) => x.rule === 'negate-condition')!;
    expect(applyMutant(SRC, m)).toContain('\tif (!(a < 0x10))\n');
    const d = mutantDiff(SRC, m);
    expect(d).toContain('--- a/dir/x.c');
    expect(d).toContain('-\tif (a < 0x10)');
    expect(d).toContain('+\tif (!(a < 0x10))');
  });

  it('keeps ids when unrelated text moves, and changes only the ids whose context changed', () => {
    const moved = `/* a new comment\n   over two lines */\nstatic int g(void) { return 0; }\n${SRC}`;
    const again = generateMutants(moved, 'dir/x.c', ['f']);
    expect(again.map((m) => m.id)).toEqual(ms.map((m) => m.id));
    expect(again[0]!.line).toBe(ms[0]!.line + 3);
    // `a + 1` becomes `a + 7`: the mutants of that constant and its neighbours change, those of
    // `*p = r & 0x3;` (more than 4 tokens away) keep their ids.
    const edited = generateMutants(SRC.replace('a + 1;', 'a + 7;'), 'dir/x.c', ['f']);
    const idsOf = (xs: typeof ms, line: number) => xs.filter((m) => m.line === line).map((m) => m.id);
    expect(idsOf(edited, 8)).toEqual(idsOf(ms, 8));
    expect(idsOf(edited, 5)).not.toEqual(idsOf(ms, 5));
  });
});

describe('constants', () => {
  it('parses C integer constants with their suffixes', () => {
    expect(parseIntConstant('0x03fffffcUL')).toEqual({ value: 0x03fffffcn, hex: true, suffix: 'UL' });
    expect(parseIntConstant('010')).toEqual({ value: 8n, hex: false, suffix: '' });
    expect(parseIntConstant('0')).toEqual({ value: 0n, hex: false, suffix: '' });
    expect(parseIntConstant('1.5')).toBeUndefined();
  });

  it('gives 0↔1, n±1 and, for masks, one bit flipped or the mask shifted', () => {
    expect(constantVariants(0n, false)).toEqual([1n]);
    expect(constantVariants(1n, false)).toEqual([0n, 2n]);
    expect(constantVariants(256n, false)).toEqual([257n, 255n]);
    // REL24's mask: bits 2..25
    expect(constantVariants(0x3fffffcn, true)).toEqual([0x3fffffdn, 0x3fffffbn, 0x3fffff8n, 0x1fffffcn, 0x7fffffcn, 0x7fffff8n, 0x1fffffen]);
  });
});

describe('statements and operators in context', () => {
  it('leaves casts, declarations, die() arguments and a switch-ending break alone', () => {
    const src = `void g(unsigned long v, void *loc)
{
	struct s *q;
	switch (v) {
	case 1:
		*(uint32_t *)loc = v - 1;
		break;
	default:
		die("bad %lu\\n", v + 1);
		break;
	}
}
`;
    const ms = generateMutants(src, 'g.c', ['g']);
    expect(ms.map((m) => [m.rule, m.original, m.replacement])).toEqual([
      // a case label's constant is a constant like any other
      ['constant', '1', '0'],
      ['constant', '1', '2'],
      ['remove-statement', '*(uint32_t *)loc = v - 1;', ';'],
      ['arithmetic', '-', '+'],
      ['constant', '1', '0'],
      ['constant', '1', '2'],
      ['remove-statement', 'break;', ';'],
      ['remove-statement', 'die("bad %lu\\n", v + 1);', ';'],
    ]);
  });
});
