// Differential fuzz: the TS kernel load model (profile kernel-<ver>) against the live kernel oracles,
// on mutated copies of the corpus (section header fields, random bytes, symbol writes, bases).
//
//   npx tsx scripts/kernel/fuzz-kernel-parity.ts [--seed N] [--count N] [--versions 5.10,6.1,6.12]
//       [--variants x86_64,ppc64le] [--save DIR]
//
// Prints one line of classes per (version, variant) and the first example of each non-matching
// class; --save writes those inputs to DIR. Exit status 1 if any case mismatches. An oracle crash
// (a fault: the C code read or wrote outside its buffers) matches a TS `out-of-bounds` rejection.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { load } from '../../src/engine.ts';
import { parseElf } from '../../src/elf/reader.ts';
import { SHT_SYMTAB, STB_GLOBAL } from '../../src/elf/constants.ts';
import type { OracleResponse } from '../../src/oracle/batch.ts';
import { findKernelOracle, openKernelOracle, type KernelVariant, type KernelVersion } from '../../src/oracle/kernel.ts';
import { REPO_DIR } from '../../src/oracle/registry.ts';
import type { LoadRequest, Outcome, SymbolWrite } from '../../src/types.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    count: { type: 'string', default: '1000' },
    versions: { type: 'string', default: '5.10,6.1,6.12' },
    variants: { type: 'string', default: 'x86_64,ppc64le' },
    save: { type: 'string' },
  },
});

let state = Number(values.seed) >>> 0 || 1;
const rnd = (): number => {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return (state >>> 1) / 0x80000000;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

/** Global symbols of the file, with their sizes: candidates for symbol writes. */
function globals(elf: Uint8Array): { name: string; size: number }[] {
  try {
    const f = parseElf(elf);
    const out: { name: string; size: number }[] = [];
    for (const s of f.sections) {
      if (s.type !== SHT_SYMTAB) continue;
      for (const sym of f.symbols(s.index)) {
        if (sym.bind === STB_GLOBAL && sym.size < 4096n) out.push({ name: f.stringAt(s.link, sym.name), size: Number(sym.size) });
      }
    }
    return out;
  } catch {
    return [];
  }
}

const SHDR_FIELDS = [[4, 4], [8, 8], [16, 8], [24, 8], [32, 8], [40, 4], [44, 4], [48, 8]] as const; // type flags addr offset size link info addralign

function mutate(seed: Uint8Array): Uint8Array {
  const b = seed.slice();
  const v = new DataView(b.buffer);
  const shoff = Number(v.getBigUint64(0x28, true));
  const shnum = v.getUint16(0x3c, true);
  const n = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < n; k++) {
    if (rnd() < 0.5 && shnum) {
      const at = shoff + Math.floor(rnd() * shnum) * 64;
      const [fo, w] = pick(SHDR_FIELDS);
      const val = pick([0n, 1n, 3n, 8n, 64n, 0x1000n, BigInt(shnum), BigInt(shnum - 1), 0xffffn, BigInt(Math.floor(rnd() * 256))]);
      if (at + fo + w > b.length) continue;
      if (w === 4) v.setUint32(at + fo, Number(val), true);
      else v.setBigUint64(at + fo, val, true);
    } else {
      b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    }
  }
  return b;
}

function requests(seeds: Uint8Array[], count: number): LoadRequest[] {
  const out: LoadRequest[] = [];
  for (let i = 0; i < count; i++) {
    const seed = pick(seeds);
    const elf = i % 10 === 0 ? seed : mutate(seed);
    const symbols: SymbolWrite[] = [];
    const g = globals(seed);
    if (g.length && rnd() < 0.3) {
      const s = pick(g);
      const size = rnd() < 0.8 ? s.size : Math.floor(rnd() * 16);
      symbols.push({ name: s.name, bytes: Uint8Array.from({ length: size }, () => Math.floor(rnd() * 256)) });
    }
    out.push({ elf, base: pick([0n, 0x100000n, 0x123n, 0x7fff0000n, 0x100000000n]), fill: 0, symbols });
  }
  return out;
}

function classify(ref: OracleResponse, ts: Outcome): string {
  if (ref.kind === 'crashed') return ts.kind === 'rejected' && ts.code === 'out-of-bounds' ? 'match:crash=out-of-bounds' : `oracle-crashed/ts-${ts.kind}`;
  if (ref.kind === 'timeout') return 'oracle-timeout';
  if (ts.kind !== ref.kind) return `kind:${ref.kind}/ts-${ts.kind}${ts.kind === 'rejected' ? `:${ts.code}` : ''}`;
  if (ref.kind === 'rejected' && ts.kind === 'rejected') {
    // the model's text for silent returns is "(errno N, no message)"
    const text = ref.message || `(errno ${ref.errno}, no message)`;
    return text === ts.message || ref.message === ts.message ? 'match:rejected' : 'rejected:message';
  }
  if (ref.kind === 'ok' && ts.kind === 'ok') {
    const im = ts.image;
    if (ref.relAddr !== im.base || ref.relSize !== im.memsz) return 'ok:layout';
    if (ref.entry !== im.entry) return 'ok:entry';
    if (ref.shAddr.some((a, k) => a !== im.sections[k]?.addr)) return 'ok:sh_addr';
    return Buffer.compare(Buffer.from(ref.image), Buffer.from(im.bytes)) === 0 ? 'match:ok' : 'ok:bytes';
  }
  return 'other';
}

const show = (x: unknown): string =>
  JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v instanceof Uint8Array ? `[${v.length} bytes]` : v)).slice(0, 400);

const manifest = JSON.parse(readFileSync(join(REPO_DIR, 'corpus', 'manifest.json'), 'utf8')) as { entries: { arch: string; file: string }[] };
let mismatches = 0;
for (const variant of values.variants.split(',') as KernelVariant[]) {
  const seeds = manifest.entries.filter((e) => e.arch === variant).map((e) => new Uint8Array(readFileSync(join(REPO_DIR, e.file))));
  if (!seeds.length) continue;
  const reqs = requests(seeds, Number(values.count));
  for (const version of values.versions.split(',') as KernelVersion[]) {
    const oracle = openKernelOracle(findKernelOracle(version, variant), { timeoutMs: 20_000 });
    const refs = await oracle.runMany(reqs);
    await oracle.close();
    const counts: Record<string, number> = {};
    const examples: string[] = [];
    reqs.forEach((req, i) => {
      let ts: Outcome;
      try {
        ts = load(req, { profile: `kernel-${version}`, target: variant });
      } catch (e) {
        ts = { kind: 'rejected', code: 'died', message: `TS threw: ${(e as Error).message}` };
      }
      const cls = classify(refs[i]!, ts);
      if (!counts[cls] && !cls.startsWith('match')) {
        examples.push(`  ${cls} #${i} base=0x${req.base.toString(16)} syms=${req.symbols.map((s) => `${s.name}[${s.bytes.length}]`).join(',')}\n    oracle ${show(refs[i])}\n    ts     ${show(ts)}`);
        if (values.save) {
          mkdirSync(values.save, { recursive: true });
          writeFileSync(join(values.save, `${version}-${variant}-${i}.o`), req.elf);
        }
      }
      counts[cls] = (counts[cls] ?? 0) + 1;
      if (!cls.startsWith('match')) mismatches++;
    });
    console.log(`kernel-${version}/${variant}: ${JSON.stringify(counts)}`);
    for (const e of examples) console.log(e);
  }
}
process.exitCode = mismatches ? 1 : 0;
