// The image map of one compared case: the image's sections, every relocation site the TS engine
// wrote (with the instruction that contains it, on both sides), and the byte ranges that differ.
// Built only for the cases a report shows in full (the HTML report's representatives).
import { hex } from '../bytes.ts';
import { bytesHex, instructionAt, symbolize, type RenderContext } from '../compare/render.ts';
import type { ByteRange } from '../compare/compare.ts';
import type { RelocationLogEntry } from '../types.ts';

export interface MapSite {
  offset: number;
  width: number;
  type: string;
  symbol: string;
  addend: bigint;
  /** Where the site is, as symbol+offset. */
  where?: string;
  ts: string;
  ref: string;
  differs: boolean;
  /** The containing instruction on each side (executable sections only). */
  insnTs?: string;
  insnRef?: string;
}

export interface ImageMap {
  base: bigint;
  size: number;
  sections: { name: string; start: number; end: number; exec: boolean }[];
  sites: MapSite[];
  diffs: ByteRange[];
}


/** Instructions are decoded for the differing sites and for at most this many others. */
const MAX_DECODED = 400;

export async function buildImageMap(ctx: RenderContext, relocations: readonly RelocationLogEntry[], diffs: ByteRange[]): Promise<ImageMap> {
  const sites: MapSite[] = [];
  let decoded = 0;
  for (const r of relocations) {
    if (r.imageOffset < 0 || r.width === 0) continue;
    const ts = ctx.tsImage.subarray(r.imageOffset, r.imageOffset + r.width);
    const ref = ctx.refImage.subarray(r.imageOffset, r.imageOffset + r.width);
    const differs = Buffer.compare(ts, ref) !== 0;
    const site: MapSite = { offset: r.imageOffset, width: r.width, type: r.typeName, symbol: r.symbol, addend: r.addend, where: symbolize(ctx, r.imageOffset), ts: bytesHex(ts), ref: bytesHex(ref), differs };
    if ((differs || decoded < MAX_DECODED) && ctx.sections.some((s) => s.exec && r.imageOffset >= s.start && r.imageOffset < s.end)) {
      decoded++;
      const a = await instructionAt(ctx, ctx.tsImage, r.imageOffset);
      const b = differs ? await instructionAt(ctx, ctx.refImage, r.imageOffset) : a;
      if (a) site.insnTs = `${hex(ctx.base + BigInt(a.offset))}  ${a.text}`;
      if (b) site.insnRef = `${hex(ctx.base + BigInt(b.offset))}  ${b.text}`;
    }
    sites.push(site);
  }
  return {
    base: ctx.base,
    size: Math.max(ctx.tsImage.length, ctx.refImage.length),
    sections: ctx.sections.map((s) => ({ name: s.name, start: s.start, end: s.end, exec: s.exec })),
    sites,
    diffs: diffs.map((d) => ({ start: d.start, end: d.end })),
  };
}
