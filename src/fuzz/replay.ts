// Replay: inputs found by a coverage-guided fuzzer (libFuzzer or AFL++ on the native harness built
// by scripts/build-fuzz-harness.sh: one input = one raw ELF) become fuzz cases, so they go through
// the same differential, registry, minimization and reproducer pipeline as generated cases.
import { readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import type { Arch } from '../types.ts';
import type { CaseDesc } from './desc.ts';

/**
 * Bookkeeping files the fuzzers write beside their inputs (AFL++'s crashes/README.txt, .state,
 * fuzzer_stats, plot_data, cmdline...). Everything else is an input, ELF or not: a fuzzer's
 * crash file is often not a well-formed ELF, and that is the point.
 */
const NOT_INPUTS = new Set(['README.txt', 'fuzzer_stats', 'plot_data', 'cmdline', 'fuzz_bitmap', 'fuzzer_setup', 'target_hash']);

/** The input files named by `paths` (files, or directories read one level deep), sorted per directory. */
export function replayFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p0 of paths) {
    const p = resolve(p0);
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      throw new UsageError(`--replay: cannot read ${p0}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    if (st.isFile()) {
      out.push(p);
      continue;
    }
    if (!st.isDirectory()) throw new UsageError(`--replay: ${p0} is neither a file nor a directory`);
    const names = readdirSync(p).filter((n) => !n.startsWith('.') && !NOT_INPUTS.has(n)).sort();
    for (const n of names) {
      const f = join(p, n);
      if (statSync(f).isFile()) out.push(f);
    }
  }
  if (!out.length) throw new UsageError(`--replay: no input files in ${paths.join(', ')}`);
  return out;
}

export interface ReplayOptions {
  base: bigint;
  fill: number;
}

/**
 * One case per file: the raw bytes as a corpus-kind source (so byte-level minimization applies),
 * loaded at `base` with `fill` and no symbol writes, as fuzz-entry.c loads them.
 */
export function replayCases(files: readonly string[], arch: Arch, o: ReplayOptions): CaseDesc[] {
  return files.map((file) => ({
    mode: 'malformed',
    arch,
    source: { kind: 'corpus', id: `replay:${basename(file)}`, file },
    patches: [],
    base: o.base,
    fill: o.fill,
    symbols: [],
  }));
}
