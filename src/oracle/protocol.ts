// Framing of oracle/PROTOCOL.md (v1): encode requests, decode responses incrementally.
// Every integer is little-endian regardless of the host; records are length-prefixed.
import { PurgatoryOracleError } from '../errors.ts';
import type { LoadDetails, LoadRequest, ProbeResult, ReferenceLoad } from '../types.ts';

export const REQUEST_MAGIC = 0x51524f50; // "PORQ"
export const END_MAGIC = 0x444e4550; // "PEND"
export const RESPONSE_MAGIC = 0x53524f50; // "PORS"
/** Bytes of a request body before the ELF: id, flags, base, fill, pad, nsyms, elf_len. */
export const REQUEST_FIXED = 28;
/**
 * Request flag (optional extension, PROTOCOL.md): the ELF is the one of the previous request sent
 * to this process; elf_len is 0. Only for oracles whose --info lists the "same-elf" feature.
 */
export const FLAG_SAME_ELF = 0x1;
/**
 * Request flag (optional extension, PROTOCOL.md): the oracle may send the image of an ok response
 * as a delta against the image of the previous ok response (status 2). Only for oracles whose
 * --info lists the "image-delta" feature.
 */
export const FLAG_IMAGE_DELTA = 0x2;
/**
 * Request flag (optional extension, PROTOCOL.md): the request carries symbol probes after its
 * symbol writes, and an ok response has the load's details after its image (status bit
 * STATUS_DETAILS). Only for oracles whose --info lists the "details" feature.
 */
export const FLAG_DETAILS = 0x4;
/** Status bit of an ok response (0 or 2) whose image is followed by the load's details. */
export const STATUS_DETAILS = 0x100;
/** Response status values (PROTOCOL.md). */
export const STATUS_OK = 0;
export const STATUS_DIED = 1;
export const STATUS_OK_DELTA = 2;
/** --fork-server: the serving child died inside this request (PROTOCOL.md). */
export const STATUS_CRASHED = 3;
/** Largest record either side accepts (the length field is a u32). */
export const MAX_RECORD = 0xffff_ffff;

/** A response as the oracle sent it, before any interpretation. */
export type WireResponse =
  | ({ id: number; status: 0 } & ReferenceLoad)
  | { id: number; status: 1; errno: number; message: string }
  /** signal: the number that killed the child (0: it exited); exitStatus: its exit status (-1: killed). */
  | { id: number; status: 3; signal: number; exitStatus: number };

/** A request as it travels, decoded (used by tests and fake oracles). */
export interface WireRequest {
  id: number;
  flags: number;
  req: LoadRequest;
}

export class ProtocolError extends PurgatoryOracleError {
  constructor(
    message: string,
    /** Byte offset inside the record where decoding failed, when known. */
    readonly offset?: number,
  ) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`);
  }
}

const utf8 = new TextEncoder();

/**
 * Uninitialised bytes (every byte is then written): Node's Buffer.allocUnsafe, as a plain view.
 * (Not carved from a large slab: fresh pages cost a fault each, and malloc reuses freed blocks.)
 */
function allocBytes(n: number): Uint8Array {
  const b = Buffer.allocUnsafe(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}
const utf8d = new TextDecoder('utf-8', { fatal: false });

/**
 * Encode one request record as parts to be written back to back: the header and fixed fields,
 * the ELF itself (not copied), and the symbol writes. Their concatenation is the record.
 */
export function encodeRequestParts(id: number, req: LoadRequest, flags = 0): Uint8Array[] {
  const sameElf = (flags & FLAG_SAME_ELF) !== 0;
  const elfLen = sameElf ? 0 : req.elf.length;
  if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) throw new ProtocolError(`request id ${id} is not a u32`);
  if (req.base < 0n || req.base > 0xffff_ffff_ffff_ffffn) throw new ProtocolError(`base ${req.base} is not a u64`);
  if (!Number.isInteger(req.fill) || req.fill < 0 || req.fill > 255) throw new ProtocolError(`fill ${req.fill} is not a byte`);
  const names = req.symbols.map((s) => utf8.encode(s.name));
  const details = (flags & FLAG_DETAILS) !== 0;
  const probeNames = details ? (req.probes ?? []).map((p) => utf8.encode(p.name)) : [];
  let symLen = details ? 4 : 0;
  for (let i = 0; i < names.length; i++) symLen += 8 + names[i]!.length + req.symbols[i]!.bytes.length;
  for (const n of probeNames) symLen += 12 + n.length;
  const body = REQUEST_FIXED + elfLen + symLen;
  if (body > MAX_RECORD) throw new ProtocolError(`request of ${body} bytes exceeds the protocol's u32 length`);
  const head = new Uint8Array(36);
  const v = new DataView(head.buffer);
  v.setUint32(0, REQUEST_MAGIC, true);
  v.setUint32(4, body, true);
  v.setUint32(8, id, true);
  v.setUint32(12, flags >>> 0, true);
  v.setBigUint64(16, req.base, true);
  head[24] = req.fill; // 25..27: pad, zero
  v.setUint32(28, req.symbols.length, true);
  v.setUint32(32, elfLen, true);
  const elfPart = sameElf ? [] : [req.elf];
  if (symLen === 0) return [head, ...elfPart];
  const syms = new Uint8Array(symLen);
  const sv = new DataView(syms.buffer);
  let o = 0;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const data = req.symbols[i]!.bytes;
    sv.setUint32(o, name.length, true);
    syms.set(name, o + 4);
    o += 4 + name.length;
    sv.setUint32(o, data.length, true);
    syms.set(data, o + 4);
    o += 4 + data.length;
  }
  if (details) {
    sv.setUint32(o, probeNames.length, true);
    o += 4;
    for (let i = 0; i < probeNames.length; i++) {
      const size = req.probes![i]!.size;
      if (!Number.isSafeInteger(size) || size < 0) throw new ProtocolError(`probe ${req.probes![i]!.name}: size ${size} is not a u64`);
      sv.setUint32(o, probeNames[i]!.length, true);
      syms.set(probeNames[i]!, o + 4);
      o += 4 + probeNames[i]!.length;
      sv.setBigUint64(o, BigInt(size), true);
      o += 8;
    }
  }
  return [head, ...elfPart, syms];
}

/** Encode one request record, header included, as one array. */
export function encodeRequest(id: number, req: LoadRequest, flags = 0): Uint8Array {
  const parts = encodeRequestParts(id, req, flags);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The record that asks the oracle to exit cleanly. */
export function encodeEnd(): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setUint32(0, END_MAGIC, true);
  return out;
}

/** Decode a request record (header included). Inverse of encodeRequest; for tests and fakes. */
export function decodeRequest(rec: Uint8Array): WireRequest {
  const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  if (rec.length < 8) throw new ProtocolError('request shorter than its header', 0);
  if (v.getUint32(0, true) !== REQUEST_MAGIC) throw new ProtocolError(`bad request magic 0x${v.getUint32(0, true).toString(16)}`, 0);
  const len = v.getUint32(4, true);
  if (len !== rec.length - 8) throw new ProtocolError(`request length ${len} but ${rec.length - 8} bytes follow`, 4);
  if (len < REQUEST_FIXED) throw new ProtocolError(`request body of ${len} bytes is shorter than its fixed part`, 4);
  const id = v.getUint32(8, true);
  const flags = v.getUint32(12, true);
  const base = v.getBigUint64(16, true);
  const fill = rec[24]!;
  const nsyms = v.getUint32(28, true);
  const elfLen = v.getUint32(32, true);
  let o = 36;
  if (elfLen > rec.length - o) throw new ProtocolError(`elf_len ${elfLen} exceeds the record`, 32);
  const elf = rec.slice(o, o + elfLen);
  o += elfLen;
  const symbols: LoadRequest['symbols'] = [];
  for (let i = 0; i < nsyms; i++) {
    if (rec.length - o < 4) throw new ProtocolError(`symbol ${i} truncated`, o);
    const nl = v.getUint32(o, true);
    o += 4;
    if (nl > rec.length - o) throw new ProtocolError(`symbol ${i} name truncated`, o);
    const name = utf8d.decode(rec.subarray(o, o + nl));
    o += nl;
    if (rec.length - o < 4) throw new ProtocolError(`symbol ${i} truncated`, o);
    const dl = v.getUint32(o, true);
    o += 4;
    if (dl > rec.length - o) throw new ProtocolError(`symbol ${i} data truncated`, o);
    symbols.push({ name, bytes: rec.slice(o, o + dl) });
    o += dl;
  }
  let probes: LoadRequest['probes'];
  if (flags & FLAG_DETAILS) {
    if (rec.length - o < 4) throw new ProtocolError('probe count truncated', o);
    const n = v.getUint32(o, true);
    o += 4;
    probes = [];
    for (let i = 0; i < n; i++) {
      if (rec.length - o < 4) throw new ProtocolError(`probe ${i} truncated`, o);
      const nl = v.getUint32(o, true);
      o += 4;
      if (nl > rec.length - o || rec.length - o - nl < 8) throw new ProtocolError(`probe ${i} truncated`, o);
      const name = utf8d.decode(rec.subarray(o, o + nl));
      o += nl;
      probes.push({ name, size: Number(v.getBigUint64(o, true)) });
      o += 8;
    }
  }
  if (o !== rec.length) throw new ProtocolError(`${rec.length - o} trailing bytes`, o);
  return { id, flags, req: probes ? { elf, base, fill, symbols, probes } : { elf, base, fill, symbols } };
}

/** Encode a response record, header included (for tests and fake oracles). */
export function encodeResponse(r: WireResponse): Uint8Array {
  if (r.status === 3) {
    const out = new Uint8Array(24);
    const v = new DataView(out.buffer);
    v.setUint32(0, RESPONSE_MAGIC, true);
    v.setUint32(4, 16, true);
    v.setUint32(8, r.id, true);
    v.setUint32(12, STATUS_CRASHED, true);
    v.setInt32(16, r.signal, true);
    v.setInt32(20, r.exitStatus, true);
    return out;
  }
  const msg = r.status === 1 ? utf8.encode(r.message) : undefined;
  const details = r.status === 0 && r.details ? encodeDetails(r.details) : undefined;
  const body = r.status === 1 ? 16 + msg!.length : 8 + 32 + 4 + 8 * r.shAddr.length + 4 + r.image.length + (details?.length ?? 0);
  const out = new Uint8Array(8 + body);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setUint32(0, RESPONSE_MAGIC, true);
  v.setUint32(4, body, true);
  v.setUint32(8, r.id, true);
  v.setUint32(12, r.status | (details ? STATUS_DETAILS : 0), true);
  if (r.status === 1) {
    v.setInt32(16, r.errno, true);
    v.setUint32(20, msg!.length, true);
    out.set(msg!, 24);
    return out;
  }
  v.setBigUint64(16, r.relAddr, true);
  v.setBigUint64(24, r.relSize, true);
  v.setBigUint64(32, r.entry, true);
  v.setBigUint64(40, r.hostBuf, true);
  v.setUint32(48, r.shAddr.length, true);
  let o = 52;
  for (const a of r.shAddr) {
    v.setBigUint64(o, a, true);
    o += 8;
  }
  v.setUint32(o, r.image.length, true);
  out.set(r.image, o + 4);
  if (details) out.set(details, o + 4 + r.image.length);
  return out;
}

/** The details block of an ok response (PROTOCOL.md, FLAG_DETAILS). */
export function encodeDetails(d: LoadDetails): Uint8Array {
  const bodies = d.probes.map((p) => (p.ok ? p.bytes : utf8.encode(p.message)));
  const out = new Uint8Array(48 + bodies.reduce((n, b) => n + 8 + b.length, 0));
  const v = new DataView(out.buffer);
  v.setBigUint64(0, d.memsz, true);
  v.setBigUint64(8, d.bufAlign, true);
  v.setBigUint64(16, d.bufMin, true);
  v.setBigUint64(24, d.bufMax, true);
  v.setInt32(32, d.bufEnd, true);
  v.setBigUint64(36, d.eEntry, true);
  v.setUint32(44, d.probes.length, true);
  let o = 48;
  d.probes.forEach((p, i) => {
    v.setUint32(o, p.ok ? 0 : p.errno !== undefined ? p.errno >>> 0 : 1, true);
    v.setUint32(o + 4, bodies[i]!.length, true);
    out.set(bodies[i]!, o + 8);
    o += 8 + bodies[i]!.length;
  });
  return out;
}

/**
 * Decode the details block at body[o..]; probe names come from the request (the response carries
 * results in request order only). Returns the details and the offset after them.
 */
function decodeDetails(body: Uint8Array, v: DataView, o: number): { details: LoadDetails; end: number } {
  if (o + 48 > body.length) throw new ProtocolError(`response of ${body.length} bytes too short for the details`, o);
  const n = v.getUint32(o + 44, true);
  const probes: ProbeResult[] = [];
  const d = {
    memsz: v.getBigUint64(o, true), bufAlign: v.getBigUint64(o + 8, true), bufMin: v.getBigUint64(o + 16, true),
    bufMax: v.getBigUint64(o + 24, true), bufEnd: v.getInt32(o + 32, true), eEntry: v.getBigUint64(o + 36, true), probes,
  };
  o += 48;
  for (let i = 0; i < n; i++) {
    if (o + 8 > body.length) throw new ProtocolError(`probe result ${i} truncated`, o);
    // 0: read; 1: kexec-tools' die(); otherwise the kernel getter's negative errno
    const died = v.getInt32(o, true);
    const len = v.getUint32(o + 4, true);
    o += 8;
    if (len > body.length - o) throw new ProtocolError(`probe result ${i} bytes truncated`, o);
    // name: filled in from the request by the runner
    const message = () => utf8d.decode(body.subarray(o, o + len));
    probes.push(died === 0 ? { name: '', ok: true, bytes: body.slice(o, o + len) } : died === 1 ? { name: '', ok: false, message: message() } : { name: '', ok: false, message: message(), errno: died });
    o += len;
  }
  return { details: d, end: o };
}

/**
 * Delta runs of `image` against `prev` (bytes past prev's end count as 0), as the kexec-tools
 * harness computes them: runs separated by fewer than 9 equal bytes are merged. For tests and
 * fake oracles.
 */
export function deltaRuns(image: Uint8Array, prev: Uint8Array): { offset: number; bytes: Uint8Array }[] {
  const at = (i: number) => (i < prev.length ? prev[i]! : 0);
  const runs: { offset: number; bytes: Uint8Array }[] = [];
  let i = 0;
  while (i < image.length) {
    while (i < image.length && image[i] === at(i)) i++;
    if (i >= image.length) break;
    const start = i;
    let last = i;
    while (i < image.length && i - last <= 8) {
      if (image[i] !== at(i)) last = i;
      i++;
    }
    i = last + 1;
    runs.push({ offset: start, bytes: image.slice(start, i) });
  }
  return runs;
}

/**
 * Encode an ok response as status 2 (FLAG_IMAGE_DELTA): the image as delta runs against `prev`,
 * the image of the previous ok response (for tests and fake oracles).
 */
export function encodeDeltaResponse(r: Extract<WireResponse, { status: 0 }>, prev: Uint8Array): Uint8Array {
  const runs = deltaRuns(r.image, prev);
  const full = encodeResponse({ ...r, image: new Uint8Array(0), details: undefined });
  const details = r.details ? encodeDetails(r.details) : new Uint8Array(0);
  const runBytes = runs.reduce((n, x) => n + 8 + x.bytes.length, 0);
  const out = new Uint8Array(full.length + 4 + runBytes + details.length);
  out.set(full);
  out.set(details, out.length - details.length);
  const v = new DataView(out.buffer);
  v.setUint32(4, out.length - 8, true);
  v.setUint32(12, STATUS_OK_DELTA | (r.details ? STATUS_DETAILS : 0), true);
  let o = full.length - 4;
  v.setUint32(o, r.image.length, true);
  v.setUint32(o + 4, runs.length, true);
  o += 8;
  for (const x of runs) {
    v.setUint32(o, x.offset, true);
    v.setUint32(o + 4, x.bytes.length, true);
    out.set(x.bytes, o + 8);
    o += 8 + x.bytes.length;
  }
  return out;
}

/**
 * Decode one response body (the bytes after magic and length). `prev` is the image of the
 * previous ok response on the same process: the base of a status 2 (delta) response, which is
 * returned as status 0 with the image rebuilt in a new buffer.
 */
export function decodeResponseBody(body: Uint8Array, prev?: Uint8Array): WireResponse {
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const need = (end: number, what: string, at: number): void => {
    if (end > body.length) throw new ProtocolError(`response of ${body.length} bytes too short for ${what}`, at);
  };
  need(8, 'id and status', 0);
  const id = v.getUint32(0, true);
  const status = v.getUint32(4, true);
  if (status === 1) {
    need(16, 'errno and msg_len', 8);
    const errno = v.getInt32(8, true);
    const len = v.getUint32(12, true);
    need(16 + len, 'the message', 16);
    if (16 + len !== body.length) throw new ProtocolError(`${body.length - 16 - len} trailing bytes after the message`, 16 + len);
    return { id, status: 1, errno, message: utf8d.decode(body.subarray(16, 16 + len)) };
  }
  if (status === STATUS_CRASHED) {
    need(16, 'signal and exit status', 8);
    if (body.length !== 16) throw new ProtocolError(`${body.length - 16} trailing bytes after a crash report`, 16);
    return { id, status: 3, signal: v.getInt32(8, true), exitStatus: v.getInt32(12, true) };
  }
  const hasDetails = (status & ~0xff) === STATUS_DETAILS;
  const st = status & 0xff;
  if ((status & ~0xff && !hasDetails) || (st !== STATUS_OK && st !== STATUS_OK_DELTA)) throw new ProtocolError(`unknown status ${status}`, 4);
  need(44, 'the ok header', 8);
  const relAddr = v.getBigUint64(8, true);
  const relSize = v.getBigUint64(16, true);
  const entry = v.getBigUint64(24, true);
  const hostBuf = v.getBigUint64(32, true);
  const shnum = v.getUint32(40, true);
  let o = 44;
  need(o + 8 * shnum + 4, `${shnum} section addresses`, o);
  const shAddr: bigint[] = new Array<bigint>(shnum);
  for (let i = 0; i < shnum; i++, o += 8) shAddr[i] = v.getBigUint64(o, true);
  const imageLen = v.getUint32(o, true);
  o += 4;
  let image: Uint8Array;
  if (st === STATUS_OK_DELTA) {
    const d = applyDelta(body, v, o, imageLen, prev, hasDetails);
    image = d.image;
    o = d.end;
  } else {
    need(o + imageLen, 'the image', o);
    // a view, not a copy: ResponseReader never reuses the memory it hands out (a plain Uint8Array
    // even over a Node Buffer chunk, like the images rebuilt from deltas)
    image = new Uint8Array(body.buffer, body.byteOffset + o, imageLen);
    o += imageLen;
  }
  if (!hasDetails) {
    if (o !== body.length) throw new ProtocolError(`${body.length - o} trailing bytes after the image`, o);
    return { id, status: 0, relAddr, relSize, entry, hostBuf, shAddr, image };
  }
  const d = decodeDetails(body, v, o);
  if (d.end !== body.length) throw new ProtocolError(`${body.length - d.end} trailing bytes after the details`, d.end);
  return { id, status: 0, relAddr, relSize, entry, hostBuf, shAddr, image, details: d.details };
}

/** The image of a status 2 response: prev (0 past its end), cut to imageLen, with the runs at body[o..] applied. */
function applyDelta(body: Uint8Array, v: DataView, o: number, imageLen: number, prev: Uint8Array | undefined, more = false): { image: Uint8Array; end: number } {
  if (!prev) throw new ProtocolError('delta response without a previous image on this process', 4);
  if (o + 4 > body.length) throw new ProtocolError(`response of ${body.length} bytes too short for the run count`, o);
  const nruns = v.getUint32(o, true);
  o += 4;
  const image = allocBytes(imageLen);
  const common = Math.min(imageLen, prev.length);
  image.set(common === prev.length ? prev : prev.subarray(0, common));
  if (imageLen > common) image.fill(0, common);
  let end = 0;
  for (let i = 0; i < nruns; i++) {
    if (o + 8 > body.length) throw new ProtocolError(`delta run ${i} header truncated`, o);
    const off = v.getUint32(o, true);
    const len = v.getUint32(o + 4, true);
    if (off < end) throw new ProtocolError(`delta run ${i} at ${off} overlaps or precedes the previous run (ends at ${end})`, o);
    if (len > imageLen - off || off > imageLen) throw new ProtocolError(`delta run ${i} [${off}, +${len}) exceeds the ${imageLen}-byte image`, o);
    o += 8;
    if (len > body.length - o) throw new ProtocolError(`delta run ${i} bytes truncated`, o);
    if (len > 64) image.set(body.subarray(o, o + len), off);
    else for (let k = 0; k < len; k++) image[off + k] = body[o + k]!; // most runs are one relocation: no view per run
    o += len;
    end = off + len;
  }
  if (!more && o !== body.length) throw new ProtocolError(`${body.length - o} trailing bytes after the delta runs`, o);
  return { image, end: o };
}

/**
 * Incremental response reader: push() stdout chunks as they arrive, then take whole records
 * with next(). Chunks are kept as a list and joined only for the record being assembled; a record
 * inside one chunk is decoded in place (its image is a view of the chunk). The reader keeps its
 * own copy of the last ok image, the base of the next delta (status 2) response.
 */
export class ResponseReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private head = 0; // bytes already consumed from chunks[0]
  private prevBuf = new Uint8Array(0);
  private prevLen = -1; // -1: no ok response yet
  private readonly delta: boolean;

  /** delta: the requests ask for FLAG_IMAGE_DELTA, so keep each ok image as the next base. */
  constructor(opts: { delta?: boolean } = {}) {
    this.delta = opts.delta ?? false;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** Bytes received but not yet returned as records. */
  get pending(): number {
    return this.buffered;
  }

  /** The next complete response, or undefined when more bytes are needed. */
  next(): WireResponse | undefined {
    if (this.buffered < 8) return undefined;
    const c = this.chunks[0]!;
    const h = this.head;
    let magic: number;
    let len: number;
    if (c.length - h >= 8) {
      magic = (c[h]! | (c[h + 1]! << 8) | (c[h + 2]! << 16) | (c[h + 3]! << 24)) >>> 0;
      len = (c[h + 4]! | (c[h + 5]! << 8) | (c[h + 6]! << 16) | (c[h + 7]! << 24)) >>> 0;
    } else {
      const hdr = this.peek(8);
      const hv = new DataView(hdr.buffer, hdr.byteOffset, 8);
      magic = hv.getUint32(0, true);
      len = hv.getUint32(4, true);
    }
    if (magic !== RESPONSE_MAGIC) throw new ProtocolError(`bad response magic 0x${magic.toString(16).padStart(8, '0')}`);
    if (this.buffered - 8 < len) return undefined;
    this.skip(8);
    const body = this.take(len);
    const r = decodeResponseBody(body, this.prevLen < 0 ? undefined : this.prevBuf.subarray(0, this.prevLen));
    if (r.status === 0 && this.delta) this.keep(r.image);
    else if (r.status === 3) this.prevLen = -1; // a fresh child has no delta base
    return r;
  }

  /**
   * The stream has ended: throws a ProtocolError when it stopped inside a record (a truncated
   * response), and returns quietly at a record boundary.
   */
  end(): void {
    if (this.buffered === 0) return;
    let need = '';
    if (this.buffered >= 8) {
      const hdr = this.peek(8);
      need = ` of a ${new DataView(hdr.buffer, hdr.byteOffset, 8).getUint32(4, true) + 8}-byte record`;
    }
    throw new ProtocolError(`output ended inside a response: ${this.buffered} bytes${need}`);
  }

  /** Copy the image into the reader's own buffer (the delta base): callers may keep or change theirs. */
  private keep(image: Uint8Array): void {
    if (image.length > this.prevBuf.length) this.prevBuf = new Uint8Array(Math.max(image.length, this.prevBuf.length * 2, 4096));
    this.prevBuf.set(image);
    this.prevLen = image.length;
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = new Uint8Array(n);
    let o = 0;
    let h = this.head;
    for (const c of this.chunks) {
      const t = Math.min(c.length - h, n - o);
      out.set(c.subarray(h, h + t), o);
      o += t;
      h = 0;
      if (o === n) break;
    }
    return out;
  }

  private skip(n: number): void {
    this.take(n, true);
  }

  private take(n: number, discard = false): Uint8Array {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      return out;
    }
    const out = discard ? new Uint8Array(0) : allocBytes(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0]!;
      const t = Math.min(c.length - this.head, n - o);
      if (!discard) out.set(c.subarray(this.head, this.head + t), o);
      o += t;
      this.head += t;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    return out;
  }
}
