// Canonical serialization of a loaded image: the buffer as .bin, everything else as a manifest
// in JSON (addresses as 0x-hex strings, so they survive JSON without precision loss).
import { createHash } from 'node:crypto';
import { hex } from './bytes.ts';
import type { LoadedImage, Outcome } from './types.ts';

export interface ImageManifest {
  format: 'purgatory-oracle/image@1';
  base: string;
  bufsz: number;
  memsz: string;
  entry: string;
  sha256: string;
  sections: { index: number; name: string; addr: string; size: string; alloc: boolean; nobits: boolean }[];
  relocations: {
    relSection: number; relIndex: number; section: number; offset: string; address: string; type: string;
    symbol: string; addend: string; value: string; imageOffset: number; width: number; bytes: string;
  }[];
  hostAddress?: string;
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const hexBytes = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export function imageManifest(img: LoadedImage, hostAddress?: bigint): ImageManifest {
  return {
    format: 'purgatory-oracle/image@1',
    base: hex(img.base),
    bufsz: img.bytes.length,
    memsz: hex(img.memsz),
    entry: hex(img.entry),
    sha256: sha256(img.bytes),
    sections: img.sections.map((s) => ({ index: s.index, name: s.name, addr: hex(s.addr), size: hex(s.size), alloc: s.alloc, nobits: s.nobits })),
    relocations: img.relocations.map((r) => ({
      relSection: r.relSection, relIndex: r.relIndex, section: r.section, offset: hex(r.offset), address: hex(r.address),
      type: r.typeName, symbol: r.symbol, addend: (r.addend < 0n ? '-' : '') + hex(r.addend < 0n ? -r.addend : r.addend),
      value: hex(r.value), imageOffset: r.imageOffset, width: r.width, bytes: hexBytes(r.bytes),
    })),
    ...(hostAddress !== undefined ? { hostAddress: hex(hostAddress) } : {}),
  };
}

/** JSON for any outcome (bigints as hex). */
export function outcomeJson(o: Outcome): unknown {
  switch (o.kind) {
    case 'ok':
      return { kind: 'ok', image: imageManifest(o.image, o.hostAddress) };
    case 'rejected':
      return { kind: 'rejected', code: o.code, message: o.message, where: o.where ? jsonSafe(o.where) : undefined };
    default:
      return o;
  }
}

export function jsonSafe(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? hex(x) : x)));
}
