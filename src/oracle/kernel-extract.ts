// A small brace-matching extractor of C function definitions. It returns each definition's text
// exactly as it stands in the file (return type through the closing brace), so that the kernel
// oracle compiles the kernel's own code rather than a transcription of it.
//
// Lexing is just enough for that: comments, string and character literals are skipped, a
// preprocessor directive is one unit (with its backslash continuations), and inside a body the
// braces of an `#if … #else … #endif` are counted for the first branch only, since each branch
// of such a conditional is meant to open and close the same blocks.

import { PurgatoryOracleError } from '../errors.ts';

export class KernelExtractError extends PurgatoryOracleError {
  readonly code: 'missing-function' | 'ambiguous-function' | 'unbalanced';
  readonly file: string;
  readonly functionName: string;
  constructor(code: KernelExtractError['code'], file: string, functionName: string, message: string) {
    super(message);
    this.code = code;
    this.file = file;
    this.functionName = functionName;
  }
}

export interface ExtractedFunction {
  name: string;
  file: string;
  /** The definition, unmodified: from its first token (storage class / return type) to its `}`. */
  text: string;
  /** 1-based lines of the first and last character of `text`. */
  startLine: number;
  endLine: number;
  /** Character offsets into the source. */
  start: number;
  end: number;
}

/**
 * A C token with its character offsets [s, e) in the lexed text. Punctuators are whole (`<<=`,
 * `->`, `&&`); 'other' is a string or character literal.
 */
export type Tok =
  | { k: 'id'; v: string; s: number; e: number }
  | { k: 'punct'; v: string; s: number; e: number }
  | { k: 'number'; v: string; s: number; e: number }
  | { k: 'directive'; v: string; s: number; e: number }
  | { k: 'other'; s: number; e: number };

/** C punctuators, longest first (the lexer takes the longest match). */
const PUNCTUATORS = ['<<=', '>>=', '...', '->', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '##'];

const isIdStart = (c: string): boolean => /[A-Za-z_]/.test(c);
const isIdChar = (c: string): boolean => /[A-Za-z0-9_]/.test(c);

/**
 * C tokens: comments become nothing, string and character literals 'other', a preprocessor
 * directive one token. Used to find definitions and, by src/mutate, to mutate them.
 */
export function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let lineStart = true; // only whitespace since the last newline
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === '\n') { lineStart = true; i++; continue; }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') { i++; continue; }
    if (c === '\\' && src[i + 1] === '\n') { i += 2; continue; }
    if (c === '/' && src[i + 1] === '*') {
      const e = src.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i += src[i] === '\\' && src[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    if (c === '#' && lineStart) {
      // A directive runs to the first newline not escaped and not inside a block comment.
      const s = i;
      while (i < n && src[i] !== '\n') {
        if (src[i] === '\\' && src[i + 1] === '\n') { i += 2; continue; }
        if (src[i] === '/' && src[i + 1] === '*') {
          const e = src.indexOf('*/', i + 2);
          i = e < 0 ? n : e + 2;
          continue;
        }
        i++;
      }
      toks.push({ k: 'directive', v: src.slice(s, i), s, e: i });
      continue;
    }
    lineStart = false;
    if (c === '"' || c === "'") {
      const s = i++;
      while (i < n && src[i] !== c && src[i] !== '\n') i += src[i] === '\\' ? 2 : 1;
      i++;
      toks.push({ k: 'other', s, e: i });
      continue;
    }
    if (isIdStart(c)) {
      const s = i;
      while (i < n && isIdChar(src[i]!)) i++;
      toks.push({ k: 'id', v: src.slice(s, i), s, e: i });
      continue;
    }
    if (/[0-9]/.test(c)) {
      const s = i;
      while (i < n && /[0-9A-Za-z_.]/.test(src[i]!)) i++;
      toks.push({ k: 'number', v: src.slice(s, i), s, e: i });
      continue;
    }
    const p = PUNCTUATORS.find((x) => src.startsWith(x, i)) ?? c;
    toks.push({ k: 'punct', v: p, s: i, e: i + p.length });
    i += p.length;
  }
  return toks;
}

const directiveWord = (d: string): string => /^#\s*([a-z]+)/.exec(d)?.[1] ?? '';

interface Definition { name: string; start: number; end: number }

/** Every top-level function definition in the file, in order. */
function definitions(src: string, file: string): Definition[] {
  const toks = lex(src);
  const defs: Definition[] = [];
  let declStart = 0; // index of the first token of the current top-level declaration
  let i = 0;
  while (i < toks.length) {
    const t = toks[i]!;
    if (t.k === 'directive') { i++; declStart = i; continue; }
    if (t.k === 'punct' && t.v === ';') { i++; declStart = i; continue; }
    if (t.k === 'punct' && t.v === '{') {
      // A top-level brace: a function body if the declaration so far is `… name ( … ) [attrs]`,
      // otherwise an initializer, struct/enum/union body, or extern "C" block: skip it whole.
      const name = functionNameBefore(toks, declStart, i);
      const close = matchBrace(toks, i, src, file, name ?? '?');
      if (name !== null) {
        defs.push({ name, start: toks[declStart]!.s, end: toks[close]!.e });
        i = close + 1;
        declStart = i;
      } else {
        i = close + 1; // `struct x { … } v;` continues until its `;`
      }
      continue;
    }
    i++;
  }
  return defs;
}

/** For tokens [from, brace): the function's name if they read `… name ( params ) attrs`. */
function functionNameBefore(toks: Tok[], from: number, brace: number): string | null {
  // Find the first '(' at paren depth 0 that follows an identifier; the declarator's parameter
  // list is the group closing right before optional trailing attributes.
  for (let j = from; j < brace; j++) {
    const t = toks[j]!;
    if (t.k === 'punct' && (t.v === '=' || t.v === ',')) return null;
    if (t.k === 'punct' && t.v === '(' && j > from) {
      const prev = toks[j - 1]!;
      if (prev.k !== 'id') return null; // `int (*fp)(…)` and the like
      if (['__attribute__', '__aligned', '__section', '__printf', 'sizeof', 'typeof', '__typeof__'].includes(prev.v)) {
        j = skipParens(toks, j, brace);
        continue;
      }
      const close = skipParens(toks, j, brace);
      // Everything after the parameter list must be attributes: identifiers and (…) groups.
      for (let k = close + 1; k < brace; k++) {
        const a = toks[k]!;
        if (a.k === 'id') continue;
        if (a.k === 'punct' && a.v === '(') { k = skipParens(toks, k, brace); continue; }
        return null;
      }
      return prev.v;
    }
  }
  return null;
}

function skipParens(toks: Tok[], open: number, limit: number): number {
  let depth = 0;
  for (let j = open; j < limit; j++) {
    const t = toks[j]!;
    if (t.k !== 'punct') continue;
    if (t.v === '(') depth++;
    else if (t.v === ')' && --depth === 0) return j;
  }
  return limit;
}

/** Index of the `}` closing the `{` at `open`, counting one branch of each #if inside. */
function matchBrace(toks: Tok[], open: number, src: string, file: string, name: string): number {
  let depth = 0;
  const conds: { atIf: number; afterFirst: number | null }[] = [];
  for (let j = open; j < toks.length; j++) {
    const t = toks[j]!;
    if (t.k === 'directive') {
      const w = directiveWord(t.v);
      if (w === 'if' || w === 'ifdef' || w === 'ifndef') conds.push({ atIf: depth, afterFirst: null });
      else if (w === 'elif' || w === 'else') {
        const c = conds[conds.length - 1];
        if (c) { if (c.afterFirst === null) c.afterFirst = depth; depth = c.atIf; }
      } else if (w === 'endif') {
        const c = conds.pop();
        if (c && c.afterFirst !== null) depth = c.afterFirst;
      }
      continue;
    }
    if (t.k !== 'punct') continue;
    if (t.v === '{') depth++;
    else if (t.v === '}' && --depth === 0) return j;
  }
  const line = src.slice(0, toks[open]!.s).split('\n').length;
  throw new KernelExtractError('unbalanced', file, name, `${file}:${line}: unbalanced braces in the body of ${name}`);
}

const lineOf = (src: string, offset: number): number => {
  let line = 1;
  for (let i = 0; i < offset; i++) if (src.charCodeAt(i) === 10) line++;
  return line;
};

/** Lists the names of all top-level function definitions (for diagnostics and tests). */
export function listFunctions(src: string, file = '<input>'): string[] {
  return definitions(src, file).map((d) => d.name);
}

/**
 * Extract the named functions' definitions, unmodified. Throws KernelExtractError naming the
 * first function that is missing, or defined more than once (e.g. under #ifdef/#else), unless
 * `optional` lists it, in which case a missing one is left out of the result.
 */
export function extractFunctions(
  src: string,
  names: readonly string[],
  file = '<input>',
  options: { optional?: readonly string[] } = {},
): Map<string, ExtractedFunction> {
  const byName = new Map<string, Definition[]>();
  for (const d of definitions(src, file)) {
    const list = byName.get(d.name) ?? [];
    list.push(d);
    byName.set(d.name, list);
  }
  const out = new Map<string, ExtractedFunction>();
  for (const name of names) {
    const found = byName.get(name) ?? [];
    if (found.length === 0) {
      if (options.optional?.includes(name)) continue;
      throw new KernelExtractError('missing-function', file, name, `${file}: no definition of function ${name}`);
    }
    if (found.length > 1) {
      const lines = found.map((d) => lineOf(src, d.start)).join(', ');
      throw new KernelExtractError('ambiguous-function', file, name,
        `${file}: function ${name} is defined ${found.length} times (lines ${lines}); cannot choose`);
    }
    const d = found[0]!;
    out.set(name, {
      name, file, text: src.slice(d.start, d.end),
      startLine: lineOf(src, d.start), endLine: lineOf(src, d.end - 1), start: d.start, end: d.end,
    });
  }
  return out;
}

/** The `#define pr_fmt(...)` directive of a file, as written, or null. */
export function prFmtDefinition(src: string): string | null {
  for (const t of lex(src)) {
    if (t.k === 'directive' && /^#\s*define\s+pr_fmt\s*\(/.test(t.v)) return t.v;
  }
  return null;
}

const C_KEYWORDS = new Set(['if', 'while', 'for', 'switch', 'return', 'sizeof', 'do', 'case']);

/** Identifiers called (`name(`) inside a definition's text: to list the helpers it needs. */
export function calledNames(text: string): string[] {
  const toks = lex(text);
  const names = new Set<string>();
  const bodyStart = toks.findIndex((t) => t.k === 'punct' && t.v === '{');
  for (let j = Math.max(bodyStart, 0); j + 1 < toks.length; j++) {
    const t = toks[j]!;
    const nx = toks[j + 1]!;
    if (t.k === 'id' && nx.k === 'punct' && nx.v === '(' && !C_KEYWORDS.has(t.v)) names.add(t.v);
  }
  return [...names];
}

export interface ExtractedMacro { name: string; file: string; text: string; startLine: number }

/**
 * The named object- or function-like `#define`s of a file, unmodified, in the order asked (file
 * order is the caller's to keep when one uses another: a macro is expanded where used, so any
 * order compiles). Throws KernelExtractError when one is missing or defined twice.
 */
export function extractMacros(src: string, names: readonly string[], file = '<input>'): Map<string, ExtractedMacro> {
  const found = new Map<string, ExtractedMacro[]>();
  for (const t of lex(src)) {
    if (t.k !== 'directive') continue;
    const m = /^#\s*define\s+([A-Za-z_]\w*)/.exec(t.v);
    if (!m || !names.includes(m[1]!)) continue;
    const list = found.get(m[1]!) ?? [];
    list.push({ name: m[1]!, file, text: t.v, startLine: lineOf(src, t.s) });
    found.set(m[1]!, list);
  }
  const out = new Map<string, ExtractedMacro>();
  for (const name of names) {
    const list = found.get(name) ?? [];
    if (list.length === 0) throw new KernelExtractError('missing-function', file, name, `${file}: no #define of ${name}`);
    if (list.length > 1) {
      throw new KernelExtractError('ambiguous-function', file, name,
        `${file}: ${name} is #defined ${list.length} times (lines ${list.map((d) => d.startLine).join(', ')}); cannot choose`);
    }
    out.set(name, list[0]!);
  }
  return out;
}
