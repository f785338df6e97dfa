// The relocation log's storage and its entries' shape: every field as the plain entry had it
// (values below worked out by hand from the 64-bit halves), JSON, util.inspect and equality, and
// both kexec-tools log settings giving the same entries.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { U64 } from '../../src/arch/types.ts';
import { LoggedRelocation, RelocationLog } from '../../src/load/relocation-log.ts';
import { load } from '../../src/engine.ts';
import { R_X86_64 as R } from '../../src/arch/x86_64.ts';
import { buildObject } from '../../src/elf/writer.ts';
import { okImage, std } from '../fixture.ts';
import type { RelocationLogEntry } from '../../src/types.ts';

const u = (hi: number, lo: number) => new U64().set(hi, lo);
const bytes = Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]);

/** One entry of a fresh log: offset, address, addend, value as given, `width` bytes of `bytes` from `at`. */
function one(offset: U64, address: U64, addend: U64, value: U64, width: number, at = 0): LoggedRelocation {
  const log = new RelocationLog(true, 1);
  log.add(3, 7, 2, offset, address, 42, 'R_TEST', 'sym', 5, addend, value, width ? 0x40 : -1, width, bytes, at);
  return log.entries()[0]!;
}

describe('RelocationLog entries', () => {
  it('give back every field as recorded: 64-bit halves below and above 2^53, addends signed, bytes in store order', () => {
    const e = one(u(0, 0x18), u(0x1, 0x00100018), u(0xffffffff, 0xfffffffc), u(0xffffffff, 0x80000000), 4, 2);
    expect(e.toJSON()).toEqual({
      relSection: 3, relIndex: 7, section: 2, offset: 0x18n, address: 0x1_0010_0018n, type: 42, typeName: 'R_TEST', symbol: 'sym',
      symIndex: 5, addend: -4n, value: 0xffff_ffff_8000_0000n, imageOffset: 0x40, width: 4, bytes: Uint8Array.from([0xbe, 0xef, 0x01, 0x02]),
    });
    // hi >= 2^21: the bigint path; the most negative addend; an 8-byte store.
    const f = one(u(0x00200000, 1), u(0xffffffff, 0xffffffff), u(0x80000000, 0), u(0x7fffffff, 0xffffffff), 8);
    expect([f.offset, f.address, f.addend, f.value]).toEqual([(1n << 53n) + 1n, (1n << 64n) - 1n, -(1n << 63n), (1n << 63n) - 1n]);
    expect([...f.bytes]).toEqual([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]);
    // The signed fast path's edges: -2^53 (hi = 0xffe00000, lo = 0) and -2^53 - 1 (the bigint path).
    expect(one(u(0, 0), u(0, 0), u(0xffe00000, 0), u(0, 0), 0).addend).toBe(-(1n << 53n));
    expect(one(u(0, 0), u(0, 0), u(0xffdfffff, 0xffffffff), u(0, 0), 0).addend).toBe(-(1n << 53n) - 1n);
    expect(one(u(0, 0), u(0, 0), u(0x7fffffff, 0xffffffff), u(0, 0), 0).addend).toBe((1n << 63n) - 1n);
  });

  it('bytes: none for width 0, every width from 1 to 8 in store order, one array per entry (the same on every read), wider than 8 kept whole', () => {
    const z = one(u(0, 0), u(0, 0), u(0, 0), u(0, 0), 0);
    expect(z.bytes).toEqual(new Uint8Array(0));
    const b = one(u(0, 0), u(0, 0), u(0, 0), u(0, 0), 1, 3);
    expect(b.bytes).toBe(b.bytes);
    expect([...b.bytes]).toEqual([0xef]);
    for (const width of [2, 3, 5, 6, 7]) expect([...one(u(0, 0), u(0, 0), u(0, 0), u(0, 0), width, 1).bytes]).toEqual([...bytes.subarray(1, 1 + width)]);
    const w = one(u(0, 0), u(0, 0), u(0, 0), u(0, 0), 12);
    expect([...w.bytes]).toEqual([...bytes]);
  });

  it('record the bytes when added: a later write to the buffer does not change them', () => {
    const buf = Uint8Array.from([1, 2, 3, 4]);
    const log = new RelocationLog(true, 1);
    log.add(0, 0, 0, u(0, 0), u(0, 0), 1, 'R', 's', 0, u(0, 0), u(0, 0), 0, 4, buf, 0);
    buf.fill(9);
    expect([...log.entries()[0]!.bytes]).toEqual([1, 2, 3, 4]);
  });

  it('keep their order and values as the arrays grow past the capacity hint (64-bit fields per entry)', () => {
    const log = new RelocationLog(true, 2);
    for (let k = 0; k < 100; k++) log.add(1, k, 2, u(0, k), u(k, 0), 1, 'R', 's', 0, u(0xffffffff, -k >>> 0), u(0, 0), k, 1, bytes, k % 12);
    const es = log.entries();
    expect(es.map((e) => [e.relIndex, e.offset, e.address, e.addend, e.bytes[0]])).toEqual(
      Array.from({ length: 100 }, (_, k) => [k, BigInt(k), BigInt(k) << 32n, k ? BigInt(-k) : -(1n << 32n), bytes[k % 12]]));
  });

  it('addBig() (the kernel and PIE models) makes the same entry as add() from the same values', () => {
    const a = new RelocationLog(true);
    a.addBig(3, 7, 2, 0x18n, 0x1_0010_0018n, 42, 'R_TEST', 'sym', 5, -4n, 0xffff_ffff_8000_0000n, 0x40, 4, bytes, 2);
    expect(a.entries()[0]!.toJSON()).toEqual(one(u(0, 0x18), u(0x1, 0x00100018), u(0xffffffff, 0xfffffffc), u(0xffffffff, 0x80000000), 4, 2).toJSON());
  });

  it('are plain in JSON (toJSON, fields in the documented order) and own only their small fields', () => {
    const e = one(u(0, 0x18), u(0, 0x100018), u(0xffffffff, 0xfffffffc), u(0, 0x100000), 4);
    const plain: RelocationLogEntry = {
      relSection: 3, relIndex: 7, section: 2, offset: 0x18n, address: 0x100018n, type: 42, typeName: 'R_TEST', symbol: 'sym',
      symIndex: 5, addend: -4n, value: 0x100000n, imageOffset: 0x40, width: 4, bytes: Uint8Array.from([0xde, 0xad, 0xbe, 0xef]),
    };
    const replacer = (_k: string, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? [...v] : v);
    expect(JSON.stringify(e, replacer)).toBe(JSON.stringify(plain, replacer));
    expect(Object.keys(e)).toEqual(['relSection', 'relIndex', 'section', 'type', 'typeName', 'symbol', 'symIndex', 'imageOffset', 'width']);
    expect(e).toMatchObject({ offset: 0x18n, addend: -4n, bytes: plain.bytes }); // toMatchObject reads accessors
    expect(inspect(e)).toBe(`LoggedRelocation ${inspect(plain)}`);
  });

  it('compare by every field under toEqual (test/setup.ts): an accessor field that differs makes them unequal', () => {
    const at = (offset: number, addend: number, b = 0) => one(u(0, offset), u(0, 0x100018), u(0xffffffff, addend), u(0, 0x100000), 4, b);
    expect(at(0x18, 0xfffffffc)).toEqual(at(0x18, 0xfffffffc));
    expect(at(0x18, 0xfffffffc)).not.toEqual(at(0x20, 0xfffffffc));
    expect(at(0x18, 0xfffffffc)).not.toEqual(at(0x18, 0xfffffff8));
    expect(at(0x18, 0xfffffffc)).not.toEqual(at(0x18, 0xfffffffc, 1));
    expect([at(0x18, 0xfffffffc)]).toEqual([at(0x18, 0xfffffffc).toJSON()]);
    expect(at(0x18, 0xfffffffc)).not.toEqual({ ...at(0x18, 0xfffffffc).toJSON(), value: 0n });
    expect(at(0x18, 0xfffffffc)).not.toMatchObject({ offset: 0x20n });
  });

  it('a derived log: the fields of its template, its address moved by B (with the carry, mod 2^64), its value only where marked, its own bytes', () => {
    const t = RelocationLog.template(1); // grows past its capacity hint
    t.add(1, 0, 2, u(0, 0x18), u(0, 0x00001018), 1, 'R_A', 'a', 4, u(0, 3), u(0, 0x2003), 0x18, 8, undefined, 0, true);
    t.add(1, 1, 2, u(0, 0x20), u(0, 0xfffff020), 2, 'R_B', 'b', 5, u(0xffffffff, 0xfffffffc), u(0, 0x40), 0x20, 4, undefined, 0, false);
    t.add(1, 2, 2, u(0, 0x28), u(0xffffffff, 0xfffff028), 3, 'R_C', '', 0, u(0, 0), u(0xffffffff, 0xffffff00), -1, 0, undefined, 0, true);
    // Bytes the same for every derived log: the template's (a derived log need not record them).
    t.add(1, 3, 2, u(0, 0x30), u(0, 0x1030), 2, 'R_B', 'b', 5, u(0, 0), u(0, 0x77), 0x30, 4, bytes, 6, false);
    const b1 = new RelocationLog(true, 3).derive(t, 0, 0x100000);
    const b2 = new RelocationLog(true, 3).derive(t, 0x1, 0x00002000);
    expect(b1.derived && b2.derived && !t.derived).toBe(true);
    b1.addBytes(bytes, 0, 8);
    b2.addBytes(bytes, 4, 8);
    b2.addBytes(bytes, 8, 4);
    b1.addBytes(bytes, 2, 4);
    b2.addBytes(bytes, 0, 0);
    b2.reach(4); // entry 3 skipped: its bytes are the template's
    // b1 stopped after two entries (a load that raises at its third): two entries, two counted.
    const e1 = b1.entries();
    const e2 = b2.entries();
    expect(e1.length).toBe(2);
    expect(e2.length).toBe(4);
    expect(e1.map((e) => [e.relIndex, e.typeName, e.symbol, e.address, e.value, [...e.bytes]])).toEqual([
      [0, 'R_A', 'a', 0x101018n, 0x102003n, [0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]],
      [1, 'R_B', 'b', 0x1_000f_f020n, 0x40n, [0xbe, 0xef, 1, 2]], // 0xfffff020 + 0x100000 carries into the high word; the value does not move
    ]);
    expect(e2.map((e) => [e.address, e.value, e.addend, [...e.bytes]])).toEqual([
      [0x1_0000_3018n, 0x1_0000_4003n, 3n, [1, 2, 3, 4, 5, 6, 7, 8]],
      [0x2_0000_1020n, 0x40n, -4n, [5, 6, 7, 8]], // 0xfffff020 + 0x1_00002000: the low word carries
      [0x1_0000_1028n, 0x1_0000_1f00n, 0n, []], // (2^64 - 0xfd8) + B wraps mod 2^64; the value too: 2^64 - 0x100 + B
      [0x1_0000_3030n, 0x77n, 0n, [0x03, 0x04, 0x05, 0x06]], // bytes 6..9 as the template recorded them
    ]);
    expect(b1.byType).toEqual(new Map([['R_A', { count: 1, bytes: 8 }], ['R_B', { count: 1, bytes: 4 }]]));
    expect(b2.byType).toEqual(new Map([['R_A', { count: 1, bytes: 8 }], ['R_B', { count: 2, bytes: 8 }], ['R_C', { count: 1, bytes: 0 }]]));
    // The template is not changed by its derived logs.
    expect(t.entries().map((e) => [e.address, e.value, e.width])).toEqual([[0x1018n, 0x2003n, 8], [0xfffff020n, 0x40n, 4], [0xffff_ffff_ffff_f028n, 0xffff_ffff_ffff_ff00n, 0], [0x1030n, 0x77n, 4]]);
    expect(e1[0]!.bytes).toBe(e1[0]!.bytes);
  });

  it('bytes: logs recorded at the same time keep their own (shared chunks, growth, a log larger than a chunk region), through a DataView or bytewise', () => {
    const t = RelocationLog.template(1);
    for (let k = 0; k < 1200; k++) t.add(0, k, 0, u(0, 0), u(0, 0), 1, 'R', 's', 0, u(0, 0), u(0, 0), k, [8, 4, 2, 1, 0][k % 5]!, undefined, 0);
    const src = Uint8Array.from({ length: 8500 }, (_, i) => (i * 37 + 11) & 0xff);
    const dv = new DataView(src.buffer);
    const logs = [1, 3, 700, 2, 1200].map((capacity) => new RelocationLog(true, capacity).derive(t, 0, 0));
    // Interleaved: entry k of every log in turn; log i's entry k wrote the bytes at 7 * k + i.
    for (let k = 0; k < 1200; k++) {
      logs.forEach((log, i) => log.addBytes(src, 7 * k + i, t.entries()[k]!.width, i % 2 ? dv : undefined));
    }
    logs.forEach((log, i) => {
      const es = log.entries();
      expect(es.length).toBe(1200);
      for (const e of [es[0]!, es[1]!, es[2]!, es[3]!, es[4]!, es[599]!, es[1195]!, es[1199]!]) {
        expect([...e.bytes]).toEqual([...src.subarray(7 * e.relIndex + i, 7 * e.relIndex + i + e.width)]);
      }
      expect(es.every((e) => e.bytes.length === e.width && e.bytes.every((b, o) => b === src[7 * e.relIndex + i + o]))).toBe(true);
    });
  });

  it('a log that is not kept records no entries; the by-type summary counts every relocation', () => {
    const log = new RelocationLog(false);
    log.count('R_A', 8);
    log.count('R_B', 4);
    log.count('R_A', 8);
    expect(log.entries()).toEqual([]);
    expect(log.byType).toEqual(new Map([['R_A', { count: 2, bytes: 16 }], ['R_B', { count: 1, bytes: 4 }]]));
  });
});

describe('a load and its log', () => {
  it('a kexec-tools load: the default (replayed) and `log: true` logs hold the same entries', () => {
    const req = { elf: buildObject(std([{ section: '.text', offset: 8n, type: R['64'], symbol: 'fn', addend: 3n }, { section: '.data', offset: 0n, type: R.PC32, symbol: 'var', addend: -4n }])), base: 0x100000n, fill: 0, symbols: [] };
    const lazy = okImage(load(req, { profile: 'kexec-tools-2.0.25' }));
    const eager = okImage(load(req, { profile: 'kexec-tools-2.0.25', log: true }));
    expect(lazy.relocations.map((e) => (e as LoggedRelocation).toJSON())).toEqual(eager.relocations.map((e) => (e as LoggedRelocation).toJSON()));
    expect(eager.relocations[0]).toBeInstanceOf(LoggedRelocation);
    // fn is .text + 0: value = S + A; the PC32 entry's addend is negative.
    const text = lazy.sections.find((s) => s.name === '.text')!.addr;
    expect(eager.relocations.map((e) => [e.typeName, e.address, e.addend, e.value])).toEqual([
      ['R_X86_64_64', text + 8n, 3n, text + 3n],
      ['R_X86_64_PC32', lazy.sections.find((s) => s.name === '.data')!.addr, -4n, lazy.sections.find((s) => s.name === '.data')!.addr + 8n - 4n],
    ]);
  });
});
