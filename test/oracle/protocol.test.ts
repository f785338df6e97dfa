// Framing of oracle/PROTOCOL.md: encode/decode round trips, bytewise little-endian layout, and
// incremental reassembly of responses split at every possible byte boundary.
import { describe, expect, it } from 'vitest';
import {
  decodeRequest, decodeResponseBody, deltaRuns, encodeDeltaResponse, encodeEnd, encodeRequest, encodeResponse, END_MAGIC,
  FLAG_DETAILS, FLAG_IMAGE_DELTA, FLAG_SAME_ELF, ProtocolError, REQUEST_MAGIC, RESPONSE_MAGIC, ResponseReader, STATUS_DETAILS, STATUS_OK_DELTA, type WireResponse,
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

  it('FLAG_IMAGE_DELTA: flags bit 1, combinable with FLAG_SAME_ELF', () => {
    const b = encodeRequest(5, req, FLAG_SAME_ELF | FLAG_IMAGE_DELTA);
    expect(new DataView(b.buffer).getUint32(12, true)).toBe(3);
    expect(decodeRequest(b).flags).toBe(FLAG_SAME_ELF | FLAG_IMAGE_DELTA);
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
    ['crashed (fork server: signal 11)', { id: 5, status: 3, signal: 11, exitStatus: -1 } as WireResponse],
    ['crashed (fork server: exit 77)', { id: 6, status: 3, signal: 0, exitStatus: 77 } as WireResponse],
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

describe('truncated streams', () => {
  it('end() is quiet at every record boundary and throws a ProtocolError inside a record', () => {
    const recs = [encodeResponse(okResp), encodeResponse(diedResp)];
    const stream = new Uint8Array([...recs[0]!, ...recs[1]!]);
    const boundaries = new Set([0, recs[0]!.length, stream.length]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new ResponseReader();
      r.push(stream.subarray(0, cut));
      while (r.next());
      if (boundaries.has(cut)) expect(() => r.end()).not.toThrow();
      else expect(() => r.end()).toThrow(ProtocolError);
    }
  });

  it('a record whose length field overstates its body is not returned (it waits), and end() names it', () => {
    const b = encodeResponse(diedResp);
    new DataView(b.buffer).setUint32(4, b.length - 8 + 5, true);
    const r = new ResponseReader();
    r.push(b);
    expect(r.next()).toBeUndefined();
    expect(() => r.end()).toThrow(/ended inside a response: \d+ bytes of a \d+-byte record/);
  });

  it.each([
    ['an image field running past the record', (v: DataView, n: number) => v.setUint32(n - okResp.image.length - 4, 999, true), /too short for the image/],
    ['a section count running past the record', (v: DataView) => v.setUint32(48, 1000, true), /section addresses/],
    ['a message length running past the record', undefined, /too short for the message/],
  ] as const)('decoding %s is a typed ProtocolError with its offset', (_n, patch, re) => {
    const b = patch ? encodeResponse(okResp) : encodeResponse(diedResp);
    const v = new DataView(b.buffer);
    if (patch) patch(v, b.length);
    else v.setUint32(20, 1000, true);
    let err: unknown;
    try {
      decodeResponseBody(b.subarray(8));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect(String(err)).toMatch(re);
    expect((err as ProtocolError).offset).toBeTypeOf('number');
  });
});

describe('image deltas (FLAG_IMAGE_DELTA, status 2)', () => {
  const prev = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
  const changed = (img: Uint8Array, at: number[]) => {
    const out = img.slice();
    for (const i of at) out[i] = out[i]! ^ 0x5a;
    return out;
  };
  const ok = (image: Uint8Array, id = 9): Extract<WireResponse, { status: 0 }> => ({ ...okResp, id, image });

  it('runs cover exactly the differing bytes; gaps under 9 equal bytes are merged', () => {
    const img = changed(prev, [3, 10, 40, 41, 299]);
    expect(deltaRuns(img, prev).map((r) => [r.offset, r.bytes.length])).toEqual([[3, 8], [40, 2], [299, 1]]);
    expect(deltaRuns(prev, prev)).toEqual([]);
  });

  it.each([
    ['the same image', prev],
    ['a few bytes changed', changed(prev, [0, 1, 17, 200, 299])],
    ['a shorter image', changed(prev.slice(0, 120), [5])],
    ['a longer image (the base is 0 past the previous end)', Uint8Array.from([...prev, 0, 0, 7, 0, 9])],
    ['an empty image', new Uint8Array(0)],
  ])('round-trips %s', (_n, img) => {
    const rec = encodeDeltaResponse(ok(img), prev);
    expect(new DataView(rec.buffer).getUint32(12, true)).toBe(STATUS_OK_DELTA);
    const d = decodeResponseBody(rec.subarray(8), prev);
    expect(d).toEqual({ ...ok(img), image: img });
  });

  it('a delta without a previous image, or with runs out of order or past the image, is a ProtocolError', () => {
    const img = changed(prev, [10, 100]);
    const rec = encodeDeltaResponse(ok(img), prev);
    expect(() => decodeResponseBody(rec.subarray(8))).toThrow(/without a previous image/);
    const runsAt = rec.length - (8 + 1 + 8 + 1) - 4; // nruns, then two one-byte runs
    const v = new DataView(rec.buffer);
    expect(v.getUint32(runsAt, true)).toBe(2);
    const swapped = rec.slice();
    new DataView(swapped.buffer).setUint32(runsAt + 4 + 9, 5, true); // second run's offset before the first's end
    expect(() => decodeResponseBody(swapped.subarray(8), prev)).toThrow(ProtocolError);
    const past = rec.slice();
    new DataView(past.buffer).setUint32(runsAt + 4 + 9, 300, true);
    expect(() => decodeResponseBody(past.subarray(8), prev)).toThrow(/exceeds the 300-byte image/);
    const trailing = new Uint8Array(rec.length + 2);
    trailing.set(rec);
    expect(() => decodeResponseBody(trailing.subarray(8, rec.length + 2), prev)).toThrow(/trailing bytes after the delta runs/);
  });

  it('the reader rebuilds back-to-back full, delta and died records split at every byte boundary', () => {
    const a = prev;
    const b = changed(a, [1, 2, 250]);
    const c = Uint8Array.from([...b.subarray(0, 200), 1, 2, 3]);
    const stream = new Uint8Array([
      ...encodeResponse(ok(a, 1)),
      ...encodeDeltaResponse(ok(b, 2), a),
      ...encodeResponse({ ...diedResp, id: 3 }), // a died response does not change the base
      ...encodeDeltaResponse(ok(c, 4), b),
    ]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new ResponseReader({ delta: true });
      const got: WireResponse[] = [];
      r.push(stream.subarray(0, cut));
      for (let x = r.next(); x; x = r.next()) got.push(x);
      r.push(stream.subarray(cut));
      for (let x = r.next(); x; x = r.next()) got.push(x);
      expect(got.map((g) => g.id)).toEqual([1, 2, 3, 4]);
      expect(got.map((g) => (g.status === 0 ? [...g.image] : g.status === 1 ? g.message : g.signal))).toEqual([[...a], [...b], diedResp.message, [...c]]);
      r.end();
    }
  });

  it('a crash report (status 3: a fresh child, no base) ends the delta chain', () => {
    const r = new ResponseReader({ delta: true });
    r.push(encodeResponse(ok(prev, 1)));
    r.push(encodeResponse({ id: 2, status: 3, signal: 11, exitStatus: -1 }));
    r.push(encodeDeltaResponse(ok(changed(prev, [3]), 3), prev));
    expect(r.next()!.status).toBe(0);
    expect(r.next()).toEqual({ id: 2, status: 3, signal: 11, exitStatus: -1 });
    expect(() => r.next()).toThrow(/without a previous image/);
  });

  it('the reader keeps its own copy of the base: a caller changing an image does not corrupt the next one', () => {
    const b = changed(prev, [7]);
    const r = new ResponseReader({ delta: true });
    r.push(encodeResponse(ok(prev, 1)));
    const first = r.next()!;
    if (first.status === 0) first.image.fill(0);
    r.push(encodeDeltaResponse(ok(b, 2), prev));
    const second = r.next()!;
    expect(second.status === 0 && [...second.image]).toEqual([...b]);
  });
});

describe('load details (FLAG_DETAILS, status bit 0x100)', () => {
  const probes = [{ name: 'sha256_digest', size: 32 }, { name: 'nope', size: 8 }];
  const details = {
    memsz: 0x9000n, bufAlign: 0x1000n, bufMin: 0x3000n, bufMax: 0x7fff_ffffn, bufEnd: -1, eEntry: 0x10_0040n,
    probes: [
      { name: 'sha256_digest', ok: true as const, bytes: new Uint8Array(32).fill(7) },
      { name: 'nope', ok: false as const, message: 'Symbol: nope not found cannot get\n' },
    ],
  };

  it('flags bit 2: the probes follow the symbol writes (u32 count; u32 name_len, name, u64 size each)', () => {
    const b = encodeRequest(9, { ...req, probes }, FLAG_DETAILS);
    const v = new DataView(b.buffer);
    expect(v.getUint32(12, true)).toBe(FLAG_DETAILS);
    // after the ELF and the two symbol writes (13 + 32 bytes, 2 + 0 bytes)
    let o = 36 + req.elf.length + (8 + 13 + 32) + (8 + 2 + 0);
    expect(v.getUint32(o, true)).toBe(2);
    o += 4;
    expect(v.getUint32(o, true)).toBe(13);
    expect(Buffer.from(b.subarray(o + 4, o + 17)).toString()).toBe('sha256_digest');
    expect(v.getBigUint64(o + 17, true)).toBe(32n);
    o += 4 + 13 + 8;
    expect(v.getUint32(o, true)).toBe(4);
    expect(v.getBigUint64(o + 8, true)).toBe(8n);
    expect(o + 16).toBe(b.length);
    expect(decodeRequest(b).req.probes).toEqual(probes);
    // without the flag the probes are not sent
    expect(encodeRequest(9, { ...req, probes }).length).toBe(encodeRequest(9, req).length);
  });

  it('an ok response with details: status | 0x100, the details after the image, in PROTOCOL.md order', () => {
    const r = { ...(okResp as Extract<WireResponse, { status: 0 }>), details };
    const b = encodeResponse(r);
    const v = new DataView(b.buffer);
    expect(v.getUint32(12, true)).toBe(STATUS_DETAILS);
    const at = b.length - (48 + 8 + 32 + 8 + (details.probes[1] as { message: string }).message.length);
    expect(v.getBigUint64(at, true)).toBe(0x9000n);
    expect(v.getBigUint64(at + 8, true)).toBe(0x1000n);
    expect(v.getBigUint64(at + 16, true)).toBe(0x3000n);
    expect(v.getBigUint64(at + 24, true)).toBe(0x7fff_ffffn);
    expect(v.getInt32(at + 32, true)).toBe(-1);
    expect(v.getBigUint64(at + 36, true)).toBe(0x10_0040n);
    expect(v.getUint32(at + 44, true)).toBe(2);
    expect(v.getUint32(at + 48, true)).toBe(0); // read
    expect(v.getUint32(at + 52, true)).toBe(32);
    expect(v.getUint32(at + 88, true)).toBe(1); // died
    const back = decodeResponseBody(b.subarray(8));
    // names are not on the wire: the runner fills them in from the request
    expect(back).toEqual({ ...r, details: { ...details, probes: details.probes.map((p) => ({ ...p, name: '' })) } });
  });

  it('a kernel probe that failed: died is the getter\'s negative errno (silent -EINVAL included), kept as errno', () => {
    const kd = { ...details, probes: [
      { name: 'x', ok: false as const, message: '', errno: -22 },
      { name: 'y', ok: false as const, message: 'kexec_file: symbol y is in a bss section. Cannot get\n', errno: -22 },
    ] };
    const b = encodeResponse({ ...(okResp as Extract<WireResponse, { status: 0 }>), details: kd });
    const v = new DataView(b.buffer);
    const at = b.length - (48 + 8 + 8 + kd.probes[1]!.message.length);
    expect(v.getUint32(at + 44, true)).toBe(2);
    expect(v.getInt32(at + 48, true)).toBe(-22);
    expect(v.getUint32(at + 52, true)).toBe(0);
    const back = decodeResponseBody(b.subarray(8));
    expect(back.status === 0 && back.details?.probes).toEqual(kd.probes.map((p) => ({ ...p, name: '' })));
  });

  it('details after a delta image (status 2 | 0x100) decode with the image rebuilt', () => {
    const prev = Uint8Array.from([1, 2, 3, 9, 5]);
    const r = { ...(okResp as Extract<WireResponse, { status: 0 }>), details };
    const b = encodeDeltaResponse(r, prev);
    expect(new DataView(b.buffer).getUint32(12, true)).toBe(STATUS_OK_DELTA | STATUS_DETAILS);
    const back = decodeResponseBody(b.subarray(8), prev);
    expect(back.status === 0 && [...back.image]).toEqual([1, 2, 3, 4, 5]);
    expect(back.status === 0 && back.details?.eEntry).toBe(0x10_0040n);
  });

  it('a truncated details block, or other high status bits, is a ProtocolError', () => {
    const b = encodeResponse({ ...(okResp as Extract<WireResponse, { status: 0 }>), details });
    expect(() => decodeResponseBody(b.subarray(8, b.length - 3))).toThrow(ProtocolError);
    const c = Uint8Array.from(b);
    new DataView(c.buffer).setUint32(12, 0x200, true);
    expect(() => decodeResponseBody(c.subarray(8))).toThrow(/unknown status/);
  });
});
