// Cross-implementation matrix: where the *reference implementations* disagree with each other
// (kexec-tools versions against each other, the kernel against kexec-tools), on the same corpus
// entry, base, symbol setting and fill. Differing bytes are attributed with the TS model of the
// first loader (its relocation log says which relocation wrote them).
import { load } from '../engine.ts';
import { hex } from '../bytes.ts';
import { attribute, diffRanges, refRejectionClass, type Attribution, type RefOutcome } from '../compare/compare.ts';
import { describeAttribution } from '../compare/render.ts';
import { oracleId, profileIdOf } from './references.ts';
import type { ReferenceSource, ValidateCase } from './validate.ts';
import type { Arch } from '../types.ts';
import { KERNEL_MESSAGE_CLASSES } from '../load/kernel.ts';

export type PairClass = 'same' | 'both-rejected' | 'outcome-differs' | 'layout-differs' | 'bytes-differs';

export interface PairExample {
  entry: string;
  caseId: string;
  cls: PairClass;
  detail: string[];
}

export interface PairSummary {
  a: string;
  b: string;
  target: Arch;
  cases: number;
  byClass: Partial<Record<PairClass, number>>;
  examples: PairExample[];
}

/** A reference outcome's class: ok, crashed, timeout, or its rejection class (kernel messages included). */
export function refClass(o: RefOutcome): string {
  return o.kind === 'rejected' ? refRejectionClass(o.message, /^kexec(_file|_image)?: |^\(errno/.test(o.message) ? KERNEL_MESSAGE_CLASSES : []) : o.kind;
}

export function compareRefs(a: RefOutcome, b: RefOutcome): { cls: PairClass; detail: string[] } {
  if (a.kind !== 'ok' || b.kind !== 'ok') {
    if (a.kind === 'rejected' && b.kind === 'rejected' && refClass(a) === refClass(b)) return { cls: 'both-rejected', detail: [] };
    // Two loaders that fault with the same signal, or both time out, end the same way.
    if ((a.kind === 'crashed' && b.kind === 'crashed' && a.signal === b.signal) || (a.kind === 'timeout' && b.kind === 'timeout')) return { cls: 'same', detail: [] };
    return { cls: 'outcome-differs', detail: [`${refClass(a)}${a.kind === 'rejected' ? `: ${a.message.trim()}` : ''} vs ${refClass(b)}${b.kind === 'rejected' ? `: ${b.message.trim()}` : ''}`] };
  }
  const detail: string[] = [];
  if (a.relAddr !== b.relAddr) detail.push(`base ${hex(a.relAddr)} vs ${hex(b.relAddr)}`);
  if (a.relSize !== b.relSize) detail.push(`memsz ${hex(a.relSize)} vs ${hex(b.relSize)}`);
  if (a.entry !== b.entry) detail.push(`entry ${hex(a.entry)} vs ${hex(b.entry)}`);
  if (a.image.length !== b.image.length) detail.push(`bufsz ${hex(a.image.length)} vs ${hex(b.image.length)}`);
  a.shAddr.forEach((x, i) => {
    if (b.shAddr[i] !== undefined && b.shAddr[i] !== x) detail.push(`section[${i}] ${hex(x)} vs ${hex(b.shAddr[i]!)}`);
  });
  if (detail.length) return { cls: 'layout-differs', detail };
  const ranges = diffRanges(a.image, b.image);
  if (!ranges.length) return { cls: 'same', detail: [] };
  return { cls: 'bytes-differs', detail: ranges.slice(0, 4).map((r) => `bytes ${hex(r.start)}..${hex(r.end)}`) };
}

export async function crossMatrix(sources: ReferenceSource[], maxExamples = 3): Promise<PairSummary[]> {
  const byKey = new Map<string, Map<string, ValidateCase>>();
  const targetOf = new Map<string, Arch>();
  for (const s of sources) {
    const id = oracleId(s.oracle);
    targetOf.set(id, s.oracle.target);
    for await (const c of s.cases()) {
      const key = `${s.oracle.target}|${c.entry}|${c.caseId}`;
      let m = byKey.get(key);
      if (!m) byKey.set(key, (m = new Map()));
      m.set(id, c);
    }
    await s.close?.();
  }
  const ids = [...targetOf.keys()].sort();
  const out: PairSummary[] = [];
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const a = ids[i]!;
      const b = ids[j]!;
      if (targetOf.get(a) !== targetOf.get(b)) continue;
      const summary: PairSummary = { a, b, target: targetOf.get(a)!, cases: 0, byClass: {}, examples: [] };
      for (const m of byKey.values()) {
        const ca = m.get(a);
        const cb = m.get(b);
        if (!ca || !cb) continue;
        summary.cases++;
        const r = compareRefs(ca.ref, cb.ref);
        summary.byClass[r.cls] = (summary.byClass[r.cls] ?? 0) + 1;
        if (r.cls !== 'same' && r.cls !== 'both-rejected' && summary.examples.filter((e) => e.cls === r.cls).length < maxExamples) {
          summary.examples.push({ entry: ca.entry, caseId: ca.caseId, cls: r.cls, detail: [...r.detail, ...attributeWithModel(a, ca, cb)] });
        }
      }
      if (summary.cases) out.push(summary);
    }
  }
  return out;
}

/** Attribute differing bytes with the TS model of loader `a` (its relocation log). */
function attributeWithModel(a: string, ca: ValidateCase, cb: ValidateCase): string[] {
  if (ca.ref.kind !== 'ok' || cb.ref.kind !== 'ok' || ca.ref.image.length !== cb.ref.image.length) return [];
  const [loaderVersion, target] = a.split('/') as [string, Arch];
  const m = /^(kexec-tools|kernel)-(.+)$/.exec(loaderVersion);
  if (!m) return [];
  const ts = load(ca.req, { profile: profileIdOf({ loader: m[1] as 'kexec-tools' | 'kernel', version: m[2]!, target }), target, hostAddress: ca.ref.hostBuf });
  if (ts.kind !== 'ok') return [];
  const atts: Attribution[] = [];
  for (const r of diffRanges(ca.ref.image, cb.ref.image).slice(0, 4)) atts.push(...attribute(ts.image, r, cb.ref.image, []));
  return atts.slice(0, 6).map((x) => `← ${describeAttribution(x)}`);
}

export function formatMatrix(rows: PairSummary[]): string {
  const classes: PairClass[] = ['same', 'both-rejected', 'outcome-differs', 'layout-differs', 'bytes-differs'];
  const lines = [`${'reference A'.padEnd(28)} ${'reference B'.padEnd(28)} ${'cases'.padStart(6)} ${classes.map((c) => c.padStart(15)).join(' ')}`];
  for (const r of rows) lines.push(`${r.a.padEnd(28)} ${r.b.padEnd(28)} ${String(r.cases).padStart(6)} ${classes.map((c) => String(r.byClass[c] ?? 0).padStart(15)).join(' ')}`);
  for (const r of rows) {
    for (const e of r.examples) {
      lines.push('', `${r.a} vs ${r.b}: ${e.entry} ${e.caseId} (${e.cls})`);
      for (const d of e.detail) lines.push(`  ${d}`);
    }
  }
  return lines.join('\n') + '\n';
}
