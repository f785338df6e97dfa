// Delta debugging (Zeller's ddmin), with each round's candidates tested as one batch so a
// pipelined oracle answers them at its throughput, not one round trip at a time. Structured cases
// shrink their description (patches, symbol writes, relocations, symbols, sections); corpus cases
// shrink their patches and the set of relocations kept live. The predicate decides everything:
// a candidate that no longer builds, or diverges differently, is simply not interesting.
import type { ObjRelocation } from '../elf/writer.ts';
import { buildCase, descSize, sourceBytes, type CaseDesc, type DescSize, type FObject, type FSymbol } from './desc.ts';
import { ElfFile } from '../elf/reader.ts';
import { SHT_REL, SHT_RELA } from '../elf/constants.ts';

/** Tests many candidates; true = still interesting. */
export type BatchTest<T> = (candidates: T[][]) => Promise<boolean[]>;

export interface Budget {
  /** Candidate evaluations left. */
  tests: number;
  deadline: number;
}

export function budget(tests: number, ms: number): Budget {
  return { tests, deadline: performance.now() + ms };
}

const spent = (b: Budget) => b.tests <= 0 || performance.now() > b.deadline;

function split<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  const size = xs.length / n;
  for (let i = 0; i < n; i++) {
    const part = xs.slice(Math.round(i * size), Math.round((i + 1) * size));
    if (part.length) out.push(part);
  }
  return out;
}

/** ddmin: a 1-minimal subset of `items` that `test` still finds interesting (items itself assumed interesting). */
export async function ddmin<T>(items: T[], test: BatchTest<T>, b: Budget): Promise<T[]> {
  if (!items.length) return items;
  b.tests--;
  if ((await test([[]]))[0]) return [];
  let cur = items;
  let n = 2;
  while (cur.length >= 2 && !spent(b)) {
    const chunks = split(cur, n);
    const complements = n > 2 ? chunks.map((_, i) => chunks.filter((_c, j) => j !== i).flat()) : [];
    const cands = [...chunks, ...complements];
    b.tests -= cands.length;
    const res = await test(cands);
    const hit = res.findIndex(Boolean);
    if (hit >= 0 && hit < chunks.length) {
      cur = chunks[hit]!;
      n = 2;
    } else if (hit >= chunks.length) {
      cur = complements[hit - chunks.length]!;
      n = Math.max(n - 1, 2);
    } else {
      if (n >= cur.length) break;
      n = Math.min(cur.length, n * 2);
    }
  }
  return cur;
}

// ---------------------------------------------------------------------------------------------
// Structured minimization of a CaseDesc

export type DescTest = (cands: CaseDesc[]) => Promise<boolean[]>;

function withObj(d: CaseDesc, obj: FObject): CaseDesc {
  return { ...d, source: { kind: 'spec', obj } };
}

/** Drop sections with everything that lives in them (symbols defined there, relocations against them or their symbols). */
function dropSections(obj: FObject, keep: Set<string>): FObject {
  const sections = obj.sections.filter((s) => keep.has(s.name));
  const symbols = obj.symbols.filter((s) => typeof s.section !== 'string' || keep.has(s.section));
  const names = new Set(symbols.map((s) => s.name));
  const relocations = (obj.relocations ?? []).filter((r) => keep.has(r.section) && (typeof r.symbol !== 'string' || names.has(r.symbol)));
  return { ...obj, sections, symbols, relocations };
}

function dropSymbols(obj: FObject, keep: FSymbol[]): FObject {
  const names = new Set(keep.map((s) => s.name));
  const relocations = (obj.relocations ?? []).filter((r) => typeof r.symbol !== 'string' || names.has(r.symbol));
  return { ...obj, symbols: keep, relocations };
}

/** All relocation entries of a corpus source, as [relSec, index]. */
export function allRelocs(d: CaseDesc): [number, number][] {
  const out: [number, number][] = [];
  try {
    const e = new ElfFile(sourceBytes(d.source));
    let n = 0;
    for (const s of e.sections) {
      if (s.type !== SHT_REL && s.type !== SHT_RELA) continue;
      const count = Number(s.size / (s.entsize || 1n));
      for (let i = 0; i < count; i++) out.push([n, i]);
      n++;
    }
  } catch {
    /* none */
  }
  return out;
}

export interface MinimizeResult {
  desc: CaseDesc;
  from: DescSize;
  to: DescSize;
  tests: number;
  ms: number;
}

/** Shrink a case while `test` keeps saying it is interesting. */
export async function minimizeDesc(d0: CaseDesc, test: DescTest, b: Budget): Promise<MinimizeResult> {
  const t0 = performance.now();
  const tests0 = b.tests;
  const from = descSize(d0);
  let d = d0;
  const over = <T>(get: (d: CaseDesc) => T[], set: (d: CaseDesc, xs: T[]) => CaseDesc) => async () => {
    const base = d;
    const kept = await ddmin(get(base), async (cands) => test(cands.map((xs) => set(base, xs))), b);
    if (kept.length !== get(base).length) d = set(base, kept);
  };
  const patches = over((x) => x.patches, (x, patches) => ({ ...x, patches }));
  const writes = over((x) => x.symbols, (x, symbols) => ({ ...x, symbols }));
  for (let round = 0; round < 2 && !spent(b); round++) {
    const before = JSON.stringify(descSize(d));
    await patches();
    await writes();
    if (d.source.kind === 'corpus') {
      const base = d;
      const all = base.keepRelocs ?? allRelocs(base);
      const kept = await ddmin(all, async (cands) => test(cands.map((k) => ({ ...base, keepRelocs: k }))), b);
      if (kept.length !== all.length || !base.keepRelocs) d = { ...base, keepRelocs: kept };
    } else {
      await over<ObjRelocation>((x) => (x.source as { obj: FObject }).obj.relocations ?? [], (x, relocations) => withObj(x, { ...(x.source as { obj: FObject }).obj, relocations }))();
      await over<FSymbol>((x) => (x.source as { obj: FObject }).obj.symbols, (x, syms) => withObj(x, dropSymbols((x.source as { obj: FObject }).obj, syms)))();
      await over<string>((x) => (x.source as { obj: FObject }).obj.sections.map((s) => s.name), (x, names) => withObj(x, dropSections((x.source as { obj: FObject }).obj, new Set(names))))();
    }
    if (JSON.stringify(descSize(d)) === before) break;
  }
  // Byte level (corpus sources, whose containers stay large): zero every chunk the finding does
  // not need, so the reproducer shows which bytes matter.
  if (d.source.kind === 'corpus' && !spent(b)) {
    const base = d;
    const len = buildCase(base).length;
    const chunk = Math.max(16, Math.ceil(len / 128));
    const chunks = Array.from({ length: Math.ceil(len / chunk) }, (_, i) => i);
    const zeroOf = (kept: number[]): [number, number][] => {
      const keep = new Set(kept);
      const out: [number, number][] = [];
      for (const i of chunks) {
        if (keep.has(i)) continue;
        const last = out[out.length - 1];
        if (last && last[1] === i * chunk) last[1] = Math.min(len, (i + 1) * chunk);
        else out.push([i * chunk, Math.min(len, (i + 1) * chunk)]);
      }
      return out;
    };
    const kept = await ddmin(chunks, async (cands) => test(cands.map((k) => ({ ...base, zero: zeroOf(k) }))), b);
    if (kept.length !== chunks.length) d = { ...base, zero: zeroOf(kept) };
  }
  // Simple scalars last: a plain base and no fill, when they do not matter.
  for (const simpler of [{ base: 0x10_0000n }, { fill: 0 }] as Partial<CaseDesc>[]) {
    if (spent(b)) break;
    const cand = { ...d, ...simpler };
    if (cand.base === d.base && cand.fill === d.fill) continue;
    b.tests--;
    if ((await test([cand]))[0]) d = cand;
  }
  return { desc: d, from, to: descSize(d), tests: tests0 - b.tests, ms: performance.now() - t0 };
}
