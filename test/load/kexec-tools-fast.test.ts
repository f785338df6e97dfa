// The fast path (src/load/kexec-tools-fast.ts) against the faithful model (src/load/kexec-tools.ts):
// whenever the fast path returns an image it must equal the model's, byte for byte and field for
// field; whenever the model rejects, the fast path must have bailed out. Over the whole corpus ×
// profiles × bases × fill × symbol writes, and over a seeded fuzz stream. It must also really
// engage on the real purgatories, or the speed-up is not real.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load, targetOf } from '../../src/engine.ts';
import { loadKexecTools } from '../../src/load/kexec-tools.ts';
import { loadKexecToolsFast } from '../../src/load/kexec-tools-fast.ts';
import { KEXEC_TOOLS_VERSIONS, makeProfile, type Profile } from '../../src/load/profile.ts';
import { isLoadError } from '../../src/errors.ts';
import { DEFAULT_CORPUS, loadManifest } from '../../src/validate/validate.ts';
import { realisticSymbols } from '../../src/validate/cases.ts';
import { caseFor } from '../../src/fuzz/campaign.ts';
import { buildCase, requestOf, setCorpusRoot } from '../../src/fuzz/desc.ts';
import { FUZZ_MODES } from '../../src/fuzz/desc.ts';
import { REPO_ROOT } from '../../src/fuzz/run.ts';
import type { Arch, LoadedImage, LoadRequest } from '../../src/types.ts';

setCorpusRoot(REPO_ROOT);

const PROFILES = [...KEXEC_TOOLS_VERSIONS.map((v) => `kexec-tools-${v}`), 'abi'];
const TARGETS: Arch[] = ['x86_64', 'ppc64', 'ppc64le'];
const HOST = 0x7f3a_1234_5670n; // a plausible host pointer for ppc64 REL32

type Model = { kind: 'ok'; image: LoadedImage } | { kind: 'rejected'; code: string };

/** The faithful model, with its relocation log (the fast path sums it by type instead). */
function model(req: LoadRequest, profile: Profile, hostAddress = HOST): Model {
  try {
    const { image } = loadKexecTools(req.elf, req.base, profile, { fill: req.fill, hostAddress, symbols: req.symbols });
    return { kind: 'ok', image };
  } catch (e) {
    if (isLoadError(e)) return { kind: 'rejected', code: e.code };
    if (e instanceof Error && e.name === 'ElfFormatError') return { kind: 'rejected', code: 'elf-format' };
    throw e;
  }
}

function fast(req: LoadRequest, profile: Profile, hostAddress = HOST): LoadedImage | undefined {
  return loadKexecToolsFast(req.elf, req.base, profile, req.fill, hostAddress, req.symbols);
}

/**
 * Compare one request: 'fast' (engaged, equal to the model) or 'bail'. `modelOk()` runs the model
 * for a bail only when the caller asks (a bail is always allowed; only whether it should have
 * engaged needs the model's verdict).
 */
function differential(req: LoadRequest, profile: Profile, label: string): { r: 'fast' | 'bail'; modelOk: () => boolean } {
  const f = fast(req, profile);
  if (f === undefined) return { r: 'bail', modelOk: () => model(req, profile).kind === 'ok' };
  const m = model(req, profile);
  expect(m.kind, `${label}: fast path returned an image where the model rejects (${m.kind === 'rejected' ? m.code : ''})`).toBe('ok');
  if (m.kind !== 'ok') return { r: 'fast', modelOk: () => false };
  // Bytes first (a readable first difference), then every field.
  const diff = firstDiff(f.bytes, m.image.bytes);
  expect(diff, `${label}: first differing image byte`).toBe(-1);
  const { relocationTypes, ...image } = f;
  expect(image, label).toEqual({ ...m.image, relocations: [] });
  expect(relocationTypes, `${label}: applied relocations by type`).toEqual(byType(m.image));
  return { r: 'fast', modelOk: () => true };
}

/** The model's relocation log summed by type name, as the registry's coverage reads it. */
function byType(img: LoadedImage): Map<string, { count: number; bytes: number }> {
  const m = new Map<string, { count: number; bytes: number }>();
  for (const r of img.relocations) {
    const h = m.get(r.typeName) ?? { count: 0, bytes: 0 };
    m.set(r.typeName, { count: h.count + 1, bytes: h.bytes + r.width });
  }
  return m;
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

// The fast path's targets only: the kernels' own s390x/riscv64 purgatories are not kexec-tools inputs.
const corpus = loadManifest(DEFAULT_CORPUS).filter((e) => e.file.endsWith('.ro') && TARGETS.includes(e.arch));
/**
 * The coverage corpus's synthetic objects (origin coverage-generator) sit on quirk zones and
 * rejections on purpose: the fast path must still equal the model wherever it engages, but it need
 * not engage there. The real purgatories must take it.
 */
const isReal = (e: (typeof corpus)[number]) => (e as { origin?: { kind?: string } }).origin?.kind !== 'coverage-generator';
const bytesOf = (file: string) => new Uint8Array(readFileSync(resolve(DEFAULT_CORPUS, '..', file)));

/** Bases the validate cases use, plus one just under the fast path's 2^48 limit and two it must leave to the model. */
const BASES = [
  { name: 'low', base: 0x0010_0000n, range: 'plain' },
  { name: 'mid', base: 0x3ff0_0000n, range: 'plain' },
  { name: 'high', base: 0x1_2340_0000n, range: 'plain' },
  { name: 'unaligned', base: 0x3ff0_0f10n, range: 'plain' },
  { name: 'near 2^48', base: (1n << 48n) - 0x10_0000n - 0x123n, range: 'edge' },
  { name: 'high bits', base: 0xffff_ffff_8010_0000n, range: 'outside' },
  { name: 'wraps', base: 0xffff_ffff_ffff_f001n, range: 'outside' },
] as const;

describe('fast path = faithful model over the corpus', () => {
  it('has ET_REL purgatories of every target', () => {
    expect(corpus.filter(isReal).length).toBeGreaterThanOrEqual(30);
    expect(new Set(corpus.map((e) => targetOf(bytesOf(e.file))))).toEqual(new Set(TARGETS));
  });

  describe.each(corpus.map((e) => [e.id, e] as const))('%s', (_id, entry) => {
    const elf = bytesOf(entry.file);
    const own = targetOf(elf)!;
    const realistic = realisticSymbols(elf);
    const wrongSize = realistic.slice(0, 1).map((s) => ({ name: s.name, bytes: new Uint8Array(s.bytes.length + 1) }));
    const symbolSets = [
      { name: 'none', symbols: [] },
      { name: 'realistic', symbols: realistic },
      { name: 'wrong size', symbols: wrongSize },
      { name: 'missing', symbols: [{ name: 'no_such_symbol', bytes: new Uint8Array(8) }] },
    ];

    // Every base with and without the realistic symbol writes; the non-zero fill and the failing
    // symbol writes at the low base.
    const requests = (b: (typeof BASES)[number]) => [
      { fill: 0, s: symbolSets[0]! }, { fill: 0, s: symbolSets[1]! },
      ...(b.name === 'low' ? [{ fill: 0xa5, s: symbolSets[0]! }, { fill: 0xa5, s: symbolSets[1]! }, { fill: 0, s: symbolSets[2]! }, { fill: 0, s: symbolSets[3]! }] : []),
    ];

    it.each(PROFILES)('%s: every target × base × fill × symbol writes', (profileId) => {
      let engaged = 0;
      for (const target of TARGETS) {
        const profile = makeProfile(profileId, target);
        // Other targets (wrong machine, or a byte order the purgatory was not built for): the low base.
        for (const b of target === own ? BASES : BASES.slice(0, 1)) {
          for (const { fill, s } of requests(b)) {
            const req = { elf, base: b.base, fill, symbols: s.symbols };
            const label = `${profileId}/${target}/${b.name}/fill${fill}/${s.name}`;
            const { r, modelOk } = differential(req, profile, label);
            if (r === 'fast') engaged++;
            // The real purgatories on their own target, plain bases and valid symbol writes: the
            // fast path must engage whenever the model accepts (kexec-tools profiles: every
            // target; abi: x86_64 only).
            const mustEngage = isReal(entry) && target === own && b.range === 'plain' && (s.name === 'none' || s.name === 'realistic')
              && (profileId !== 'abi' || target === 'x86_64');
            if (mustEngage && r === 'bail' && modelOk()) expect(r, `${label}: fast path bailed`).toBe('fast');
            if (b.range === 'outside' || ((s.name === 'wrong size' || s.name === 'missing') && s.symbols.length)) expect(r, `${label}: must be left to the model`).toBe('bail');
          }
        }
      }
      // Every purgatory is accepted by some profile of its own target, and then the fast path runs.
      if (isReal(entry) && (profileId !== 'abi' || own === 'x86_64')) expect(engaged).toBeGreaterThan(0);
    });
  });

  it('engine.load() takes the fast path only without a log, with the same outcome', () => {
    const e = corpus.find((x) => x.id.startsWith('debian-kexec-tools-2.0.25') && x.arch === 'x86_64')!;
    const req = { elf: bytesOf(e.file), base: 0x100000n, fill: 0, symbols: realisticSymbols(bytesOf(e.file)) };
    const withLog = load(req, { profile: 'kexec-tools-2.0.25' });
    const noLog = load(req, { profile: 'kexec-tools-2.0.25', log: false });
    expect(withLog.kind).toBe('ok');
    expect(noLog.kind).toBe('ok');
    if (withLog.kind !== 'ok' || noLog.kind !== 'ok') return;
    expect(withLog.image.relocations.length).toBe(147);
    expect({ ...noLog.image, relocationTypes: undefined }).toEqual({ ...withLog.image, relocations: [] });
    expect(noLog.image.relocationTypes).toEqual(byType(withLog.image));
    expect([...noLog.image.relocationTypes!.values()].reduce((n, t) => n + t.count, 0)).toBe(147);
    expect(fast(req, makeProfile('kexec-tools-2.0.25', 'x86_64'), 0n)).toEqual(noLog.image);
  });

  it('ppc64 REL32 uses the host address the caller passes (kexec-tools quirk), like the model', () => {
    const e = corpus.find((x) => x.id.startsWith('debian-kexec-tools-2.0.25') && x.arch !== 'x86_64')!;
    const req = { elf: bytesOf(e.file), base: 0x100000n, fill: 0, symbols: [] };
    const p = makeProfile('kexec-tools-2.0.25', 'ppc64le');
    const a = fast(req, p, 0x1000n);
    const b = fast(req, p, 0x7fff_0000_2000n);
    expect(a).toBeDefined();
    expect(a!.bytes).not.toEqual(b!.bytes);
    for (const h of [0n, 0x1000n, 0x7fff_0000_2000n, 0xffff_ffff_ffff_f000n]) {
      const m = model(req, p, h);
      expect(m.kind).toBe('ok');
      if (m.kind === 'ok') expect(fast(req, p, h)).toEqual({ ...m.image, relocations: [], relocationTypes: byType(m.image) });
    }
  });

  it('never writes into the caller\'s bytes', () => {
    const e = corpus.find((x) => x.arch === 'ppc64le')!;
    const elf = bytesOf(e.file);
    const copy = elf.slice();
    fast({ elf, base: 0x100000n, fill: 0, symbols: realisticSymbols(elf) }, makeProfile('kexec-tools', 'ppc64le'));
    expect(Buffer.from(elf).equals(Buffer.from(copy))).toBe(true);
  });
});

describe('fast path = faithful model over a seeded fuzz stream', () => {
  // More with FAST_DIFF_CASES=n (the default keeps `npm test` reasonable on a 2-core machine).
  const CASES = Number(process.env.FAST_DIFF_CASES ?? 500);
  it(`${CASES} cases (structured, mutate, malformed): equal whenever the fast path runs`, () => {
    const stats = new Map<string, { fast: number; bail: number; modelOk: number }>();
    for (let k = 0; k < CASES; k++) {
      const desc = caseFor(0x5eed, k, FUZZ_MODES, undefined, REPO_ROOT);
      const id = desc.profile && /^(kexec-tools|abi)/.test(desc.profile) ? desc.profile : 'kexec-tools';
      const profile = makeProfile(id, desc.arch);
      const req = requestOf(desc);
      expect(req.elf).toEqual(buildCase(desc));
      const { r, modelOk } = differential(req, profile, `case ${k} (${desc.mode}, ${desc.arch}, ${id})`);
      const s = stats.get(desc.mode) ?? { fast: 0, bail: 0, modelOk: 0 };
      s[r]++;
      if (modelOk()) s.modelOk++;
      stats.set(desc.mode, s);
    }
    console.log('fast path over the fuzz stream (mode: fast / bail / model ok):',
      [...stats].map(([m, s]) => `${m}: ${s.fast} / ${s.bail} / ${s.modelOk}`).join('; '));
    // The stream is made of edge cases, so most bail; but the fast path must handle a fair share
    // of what the model accepts in every mode that produces accepted cases.
    for (const [m, s] of stats) {
      expect(s.fast, `${m}: fast path results`).toBeLessThanOrEqual(s.modelOk);
      if (m !== 'malformed') expect(s.fast / s.modelOk, `${m}: share of accepted cases on the fast path`).toBeGreaterThan(0.3);
    }
  }, 600_000);
});
