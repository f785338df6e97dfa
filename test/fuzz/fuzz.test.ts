// The fuzz library: seeded determinism, shard partition, case descriptions, the minimizer,
// signatures, and a small seeded TS-only robustness campaign (load() returns an Outcome for every
// case: no untyped exception, no hang), inline and in worker threads.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load } from '../../src/engine.ts';
import { ElfFile } from '../../src/elf/reader.ts';
import { EM_X86_64, SHF_ALLOC, SHF_EXECINSTR, SHN_ABS, SHT_RELA } from '../../src/elf/constants.ts';
import { R_X86_64 } from '../../src/arch/x86_64.ts';
import { Rng, weightTable } from '../../src/fuzz/prng.ts';
import { caseIndices, caseFor } from '../../src/fuzz/campaign.ts';
import { buildCase, fromJson, requestOf, setCorpusRoot, toJson, type CaseDesc } from '../../src/fuzz/desc.ts';
import { budget, ddmin, minimizeDesc } from '../../src/fuzz/minimize.ts';
import { oobWhat, signatureDir } from '../../src/fuzz/signature.ts';
import { dieText } from '../../src/fuzz/oracles.ts';
import { runRobustness } from '../../src/fuzz/robustness.ts';
import { defaultReproducerDir, parseDuration, parseFuzzOptions, parseShard, REPO_ROOT, runFuzz } from '../../src/fuzz/run.ts';
import { loadCorpusRefs } from '../../src/fuzz/generate.ts';
import { UsageError } from '../../src/errors.ts';
import { FUZZ_MODES } from '../../src/fuzz/desc.ts';

setCorpusRoot(REPO_ROOT);
const quiet = { out: () => {}, err: () => {}, isTTY: false };

describe('PRNG (xoshiro128** seeded by splitmix32)', () => {
  it('is deterministic per (seed, case, stream) and independent across them', () => {
    const a = Rng.forCase(42, 7, 'x86_64');
    const b = Rng.forCase(42, 7, 'x86_64');
    const seqA = Array.from({ length: 8 }, () => a.u32());
    expect(Array.from({ length: 8 }, () => b.u32())).toEqual(seqA);
    const c = Rng.forCase(42, 8, 'x86_64');
    expect(Array.from({ length: 8 }, () => c.u32())).not.toEqual(seqA);
    const d = Rng.forCase(42, 7, 'ppc64');
    expect(Array.from({ length: 8 }, () => d.u32())).not.toEqual(seqA);
  });

  it('int(n) stays in range and covers it', () => {
    const r = new Rng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const x = r.int(10);
      expect(x >= 0 && x < 10).toBe(true);
      seen.add(x);
    }
    expect(seen.size).toBe(10);
  });

  it('weightedIndex(table) draws what weighted(pairs) draws with the same weights, and follows the weights', () => {
    const ws = [6, 2, 1, 1];
    const a = new Rng(3);
    const b = new Rng(3);
    const table = weightTable(...ws);
    expect(table.total).toBe(10);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const x = a.weightedIndex(table);
      expect(x).toBe(b.weighted(ws.map((w, j) => [w, j] as const)));
      counts[x]!++;
    }
    // 6:2:1:1 of 4000 draws: 2400/800/400/400, each within 15%
    ws.forEach((w, j) => expect(Math.abs(counts[j]! - 400 * w)).toBeLessThan(60 * w));
  });

  it('src/fuzz never uses Math.random', () => {
    const dir = join(REPO_ROOT, 'src', 'fuzz');
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f), 'utf8'), f).not.toMatch(/Math\.random/);
  });
});

describe('case stream and shards', () => {
  it('shards partition the stream: case k belongs to shard k mod N', () => {
    const all: number[] = [];
    for (let i = 0; i < 3; i++) {
      const ks = [...caseIndices({ index: i, count: 3 }, 100)];
      for (const k of ks) expect(k % 3).toBe(i);
      all.push(...ks);
    }
    expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, k) => k));
  });

  it('the same seed gives the same cases (bytes), whatever the mode list order of calls', () => {
    for (const k of [0, 1, 17, 99]) {
      const a = requestOf(caseFor(5, k, FUZZ_MODES, 'x86_64', REPO_ROOT));
      caseFor(5, k + 1, FUZZ_MODES, 'ppc64', REPO_ROOT); // unrelated generation in between
      const b = requestOf(caseFor(5, k, FUZZ_MODES, 'x86_64', REPO_ROOT));
      expect(Buffer.from(b.elf).equals(Buffer.from(a.elf))).toBe(true);
      expect(b.base).toBe(a.base);
      expect(b.fill).toBe(a.fill);
    }
    const x = requestOf(caseFor(5, 3, ['structured'], 'x86_64', REPO_ROOT)).elf;
    const y = requestOf(caseFor(6, 3, ['structured'], 'x86_64', REPO_ROOT)).elf;
    expect(Buffer.from(x).equals(Buffer.from(y))).toBe(false);
  });

  it('every generator produces objects for every target', () => {
    for (const mode of FUZZ_MODES) {
      for (const arch of ['x86_64', 'ppc64', 'ppc64le'] as const) {
        for (let k = 0; k < 20; k++) expect(requestOf(caseFor(11, k, [mode], arch, REPO_ROOT)).elf.length).toBeGreaterThan(0);
      }
    }
  });
});

const AX = SHF_ALLOC | SHF_EXECINSTR;
function smallDesc(): CaseDesc {
  return {
    mode: 'structured', arch: 'x86_64', base: 0x10_0000n, fill: 0, symbols: [], patches: [],
    source: {
      kind: 'spec',
      obj: {
        endian: 'little', machine: EM_X86_64,
        sections: [
          { name: '.text', flags: AX, data: new Uint8Array(32), addralign: 16n },
          { name: '.data', flags: SHF_ALLOC, data: new Uint8Array(16), addralign: 8n },
        ],
        symbols: [
          { name: 'big', section: SHN_ABS, value: 0x1_0000_0000n },
          { name: 'small', section: SHN_ABS, value: 0x10n },
          { name: 'here', section: '.text', value: 4n },
        ],
        relocations: [
          { section: '.text', offset: 0n, type: R_X86_64['64'], symbol: 'small' },
          { section: '.text', offset: 8n, type: R_X86_64['32'], symbol: 'big' }, // overflows: S+A = 2^32
          { section: '.data', offset: 0n, type: R_X86_64.PC32, symbol: 'here', addend: -4n },
        ],
      },
    },
  };
}

describe('case descriptions', () => {
  it('patches relative to e_shnum land on e_shnum after building', () => {
    const d: CaseDesc = { ...smallDesc(), patches: [{ k: 'ehdr', field: 'shstrndx', value: { shnum: 0 } }, { k: 'shdr', sec: '.rela.text', field: 'info', value: { shnum: 0 } }] };
    const bytes = buildCase(d);
    const shnum = bytes[60]! | (bytes[61]! << 8);
    expect(bytes[62]! | (bytes[63]! << 8)).toBe(shnum);
    const shoff = Number(new DataView(bytes.buffer).getBigUint64(40, true));
    const relText = 3; // NULL .text .data .rela.text
    expect(new DataView(bytes.buffer).getUint32(shoff + relText * 64 + 44, true)).toBe(shnum);
  });

  it('a symbol in section {shnum: 0} gets st_shndx == e_shnum', () => {
    const d = smallDesc();
    const obj = (d.source as { obj: { symbols: { section: unknown }[] } }).obj;
    obj.symbols[2]!.section = { shnum: 0 };
    const elf = new ElfFile(buildCase(d));
    const symtab = elf.sections.find((s) => s.type === 2)!;
    expect(elf.symbols(symtab.index).some((s) => s.shndx === elf.sections.length)).toBe(true);
  });

  it('round-trips through JSON to the same bytes', () => {
    for (let k = 0; k < 30; k++) {
      const d = caseFor(3, k, FUZZ_MODES, 'ppc64le', REPO_ROOT);
      const back = fromJson<CaseDesc>(JSON.parse(JSON.stringify(toJson(d))));
      expect(Buffer.from(buildCase(back)).equals(Buffer.from(buildCase(d)))).toBe(true);
    }
  });

  it('keepRelocs packs a corpus object down to the kept relocation entries', () => {
    const ref = loadCorpusRefs(REPO_ROOT).find((r) => r.arch === 'x86_64')!;
    const d: CaseDesc = { mode: 'mutate', arch: 'x86_64', source: { kind: 'corpus', id: ref.id, file: ref.file }, patches: [], base: 0x10_0000n, fill: 0, symbols: [], keepRelocs: [[0, 1]] };
    const elf = new ElfFile(buildCase(d));
    const rels = elf.sections.filter((s) => s.type === SHT_RELA);
    expect(rels.map((s) => Number(s.size / s.entsize)).reduce((a, b) => a + b, 0)).toBe(1);
  });
});

describe('minimizer', () => {
  it('ddmin finds a 1-minimal subset (batched candidates)', async () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    const got = await ddmin(items, async (cands) => cands.map((c) => c.includes(3) && c.includes(7)), budget(10_000, 10_000));
    expect(got.sort((a, b) => a - b)).toEqual([3, 7]);
  });

  it('shrinks a structured case to the one relocation that still overflows', async () => {
    const still = (d: CaseDesc) => {
      const o = load(requestOf(d), { profile: 'kexec-tools-2.0.25', target: 'x86_64' });
      return o.kind === 'rejected' && o.code === 'overflow';
    };
    const d0 = smallDesc();
    expect(still(d0)).toBe(true);
    const m = await minimizeDesc(d0, async (cands) => cands.map((c) => { try { return still(c); } catch { return false; } }), budget(1000, 10_000));
    const obj = (m.desc.source as { obj: { relocations: { type: number }[]; symbols: unknown[]; sections: unknown[] } }).obj;
    expect(obj.relocations.map((r) => r.type)).toEqual([R_X86_64['32']]);
    expect(obj.symbols.length).toBe(1);
    expect(obj.sections.length).toBe(1);
    expect(m.to.relocations).toBe(1);
  });
});

describe('signatures', () => {
  it('name the kind of out-of-bounds access, not its index; classify a C rejection by its die() line', () => {
    expect(oobWhat('C loader would read e_shdr[9] (st_shndx) past the 9-entry section array (undefined behaviour)')).toBe('e_shdr[st_shndx]');
    expect(oobWhat('C loader would read e_shdr[7] (symtab sh_link) past the 7-entry section array (undefined behaviour)')).toBe('e_shdr[symtab_sh_link]');
    expect(oobWhat('C loader would read e_shdr[65522] (st_shndx (for a section symbol name)) past the 17-entry section array (undefined behaviour)')).toBe('e_shdr[st_shndx:name]');
    expect(oobWhat('C loader would access the relocation location at image buffer offset 4096 (+8), outside its 64 bytes (undefined behaviour)')).toBe('relocation-location');
    expect(oobWhat('C loader would access sechdrs[5].sh_flags at file buffer offset 1 (+8), outside its 2 bytes (undefined behaviour)')).toBe('sechdrs[i].sh_flags');
    expect(oobWhat('C loader would access R_X86_64_64 location (purgatory_buf + sh_offset + r_offset) at image buffer offset 9 (+8), outside its 4 bytes (undefined behaviour)')).toBe('relocation-location');
    expect(oobWhat('C loader would access symbol sha256_digest at image buffer offset 9 (+8), outside its 4 bytes (undefined behaviour)')).toBe('symbol-write');
    expect(dieText('Warning: Elf Note name is not null terminated\nInvalid section: 65523 for symbol s0\n')).toBe('Invalid section: 65523 for symbol s0\n');
    expect(dieText('ELF Note corrupted !\nELF rel parse failed\n')).toBe('ELF rel parse failed\n');
    expect(dieText('Unexpected instruction for  R_PPC64_REL16_HA')).toBe('Unexpected instruction for  R_PPC64_REL16_HA');
    expect(signatureDir('kexec-tools-2.0.25/x86_64+sanitize R_X86_64_32 one-rejected out-of-bounds:e_shdr[st_shndx]~ub')).toBe('kexec-tools-2.0.25_x86_64+sanitize_R_X86_64_32_one-rejected_out-of-bounds_e_shdr_st_shndx_ub');
  });
});

describe('options', () => {
  it('parses durations, shards and modes; rejects nonsense', () => {
    expect(parseDuration('60s')).toBe(60_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseShard('1/4')).toEqual({ index: 1, count: 4 });
    expect(() => parseShard('4/4')).toThrow(UsageError);
    const o = parseFuzzOptions({ oracle: ['kexec-tools-2.0.25/x86_64', 'kernel-6.1/x86_64'], seed: '9', time: '60s', shard: '0/2', mode: 'structured,malformed', json: true });
    expect(o).toMatchObject({ seed: 9, timeMs: 60_000, shard: { index: 0, count: 2 }, modes: ['structured', 'malformed'], progress: 'none' });
    expect(() => parseFuzzOptions({ oracle: ['kexec-tools-2.0.25/sparc'] })).toThrow(UsageError);
    expect(() => parseFuzzOptions({ mode: 'random' })).toThrow(UsageError);
  });
});

describe('TS-only robustness (load() always returns an Outcome)', () => {
  it('a seeded campaign of 400 cases in all modes: no untyped exception, no hang, no generator error', async () => {
    const s = await runRobustness({
      seed: 1, modes: [...FUZZ_MODES], cases: 400, shard: { index: 0, count: 1 }, root: REPO_ROOT, workers: 0,
      hangMs: 1000, killMs: 10_000, heapLimitMiB: 1024, minimize: false,
    });
    expect(s.cases).toBe(400);
    expect(s.findings).toEqual([]);
    expect(s.untypedExceptions).toBe(0);
    expect(s.hangs).toBe(0);
    expect(s.genErrors).toBe(0);
    expect(Object.keys(s.outcomes).length).toBeGreaterThan(5); // ok and many rejection codes
  });

  it('worker threads split the shard and report the same totals', async () => {
    const s = await runRobustness({
      seed: 2, modes: ['malformed'], cases: 120, shard: { index: 1, count: 2 }, root: REPO_ROOT, workers: 2,
      hangMs: 1000, killMs: 10_000, heapLimitMiB: 1024, minimize: false,
    });
    expect(s.cases).toBe(60);
    expect(s.untypedExceptions).toBe(0);
    expect(s.hangs).toBe(0);
  });

  it('the watchdog stops a case that spins forever, reports it as a hang and carries on', async () => {
    const s = await runRobustness({
      seed: 3, modes: ['malformed'], cases: 40, shard: { index: 0, count: 1 }, root: REPO_ROOT, workers: 1,
      hangMs: 1000, killMs: 300, heapLimitMiB: 1024, minimize: false, injectHang: 17,
    });
    expect(s.hangs).toBe(1);
    expect(s.findings).toHaveLength(1);
    expect(s.findings[0]).toMatchObject({ kind: 'ts-hang', first: { index: 17 } });
    expect(s.untypedExceptions).toBe(0);
    // The worker was replaced and resumed after case 17 (cases reported before the stop may be
    // counted once more by the progress sample; none after it is lost).
    expect(s.cases).toBeGreaterThanOrEqual(22);
  });

  it('runFuzz with no oracle is the TS-only mode, and its summary is plain JSON', async () => {
    const s = await runFuzz({ oracles: [], seed: 4, cases: 50, workers: 0, out: null, progress: 'none' }, quiet);
    expect(s.robustness?.cases).toBe(50);
    expect(s.findings).toBe(0);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});

describe('default reproducer directory', () => {
  it('is the checkout corpus/regressions, and the working directory for an installed package', () => {
    expect(defaultReproducerDir('/src/purgatory-oracle', '/home/u/proj')).toBe('/src/purgatory-oracle/corpus/regressions');
    expect(defaultReproducerDir('/home/u/proj/node_modules/purgatory-oracle', '/home/u/proj')).toBe('/home/u/proj/purgatory-oracle-reproducers');
    // A directory merely named like it is not an installed package.
    expect(defaultReproducerDir('/src/node_modules_backup/po', '/x')).toBe('/src/node_modules_backup/po/corpus/regressions');
  });
});
