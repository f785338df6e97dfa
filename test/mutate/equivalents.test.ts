// The equivalents file: entries match generated mutants by id and context hash; the others in the
// run's scope are stale, never dropped silently.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EQUIVALENTS_FORMAT, matchEquivalents, readEquivalents, type EquivalentEntry } from '../../src/mutate/equivalents.ts';
import { generateMutants } from '../../src/mutate/mutants.ts';
import { DEFAULT_EQUIVALENTS } from '../../src/mutate/run.ts';

const SRC = `int f(int a)
{
	if (a > 3)
		a = 0;
	return a;
}
int g(int b)
{
	return b + 1;
}
`;

describe('equivalents', () => {
  const ms = generateMutants(SRC, 'x.c', ['f', 'g']);
  const byRule = (fn: string, rule: string) => ms.find((m) => m.function === fn && m.rule === rule)!;
  const entry = (id: string, contextHash: string): EquivalentEntry => ({ id, contextHash, argument: 'test' });

  it('matches an entry to its mutant by id and context hash', () => {
    const m = byRule('f', 'relational');
    const { byId, stale } = matchEquivalents([entry(m.id, m.contextHash)], ms, () => true);
    expect([...byId.keys()]).toEqual([m.id]);
    expect(stale).toEqual([]);
  });

  it('reports as stale an entry whose code changed (its id is no longer generated)', () => {
    const m = byRule('f', 'relational');
    const changed = generateMutants(SRC.replace('a > 3', 'a > 4'), 'x.c', ['f', 'g']);
    expect(changed.some((x) => x.id === m.id)).toBe(false);
    const { byId, stale } = matchEquivalents([entry(m.id, m.contextHash)], changed, () => true);
    expect(byId.size).toBe(0);
    expect(stale.map((e) => e.id)).toEqual([m.id]);
  });

  it('reports as stale an entry whose hash does not match its id, and ignores entries out of scope', () => {
    const m = byRule('g', 'arithmetic');
    const wrong = entry(m.id, '000000000000');
    const other = entry('y.c:h:constant:1:abcdefabcdef', 'abcdefabcdef');
    const { byId, stale } = matchEquivalents([wrong, other], ms, (e) => e.id.startsWith('x.c:'));
    expect(byId.size).toBe(0);
    expect(stale).toEqual([wrong]);
  });

  it('requires a written argument and rejects duplicates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'po-eq-'));
    const p = join(dir, 'e.json');
    writeFileSync(p, JSON.stringify({ format: EQUIVALENTS_FORMAT, entries: [{ id: 'a', contextHash: 'b', argument: ' ' }] }));
    expect(() => readEquivalents(p)).toThrow(/written argument/);
    writeFileSync(p, JSON.stringify({ format: EQUIVALENTS_FORMAT, entries: [entry('a', 'b'), entry('a', 'b')] }));
    expect(() => readEquivalents(p)).toThrow(/listed twice/);
    writeFileSync(p, JSON.stringify({ entries: [] }));
    expect(() => readEquivalents(p)).toThrow(/not a purgatory-oracle\/mutation-equivalents@1 file/);
  });

  it('the checked-in file reads, and each entry argues in words', () => {
    const entries = readEquivalents(DEFAULT_EQUIVALENTS);
    for (const e of entries) {
      expect(e.id.endsWith(`:${e.contextHash}`)).toBe(true);
      expect(e.argument.length).toBeGreaterThan(40);
    }
  });
});
