// Human-readable rendering of a case comparison: annotated hex of both sides through the `diff`
// package, the culprit relocation named, and the affected instruction disassembled (Capstone).
import { createRequire } from 'node:module';
import { hex } from '../bytes.ts';
import { ElfFile } from '../elf/reader.ts';
import { SHF_EXECINSTR, SHT_SYMTAB, STT_FILE, STT_FUNC, STT_OBJECT, STT_SECTION } from '../elf/constants.ts';
import type { Arch, Outcome } from '../types.ts';
import type { CaseComparison, RangeDiff, Attribution } from './compare.ts';

interface CsInstruction { address: number | bigint; mnemonic: string; op_str: string; size: number }
interface CsModule {
  Capstone: new (arch: number, mode: number) => { disasm(bytes: number[] | Uint8Array, addr: number): CsInstruction[]; close(): void };
  ARCH_X86: number; ARCH_PPC: number; MODE_64: number; MODE_BIG_ENDIAN: number; MODE_LITTLE_ENDIAN: number;
}

let csPromise: Promise<CsModule | undefined> | undefined;
/** Load Capstone (wasm) once; undefined if it cannot load (the report then omits disassembly). */
export function capstone(): Promise<CsModule | undefined> {
  csPromise ??= (async () => {
    try {
      const require = createRequire(import.meta.url);
      const m = require('@alexaltea/capstone-js') as unknown;
      const init = (typeof m === 'function' ? m : (m as { default: unknown }).default) as () => Promise<CsModule>;
      return await init();
    } catch {
      return undefined;
    }
  })();
  return csPromise;
}

const hexdump = (b: Uint8Array, start: number): string[] => {
  const out: string[] = [];
  for (let i = 0; i < b.length; i += 16) {
    out.push(`${hex(start + i, 6)}: ${Array.from(b.subarray(i, i + 16), (x) => x.toString(16).padStart(2, '0')).join(' ')}`);
  }
  return out;
};

/** What the two compared sides are called: the TS engine and the reference, or (gate --baseline) a released kexec-tools and your tree. */
export interface RenderLabels {
  ts: string;
  ref: string;
}
const DEFAULT_LABELS: RenderLabels = { ts: 'TS', ref: 'reference' };

export function describeAttribution(a: Attribution, labels: RenderLabels = DEFAULT_LABELS): string {
  switch (a.kind) {
    case 'relocation':
      return `relocation #${a.relIndex} of section [${a.relSection}]: ${a.type} against '${a.symbol}'${a.addend ? ` ${a.addend < 0n ? '-' : '+'} ${hex(a.addend < 0n ? -a.addend : a.addend)}` : ''} at section [${a.section}]+${hex(a.offset)} (P=${hex(a.address)}), value S+A=${hex(a.value)}; ${labels.ts} wrote ${bytesHex(a.ts)}, ${labels.ref} has ${bytesHex(a.ref)}`;
    case 'symbol-write':
      return `symbol write '${a.symbol}'`;
    case 'padding':
      return `layout padding between ${a.between} (kexec-tools leaves it as uninitialised heap bytes)`;
    case 'section-content':
      return `copied contents of section [${a.section}] ${a.name} at +${hex(a.offset)} (no relocation wrote here)`;
  }
}

/** Bytes as `e8 c3 f9 ff ff`. */
export const bytesHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** A symbol placed in the image, for decoding from it and naming branch targets. */
export interface ImageSymbol {
  name: string;
  /** Image offset of st_value. */
  start: number;
  size: number;
  /** STT_FUNC. */
  func: boolean;
  /** STT_OBJECT: data, never a decoding start. */
  object: boolean;
  section: number;
}

export interface ImageSection {
  index: number;
  name: string;
  start: number;
  end: number;
  exec: boolean;
}

export interface RenderContext {
  arch: Arch;
  base: bigint;
  tsImage: Uint8Array;
  refImage: Uint8Array;
  /** Allocated sections with contents, as image offsets. */
  sections: ImageSection[];
  /** Named symbols of allocated sections, sorted by start. */
  symbols: ImageSymbol[];
}

/** The sections and symbols of a loaded image (offsets from the image base), for rendering. */
export function renderContextOf(arch: Arch, elfBytes: Uint8Array, ts: Extract<Outcome, { kind: 'ok' }>, refImage: Uint8Array): RenderContext {
  const img = ts.image;
  const sections: ImageSection[] = [];
  const symbols: ImageSymbol[] = [];
  try {
    const elf = new ElfFile(elfBytes);
    const placed = new Map<number, ImageSection>();
    for (const s of img.sections) {
      if (!s.alloc || s.nobits) continue;
      const sec = { index: s.index, name: s.name, start: Number(s.addr - img.base), end: Number(s.addr - img.base + s.size), exec: ((elf.sections[s.index]?.flags ?? 0n) & SHF_EXECINSTR) !== 0n };
      sections.push(sec);
      placed.set(s.index, sec);
    }
    for (const sh of elf.sections) {
      if (sh.type !== SHT_SYMTAB) continue;
      for (const sym of elf.symbols(sh.index)) {
        const sec = placed.get(sym.shndx);
        if (!sec || !sym.name || sym.stype === STT_SECTION || sym.stype === STT_FILE) continue;
        let name: string;
        try {
          name = elf.stringAt(sh.link, sym.name);
        } catch {
          continue;
        }
        symbols.push({ name, start: sec.start + Number(sym.value), size: Number(sym.size), func: sym.stype === STT_FUNC, object: sym.stype === STT_OBJECT, section: sym.shndx });
      }
    }
  } catch {
    // An unreadable file still renders, without instructions or names.
  }
  symbols.sort((a, b) => a.start - b.start || Number(b.func) - Number(a.func));
  return { arch, base: img.base, tsImage: img.bytes, refImage, sections, symbols };
}

/** Render one comparison. */
export async function renderComparison(c: CaseComparison, ctx?: RenderContext, maxRanges = 8, labels: RenderLabels = DEFAULT_LABELS): Promise<string> {
  const lines: string[] = [`class: ${c.cls}${c.note ? ` — ${c.note}` : ''}`];
  for (const l of c.layout) lines.push(`  layout ${l.field}: ${labels.ts} ${l.ts} vs ${labels.ref} ${l.ref}`);
  for (const r of c.ranges.slice(0, maxRanges)) lines.push(...(await renderRange(r, ctx, labels)));
  if (c.ranges.length > maxRanges) lines.push(`  … ${c.ranges.length - maxRanges} more differing range(s)`);
  return lines.join('\n');
}

/**
 * An image offset as symbol+offset: the symbol that contains it (functions first), else the
 * nearest symbol before it in its section, else the section. With `target` (a branch target),
 * an offset a few bytes before a symbol's start is named from that symbol too (`call purgatory-0x4`,
 * which objdump would print as `<verify_sha256_digest+0x130>`): `purgatory-0x4 <verify_sha256_digest+0x130>`.
 */
export function symbolize(ctx: Pick<RenderContext, 'symbols' | 'sections'>, off: number, target = false): string | undefined {
  const named = (s: { name: string; start: number }) => (off === s.start ? s.name : `${s.name}${off > s.start ? '+' : '-'}${hex(Math.abs(off - s.start))}`);
  const exact = ctx.symbols.filter((s) => s.start === off && !s.object).sort((a, b) => Number(b.func) - Number(a.func))[0];
  if (exact) return exact.name;
  const sec = ctx.sections.find((s) => off >= s.start && off < s.end);
  const inside = ctx.symbols.filter((s) => off >= s.start && off < s.start + s.size).sort((a, b) => Number(b.func) - Number(a.func) || b.start - a.start)[0];
  const before = ctx.symbols.filter((s) => s.start <= off && (!sec || s.section === sec.index)).pop();
  const at = inside ?? before ?? (sec ? { name: sec.name, start: sec.start } : undefined);
  const next = target ? ctx.symbols.find((s) => s.start > off && s.start - off <= 8 && !s.object) : undefined;
  if (next) return at ? `${named(next)} <${named(at)}>` : named(next);
  return at ? named(at) : undefined;
}

/** One decoded instruction: image offset, length, text with targets named. */
export interface DecodedInstruction {
  offset: number;
  size: number;
  bytes: Uint8Array;
  text: string;
}

/**
 * Where to start decoding for an instruction that covers image offset `at` on x86_64: the function
 * symbol that contains it, else the nearest preceding code label (not STT_OBJECT) in its section,
 * else the section start.
 */
export function decodeStart(ctx: Pick<RenderContext, 'symbols' | 'sections'>, at: number): number | undefined {
  const sec = ctx.sections.find((s) => s.exec && at >= s.start && at < s.end);
  if (!sec) return undefined;
  const inSec = ctx.symbols.filter((s) => s.section === sec.index && s.start <= at && s.start >= sec.start);
  const fn = inSec.filter((s) => s.func && at < s.start + s.size).pop();
  if (fn) return fn.start;
  const label = inSec.filter((s) => !s.object).pop();
  return label?.start ?? sec.start;
}

const BRANCH = /^(call|jmp|j[a-z]+|loop[a-z]*|xbegin|b[a-z]*)$/;

/** The instruction covering image offset `at` in `image`, decoded from decodeStart() (x86_64) or the aligned word (ppc64), skipping bytes that do not decode. */
export async function instructionAt(ctx: RenderContext, image: Uint8Array, at: number): Promise<DecodedInstruction | undefined> {
  const sec = ctx.sections.find((s) => s.exec && at >= s.start && at < s.end);
  if (!sec) return undefined;
  const cs = await capstone();
  if (!cs) return undefined;
  const ppc = ctx.arch !== 'x86_64';
  const mode = ppc ? cs.MODE_64 | (ctx.arch === 'ppc64' ? cs.MODE_BIG_ENDIAN : cs.MODE_LITTLE_ENDIAN) : cs.MODE_64;
  const d = new cs.Capstone(ppc ? cs.ARCH_PPC : cs.ARCH_X86, mode);
  try {
    let pos = ppc ? sec.start + ((at - sec.start) & ~3) : decodeStart(ctx, at)!;
    const end = Math.min(sec.end, at + 16);
    while (pos <= at) {
      // Addresses are image offsets (the binding takes a 32-bit number); targets come back as offsets too.
      let insns: CsInstruction[];
      try {
        insns = d.disasm(image.subarray(pos, end), pos);
      } catch {
        insns = [];
      }
      if (!insns.length) {
        if (ppc) return undefined;
        pos++; // not an instruction here: skip a byte (skip-data decoding) and resynchronise
        continue;
      }
      for (const i of insns) {
        const off = Number(i.address);
        if (off > at) return undefined;
        if (at < off + i.size) return { offset: off, size: i.size, bytes: image.slice(off, off + i.size), text: nameTargets(ctx, i, off) };
        pos = off + i.size;
      }
    }
    return undefined;
  } finally {
    d.close();
  }
}

/** Branch targets and rip-relative operands named as symbol+offset. */
function nameTargets(ctx: RenderContext, i: CsInstruction, off: number): string {
  let ops = i.op_str;
  if (BRANCH.test(i.mnemonic)) {
    ops = ops.replace(/(^|[ ,])(0x[0-9a-f]+|\d+)$/, (m, pre: string, v: string) => {
      const t = Number(BigInt.asIntN(64, BigInt(v)));
      return `${pre}${symbolize(ctx, t, true) ?? hex(ctx.base + BigInt(t))}`;
    });
  }
  const rip = /\[rip ([+-]) (0x[0-9a-f]+|\d+)\]/.exec(ops);
  if (rip) {
    const t = off + i.size + (rip[1] === '-' ? -1 : 1) * Number(rip[2]);
    const name = symbolize(ctx, t, true);
    if (name) ops += ` ; ${name}`;
  }
  return `${i.mnemonic} ${ops}`.trimEnd();
}

const insnLine = (ctx: RenderContext, i: DecodedInstruction | undefined) =>
  i ? `${hex(ctx.base + BigInt(i.offset))}  ${bytesHex(i.bytes).padEnd(ctx.arch === 'x86_64' ? 30 : 11)}  ${i.text}` : '(no instruction decodes here)';

async function renderRange(r: RangeDiff, ctx: RenderContext | undefined, labels: RenderLabels): Promise<string[]> {
  const lines = [`  bytes ${hex(r.start)}..${hex(r.end)} differ (${r.end - r.start} byte(s))`];
  for (const a of r.attributions) lines.push(`    ← ${describeAttribution(a, labels)}`);
  const { createTwoFilesPatch } = await import('diff'); // loaded only when a byte range is rendered
  // Side names in the hex diff and instruction lines: `reference`/`ts-engine` by default.
  const refName = labels === DEFAULT_LABELS ? 'reference' : labels.ref.replace(/\s+/g, '-');
  const tsName = labels === DEFAULT_LABELS ? 'ts-engine' : labels.ts.replace(/\s+/g, '-');
  const patch = createTwoFilesPatch(refName, tsName, hexdump(r.ref, r.start).join('\n') + '\n', hexdump(r.ts, r.start).join('\n') + '\n', '', '', { context: 2 });
  lines.push(...patch.split('\n').slice(2).filter((l) => l && !l.startsWith('\\') && !l.startsWith('--- ') && !l.startsWith('+++ ')).map((l) => '    ' + l));
  const rel = r.attributions.find((a): a is Extract<Attribution, { kind: 'relocation' }> => a.kind === 'relocation');
  if (rel && ctx && ctx.sections.some((s) => s.exec && rel.imageOffset >= s.start && rel.imageOffset < s.end)) {
    const where = symbolize(ctx, rel.imageOffset);
    lines.push(`    instruction at ${hex(ctx.base + BigInt(rel.imageOffset))}${where ? ` (${where})` : ''}:`);
    const w = Math.max(refName.length, tsName.length);
    lines.push(`      ${`${refName}:`.padEnd(w + 1)} ${insnLine(ctx, await instructionAt(ctx, ctx.refImage, rel.imageOffset))}`);
    lines.push(`      ${`${tsName}:`.padEnd(w + 1)} ${insnLine(ctx, await instructionAt(ctx, ctx.tsImage, rel.imageOffset))}`);
  }
  return lines;
}
