// Framing of oracle/PROTOCOL.md: encode/decode round trips, bytewise little-endian layout, and
// incremental reassembly of responses split at every possible byte boundary.
import { describe, expect, it } from 'vitest';
import {
  decodeRequest, decodeResponseBody, encodeEnd, encodeRequest, encodeResponse, END_MAGIC, FLAG_SAME_ELF, ProtocolError,
  REQUEST_MAGIC, RESPONSE_MAGIC, ResponseReader, type WireResponse,
} from '../../src/oracle/protocol.ts';
import type { LoadRequest } from '../../src/types.ts';

const req: LoadRequest = {
  elf: Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 9, 8, 7]),
  base: 0x1122_3344_5566_7788n,
  fill: 0xa5,
  symbols: [
    { name: 'sha256_digest', bytes: new Uint8Array(32).fill(3) },
    { name: 'π', bytes: new Uint8Array(0) },
  ],
};

const okResp: WireResponse = {
  id: 0xdead_beef, status: 0, relAddr: 0x10_0000n, relSize: 0xffff_ffff_ffff_fff0n, entry: 0x10_0040n,
  hostBuf: 0x5555_dead_0000n, shAddr: [0n, 0x10_0000n, 0xffff_ffff_ffff_ffffn], image: Uint8Array.from([1, 2, 3, 4, 5]),
};
const diedResp: WireResponse = { id: 7, status: 1, errno: -8, message: 'Unknown rela relocation: 254\n' };

describe('request encoding', () => {
  it('lays out the fixed part little-endian, bytewise (PROTOCOL.md offsets)', () => {
    const b = encodeRequest(0x0102_0304, req);
    expect([...b.subarray(0, 4)]).toEqual([0x50, 0x4f, 0x52, 0x51]); // "PORQ"
    const v = new DataView(b.buffer);
    expect(v.getUint32(0, true)).toBe(REQUEST_MAGIC);
    expect(v.getUint32(4, true)).toBe(b.length - 8);
    expect([...b.subarray(8, 12)]).toEqual([4, 3, 2, 1]);
    expect(v.getUint32(12, true)).toBe(0); // flags
    expect([...b.subarray(16, 24)]).toEqual([0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
    expect(b[24]).toBe(0xa5);
    expect([...b.subarray(25, 28)]).toEqual([0, 0, 0]);
    expect(v.getUint32(28, true)).toBe(2);
    expect(v.getUint32(32, true)).toBe(req.elf.length);
    expect([...b.subarray(36, 36 + req.elf.length)]).toEqual([...req.elf]);
    // body = 28 fixed + elf + per symbol (4 + name + 4 + data)
    expect(b.length - 8).toBe(28 + 11 + (4 + 13 + 4 + 32) + (4 + 2 + 4 + 0));
  });

  it('round-trips through decodeRequest', () => {
    const d = decodeRequest(encodeRequest(42, req));
    expect(d.id).toBe(42);
    expect(d.flags).toBe(0);
    expect(d.req.base).toBe(req.base);
    expect(d.req.fill).toBe(req.fill);
    expect([...d.req.elf]).toEqual([...req.elf]);
    expect(d.req.symbols.map((s) => [s.name, [...s.bytes]])).toEqual(req.symbols.map((s) => [s.name, [...s.bytes]]));
  });

  it('FLAG_SAME_ELF: flags bit 0, elf_len 0 and no ELF bytes', () => {
    const b = encodeRequest(5, req, FLAG_SAME_ELF);
    const v = new DataView(b.buffer);
    expect(v.getUint32(12, true)).toBe(1);
    expect(v.getUint32(32, true)).toBe(0);
    expect(b.length - 8).toBe(28 + (4 + 13 + 4 + 32) + (4 + 2 + 4 + 0));
    const d = decodeRequest(b);
    expect(d.flags).toBe(FLAG_SAME_ELF);
    expect(d.req.elf.length).toBe(0);
    expect(d.req.symbols[0]!.name).toBe('sha256_digest');
  });

  it('rejects values that do not fit their fields', () => {
    expect(() => encodeRequest(-1, req)).toThrow(ProtocolError);
    expect(() => encodeRequest(2 ** 32, req)).toThrow(ProtocolError);
    expect(() => encodeRequest(1, { ...req, base: -1n })).toThrow(ProtocolError);
    expect(() => encodeRequest(1, { ...req, base: 1n << 64n })).toThrow(ProtocolError);
    expect(() => encodeRequest(1, { ...req, fill: 256 })).toThrow(ProtocolError);
  });

  it('decodeRequest names the offset of a truncation', () => {
    const b = encodeRequest(1, req);
    const cut = b.slice(0, b.length - 3);
    new DataView(cut.buffer).setUint32(4, cut.length - 8, true);
    expect(() => decodeRequest(cut)).toThrow(/truncated.*at byte/);
  });

  it('PEND is magic "PEND" and length 0', () => {
    const e = encodeEnd();
    expect(e.length).toBe(8);
    expect(new DataView(e.buffer).getUint32(0, true)).toBe(END_MAGIC);
    expect([...e.subarray(0, 4)]).toEqual([0x50, 0x45, 0x4e, 0x44]);
  });
});

describe('response decoding', () => {
  it.each([
    ['ok', okResp],
    ['died', diedResp],
    ['ok, empty image and no sections', { ...okResp, shAddr: [], image: new Uint8Array(0) } as WireResponse],
  ])('round-trips %s', (_n, r) => {
    const b = encodeResponse(r);
    expect(new DataView(b.buffer).getUint32(0, true)).toBe(RESPONSE_MAGIC);
    expect(decodeResponseBody(b.subarray(8))).toEqual(r);
  });

  it('rejects trailing bytes and unknown status', () => {
    const b = encodeResponse(diedResp);
    const longer = new Uint8Array(b.length + 1);
    longer.set(b);
    expect(() => decodeResponseBody(longer.subarray(8))).toThrow(/trailing/);
    const bad = encodeResponse(diedResp);
    new DataView(bad.buffer).setUint32(12, 9, true);
    expect(() => decodeResponseBody(bad.subarray(8))).toThrow(/unknown status 9/);
  });

  it('reassembles records split at every byte boundary', () => {
    const stream = new Uint8Array([...encodeResponse(okResp), ...encodeResponse(diedResp), ...encodeResponse({ ...okResp, id: 3 })]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new ResponseReader();
      const got: WireResponse[] = [];
      r.push(stream.subarray(0, cut));
      for (let x = r.next(); x; x = r.next()) got.push(x);
      r.push(stream.subarray(cut));
      for (let x = r.next(); x; x = r.next()) got.push(x);
      expect(got.map((g) => g.id)).toEqual([okResp.id, 7, 3]);
      expect(r.pending).toBe(0);
    }
  });

  it('reassembles one byte at a time', () => {
    const stream = encodeResponse(okResp);
    const r = new ResponseReader();
    const got: WireResponse[] = [];
    for (const byte of stream) {
      r.push(Uint8Array.of(byte));
      const x = r.next();
      if (x) got.push(x);
    }
    expect(got).toEqual([okResp]);
  });

  it('throws on a bad magic', () => {
    const r = new ResponseReader();
    r.push(new Uint8Array(16));
    expect(() => r.next()).toThrow(/bad response magic/);
  });
});
