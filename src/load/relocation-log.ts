// The relocation log every load model records (kexec-tools, kernel, PIE): one storage, one entry
// shape. A kept log costs one small object per relocation and ten words in a typed array; the
// bigints and the byte array of an entry are made when its field is read (RelocationLogEntry in
// src/types.ts says what a consumer sees).
import { bigOfHalves, type U64 } from '../arch/types.ts';
import type { RelocationLogEntry } from '../types.ts';

/** The same 64 bits as a signed (two's complement) bigint. */
function signed(hi: number, lo: number): bigint {
  // -2^53 <= (hi - 2^32) * 2^32 + lo < 0 is an exact double for hi >= 2^32 - 2^21.
  if (hi >= 0xffe00000) return BigInt((hi - 0x100000000) * 0x100000000 + lo);
  return BigInt.asIntN(64, bigOfHalves(hi, lo));
}

/** The words a log keeps per entry: offset, address, addend, value as (hi, lo), then two words holding the bytes written (≤ 8). */
const STRIDE = 10;
const NONE = new Uint32Array(0);

/**
 * One relocation of a log. The base-independent small fields are own data properties; `offset`,
 * `address`, `addend`, `value` and `bytes` are accessors on this prototype computed from the
 * log's words on each read (`bytes` once: the same array on every read). `toJSON()` gives the
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
  /** Index of this entry's words in the log. */
  readonly #i: number;
  #bytes: Uint8Array | undefined;

  constructor(log: RelocationLog, i: number, relSection: number, relIndex: number, section: number, type: number,
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
    this.#i = i;
  }

  get offset(): bigint {
    const { words: w, bigs } = this.#log;
    if (bigs) return bigs[(this.#i / STRIDE) * 4]!;
    return bigOfHalves(w[this.#i]!, w[this.#i + 1]!);
  }

  get address(): bigint {
    const { words: w, bigs } = this.#log;
    if (bigs) return bigs[(this.#i / STRIDE) * 4 + 1]!;
    return bigOfHalves(w[this.#i + 2]!, w[this.#i + 3]!);
  }

  get addend(): bigint {
    const { words: w, bigs } = this.#log;
    if (bigs) return bigs[(this.#i / STRIDE) * 4 + 2]!;
    return signed(w[this.#i + 4]!, w[this.#i + 5]!);
  }

  get value(): bigint {
    const { words: w, bigs } = this.#log;
    if (bigs) return bigs[(this.#i / STRIDE) * 4 + 3]!;
    return bigOfHalves(w[this.#i + 6]!, w[this.#i + 7]!);
  }

  get bytes(): Uint8Array {
    if (!this.#bytes) {
      let b: Uint8Array;
      if (this.width > 8) b = this.#log.wide!.get(this.#i)!;
      else {
        const from = this.#log.wordBytes;
        b = new Uint8Array(this.width);
        for (let j = 0, o = (this.#i + 8) * 4; j < b.length; j++) b[j] = from[o + j]!;
      }
      this.#bytes = b;
    }
    return this.#bytes;
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
 * 64-bit fields as 32-bit halves and the bytes it wrote in one Uint32Array (STRIDE words per
 * entry; addBig keeps a bigint model's values as given) and makes one LoggedRelocation; entries()
 * hands them out. The by-type summary is counted
 * on every load (count), the entries only when the log is kept.
 */
export class RelocationLog {
  /** STRIDE words per entry (see STRIDE). Internal: read by the entries. */
  words: Uint32Array = NONE;
  /** The same words as bytes: an entry's bytes written are at (index + 8) * 4. */
  wordBytes: Uint8Array = new Uint8Array(0);
  /** The 64-bit fields of addBig()'s entries, 4 per entry (their words hold only the bytes). */
  bigs: bigint[] | undefined;
  /** The bytes of an entry wider than 8 bytes, by word index (no relocation table has one today). */
  wide: Map<number, Uint8Array> | undefined;
  private readonly list: LoggedRelocation[] = [];
  /** The by-type summary, in order of first appearance: type name, count, bytes (a short list, scanned). */
  private readonly typeNames: string[] = [];
  private readonly typeCounts: number[] = [];
  private readonly typeBytes: number[] = [];
  private summary: Map<string, { count: number; bytes: number }> | undefined;
  private lastType = 0;
  /** `capacity`: the entries expected (the words are allocated at the first entry: a rejected load never needs them). */
  constructor(readonly keep: boolean, private readonly capacity = 64) {}

  /** The relocations applied, summed by type name (count, bytes written). */
  get byType(): Map<string, { count: number; bytes: number }> {
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

  /** Record one relocation (only when the log is kept): `width` bytes of `from` at `at` were written. */
  add(relSection: number, relIndex: number, section: number, offset: U64, address: U64, type: number, typeName: string,
    symbol: string, symIndex: number, addend: U64, value: U64, imageOffset: number, width: number, from: Uint8Array, at: number): void {
    const i = this.slot();
    const w = this.words;
    w[i] = offset.hi; w[i + 1] = offset.lo; w[i + 2] = address.hi; w[i + 3] = address.lo;
    w[i + 4] = addend.hi; w[i + 5] = addend.lo; w[i + 6] = value.hi; w[i + 7] = value.lo;
    this.finish(i, relSection, relIndex, section, type, typeName, symbol, symIndex, imageOffset, width, from, at);
  }

  /**
   * add() for the models that compute on bigints (the kernel's and the PIE loader's): the same
   * entry, its 64-bit fields kept as the bigints given (the addend as a signed 64-bit value).
   * One log takes entries from add() or from addBig(), not both.
   */
  addBig(relSection: number, relIndex: number, section: number, offset: bigint, address: bigint, type: number, typeName: string,
    symbol: string, symIndex: number, addend: bigint, value: bigint, imageOffset: number, width: number, from: Uint8Array, at: number): void {
    const i = this.slot();
    (this.bigs ??= []).push(offset, address, BigInt.asIntN(64, addend), value);
    this.finish(i, relSection, relIndex, section, type, typeName, symbol, symIndex, imageOffset, width, from, at);
  }

  /** The index of the next entry's words, the words grown to hold it. */
  private slot(): number {
    const i = this.list.length * STRIDE;
    const w = this.words;
    if (i + STRIDE > w.length) {
      const grown = new Uint32Array(Math.max(this.capacity * STRIDE, w.length * 2, STRIDE));
      grown.set(w);
      this.words = grown;
      this.wordBytes = new Uint8Array(grown.buffer);
    }
    return i;
  }

  /** The bytes written and the entry itself. */
  private finish(i: number, relSection: number, relIndex: number, section: number, type: number, typeName: string, symbol: string,
    symIndex: number, imageOffset: number, width: number, from: Uint8Array, at: number): void {
    const b = this.wordBytes;
    const o = (i + 8) * 4;
    // Unrolled by width: the byte loop was the hottest line of add().
    switch (width) {
      case 8: b[o + 7] = from[at + 7]!; b[o + 6] = from[at + 6]!; b[o + 5] = from[at + 5]!; b[o + 4] = from[at + 4]!; // falls through
      case 4: b[o + 3] = from[at + 3]!; b[o + 2] = from[at + 2]!; // falls through
      case 2: b[o + 1] = from[at + 1]!; // falls through
      case 1: b[o] = from[at]!; // falls through
      case 0: break;
      default:
        if (width > 8) (this.wide ??= new Map()).set(i, from.slice(at, at + width));
        else for (let j = 0; j < width; j++) b[o + j] = from[at + j]!;
    }
    this.list.push(new LoggedRelocation(this, i, relSection, relIndex, section, type, typeName, symbol, symIndex, imageOffset, width));
  }

  /** The entries recorded, in the order applied (the log's own array: the log is complete when read). */
  entries(): LoggedRelocation[] {
    return this.list;
  }
}
