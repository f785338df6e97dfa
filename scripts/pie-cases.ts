// Seeded PIE inputs for scripts/engine-unchanged.ts: the PIE model's own paths, which the ET_REL
// fuzz cases never reach (they stop at not-pie). Two kinds, each loaded at several bases one after
// the other (the model's kept parse serves the later loads), bases near 2^64 included (an image that
// wraps past 2^64 takes the model's per-bias segment lookup):
// - generated: buildPie() with random segments (flags, alignments, bss), dynamic symbols (defined,
//   SHN_ABS, weak and global undefined, section symbols, indexes past nchain), relocations (every
//   dynamic type of the arch, unknown types, locations in and out of the segments and in read-only
//   ones, random addends), RELA or REL, declared text relocations or not, symbol writes, fill bytes;
// - mutated: a corpus PIE with a few bytes of its relocation table, dynamic symbols or dynamic
//   table changed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPie, type PieRelocationSpec, type PieSegmentSpec, type PieSymbolSpec } from '../src/elf/pie-writer.ts';
import { ElfFile } from '../src/elf/reader.ts';
import { EM_PPC64, EM_X86_64, PF_R, PF_W, PF_X, STB_LOCAL, STB_WEAK, STT_OBJECT, STT_SECTION } from '../src/elf/constants.ts';
import { PIE_DYNAMIC } from '../src/load/pie.ts';
import type { Arch, SymbolWrite } from '../src/types.ts';

export const PIE_TARGETS: Arch[] = ['x86_64', 'ppc64', 'ppc64le'];

export interface PieCase {
  label: string;
  elf: Uint8Array;
  bases: bigint[];
  fill: number;
  symbols: SymbolWrite[];
}

/** mulberry32: a small seeded generator (uniform in [0, 1)). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOP = 1n << 64n;

/** Case k of a seed for a target: generated (3 of 4) or a mutated corpus PIE; undefined when the writer refuses the spec. */
export function pieCase(seed: number, k: number, target: Arch, corpus: { file: string; arch: Arch }[], root: string): PieCase | undefined {
  const r = rng((seed * 1_000_003 + k * 7919 + PIE_TARGETS.indexOf(target) * 104_729) >>> 0);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const u64 = () => (BigInt(int(2 ** 32)) << 32n) | BigInt(int(2 ** 32));
  const bases = [0x100000n, BigInt(int(2 ** 20)) << 12n, TOP - (BigInt(1 + int(64)) << 12n), u64()];
  const fill = int(2) ? 0 : int(256);
  const mine = corpus.filter((e) => e.arch === target);
  if (k % 4 === 3 && mine.length) {
    const e = pick(mine);
    const elf = new Uint8Array(readFileSync(join(root, e.file)));
    const f = new ElfFile(elf);
    const secs = f.sections.filter((s) => ['.rela.dyn', '.rel.dyn', '.dynsym', '.dynamic'].includes(f.sectionName(s.index)) && s.size > 0n);
    const s = pick(secs);
    const flips = 1 + int(4);
    for (let i = 0; i < flips; i++) elf[Number(s.offset) + int(Number(s.size))] = int(256);
    return { label: `mutated ${e.file} (${f.sectionName(s.index)}, ${flips} bytes)`, elf, bases, fill, symbols: [] };
  }
  const segs: PieSegmentSpec[] = [];
  let at = BigInt(int(4)) << 12n;
  for (let i = 0, n = 1 + int(3); i < n; i++) {
    const len = 8 + int(120);
    const data = new Uint8Array(len).map(() => int(256));
    const memsz = BigInt(len + (int(2) ? int(64) : 0));
    const align = pick([0x1000n, 0x1000n, 0x10000n, 0n, 0x200000n]);
    segs.push({ name: `.s${i}`, vaddr: at, data, memsz, flags: pick([PF_R | PF_X, PF_R | PF_W, PF_R, PF_R | PF_W | PF_X]), align });
    at = ((at + memsz + 0xfffn) & ~0xfffn) + (BigInt(int(3)) << 12n);
  }
  const seg = () => pick(segs);
  const dynsyms: PieSymbolSpec[] = [];
  for (let i = 0, n = int(6); i < n; i++) {
    const s = seg();
    const kind = int(6);
    if (kind === 0) dynsyms.push({ name: `abs${i}`, value: int(2) ? BigInt(int(0x10000)) : u64(), section: 'abs' });
    else if (kind === 1) dynsyms.push({ name: `weak${i}`, value: 0n, bind: STB_WEAK, section: 'undef' });
    else if (kind === 2) dynsyms.push({ name: `undef${i}`, value: 0n, section: 'undef' });
    else if (kind === 3) dynsyms.push({ name: '', value: s.vaddr, type: STT_SECTION, bind: STB_LOCAL, section: s.name });
    else dynsyms.push({ name: `sym${i}`, value: s.vaddr + BigInt(int(s.data.length)), type: STT_OBJECT, size: 8n, other: int(4) ? 0 : pick([0x20, 0x40, 0x60]) });
  }
  const types = [...PIE_DYNAMIC[target === 'x86_64' ? 'x86_64' : 'ppc64'].keys()];
  const relocations: PieRelocationSpec[] = [];
  for (let i = 0, n = int(10); i < n; i++) {
    const s = seg();
    const where = int(20);
    const offset = where < 16 ? s.vaddr + BigInt(int(Number(s.memsz ?? 8n))) : where < 18 ? at + BigInt(int(0x100)) : u64();
    const type = int(8) ? pick(types) : int(300);
    const symbol = int(3) === 0 ? 0 : 1 + int(dynsyms.length + (int(8) ? 0 : 3));
    const addend = pick([0n, BigInt(int(0x1000)), -BigInt(int(0x1000)), u64(), BigInt(int(2 ** 31))]);
    relocations.push({ offset, type, symbol, addend });
  }
  const writes = int(5) === 0;
  const symbols: PieSymbolSpec[] = [];
  if (writes || int(2)) symbols.push({ name: 'var', value: seg().vaddr, type: STT_OBJECT, size: pick([8n, 8n, 4n]) });
  if (target !== 'x86_64' && int(2)) symbols.push({ name: '.TOC.', value: seg().vaddr + 0x8000n, section: segs[0]!.name });
  const le = target !== 'ppc64';
  try {
    const elf = buildPie({
      endian: int(20) ? (le ? 'little' : 'big') : (le ? 'big' : 'little'), machine: int(20) ? (target === 'x86_64' ? EM_X86_64 : EM_PPC64) : EM_X86_64 + EM_PPC64 - (target === 'x86_64' ? EM_X86_64 : EM_PPC64),
      entry: segs[0]!.vaddr, segments: segs, dynsyms, symbols: symbols.length ? symbols : undefined, relocations,
      rel: int(6) === 0, textrel: pick([undefined, undefined, 'DT_TEXTREL', 'DF_TEXTREL'] as const), noSectionHeaders: int(20) === 0,
    });
    return { label: `generated (${relocations.length} relocations)`, elf, bases, fill, symbols: writes ? [{ name: 'var', bytes: new Uint8Array(8).map(() => int(256)) }] : [] };
  } catch {
    return undefined;
  }
}
