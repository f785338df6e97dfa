// The relocation log every load model records (kexec-tools, kernel, PIE): one storage, one entry
// shape. A kept log costs one small object per relocation, eight words in a typed array and the
// bytes written; the bigints and the byte array of an entry are made when its field is read
// (RelocationLogEntry in src/types.ts says what a consumer sees). A log derived from a template
// (the loads of one kexec-tools parse that share a RelocPlan) keeps only what differs per load:
// the bytes written and the layout's shift B; every other field is the template's.
import { bigOfHalves, type U64 } from '../arch/types.ts';
import type { RelocationLogEntry } from '../types.ts';

/** The same 64 bits as a signed (two's complement) bigint. */
function signed(hi: number, lo: number): bigint {
  // -2^53 <= (hi - 2^32) * 2^32 + lo < 0 is an exact double for hi >= 2^32 - 2^21.
  if (hi >= 0xffe00000) return BigInt((hi - 0x100000000) * 0x100000000 + lo);
  return BigInt.asIntN(64, bigOfHalves(hi, lo));
}

/** The words a log keeps per entry: offset, address, addend, value as (hi, lo). */
const WORDS = 8;
/** The 64-bit fields, in that order (a field's words are at entry * WORDS + 2 * field). */
const OFFSET = 0, ADDRESS = 1, ADDEND = 2, VALUE = 3;
/** The bytes a log keeps per entry: the bytes written (≤ 8; a wider store is kept whole in `wide`). */
const BYTES = 8;
const NO_WORDS = new Uint32Array(0);
const NO_BYTES = new Uint8Array(0);
const NO_DV = new DataView(NO_BYTES.buffer);
/** A template's marks of an entry: its value moves with a derived log's shift B; its bytes are the template's (the same at every base). */
const MOVES = 1, FIXED = 2;

/**
 * One relocation of a log. The base-independent small fields are own data properties; `offset`,
 * `address`, `addend`, `value` and `bytes` are accessors on this prototype computed from the
 * log's storage on each read (`bytes` once: the same array on every read). `toJSON()` gives the
 * plain RelocationLogEntry, fields in their documented order.
 */
export class LoggedRelocation implements RelocationLogEntry {
  // `declare`: assigned once in the constructor, not first defined as undefined.
  declare readonly relSection: number;
  declare readonly relIndex: number;
  declare readonly section: number;
  declare readonly type: number;
  declare readonly typeName: string;
  declare readonly symbol: string;
  declare readonly symIndex: number;
  declare readonly imageOffset: number;
  declare readonly width: number;
  readonly #log: RelocationLog;
  /** Index of this entry in its log. */
  readonly #j: number;

  constructor(log: RelocationLog, j: number, relSection: number, relIndex: number, section: number, type: number,
    typeName: string, symbol: string, symIndex: number, imageOffset: number, width: number) {
    this.relSection = relSection;
    this.relIndex = relIndex;
    this.section = section;
    this.type = type;
    this.typeName = typeName;
    this.symbol = symbol;
    this.symIndex = symIndex;
    this.imageOffset = imageOffset;
    this.width = width;
    this.#log = log;
    this.#j = j;
  }

  get offset(): bigint {
    return this.#log.u64(this.#j, OFFSET);
  }

  get address(): bigint {
    return this.#log.u64(this.#j, ADDRESS);
  }

  get addend(): bigint {
    return this.#log.u64(this.#j, ADDEND);
  }

  get value(): bigint {
    return this.#log.u64(this.#j, VALUE);
  }

  get bytes(): Uint8Array {
    return this.#log.bytesOf(this.#j, this.width);
  }

  /** console.log / util.inspect show the plain entry (the accessors would not be listed). */
  [Symbol.for('nodejs.util.inspect.custom')](_depth: number, options: object, inspect: (v: unknown, o: object) => string): string {
    return `LoggedRelocation ${inspect(this.toJSON(), options)}`;
  }

  /** The plain entry (every field an own data property), as a log entry was before it was lazy. */
  toJSON(): RelocationLogEntry {
    return {
      relSection: this.relSection, relIndex: this.relIndex, section: this.section, offset: this.offset, address: this.address,
      type: this.type, typeName: this.typeName, symbol: this.symbol, symIndex: this.symIndex, addend: this.addend,
      value: this.value, imageOffset: this.imageOffset, width: this.width, bytes: this.bytes,
    };
  }
}

/**
 * The relocation log of one load and its by-type summary. Recording an entry (add) stores its
 * 64-bit fields as 32-bit halves in one Uint32Array (WORDS per entry; addBig keeps a bigint
 * model's values as given), the bytes it wrote in one Uint8Array (BYTES per entry), and makes
 * one LoggedRelocation; entries() hands them out. The by-type summary is counted on every load
 * (count), the entries only when the log is kept.
 *
 * A derived log (derive) records only the bytes each entry wrote (addBytes); its entries are its
 * template's first entries, their address moved by B, and their value too where the template says
 * it moves. Its entries and summary are made when first asked for (the log is complete by then).
 */
export class RelocationLog {
  /** WORDS per entry (a derived log's are its template's, never written again). */
  private words: Uint32Array = NO_WORDS;
  /** BYTES per entry: the bytes written, from bytesAt on (a region of a chunk shared with other logs, see region()). */
  private bytes: Uint8Array = NO_BYTES;
  private bytesAt = 0;
  private dv = NO_DV;
  /** Entries the region holds. */
  private bytesCap = 0;
  /** The 64-bit fields of addBig()'s entries, 4 per entry. */
  private bigs: bigint[] | undefined;
  /** The bytes of an entry wider than BYTES, by entry (no relocation table has one today). */
  private wide: Map<number, Uint8Array> | undefined;
  /** Entries recorded. */
  private n = 0;
  private list: LoggedRelocation[] = [];
  /** Each entry's bytes as its `bytes` field gives them (made at its first read: the same array on every read). */
  private byteArrays: Uint8Array[] | undefined;
  /** A template's marks by entry (MOVES, FIXED); a derived log's are its template's. */
  private marks: number[] | undefined;
  /** A derived log's template and shift B (u64 halves). */
  private template: RelocationLog | undefined;
  private bHi = 0;
  private bLo = 0;
  /** The by-type summary, in order of first appearance: type name, count, bytes (a short list, scanned). */
  private readonly typeNames: string[] = [];
  private readonly typeCounts: number[] = [];
  private readonly typeBytes: number[] = [];
  private summary: Map<string, { count: number; bytes: number }> | undefined;
  private lastType = 0;
  /** `capacity`: the entries expected (the arrays are allocated at the first entry: a rejected load never needs them). */
  constructor(readonly keep: boolean, private readonly capacity = 64) {}

  /** A kept log to derive logs from (derive): add() marks its entries (see add's `moves` and `from`). */
  static template(capacity: number): RelocationLog {
    const t = new RelocationLog(true, capacity);
    t.marks = [];
    return t;
  }

  /** The relocations applied, summed by type name (count, bytes written). */
  get byType(): Map<string, { count: number; bytes: number }> {
    const t = this.template;
    if (t && !this.summary) for (let j = 0; j < this.n; j++) this.count(t.list[j]!.typeName, t.list[j]!.width);
    if (!this.summary) {
      this.summary = new Map();
      for (let j = 0; j < this.typeNames.length; j++) this.summary.set(this.typeNames[j]!, { count: this.typeCounts[j]!, bytes: this.typeBytes[j]! });
    }
    return this.summary;
  }

  /** Count one relocation applied in the by-type summary (every load; add() records it when the log is kept). */
  count(typeName: string, width: number): void {
    const names = this.typeNames;
    // Runs of one type are the rule: the last slot first, then a scan.
    let j = this.lastType;
    if (names[j] !== typeName) {
      j = 0;
      while (j < names.length && names[j] !== typeName) j++;
      this.lastType = j;
    }
    if (j < names.length) {
      this.typeCounts[j] = this.typeCounts[j]! + 1;
      this.typeBytes[j] = this.typeBytes[j]! + width;
    } else {
      names.push(typeName);
      this.typeCounts.push(1);
      this.typeBytes.push(width);
    }
    this.summary = undefined;
  }

  /**
   * Record one relocation (only when the log is kept): `width` bytes of `from` at `at` were written.
   * In a template: `from` undefined for an entry whose bytes each derived log records (else they
   * are the same for every derived log), `moves` when its value moves with a derived log's shift B
   * (the address always does).
   */
  add(relSection: number, relIndex: number, section: number, offset: U64, address: U64, type: number, typeName: string,
    symbol: string, symIndex: number, addend: U64, value: U64, imageOffset: number, width: number, from: Uint8Array | undefined, at: number,
    moves = false): void {
    const j = this.n;
    if ((j + 1) * WORDS > this.words.length) this.words = grown(this.words, Math.max(this.capacity, j + 1) * WORDS);
    const w = this.words;
    const i = j * WORDS;
    w[i] = offset.hi; w[i + 1] = offset.lo; w[i + 2] = address.hi; w[i + 3] = address.lo;
    w[i + 4] = addend.hi; w[i + 5] = addend.lo; w[i + 6] = value.hi; w[i + 7] = value.lo;
    if (this.marks) this.marks[j] = (moves ? MOVES : 0) | (from ? FIXED : 0);
    this.finish(relSection, relIndex, section, type, typeName, symbol, symIndex, imageOffset, width, from, at);
  }

  /**
   * add() for the models that compute on bigints (the kernel's and the PIE loader's): the same
   * entry, its 64-bit fields kept as the bigints given (the addend as a signed 64-bit value).
   * One log takes entries from add() or from addBig(), not both.
   */
  addBig(relSection: number, relIndex: number, section: number, offset: bigint, address: bigint, type: number, typeName: string,
    symbol: string, symIndex: number, addend: bigint, value: bigint, imageOffset: number, width: number, from: Uint8Array, at: number): void {
    (this.bigs ??= []).push(offset, address, BigInt.asIntN(64, addend), value);
    this.finish(relSection, relIndex, section, type, typeName, symbol, symIndex, imageOffset, width, from, at);
  }

  /** The entry itself and the bytes written. */
  private finish(relSection: number, relIndex: number, section: number, type: number, typeName: string, symbol: string,
    symIndex: number, imageOffset: number, width: number, from: Uint8Array | undefined, at: number): void {
    this.list.push(new LoggedRelocation(this, this.n, relSection, relIndex, section, type, typeName, symbol, symIndex, imageOffset, width));
    if (from) this.addBytes(from, at, width);
    else this.n++;
  }

  /**
   * A log whose entries are `template`'s (a complete log that is never written again), their
   * address moved by B = (bHi, bLo) and their value too where the template says so; it records
   * only the bytes each entry writes (addBytes), in the template's order, but for the entries
   * whose bytes the template holds (see add), which need not be recorded (see reach).
   */
  derive(template: RelocationLog, bHi: number, bLo: number): this {
    this.template = template;
    this.words = template.words;
    this.marks = template.marks;
    this.bHi = bHi;
    this.bLo = bLo;
    return this;
  }

  /** Whether this log is derived: entries are recorded by addBytes() alone. */
  get derived(): boolean {
    return this.template !== undefined;
  }

  /**
   * A derived log: entries [0, j) are recorded, the next one recorded is entry j (the entries
   * skipped are ones whose bytes the template holds).
   */
  reach(j: number): void {
    this.n = j;
  }

  /** The next entry wrote `width` bytes of `from` at `at` (add() calls it; a derived log's only record of an entry). */
  addBytes(from: Uint8Array, at: number, width: number, dv?: DataView): void {
    const j = this.n++;
    if (j >= this.bytesCap) this.regrow(j);
    const o = this.bytesAt + j * BYTES;
    if (dv && (width === 8 || width === 4)) {
      const to = this.dv;
      to.setUint32(o, dv.getUint32(at, true), true);
      if (width === 8) to.setUint32(o + 4, dv.getUint32(at + 4, true), true);
      return;
    }
    const b = this.bytes;
    // Unrolled by width: the byte loop was the hottest line of add().
    switch (width) {
      case 8: b[o + 7] = from[at + 7]!; b[o + 6] = from[at + 6]!; b[o + 5] = from[at + 5]!; b[o + 4] = from[at + 4]!; // falls through
      case 4: b[o + 3] = from[at + 3]!; b[o + 2] = from[at + 2]!; // falls through
      case 2: b[o + 1] = from[at + 1]!; // falls through
      case 1: b[o] = from[at]!; // falls through
      case 0: break;
      default:
        if (width > BYTES) (this.wide ??= new Map()).set(j, from.slice(at, at + width));
        else for (let k = 0; k < width; k++) b[o + k] = from[at + k]!;
    }
  }

  /** 64-bit field `f` of entry j (read by the entries' accessors). */
  u64(j: number, f: number): bigint {
    if (this.bigs) return this.bigs[j * 4 + f]!;
    const w = this.words;
    const i = j * WORDS + f * 2;
    if (f === ADDEND) return signed(w[i]!, w[i + 1]!);
    if (f === ADDRESS || (f === VALUE && this.marks && this.marks[j]! & MOVES)) {
      const lo = w[i + 1]! + this.bLo;
      return bigOfHalves((w[i]! + this.bHi + (lo > 0xffffffff ? 1 : 0)) >>> 0, lo >>> 0);
    }
    return bigOfHalves(w[i]!, w[i + 1]!);
  }

  /** Room for entry j and at least twice the entries (at least `capacity`) in a new region, the bytes so far copied there. */
  private regrow(j: number): void {
    const cap = Math.max(this.capacity, this.bytesCap * 2, j + 1);
    const at = region(cap * BYTES);
    if (this.bytesCap) chunk.set(this.bytes.subarray(this.bytesAt, this.bytesAt + this.bytesCap * BYTES), at);
    this.bytes = chunk;
    this.dv = chunkDv;
    this.bytesAt = at;
    this.bytesCap = cap;
  }

  /** The `width` bytes entry j wrote (an array made at the first read, the same on every read). */
  bytesOf(j: number, width: number): Uint8Array {
    const made = (this.byteArrays ??= []);
    let b = made[j];
    if (!b) {
      // A derived log's entry whose bytes are the same at every base: the template's.
      const src = this.template && this.marks && this.marks[j]! & FIXED ? this.template : this;
      if (width > BYTES) b = src.wide!.get(j)!;
      else {
        // A new small array and a copy: cheaper than slice() (its species lookup, a backing store of its own).
        b = new Uint8Array(width);
        const from = src.bytes;
        for (let k = 0, o = src.bytesAt + j * BYTES; k < width; k++) b[k] = from[o + k]!;
      }
      made[j] = b;
    }
    return b;
  }

  /**
   * The entries recorded, in the order applied: the log's own array (the log is complete when
   * read), or `into` (an empty array) filled with them, which becomes the log's own array.
   */
  entries(into?: LoggedRelocation[]): LoggedRelocation[] {
    if (into && into !== this.list) {
      for (let j = 0; j < this.list.length; j++) into.push(this.list[j]!);
      this.list = into;
    }
    const t = this.template;
    if (t) {
      const list = this.list;
      for (let j = list.length; j < this.n; j++) {
        const e = t.list[j]!;
        list.push(new LoggedRelocation(this, j, e.relSection, e.relIndex, e.section, e.type, e.typeName, e.symbol, e.symIndex, e.imageOffset, e.width));
      }
    }
    return this.list;
  }
}

/** `a`'s elements in a new array of at least `n` (twice a's length when that is more). */
function grown(a: Uint32Array, n: number): Uint32Array {
  const g = new Uint32Array(Math.max(n, a.length * 2));
  g.set(a);
  return g;
}

/**
 * The bytes of small logs are regions of one shared chunk (CHUNK bytes, replaced when full): a
 * typed array of its own per load cost a backing store each (≈ 0.5 µs). A log keeps its chunk
 * alive; each region is written by its own log only.
 */
const CHUNK = 16384;
let chunk = new Uint8Array(0);
let chunkDv = new DataView(chunk.buffer);
let chunkUsed = 0;

/** A region of `size` bytes: its offset in `chunk` (a new array of its own when large). */
function region(size: number): number {
  if (size > CHUNK / 4) {
    chunk = new Uint8Array(size); // the next small region starts a new chunk
    chunkDv = new DataView(chunk.buffer);
    chunkUsed = size;
    return 0;
  }
  if (chunkUsed + size > chunk.length) {
    chunk = new Uint8Array(CHUNK);
    chunkDv = new DataView(chunk.buffer);
    chunkUsed = 0;
  }
  const at = chunkUsed;
  chunkUsed += size;
  return at;
}
