// Each coverage object does what its spec says, through the TS engine, at every validate base (not
// only the two it is stored at): the expected bytes, layout and messages are the hand-computed
// ones of the spec (ABI formulas, C source), the relocation log shows every type it claims.
import { describe, expect, it } from 'vitest';
import { coverageSpecs, generate, idOf, type CoverageSpec } from '../../../src/corpus/coverage/generate.ts';
import type { Expectation } from '../../../src/corpus/coverage/spec.ts';
import { enc, ARCHES } from '../../../src/corpus/coverage/spec.ts';
import { load } from '../../../src/engine.ts';
import { TARGETS } from '../../../src/arch/targets.ts';
import { BASES, realisticSymbols } from '../../../src/validate/cases.ts';
import type { Outcome, SymbolWrite } from '../../../src/types.ts';
import { KERNEL_VARIANT_INFO, KERNEL_VARIANTS, KERNEL_VERSIONS, type KernelVariant } from '../../../src/oracle/kernel.ts';

const specs = coverageSpecs();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const TYPE = /^(R_(?:X86_64|PPC64|AARCH64|390|RISCV)_[A-Z0-9_]+)(?::.*)?$/;
/** The kernel's relocation types (riscv64, s390x): applied by the kernel model where its outcome is ok. */
const KERNEL_TYPE = /^(R_(?:RISCV|390)_[A-Z0-9_]+)(?::.*)?$/;

function run(s: CoverageSpec, profile: string, base: bigint, symbols: SymbolWrite[] = []): Outcome {
  // A fixed host address: kexec-tools' ppc64 REL32 subtracts it (no expectation depends on it).
  // With no probes, the kexec-tools model still reports the load's details (add_buffer's arguments).
  const probes = profile.startsWith('kexec-tools') ? { probes: [] } : {};
  return load({ elf: generate(s), base, fill: 0, symbols, ...probes }, { profile, target: s.arch, log: true, hostAddress: 0x1000_0000_1000n });
}

function check(s: CoverageSpec, x: Expectation, o: Outcome, base: bigint, what: string): void {
  if (x.kind === 'rejected') {
    expect(o.kind, `${what}: ${o.kind === 'ok' ? 'loaded' : o.kind}`).toBe('rejected');
    // A message that prints P: the image base is the request aligned up to the page size (add_buffer).
    if (o.kind === 'rejected') expect(o.message, what).toBe(typeof x.message === 'string' ? x.message : x.message((base + 0xfffn) & ~0xfffn));
    return;
  }
  expect(o.kind, `${what}: ${o.kind === 'rejected' ? o.message : o.kind}`).toBe('ok');
  if (o.kind !== 'ok') return;
  const img = o.image;
  const sec = (name: string) => {
    const found = img.sections.filter((z) => z.name === name && z.alloc);
    const last = found[found.length - 1]; // a spec naming a duplicated section means the last (buildObject)
    if (!last) throw new Error(`${what}: no section ${name}`);
    return last;
  };
  const at = (name: string, off: number, n: number) => {
    const start = Number(sec(name).addr - img.base) + off;
    return img.bytes.slice(start, start + n);
  };
  for (const b of x.bytes ?? []) expect(hex(at(b.section, b.offset, b.bytes.length)), `${what} ${b.section}+0x${b.offset.toString(16)}: ${b.why}`).toBe(hex(b.bytes));
  const store = TARGETS[s.arch].endian;
  for (const c of x.computed ?? []) {
    expect(hex(at(c.section, c.offset, c.width)), `${what} ${c.section}+0x${c.offset.toString(16)}: ${c.why}`).toBe(hex(enc(store, c.width, c.value(img.base))));
  }
  for (const [name, off] of Object.entries(x.offsets ?? {})) expect(sec(name).addr - img.base, `${what}: ${name} offset`).toBe(off);
  if (x.memsz !== undefined) expect(img.memsz, `${what}: memsz`).toBe(x.memsz);
  if (x.memsz !== undefined && img.details) expect(img.details.memsz, `${what}: add_buffer memsz`).toBe(x.memsz);
  if (x.bufAlign !== undefined) expect(img.details?.bufAlign, `${what}: add_buffer buf_align`).toBe(x.bufAlign);
  if (x.entry !== undefined) expect(img.entry, `${what}: entry`).toBe(x.entryAbsolute ? x.entry : img.base + x.entry);
  if (x.baseAlign !== undefined) {
    expect(img.base % x.baseAlign, `${what}: base 0x${img.base.toString(16)} aligned to 0x${x.baseAlign.toString(16)}`).toBe(0n);
    expect(img.base >= base && img.base - base < x.baseAlign, `${what}: the first aligned address at or above the request`).toBe(true);
  }
}

/** The kernel versions whose loader exists for an arch (riscv64: 6.1 and 6.12); every version for the others. */
const kernelVersionsOf = (arch: string): readonly string[] =>
  (KERNEL_VARIANTS as readonly string[]).includes(arch) ? KERNEL_VARIANT_INFO[arch as KernelVariant].versions : KERNEL_VERSIONS;

describe.each(specs.map((s) => [idOf(s), s] as const))('%s', (_id, s) => {
  const kernels = s.kernel ? kernelVersionsOf(s.arch).map((v) => `kernel-${v}`) : [];

  it.each(BASES.map((b) => [b.name, b.base] as const))('kexec-tools model at base %s: the outcome worked out from the C source', (name, base) => {
    const o = run(s, 'kexec-tools-2.0.32', base);
    check(s, s.kexecTools, o, base, `${idOf(s)} @${name}`);
    // Every relocation type it claims is applied (ok), or is the one that is rejected.
    const types = new Set(s.covers.map((c) => TYPE.exec(c)?.[1]).filter((t): t is string => !!t));
    if (o.kind === 'ok') {
      const applied = new Set(o.image.relocations.map((r) => r.typeName));
      for (const t of types) expect(applied.has(t), `${t} applied`).toBe(true);
    } else if (o.kind === 'rejected' && types.size) {
      expect([...types]).toContain(o.where?.relocation);
    }
  });

  if (s.kexecToolsWrites) {
    it.each(BASES.map((b) => [b.name, b.base] as const))('kexec-tools model at base %s with the realistic symbol writes', (name, base) => {
      const writes = realisticSymbols(generate(s));
      expect(writes.length).toBeGreaterThan(0);
      check(s, s.kexecToolsWrites!, run(s, 'kexec-tools-2.0.32', base, writes), base, `${idOf(s)} writes @${name}`);
    });
  }

  if (kernels.length) {
    it.each(kernels.flatMap((k) => BASES.map((b) => [k, b.name, b.base] as const)))('%s model at base %s: the kernel outcome from kexec_file.c / machine_kexec_64.c', (k, name, base) => {
      const x = s.kernelVersions?.[k.slice('kernel-'.length)] ?? s.kernel!;
      const o = run(s, k, base);
      check(s, x, o, base, `${idOf(s)} ${k} @${name}`);
      if (o.kind === 'ok') {
        const applied = new Set(o.image.relocations.map((r) => r.typeName));
        for (const t of s.covers.map((c) => KERNEL_TYPE.exec(c)?.[1]).filter((t): t is string => !!t && !t.endsWith('_NONE'))) expect(applied.has(t), `${t} applied`).toBe(true);
      }
    });
  }
});

describe('symbol writes of every size', () => {
  const withWrites = specs.filter((s) => s.covers.some((c) => c.startsWith('layout:symbol-write-')));
  it('each arch with coverage objects has one whose realistic writes have sizes 1, 2, 4, 8, odd and large', () => {
    expect(new Set(withWrites.map((s) => s.arch))).toEqual(new Set(specs.map((s) => s.arch)));
    expect(specs.every((s) => s.arch in ARCHES)).toBe(true);
    for (const s of withWrites) {
      const sizes = realisticSymbols(generate(s)).map((w) => w.bytes.length);
      for (const n of [1, 2, 4, 8]) expect(sizes, idOf(s)).toContain(n);
      expect(sizes.some((n) => n % 2 === 1 && n > 8), `${idOf(s)}: odd`).toBe(true);
      expect(sizes.some((n) => n > 256), `${idOf(s)}: large`).toBe(true);
    }
  });

  it.each(withWrites.flatMap((s) => ['kexec-tools-2.0.32', ...(s.kernel ? ['kernel-6.12'] : [])].map((p) => [idOf(s), p, s] as const)))(
    '%s (%s): each write lands at its symbol (section + st_value) and nowhere else',
    (_id, profile, s) => {
      const writes = realisticSymbols(generate(s));
      const plain = run(s, profile, BASES[1]!.base);
      const o = run(s, profile, BASES[1]!.base, writes);
      if (o.kind !== 'ok' || plain.kind !== 'ok') throw new Error('not loaded');
      const expected = Uint8Array.from(plain.image.bytes);
      for (const w of writes) {
        const sym = s.object.symbols!.find((y) => y.name === w.name && y.bind !== 0 /* the global, not a local decoy */)!;
        const sec = o.image.sections.find((z) => z.name === sym.section)!;
        expected.set(w.bytes, Number(sec.addr - o.image.base + sym.value!));
      }
      expect(hex(o.image.bytes)).toBe(hex(expected));
    },
  );
});

describe('kernel entry rules', () => {
  const ps = specs.find((s) => s.arch === 'x86_64' && s.name === 'purgatory-start')!;
  it('purgatory_start (.text.ps + 8) fixes the entry in kernel 6.1/6.12; 5.10 and kexec-tools use e_entry (.text at 0x40 + 4)', () => {
    for (const b of BASES) {
      const at = (p: string) => {
        const o = run(ps, p, b.base);
        if (o.kind !== 'ok') throw new Error(`${p}: ${o.kind}`);
        return o.image.entry - o.image.base;
      };
      expect(at('kernel-6.1')).toBe(8n);
      expect(at('kernel-6.12')).toBe(8n);
      expect(at('kernel-5.10')).toBe(0x44n);
      expect(at('kexec-tools-2.0.32')).toBe(0x44n);
    }
  });
});
