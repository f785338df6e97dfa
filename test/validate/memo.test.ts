// What validate's shortcuts rely on: TS outcomes are memoised across profiles by their fields
// (not id or version), and loaded without the relocation log where the registry does not read it.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CORPUS, memoKey, storedSources, validate, type ReferenceSource, type ValidateCase } from '../../src/validate/validate.ts';
import { loadRegistry, needsRelocationLog } from '../../src/validate/registry.ts';
import { compareOutcomes } from '../../src/compare/compare.ts';
import { load } from '../../src/engine.ts';
import { loadKernel, KERNEL_MESSAGE_CLASSES } from '../../src/load/kernel.ts';
import { loadKexecTools } from '../../src/load/kexec-tools.ts';
import { makeProfile, type Profile } from '../../src/load/profile.ts';
import { isLoadError } from '../../src/errors.ts';
import { symbolRangesOf } from '../../src/validate/symbols.ts';
import { join } from 'node:path';

/** The profile with its id and version unreadable: a model that reads either throws. */
function blind(p: Profile): Profile {
  return new Proxy(p, {
    get(t, k, r) {
      if (k === 'id' || k === 'version') throw new Error(`a load model read profile.${k}`);
      return Reflect.get(t, k, r) as unknown;
    },
  });
}

/** A load's whole outcome as text (bigints and bytes spelled out), for a quick exact comparison. */
function outcome(f: () => { image: unknown }): string {
  let o: unknown;
  try {
    o = { ok: f().image };
  } catch (e) {
    if (!isLoadError(e)) throw e;
    o = { code: e.code, message: e.cMessage, where: e.where };
  }
  return JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
}

async function cases(loader: string, version: string): Promise<{ c: ValidateCase; target: string }[]> {
  const out: { c: ValidateCase; target: string }[] = [];
  for (const s of storedSources(DEFAULT_CORPUS)) {
    if (s.oracle.loader !== loader || s.oracle.version !== version) continue;
    for await (const c of s.cases()) out.push({ c, target: s.oracle.target });
  }
  return out;
}

describe('validate memoises outcomes by profile fields', () => {
  it('the kernel model never reads a profile id or version (the corpus cases of kernel 6.1 and 5.10)', async () => {
    for (const version of ['6.1', '5.10']) {
      for (const { c, target } of await cases('kernel', version)) {
        const p = makeProfile(`kernel-${version}`, target as Profile['target']);
        const opts = { symbols: c.req.symbols };
        expect(outcome(() => loadKernel(c.req.elf, c.req.base, blind(p), opts))).toBe(outcome(() => loadKernel(c.req.elf, c.req.base, p, opts)));
      }
    }
  }, 120_000);

  it('the kexec-tools model never reads a profile id or version (the corpus cases of kexec-tools 2.0.25)', async () => {
    for (const { c, target } of await cases('kexec-tools', '2.0.25')) {
      const p = makeProfile('kexec-tools-2.0.25', target as Profile['target']);
      const hostAddress = c.ref.kind === 'ok' ? c.ref.hostBuf : 0n;
      const opts = { fill: c.req.fill, hostAddress, symbols: c.req.symbols };
      expect(outcome(() => loadKexecTools(c.req.elf, c.req.base, blind(p), opts))).toBe(outcome(() => loadKexecTools(c.req.elf, c.req.base, p, opts)));
    }
  }, 120_000);

  it('kernel 6.1 and 6.12 share memo keys; 5.10 (another entry rule) does not', async () => {
    const c = (await cases('kernel', '6.1'))[0]!.c;
    const key = (id: string) => memoKey(makeProfile(id, 'x86_64'), c.req, 0n);
    expect(key('kernel-6.1')).toBe(key('kernel-6.12'));
    expect(key('kernel-5.10')).not.toBe(key('kernel-6.1'));
    expect(key('kexec-tools-2.0.25')).toBe(key('kexec-tools-2.0.32'));
    expect(key('kexec-tools-2.0.20')).not.toBe(key('kexec-tools-2.0.25')); // alignZeroAsOne differs
  });
});

describe('validate loads without the relocation log where nothing reads it', () => {
  const registry = loadRegistry(join(DEFAULT_CORPUS, 'known-divergences.json'));

  it('the bundled registry reads the log for kexec-tools (modelled relocation quirks), not for the kernel', () => {
    for (const t of ['x86_64', 'ppc64', 'ppc64le'] as const) expect(needsRelocationLog(registry, makeProfile('kexec-tools-2.0.25', t))).toBe(true);
    for (const t of ['x86_64', 'ppc64le'] as const) for (const v of ['5.10', '6.1', '6.12']) expect(needsRelocationLog(registry, makeProfile(`kernel-${v}`, t))).toBe(false);
  });

  it('a kernel case whose bytes differ is compared with the log: the differing relocation is named', async () => {
    const all = (await cases('kernel', '6.1')).filter(({ target, c }) => target === 'x86_64' && c.ref.kind === 'ok');
    const { c } = all.find(({ c }) => c.caseId === 'low/none/fill00')!;
    const ts = load(c.req, { profile: 'kernel-6.1', target: 'x86_64' });
    if (ts.kind !== 'ok' || c.ref.kind !== 'ok') throw new Error('expected ok outcomes');
    const rel = ts.image.relocations.find((r) => r.typeName === 'R_X86_64_PC32' && r.imageOffset >= 0)!;
    const image = c.ref.image.slice();
    image[rel.imageOffset] = image[rel.imageOffset]! ^ 0x01;
    const ref = { ...c.ref, image };
    const source: ReferenceSource = {
      oracle: { loader: 'kernel', version: '6.1', target: 'x86_64' }, live: false,
      cases: () => [{ ...c, ref }, c],
    };
    const report = await validate({ sources: [source] });
    const [mutated, plain] = report.sources[0]!.results;
    expect(mutated!.cls).toBe('mismatch-bytes');
    // The same comparison a load with the log gives.
    expect(mutated!.comparison).toEqual(compareOutcomes(ts, ref, symbolRangesOf(c.req, ts), KERNEL_MESSAGE_CLASSES));
    expect(mutated!.comparison.ranges[0]!.attributions).toContainEqual(expect.objectContaining({ kind: 'relocation', type: 'R_X86_64_PC32', relIndex: rel.relIndex }));
    expect(mutated!.report).toMatch(/R_X86_64_PC32 against '/);
    expect(plain!.cls).toBe('match');
  }, 60_000);
});
