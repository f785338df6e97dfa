// Human-readable rendering of a case comparison: annotated hex of both sides through the `diff`
// package, the culprit relocation named, and the affected instruction disassembled (Capstone).
import { createRequire } from 'node:module';
import { hex } from '../bytes.ts';
import type { Arch } from '../types.ts';
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

export async function disassemble(arch: Arch, bytes: Uint8Array, address: bigint): Promise<string[]> {
  const cs = await capstone();
  if (!cs) return ['(capstone unavailable)'];
  const mode = arch === 'x86_64' ? cs.MODE_64 : cs.MODE_64 | (arch === 'ppc64' ? cs.MODE_BIG_ENDIAN : cs.MODE_LITTLE_ENDIAN);
  const d = new cs.Capstone(arch === 'x86_64' ? cs.ARCH_X86 : cs.ARCH_PPC, mode);
  try {
    // Capstone's JS binding takes a 32-bit address; show the low bits and prefix the high ones.
    const insns = d.disasm(Array.from(bytes), Number(address & 0xffffffffn));
    const hiBits = address >> 32n;
    return insns.map((i) => `${hiBits ? hex(hiBits) + ':' : ''}${hex(BigInt(i.address))}  ${i.mnemonic} ${i.op_str}`.trimEnd());
  } catch (e) {
    return [`(disassembly failed: ${(e as Error).message})`];
  } finally {
    d.close();
  }
}

const hexdump = (b: Uint8Array, start: number): string[] => {
  const out: string[] = [];
  for (let i = 0; i < b.length; i += 16) {
    out.push(`${hex(start + i, 6)}: ${Array.from(b.subarray(i, i + 16), (x) => x.toString(16).padStart(2, '0')).join(' ')}`);
  }
  return out;
};

export function describeAttribution(a: Attribution): string {
  switch (a.kind) {
    case 'relocation':
      return `relocation #${a.relIndex} of section [${a.relSection}]: ${a.type} against '${a.symbol}'${a.addend ? ` ${a.addend < 0n ? '-' : '+'} ${hex(a.addend < 0n ? -a.addend : a.addend)}` : ''} at section [${a.section}]+${hex(a.offset)} (P=${hex(a.address)}), value S+A=${hex(a.value)}; TS wrote ${bytesHex(a.ts)}, reference has ${bytesHex(a.ref)}`;
    case 'symbol-write':
      return `symbol write '${a.symbol}'`;
    case 'padding':
      return `layout padding between ${a.between} (kexec-tools leaves it as uninitialised heap bytes)`;
    case 'section-content':
      return `copied contents of section [${a.section}] ${a.name} at +${hex(a.offset)} (no relocation wrote here)`;
  }
}

const bytesHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

export interface RenderContext {
  arch: Arch;
  base: bigint;
  tsImage: Uint8Array;
  refImage: Uint8Array;
  /** Image offsets of executable sections, to disassemble from an instruction boundary. */
  execSections: { start: number; end: number }[];
}

/** Render one comparison. */
export async function renderComparison(c: CaseComparison, ctx?: RenderContext, maxRanges = 8): Promise<string> {
  const lines: string[] = [`class: ${c.cls}${c.note ? ` — ${c.note}` : ''}`];
  for (const l of c.layout) lines.push(`  layout ${l.field}: TS ${l.ts} vs reference ${l.ref}`);
  for (const r of c.ranges.slice(0, maxRanges)) lines.push(...(await renderRange(r, ctx)));
  if (c.ranges.length > maxRanges) lines.push(`  … ${c.ranges.length - maxRanges} more differing range(s)`);
  return lines.join('\n');
}

/** The instruction covering image offset `at`, disassembled from its section's start. */
async function instructionAt(ctx: RenderContext, image: Uint8Array, at: number): Promise<string | undefined> {
  const sec = ctx.execSections.find((s) => at >= s.start && at < s.end);
  if (!sec) return undefined;
  const from = ctx.arch === 'x86_64' ? sec.start : at & ~3;
  const to = Math.min(sec.end, at + 16);
  const cs = await capstone();
  if (!cs) return '(capstone unavailable)';
  const lines = await disassemble(ctx.arch, image.subarray(from, to), ctx.base + BigInt(from));
  // Each line starts with its address; find the last instruction starting at or before `at`.
  let best: string | undefined;
  for (const l of lines) {
    const m = /^(?:(0x[0-9a-f]+):)?(0x[0-9a-f]+)/.exec(l);
    if (!m) continue;
    const addr = (BigInt(m[1] ?? 0) << 32n) | BigInt(m[2]!);
    if (addr <= ctx.base + BigInt(at)) best = l;
  }
  return best;
}

async function renderRange(r: RangeDiff, ctx?: RenderContext): Promise<string[]> {
  const lines = [`  bytes ${hex(r.start)}..${hex(r.end)} differ (${r.end - r.start} byte(s))`];
  for (const a of r.attributions) lines.push(`    ← ${describeAttribution(a)}`);
  const { createTwoFilesPatch } = await import('diff'); // loaded only when a byte range is rendered
  const patch = createTwoFilesPatch('reference', 'ts-engine', hexdump(r.ref, r.start).join('\n') + '\n', hexdump(r.ts, r.start).join('\n') + '\n', '', '', { context: 2 });
  lines.push(...patch.split('\n').slice(2).filter((l) => l && !l.startsWith('\\')).map((l) => '    ' + l));
  const rel = r.attributions.find((a): a is Extract<Attribution, { kind: 'relocation' }> => a.kind === 'relocation');
  if (rel && ctx) {
    const refInsn = await instructionAt(ctx, ctx.refImage, rel.imageOffset);
    const tsInsn = await instructionAt(ctx, ctx.tsImage, rel.imageOffset);
    if (refInsn || tsInsn) {
      lines.push(`    reference: ${refInsn ?? '?'}`);
      lines.push(`    ts-engine: ${tsInsn ?? '?'}`);
    }
  }
  return lines;
}
