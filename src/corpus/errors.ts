// Typed errors of the corpus tools. Library code throws these; only scripts decide to exit.

const BRAND = Symbol.for('purgatory-oracle.CorpusFormatError');

/** A buffer is not what the corpus code expected. Names the byte offset, the field and its value. */
export class CorpusFormatError extends Error {
  readonly [BRAND] = true;
  override readonly name = 'CorpusFormatError';
  constructor(
    readonly offset: number,
    readonly field: string,
    readonly value: bigint | number | string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${message} (at 0x${offset.toString(16)}, ${field} = ${formatValue(value)})`, options);
  }
}

function formatValue(v: bigint | number | string): string {
  if (typeof v === 'string') return JSON.stringify(v);
  return `0x${v.toString(16)}`;
}

/** Works across module copies (tsx may load a file twice under different URLs). */
export function isCorpusFormatError(e: unknown): e is CorpusFormatError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}
