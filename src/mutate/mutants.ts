// Mutant generation by rule over the C tokens of named functions (the lexer of
// src/oracle/kernel-extract.ts). Each mutant is one textual change of the file: an operator
// replaced, a constant changed, a statement removed, a condition removed or negated. Ids are
// deterministic: file, function, rule, ordinal (per function and rule) and a hash of the original
// token context, so that a checked-in file (corpus/mutation/equivalent.json) can refer to them.
//
// What is not mutated, by rule (each is output only: nothing the gate compares can see it):
// - calls to dbgprintf/fprintf/printf/pr_debug/pr_info/pr_warn, and the arguments of die() and
//   pr_err() (a rejection is compared by the class of its message, not by the values printed in
//   it); the die()/pr_err() call itself is removed like any statement;
// - a `break` that ends a switch body (nothing follows it);
// - declarations, except the expressions of their initializers.
import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import { extractFunctions, lex, type Tok } from '../oracle/kernel-extract.ts';

export const MUTATION_RULES = [
  'arithmetic', 'relational', 'equality', 'logical', 'bitwise', 'shift', 'assignment', 'increment',
  'constant', 'remove-statement', 'remove-condition', 'negate-condition',
] as const;
export type MutationRule = (typeof MUTATION_RULES)[number];

export interface Mutant {
  /** `<file basename>:<function>:<rule>:<ordinal>:<context hash>` */
  id: string;
  /** Path of the file in its tree (kexec/kexec-elf-rel.c). */
  file: string;
  function: string;
  rule: MutationRule;
  /** 1-based, per function and rule, in source order. */
  ordinal: number;
  /** 12 hex digits of sha256 over the rule, the changed text, its replacement and 4 tokens either side. */
  contextHash: string;
  line: number;
  /** The change: text [start, end) of the file becomes `replacement`. */
  start: number;
  end: number;
  original: string;
  replacement: string;
}

const OPERATORS: Record<string, { rule: MutationRule; to: string[] }> = {
  '+': { rule: 'arithmetic', to: ['-'] },
  '-': { rule: 'arithmetic', to: ['+'] },
  '*': { rule: 'arithmetic', to: ['/'] },
  '/': { rule: 'arithmetic', to: ['*'] },
  '%': { rule: 'arithmetic', to: ['/'] },
  '<': { rule: 'relational', to: ['<=', '>='] },
  '<=': { rule: 'relational', to: ['<', '>'] },
  '>': { rule: 'relational', to: ['>=', '<='] },
  '>=': { rule: 'relational', to: ['>', '<'] },
  '==': { rule: 'equality', to: ['!='] },
  '!=': { rule: 'equality', to: ['=='] },
  '&&': { rule: 'logical', to: ['||'] },
  '||': { rule: 'logical', to: ['&&'] },
  '&': { rule: 'bitwise', to: ['|', '^'] },
  '|': { rule: 'bitwise', to: ['&', '^'] },
  '^': { rule: 'bitwise', to: ['|', '&'] },
  '<<': { rule: 'shift', to: ['>>'] },
  '>>': { rule: 'shift', to: ['<<'] },
};
const COMPOUND: Record<string, string[]> = {
  '+=': ['-='], '-=': ['+='], '*=': ['/='], '/=': ['*='], '&=': ['|='], '|=': ['&='], '^=': ['|='], '<<=': ['>>='], '>>=': ['<<='],
};
const OUTPUT_ONLY = new Set(['dbgprintf', 'fprintf', 'printf', 'pr_debug', 'pr_info', 'pr_warn']);
const MESSAGE_ARGS = new Set(['die', 'pr_err', ...OUTPUT_ONLY]);
const KEYWORDS = new Set(['return', 'case', 'sizeof', 'else', 'do', 'goto', 'if', 'while', 'for', 'switch', 'break', 'continue', 'default']);
const TYPE_WORDS = new Set(['struct', 'union', 'enum', 'const', 'volatile', 'static', 'unsigned', 'signed', 'char', 'short', 'int', 'long', 'void', 'float', 'double', '_Bool', 'bool']);
const isTypeName = (v: string): boolean => TYPE_WORDS.has(v) || /_t$/.test(v) || /^Elf(32|64)?_/.test(v) || /^[us](8|16|32|64)$/.test(v);

interface Ctx {
  toks: Tok[];
  /** Index of the matching bracket for each (, [, { and ), ], }. */
  match: Map<number, number>;
  /** Token indexes not to mutate (message arguments, output-only calls). */
  skip: Set<number>;
  /** Token indexes inside declarations that are not initializer expressions. */
  decl: Set<number>;
}

interface Stmt {
  kind: 'expr' | 'decl' | 'return' | 'break' | 'continue' | 'goto' | 'if' | 'loop' | 'switch' | 'block' | 'empty';
  first: number;
  /** Index of its last token (the `;` for simple statements). */
  last: number;
  /** if: the condition's tokens (exclusive of the parentheses). */
  cond?: [number, number];
  /** The call of an output-only function (not removed). */
  outputOnly?: boolean;
}

const isPunct = (t: Tok | undefined, v: string): boolean => t?.k === 'punct' && t.v === v;
const isId = (t: Tok | undefined, v?: string): boolean => t?.k === 'id' && (v === undefined || t.v === v);

function matchBrackets(toks: Tok[]): Map<number, number> {
  const m = new Map<number, number>();
  const stack: number[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  toks.forEach((t, i) => {
    if (t.k !== 'punct') return;
    if (t.v === '(' || t.v === '[' || t.v === '{') stack.push(i);
    else if (t.v in pairs) {
      const o = stack.pop();
      if (o !== undefined) {
        m.set(o, i);
        m.set(i, o);
      }
    }
  });
  return m;
}

/** Parse the statements of the block whose `{` is at `open`; calls `visit` for each, nested ones too. */
function parseBlock(c: Ctx, open: number, visit: (s: Stmt, parent: { kind: 'block' | 'switch'; last: boolean }) => void, inSwitch = false): void {
  const close = c.match.get(open)!;
  const stmts: Stmt[] = [];
  let i = open + 1;
  while (i < close) {
    const t = c.toks[i]!;
    if (t.k === 'directive') { i++; continue; }
    // Labels: `case X:`, `default:`, `name:`.
    if (isId(t, 'case')) { while (i < close && !isPunct(c.toks[i], ':')) i++; i++; continue; }
    if (isId(t, 'default') && isPunct(c.toks[i + 1], ':')) { i += 2; continue; }
    if (t.k === 'id' && !KEYWORDS.has(t.v) && isPunct(c.toks[i + 1], ':')) { i += 2; continue; }
    const s = parseStatement(c, i, visit);
    stmts.push(s);
    i = s.last + 1;
  }
  stmts.forEach((s, k) => visit(s, { kind: inSwitch ? 'switch' : 'block', last: k === stmts.length - 1 }));
}

function parseStatement(c: Ctx, i: number, visit: Parameters<typeof parseBlock>[2]): Stmt {
  const t = c.toks[i]!;
  const sub = (j: number): Stmt => {
    // A statement nested in if/else/loops: visited as the only statement of a block.
    while (c.toks[j]?.k === 'directive') j++;
    const s = parseStatement(c, j, visit);
    visit(s, { kind: 'block', last: false });
    return s;
  };
  if (isPunct(t, '{')) {
    parseBlock(c, i, visit);
    return { kind: 'block', first: i, last: c.match.get(i)! };
  }
  if (isPunct(t, ';')) return { kind: 'empty', first: i, last: i };
  if (t.k === 'id') {
    if (t.v === 'if') {
      const open = i + 1;
      const close = c.match.get(open)!;
      let s = sub(close + 1);
      let last = s.last;
      if (isId(c.toks[last + 1], 'else')) {
        s = sub(last + 2);
        last = s.last;
      }
      return { kind: 'if', first: i, last, cond: [open + 1, close] };
    }
    if (t.v === 'while' || t.v === 'for' || t.v === 'switch') {
      const close = c.match.get(i + 1)!;
      if (t.v === 'switch' && isPunct(c.toks[close + 1], '{')) {
        parseBlock(c, close + 1, visit, true);
        return { kind: 'switch', first: i, last: c.match.get(close + 1)! };
      }
      const s = sub(close + 1);
      return { kind: 'loop', first: i, last: s.last };
    }
    if (t.v === 'do') {
      const s = sub(i + 1);
      const close = c.match.get(s.last + 2)!; // while ( … )
      return { kind: 'loop', first: i, last: close + 1 };
    }
  }
  const end = simpleEnd(c, i);
  const kind: Stmt['kind'] = isId(t, 'return') ? 'return' : isId(t, 'break') ? 'break' : isId(t, 'continue') ? 'continue' : isId(t, 'goto') ? 'goto'
    : isDeclaration(c.toks, i) ? 'decl' : 'expr';
  const outputOnly = kind === 'expr' && t.k === 'id' && OUTPUT_ONLY.has(t.v) && isPunct(c.toks[i + 1], '(');
  return { kind, first: i, last: end, outputOnly };
}

/** The `;` ending a simple statement that starts at i (brackets skipped). */
function simpleEnd(c: Ctx, i: number): number {
  for (let j = i; j < c.toks.length; j++) {
    const t = c.toks[j]!;
    if (t.k === 'punct' && (t.v === '(' || t.v === '[' || t.v === '{')) { j = c.match.get(j) ?? j; continue; }
    if (isPunct(t, ';')) return j;
  }
  return c.toks.length - 1;
}

function isDeclaration(toks: Tok[], i: number): boolean {
  const a = toks[i]!;
  if (a.k !== 'id' || KEYWORDS.has(a.v)) return false;
  if (isTypeName(a.v)) return true;
  const b = toks[i + 1];
  if (b?.k === 'id') return true; // `T x`
  return isPunct(b, '*') && toks[i + 2]?.k === 'id' && /^[,;=[]$/.test((toks[i + 3] as { v?: string })?.v ?? '');
}

/** Whether the token before position i ends an operand (so the operator at i is binary). */
function endsOperand(c: Ctx, i: number): boolean {
  const p = c.toks[i - 1];
  if (!p) return false;
  if (p.k === 'number' || p.k === 'other') return true;
  if (p.k === 'id') return !KEYWORDS.has(p.v) && !isTypeName(p.v);
  if (p.k !== 'punct') return false;
  if (p.v === ']') return true;
  if (p.v === ')') {
    const open = c.match.get(i - 1);
    if (open === undefined) return false;
    const before = c.toks[open - 1];
    if (isId(before, 'if') || isId(before, 'while') || isId(before, 'for') || isId(before, 'switch')) return false;
    return !isCast(c.toks, open, i - 1);
  }
  return false;
}

/** `( type-name )`: identifiers that are type words/names and `*`s only. */
function isCast(toks: Tok[], open: number, close: number): boolean {
  if (close - open < 2) return false;
  let sawType = false;
  for (let j = open + 1; j < close; j++) {
    const t = toks[j]!;
    if (t.k === 'id' && (isTypeName(t.v) || (j > open + 1 && isId(toks[j - 1], 'struct')))) { sawType = true; continue; }
    if (isPunct(t, '*')) continue;
    return false;
  }
  return sawType;
}

/** A C integer constant's value and spelling (hex or decimal, suffix kept), or undefined. */
export function parseIntConstant(text: string): { value: bigint; hex: boolean; suffix: string } | undefined {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([uUlL]*)$/.exec(text);
  if (!m) return undefined;
  const body = m[1]!;
  const value = /^0[xX]/.test(body) ? BigInt(body) : body.length > 1 && body.startsWith('0') ? BigInt(`0o${body.slice(1)}`) : BigInt(body);
  return { value, hex: /^0[xX]/.test(body), suffix: m[2]! };
}

/** The replacement values of a constant: 0↔1, n±1, and for masks one bit flipped or the mask shifted. */
export function constantVariants(value: bigint, hex: boolean): bigint[] {
  const out: bigint[] = [];
  if (value === 0n) out.push(1n);
  else if (value === 1n) out.push(0n, 2n);
  else out.push(value + 1n, value - 1n);
  const bits = value.toString(2).replace(/0/g, '').length;
  if (hex && value > 1n) {
    const low = value & -value;
    const high = 1n << BigInt(value.toString(2).length - 1);
    if (bits > 1) out.push(value ^ low, value ^ high, value | (high << 1n));
    out.push(value << 1n, value >> 1n);
  }
  return [...new Set(out)].filter((v) => v >= 0n && v !== value);
}

const spell = (v: bigint, hex: boolean, suffix: string): string => (hex ? `0x${v.toString(16)}` : v.toString()) + suffix;

/** Every mutant of the named functions of one file, in source order. */
export function generateMutants(src: string, file: string, functions: readonly string[]): Mutant[] {
  const defs = extractFunctions(src, functions, file);
  const toks = lex(src);
  const match = matchBrackets(toks);
  const out: Mutant[] = [];
  for (const name of functions) {
    const fn = defs.get(name)!;
    const first = toks.findIndex((t) => t.s >= fn.start);
    let open = first;
    while (open < toks.length && !(isPunct(toks[open], '{') && match.get(open) !== undefined && toks[match.get(open)!]!.e === fn.end)) open++;
    const c: Ctx = { toks, match, skip: new Set(), decl: new Set() };
    const close = match.get(open)!;
    // Message arguments and output-only calls.
    for (let j = open; j < close; j++) {
      const t = toks[j]!;
      if (t.k === 'id' && MESSAGE_ARGS.has(t.v) && isPunct(toks[j + 1], '(')) {
        const end = match.get(j + 1)!;
        for (let k = j + 1; k <= end; k++) c.skip.add(k);
      }
    }
    const changes: { rule: MutationRule; from: number; to: number; replacement: string }[] = [];
    const stmts: { s: Stmt; parent: { kind: 'block' | 'switch'; last: boolean }; depth: number }[] = [];
    parseBlock(c, open, (s, parent) => stmts.push({ s, parent, depth: 0 }));
    const topLevel = new Set<number>();
    // The function body's own statements (for "a return that is not the last statement").
    {
      let i = open + 1;
      while (i < close) {
        const t = toks[i]!;
        if (t.k === 'directive') { i++; continue; }
        if (t.k === 'id' && !KEYWORDS.has(t.v) && isPunct(toks[i + 1], ':')) { i += 2; continue; }
        const s = stmts.find((x) => x.s.first === i);
        if (!s) break;
        topLevel.add(s.s.first);
        i = s.s.last + 1;
      }
    }
    const lastTop = Math.max(...topLevel);
    for (const { s } of stmts) {
      if (s.kind !== 'decl') continue;
      // In a declaration only initializer expressions are mutated: from `=` to `,` or `;` at depth 0.
      let init = false;
      for (let j = s.first; j <= s.last; j++) {
        const t = toks[j]!;
        if (init && t.k === 'punct' && (t.v === '(' || t.v === '[' || t.v === '{')) { j = match.get(j) ?? j; continue; }
        if (isPunct(t, '=')) { init = true; c.decl.add(j); continue; }
        if (isPunct(t, ',') || isPunct(t, ';')) init = false;
        if (!init) {
          if (t.k === 'punct' && (t.v === '(' || t.v === '[')) {
            const e = match.get(j) ?? j;
            for (let k = j; k <= e; k++) c.decl.add(k);
            j = e;
            continue;
          }
          c.decl.add(j);
        }
      }
    }
    const mutable = (j: number) => !c.skip.has(j) && !c.decl.has(j) && toks[j]!.k !== 'directive';
    // Token rules.
    for (let j = open + 1; j < close; j++) {
      if (!mutable(j)) continue;
      const t = toks[j]!;
      if (t.k === 'punct') {
        const op = OPERATORS[t.v];
        if (op && endsOperand(c, j)) {
          if (t.v === '*' && (isPunct(toks[j + 1], ')') || isPunct(toks[j + 1], '*'))) continue;
          for (const r of op.to) changes.push({ rule: op.rule, from: j, to: j, replacement: r });
        } else if (COMPOUND[t.v]) {
          for (const r of COMPOUND[t.v]!) changes.push({ rule: 'assignment', from: j, to: j, replacement: r });
        } else if (t.v === '++' || t.v === '--') {
          changes.push({ rule: 'increment', from: j, to: j, replacement: t.v === '++' ? '--' : '++' });
        } else if (t.v === '~') {
          changes.push({ rule: 'bitwise', from: j, to: j, replacement: '' });
        }
      } else if (t.k === 'number') {
        const k = parseIntConstant(t.v);
        if (!k) continue;
        for (const v of constantVariants(k.value, k.hex)) changes.push({ rule: 'constant', from: j, to: j, replacement: spell(v, k.hex, k.suffix) });
      }
    }
    // Statement and condition rules.
    for (const { s, parent } of stmts) {
      if (s.kind === 'if' && s.cond) {
        const [a, b] = s.cond;
        changes.push({ rule: 'remove-condition', from: a, to: b - 1, replacement: '0' });
        changes.push({ rule: 'remove-condition', from: a, to: b - 1, replacement: '1' });
        changes.push({ rule: 'negate-condition', from: a, to: b - 1, replacement: `!(${src.slice(toks[a]!.s, toks[b - 1]!.e)})` });
      }
      if (s.outputOnly || s.first === s.last && s.kind === 'empty') continue;
      const removable = s.kind === 'expr' || s.kind === 'goto' || s.kind === 'continue'
        || (s.kind === 'break' && !(parent.kind === 'switch' && parent.last))
        || (s.kind === 'return' && s.first !== lastTop);
      if (removable) changes.push({ rule: 'remove-statement', from: s.first, to: s.last, replacement: ';' });
    }
    changes.sort((x, y) => toks[x.from]!.s - toks[y.from]!.s || toks[x.to]!.e - toks[y.to]!.e || MUTATION_RULES.indexOf(x.rule) - MUTATION_RULES.indexOf(y.rule));
    const ordinals = new Map<MutationRule, number>();
    const base = file.replace(/^.*\//, '');
    for (const ch of changes) {
      const start = toks[ch.from]!.s;
      const end = toks[ch.to]!.e;
      const original = src.slice(start, end);
      const ctx = [
        ch.rule,
        ...toks.slice(Math.max(0, ch.from - 4), ch.from).map((t) => src.slice(t.s, t.e)),
        '[', original.replace(/\s+/g, ' '), '→', ch.replacement, ']',
        ...toks.slice(ch.to + 1, ch.to + 5).map((t) => src.slice(t.s, t.e)),
      ].join(' ');
      const contextHash = createHash('sha256').update(ctx).digest('hex').slice(0, 12);
      const ordinal = (ordinals.get(ch.rule) ?? 0) + 1;
      ordinals.set(ch.rule, ordinal);
      out.push({
        id: `${base}:${name}:${ch.rule}:${ordinal}:${contextHash}`, file, function: name, rule: ch.rule, ordinal, contextHash,
        line: src.slice(0, start).split('\n').length, start, end, original, replacement: ch.replacement,
      });
    }
  }
  return out;
}

/** The file's text with the mutant applied. */
export function applyMutant(src: string, m: Pick<Mutant, 'start' | 'end' | 'replacement'>): string {
  return src.slice(0, m.start) + m.replacement + src.slice(m.end);
}

/** The mutant as a unified diff of its file (two lines of context). */
export function mutantDiff(src: string, m: Mutant): string {
  return createTwoFilesPatch(`a/${m.file}`, `b/${m.file}`, src, applyMutant(src, m), undefined, undefined, { context: 2 })
    .split('\n').filter((l) => !/^={10,}$/.test(l)).join('\n');
}
