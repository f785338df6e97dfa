// Live: build and gate two mutants of kexec-tools 2.0.32's x86_64 relocation code in a scratch
// cache: the 32S overflow check removed (killed by the fuzz stage alone: the corpus stage is given
// no purgatory here) and machine_verify_elf_rel returning 2 instead of 1 (argued equivalent in
// corpus/mutation/equivalent.json: its only caller tests it for zero). CI=true: the 2.0.32 sources
// and toolchain are required.
import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CORPUS, loadManifest } from '../../src/validate/validate.ts';
import { cacheDir } from '../../src/oracle/registry.ts';
import { runMutate } from '../../src/mutate/run.ts';
import { CI, kexecToolsOracleBuilt } from '../live-oracle.ts';

const OVERFLOW_32S = 'kexec-elf-rel-x86_64.c:machine_apply_elf_rel:remove-condition:3:6e04a9ee2938';
const VERIFY_RETURNS_2 = 'kexec-elf-rel-x86_64.c:machine_verify_elf_rel:constant:5:771472a02b9d';
// `memcpy(buf, sym_buf,size);` removed from elf_rel_get_symbol; `ehdr->e_entry = entry;` removed from elf_rel_load
const GET_SYMBOL_NO_COPY = 'kexec-elf-rel.c:elf_rel_get_symbol:remove-statement:7:5fb636fd8572';
const E_ENTRY_NOT_STORED = 'kexec-elf-rel.c:elf_rel_load:remove-statement:46:b37230ffe8a3';

const tree = join(cacheDir(), 'src', 'kexec-tools-2.0.32');
const live = kexecToolsOracleBuilt('2.0.32', 'x86_64', 'mutate live test') && (existsSync(tree) || (CI ? (() => { throw new Error(`${tree} is missing`); })() : false));

describe.runIf(live)('mutate (live, kexec-tools 2.0.32 x86_64)', () => {
  it('kills the removed 32S overflow check with the fuzz stage, and lists the argued equivalent one as equivalent', async () => {
    // A corpus without purgatories: only the fuzz stage can tell.
    const corpus = mkdtempSync(join(tmpdir(), 'po-mutate-corpus-'));
    cpSync(join(DEFAULT_CORPUS, 'known-divergences.json'), join(corpus, 'known-divergences.json'));
    writeFileSync(join(corpus, 'manifest.json'), JSON.stringify({ entries: [] }));
    const scratch = mkdtempSync(join(tmpdir(), 'po-mutate-scratch-'));
    const r = await runMutate({ kexecTools: tree, targets: ['x86_64'], ids: [OVERFLOW_32S, VERIFY_RETURNS_2], corpusDir: corpus, scratch });
    const by = new Map(r.results.map((x) => [x.id, x]));
    expect(by.get(OVERFLOW_32S)!.status).toBe('killed');
    expect(by.get(OVERFLOW_32S)!.by).toMatch(/^fuzz case \d+: .*R_X86_64_32S/);
    expect(by.get(VERIFY_RETURNS_2)!.status).toBe('equivalent');
    expect(r.totals).toMatchObject({ mutants: 2, killed: 1, equivalent: 1, survived: 0, score: 1 });
    // The scratch builds are pruned; nothing went to the user's cache.
    expect(readdirSync(scratch)).toEqual([]);
  }, 180_000);

  it('kills elf_rel_get_symbol and e_entry mutants with the corpus stage through the load details (FLAG_DETAILS)', async () => {
    // One coverage object; its global symbols are probed with elf_rel_get_symbol after the load.
    const dir = mkdtempSync(join(tmpdir(), 'po-mutate-corpus-'));
    const corpus = join(dir, 'corpus');
    mkdirSync(join(corpus, 'elf'), { recursive: true });
    cpSync(join(DEFAULT_CORPUS, 'known-divergences.json'), join(corpus, 'known-divergences.json'));
    const entry = loadManifest(DEFAULT_CORPUS).find((e) => e.id === 'cov-x86_64-symbol-write-size-first')!;
    cpSync(join(DEFAULT_CORPUS, '..', entry.file), join(dir, entry.file));
    writeFileSync(join(corpus, 'manifest.json'), JSON.stringify({ entries: [entry] }));
    const scratch = mkdtempSync(join(tmpdir(), 'po-mutate-scratch-'));
    const r = await runMutate({ kexecTools: tree, targets: ['x86_64'], ids: [GET_SYMBOL_NO_COPY, E_ENTRY_NOT_STORED], corpusDir: corpus, scratch, fuzzCases: 100 });
    for (const id of [GET_SYMBOL_NO_COPY, E_ENTRY_NOT_STORED]) {
      const x = r.results.find((y) => y.id === id)!;
      expect(x.status, id).toBe('killed');
      expect(x.by, id).toMatch(/^corpus cov-x86_64-symbol-write-size-first .*: mismatch-layout/);
    }
  }, 180_000);
});

describe('mutate usage', () => {
  it('needs exactly one subject, a known function and an existing tree', async () => {
    const { runCli } = await import('../cli-run.ts');
    const none = await runCli(['mutate'], {});
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/give --kexec-tools TREE\|VERSION or --kernel VERSION/);
    const bad = await runCli(['mutate', '--kernel', '7.0'], {});
    expect(bad.code).toBe(2);
    const missing = await runCli(['mutate', '--kexec-tools', join(tmpdir(), 'no-such-kexec-tools-tree')], {});
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/no kexec-tools tree at/);
  });

  it.runIf(live)('rejects a function that is not mutated and a mutant id that does not exist', async () => {
    await expect(runMutate({ kexecTools: tree, functions: ['main'] })).rejects.toThrow(/--function main: not a mutated function/);
    await expect(runMutate({ kexecTools: tree, ids: ['x.c:f:constant:1:000000000000'] })).rejects.toThrow(/no mutant x\.c:f:constant:1:000000000000/);
  });
});
