// Malformed-input robustness of the engine's front door: seeded, deterministic mutations of
// built objects go through load() with every profile; each result must be an Outcome (never a
// thrown exception, which would be an internal bug).
import { describe, expect, it } from 'vitest';
import { load } from '../src/engine.ts';
import { buildObject, type ObjectSpec } from '../src/elf/writer.ts';
import { ElfFile } from '../src/elf/reader.ts';
import { PROFILE_IDS } from '../src/load/profile.ts';
import { R_X86_64 } from '../src/arch/x86_64.ts';
import { R_PPC64 } from '../src/arch/ppc64.ts';
import {
  EM_PPC64, EM_X86_64, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, SHN_UNDEF, SHT_NOBITS, STB_LOCAL, STT_FUNC, STT_OBJECT,
} from '../src/elf/constants.ts';
import type { Arch, Outcome } from '../src/types.ts';
import { enc, rng } from './fixture.ts';

const AX = SHF_ALLOC | SHF_EXECINSTR;
const WA = SHF_ALLOC | SHF_WRITE;

function x86Object(): ObjectSpec {
  const R = R_X86_64;
  return {
    endian: 'little', machine: EM_X86_64, entry: 0x4n,
    sections: [
      { name: '.text', flags: AX, data: new Uint8Array(0x40).fill(0x90), addralign: 16n },
      { name: '.data', flags: WA, data: new Uint8Array(0x20), addralign: 8n },
      { name: '.bss', type: SHT_NOBITS, flags: WA, size: 0x100n, addralign: 64n },
    ],
    symbols: [
      { name: 'local', section: '.text', value: 0x10n, bind: STB_LOCAL, type: STT_FUNC },
      { name: 'purgatory', section: '.text', value: 0n, type: STT_FUNC, size: 0x40n },
      { name: 'sha256_digest', section: '.data', value: 0n, type: STT_OBJECT, size: 0x20n },
      { name: 'stack', section: '.bss', value: 0n, type: STT_OBJECT, size: 0x100n },
      { name: 'k', section: SHN_ABS, value: 0x1000n },
    ],
    relocations: [
      { section: '.text', offset: 0x1n, type: R.PC32, symbol: 'local', addend: -4n },
      { section: '.text', offset: 0x8n, type: R['64'], symbol: 'stack', addend: 0x100n },
      { section: '.text', offset: 0x10n, type: R['32'], symbol: 'sha256_digest' },
      { section: '.text', offset: 0x14n, type: R['32S'], symbol: 'k' },
      { section: '.text', offset: 0x18n, type: R.PLT32, symbol: 'purgatory', addend: -4n },
      { section: '.data', offset: 0x0n, type: R.NONE, symbol: 'k' },
    ],
  };
}

function ppcObject(endian: 'big' | 'little'): ObjectSpec {
  const R = R_PPC64;
  const text = new Uint8Array(0x40);
  text.set(enc(4, 0x48000001n, endian), 0);
  text.set(enc(4, 0x3c4c0000n, endian), 0x10);
  text.set(enc(4, 0x38420000n, endian), 0x14);
  return {
    endian, machine: EM_PPC64, flags: endian === 'big' ? 1 : 2,
    sections: [
      { name: '.text', flags: AX, data: text, addralign: 4n },
      { name: '.toc', flags: WA, data: new Uint8Array(0x10), addralign: 8n },
      { name: '.data', flags: WA, data: new Uint8Array(0x20), addralign: 8n },
      { name: '.bss', type: SHT_NOBITS, flags: WA, size: 0x80n, addralign: 16n },
    ],
    symbols: [
      { name: 'fn', section: '.text', value: 0x20n, type: STT_FUNC, other: 0x60 },
      { name: 'tocsym', section: '.toc', value: 0n },
      { name: 'var', section: '.data', value: 8n, size: 8n, type: STT_OBJECT },
      { name: '.TOC.', section: SHN_UNDEF },
    ],
    relocations: [
      { section: '.text', offset: 0n, type: R.REL24, symbol: 'fn' },
      { section: '.text', offset: 0x10n, type: R.REL16_HA, symbol: '.TOC.' },
      { section: '.text', offset: 0x14n, type: R.REL16_LO, symbol: '.TOC.', addend: 4n },
      { section: '.text', offset: 0x1an, type: R.TOC16_DS, symbol: 'tocsym', addend: 0x8008n },
      { section: '.text', offset: 0x1en, type: R.ADDR16_HA, symbol: 'var' },
      { section: '.text', offset: 0x22n, type: R.ADDR16_LO, symbol: 'var' },
      { section: '.toc', offset: 0n, type: R.ADDR64, symbol: 'var' },
      { section: '.toc', offset: 8n, type: R.TOC, symbol: 'tocsym' },
      { section: '.data', offset: 0n, type: R.REL32, symbol: 'fn' },
      { section: '.data', offset: 8n, type: R.REL64, symbol: 'fn' },
      { section: '.data', offset: 0x10n, type: R.ADDR32, symbol: 'var' },
    ],
  };
}

const INTERESTING = [0n, 1n, 2n, 7n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n,
  0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xfffffffffffffff0n, 0xffffffffffffffffn];

/** One seeded mutation of `good`, biased toward headers, section headers, symbols and relocations. */
function mutate(good: Uint8Array, hot: [number, number][], next: () => number): Uint8Array {
  const strategy = next() % 10;
  if (strategy === 0) return good.slice(0, next() % good.length); // truncation
  const b = good.slice();
  const dv = new DataView(b.buffer);
  const little = b[5] === 1;
  const pick = (): number => {
    if (next() % 4 === 0) return next() % b.length;
    const [start, len] = hot[next() % hot.length]!;
    return start + (next() % Math.max(1, len));
  };
  const rounds = 1 + (next() % 3);
  for (let r = 0; r < rounds; r++) {
    const at = pick();
    switch (next() % 4) {
      case 0: b[at] = next() & 0xff; break;
      case 1: b[at] = b[at]! ^ (1 << (next() % 8)); break;
      case 2: {
        const o = at & ~1;
        if (o + 2 <= b.length) dv.setUint16(o, Number(INTERESTING[next() % INTERESTING.length]! & 0xffffn), little);
        break;
      }
      default: {
        const wide = next() % 2 === 0;
        const o = at & ~(wide ? 7 : 3);
        let v = INTERESTING[next() % INTERESTING.length]!;
        if (next() % 3 === 0) v = BigInt(b.length) + BigInt((next() % 5) - 2);
        if (wide && o + 8 <= b.length) dv.setBigUint64(o, BigInt.asUintN(64, v), little);
        else if (!wide && o + 4 <= b.length) dv.setUint32(o, Number(BigInt.asUintN(32, v)), little);
      }
    }
  }
  return b;
}

/** [offset, length] of the ELF header, the section header table, and the symbol/relocation tables. */
function hotRanges(elf: Uint8Array): [number, number][] {
  const f = new ElfFile(elf);
  const out: [number, number][] = [[0, f.header.is64 ? 64 : 52], [Number(f.header.shoff), f.sections.length * f.header.shentsize]];
  for (const s of f.sections) if (s.type === 2 || s.type === 4 || s.type === 9) out.push([Number(s.offset), Number(s.size)]);
  return out;
}

const KINDS = new Set(['ok', 'rejected']);

function check(o: Outcome): void {
  expect(KINDS.has(o.kind)).toBe(true);
  if (o.kind === 'rejected') {
    expect(typeof o.code).toBe('string');
    expect(typeof o.message).toBe('string');
  } else if (o.kind === 'ok') {
    expect(o.image.bytes).toBeInstanceOf(Uint8Array);
    expect(o.image.memsz >= BigInt(o.image.bytes.length)).toBe(true);
  }
}

const objects: [string, ObjectSpec, Arch[], { name: string; bytes: Uint8Array }][] = [
  ['x86_64', x86Object(), ['x86_64'], { name: 'sha256_digest', bytes: new Uint8Array(0x20).fill(7) }],
  ['ppc64 BE ELFv1', ppcObject('big'), ['ppc64', 'ppc64le'], { name: 'var', bytes: new Uint8Array(8).fill(7) }],
  ['ppc64le ELFv2', ppcObject('little'), ['ppc64le', 'ppc64'], { name: 'var', bytes: new Uint8Array(8).fill(7) }],
];

describe.each(objects)('load() never throws on mutated %s objects', (_name, spec, targets, write) => {
  const good = buildObject(spec);
  const hot = hotRanges(good);

  it('the unmutated object loads with the kexec-tools and abi profiles (native target)', () => {
    for (const target of targets.slice(0, 1)) {
      for (const profile of ['kexec-tools', 'abi']) {
        const o = load({ elf: good, base: 0x4000000n, fill: 0, symbols: [write] }, { profile, target });
        expect(o.kind, `${profile}/${target}: ${JSON.stringify(o.kind === 'rejected' ? o : '')}`).toBe('ok');
      }
    }
  });

  it('1200 seeded mutations × every profile × targets: always an Outcome', () => {
    const next = rng(0xC0FFEE ^ good.length);
    const tally = new Map<string, number>();
    for (let k = 0; k < 1200; k++) {
      const elf = mutate(good, hot, next);
      const fill = next() & 0xff;
      const symbols = next() % 4 === 0 ? [write] : [];
      for (const profile of PROFILE_IDS) {
        for (const target of targets) {
          let o: Outcome;
          try {
            o = load({ elf, base: 0x4000000n, fill, symbols }, { profile, target, hostAddress: 0x7fff00000000n });
          } catch (e) {
            throw new Error(`mutation ${k} threw under ${profile}/${target}: ${(e as Error).stack}`);
          }
          check(o);
          const key = o.kind === 'rejected' ? o.code : o.kind;
          tally.set(key, (tally.get(key) ?? 0) + 1);
        }
      }
    }
    // The mutations explore both sides: some loads succeed, many are rejected for several reasons.
    expect(tally.get('ok') ?? 0).toBeGreaterThan(0);
    expect([...tally.keys()].filter((x) => x !== 'ok').length).toBeGreaterThan(3);
  }, 120_000);
});

describe('determinism', () => {
  it('the same seed gives the same outcomes', () => {
    const good = buildObject(x86Object());
    const hot = hotRanges(good);
    const runOnce = () => {
      const next = rng(42);
      const out: string[] = [];
      for (let k = 0; k < 200; k++) {
        const o = load({ elf: mutate(good, hot, next), base: 0x100000n, fill: 0, symbols: [] });
        out.push(o.kind === 'rejected' ? `${o.code}:${o.message}` : o.kind === 'ok' ? Buffer.from(o.image.bytes).toString('hex') : o.kind);
      }
      return out;
    };
    expect(runOnce()).toEqual(runOnce());
  });
});
