// Typed errors. Library code throws only these (and returns rejections as data).
import type { RejectionCode, Where } from './types.ts';
import { hex } from './bytes.ts';

const BRAND = Symbol.for('purgatory-oracle.error');

export class PurgatoryOracleError extends Error {
  readonly [BRAND] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The file is not well formed: names the field, byte offset and offending value. */
export class ElfFormatError extends PurgatoryOracleError {
  constructor(
    readonly field: string,
    readonly offset: number | bigint,
    readonly value: bigint | number | string,
    readonly reason: string,
  ) {
    super(`ELF format error: ${field} at byte ${hex(BigInt(offset))}: ${reason} (value ${typeof value === 'string' ? value : hex(BigInt(value))})`);
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
    super(`${code}: ${cMessage.trim()}${describeWhere(where)}`, options);
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
