// Typed errors of the corpus tools. Library code throws these; only scripts decide to exit.

const BRAND = Symbol.for('purgatory-oracle.CorpusFormatError');

/** A buffer is not what the corpus code expected. Names the byte offset, the field and its value. */
export class CorpusFormatError extends Error {
  readonly [BRAND] = true;
  override readonly name: string = 'CorpusFormatError';
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

/** A defect as the corpus records it (src/corpus/malformed.ts ElfDefect). */
interface DeclaredDefect {
  field: string;
  offset: number;
  value: string;
  reason: string;
}

/**
 * A malformed corpus object whose defects differ from its declaration: validate() reports a
 * defect the declaration does not list (`undeclared`), or a declared defect no longer occurs
 * (`missing`). Names the defect's field, offset, value and reason.
 */
export class CorpusDefectError extends CorpusFormatError {
  override readonly name = 'CorpusDefectError';
  constructor(
    readonly kind: 'undeclared' | 'missing',
    readonly defect: DeclaredDefect,
    options?: { cause?: unknown },
  ) {
    super(
      defect.offset,
      defect.field,
      defect.value,
      kind === 'undeclared'
        ? `undeclared defect: ${defect.reason}`
        : `declared defect no longer occurs: ${defect.reason}`,
      options,
    );
  }
}
