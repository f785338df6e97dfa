// Typed errors. Library code throws only these (and returns rejections as data).
import type { RejectionCode, Where } from './types.ts';
import { hex } from './bytes.ts';

const BRAND = Symbol.for('purgatory-oracle.error');

export class PurgatoryOracleError extends Error {
  declare readonly [BRAND]: true;
  /** `stack: false`: no stack trace is captured (a rejection is data: its code, message and where say it all). */
  constructor(message: string, options?: { cause?: unknown }, stack = true) {
    const limit = Error.stackTraceLimit;
    if (!stack) Error.stackTraceLimit = 0; // capturing the stack costs more than a whole small load
    super(message, options);
    Error.stackTraceLimit = limit;
    this.name = new.target.name;
  }
}
Object.defineProperty(PurgatoryOracleError.prototype, BRAND, { value: true });

/** new Error(message) without a captured stack trace (the detail behind a rejection). */
export function detailError(message: string): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const e = new Error(message);
  Error.stackTraceLimit = limit;
  return e;
}

/** The file is not well formed: names the field, byte offset and offending value. */
export class ElfFormatError extends PurgatoryOracleError {
  constructor(
    readonly field: string,
    readonly offset: number | bigint,
    readonly value: bigint | number | string,
    readonly reason: string,
  ) {
    super(`ELF format error: ${field} at byte ${hex(BigInt(offset))}: ${reason} (value ${typeof value === 'string' ? value : hex(BigInt(value))})`, undefined, false);
  }
}

/** A loader rejection: what kexec-tools would die() on, or the kernel return -ENOEXEC for. */
export class LoadError extends PurgatoryOracleError {
  constructor(
    readonly code: RejectionCode,
    /** The message the reference loader prints for this case, where known. */
    readonly cMessage: string,
    readonly where: Where = {},
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${cMessage.trim()}${describeWhere(where)}`, options, false);
  }
}

export class UsageError extends PurgatoryOracleError {}

export function describeWhere(w: Where): string {
  const parts: string[] = [];
  if (w.relocation) parts.push(`relocation ${w.relocation}`);
  if (w.relSection !== undefined) parts.push(`rel section ${w.relSection}${w.relIndex !== undefined ? ` entry ${w.relIndex}` : ''}`);
  if (w.section !== undefined || w.sectionName) parts.push(`section ${w.sectionName ?? ''}${w.section !== undefined ? `[${w.section}]` : ''}`);
  if (w.offset !== undefined) parts.push(`offset ${hex(w.offset)}`);
  if (w.symbol !== undefined) parts.push(`symbol '${w.symbol}'`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

export function isPurgatoryOracleError(e: unknown): e is PurgatoryOracleError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}
export function isLoadError(e: unknown): e is LoadError {
  return isPurgatoryOracleError(e) && (e as Error).name === 'LoadError';
}
export function isElfFormatError(e: unknown): e is ElfFormatError {
  return isPurgatoryOracleError(e) && (e as Error).name === 'ElfFormatError';
}

/**
 * A filter (`--only`, `--oracle`, …) names something that does not exist: a usage error (exit 2),
 * never a run that checks nothing and passes. The message names the filter and lists what exists.
 */
export class NoMatchError extends UsageError {
  constructor(
    readonly filter: string,
    readonly unmatched: string[],
    readonly known: string[],
    what: string,
  ) {
    super(`${filter} ${unmatched.map((u) => `'${u}'`).join(', ')}: no such ${what}; ${known.length ? `known: ${known.join(', ')}` : `there is none`}`);
  }
}

/** Throw NoMatchError for the requested names that are not among the known ones. */
export function requireMatches(filter: string, requested: Iterable<string>, known: Iterable<string>, what: string): void {
  const k = [...new Set(known)].sort();
  const set = new Set(k);
  const unmatched = [...new Set(requested)].filter((r) => !set.has(r));
  if (unmatched.length) throw new NoMatchError(filter, unmatched, k, what);
}
