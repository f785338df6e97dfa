// Shared test helpers: build an object, load it through the engine's front door, and look at
// the result. Expected bytes in the tests are worked out by hand; the encoders here only place
// an already-known integer into bytes (shifts, no ByteView), so they cannot hide an engine bug.
import { expect } from 'vitest';
import { load, type EngineOptions } from '../src/engine.ts';
import { buildObject, type ObjectSpec, type ObjRelocation, type ObjSymbol } from '../src/elf/writer.ts';
import { EM_X86_64, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, SHT_NOBITS, STB_LOCAL, STB_WEAK, STT_FUNC, STT_OBJECT } from '../src/elf/constants.ts';
import { ElfFile } from '../src/elf/reader.ts';
import type { Endian, LoadedImage, Outcome, SymbolProbe, SymbolWrite } from '../src/types.ts';

export interface LoadOpts extends EngineOptions {
  base?: bigint;
  fill?: number;
  symbols?: SymbolWrite[];
  probes?: SymbolProbe[];
}

export function loadBytes(elf: Uint8Array, o: LoadOpts = {}): Outcome {
  const { base = 0x100000n, fill = 0, symbols = [], probes, ...engine } = o;
  return load(probes ? { elf, base, fill, symbols, probes } : { elf, base, fill, symbols }, engine);
}

export function loadObject(spec: ObjectSpec, o: LoadOpts = {}): Outcome {
  return loadBytes(buildObject(spec), o);
}

/** The image of an ok outcome; fails the test with the rejection otherwise. */
export function okImage(o: Outcome): LoadedImage {
  if (o.kind !== 'ok') expect.fail(`expected ok, got ${JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}`);
  return o.image;
}

export function rejection(o: Outcome): { code: string; message: string } {
  if (o.kind !== 'rejected') expect.fail(`expected a rejection, got ${o.kind}`);
  return { code: o.code, message: o.message };
}

/** Bytes of the image for a section, by name. */
export function sectionBytes(img: LoadedImage, name: string): Uint8Array {
  const s = img.sections.find((x) => x.name === name);
  if (!s) expect.fail(`no section ${name}`);
  const off = Number(s.addr - img.base);
  return img.bytes.slice(off, off + Number(s.size));
}

export function sectionAddr(img: LoadedImage, name: string): bigint {
  const s = img.sections.find((x) => x.name === name);
  if (!s) expect.fail(`no section ${name}`);
  return s.addr;
}

/** Encode `v` in `width` bytes with shifts (test-side encoder, independent of ByteView). */
export function enc(width: number, v: bigint, endian: Endian): number[] {
  const out: number[] = [];
  for (let i = 0; i < width; i++) out.push(Number((BigInt.asUintN(64, v) >> BigInt(8 * i)) & 0xffn));
  return endian === 'little' ? out : out.reverse();
}
export const le = (width: number, v: bigint) => enc(width, v, 'little');
export const be = (width: number, v: bigint) => enc(width, v, 'big');

export function bytesOf(...parts: (number | number[])[]): Uint8Array {
  return Uint8Array.from(parts.flat());
}

export function zeros(n: number): Uint8Array {
  return new Uint8Array(n);
}

/** Patch a field of section header `index` of a built ELF, in the file's byte order. */
export type ShdrField = 'name' | 'type' | 'flags' | 'addr' | 'offset' | 'size' | 'link' | 'info' | 'addralign' | 'entsize';
export function patchShdr(elf: Uint8Array, index: number, field: ShdrField, value: bigint | number): Uint8Array {
  const f = new ElfFile(elf);
  const h = f.sections[index];
  if (!h) throw new Error(`patchShdr: no section ${index}`);
  const out = elf.slice();
  const dv = new DataView(out.buffer);
  const little = f.endian === 'little';
  const is64 = f.header.is64;
  const layout64: Record<ShdrField, [number, number]> = {
    name: [0, 4], type: [4, 4], flags: [8, 8], addr: [16, 8], offset: [24, 8], size: [32, 8],
    link: [40, 4], info: [44, 4], addralign: [48, 8], entsize: [56, 8],
  };
  const layout32: Record<ShdrField, [number, number]> = {
    name: [0, 4], type: [4, 4], flags: [8, 4], addr: [12, 4], offset: [16, 4], size: [20, 4],
    link: [24, 4], info: [28, 4], addralign: [32, 4], entsize: [36, 4],
  };
  const [o, w] = (is64 ? layout64 : layout32)[field];
  const at = h.hdrOffset + o;
  if (w === 8) dv.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), little);
  else dv.setUint32(at, Number(BigInt.asUintN(32, BigInt(value))), little);
  return out;
}

/** Index of the section called `name` in a built ELF. */
export function sectionIndex(elf: Uint8Array, name: string): number {
  const f = new ElfFile(elf);
  const i = f.sections.findIndex((_s, k) => f.sectionName(k) === name);
  if (i < 0) throw new Error(`no section ${name}`);
  return i;
}

/** A small deterministic PRNG (xorshift32) for the mutation tests. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

// The standard x86_64 object:
//   .text  AX  size 0x20 align 16  (0xcc)        → 0x100000
//   .data  WA  size 0x10 align 8   (0x11)        → 0x100020
//   .bss   NOBITS size 0x40 align 32             → bufsz 0x30, bss_pad 0x10 → 0x100040
// Symbols: fn (.text+0, FUNC), var (.data+8, size 8, GLOBAL), lvar (LOCAL), wvar (WEAK),
// bssvar (.bss+0, size 8), absv (SHN_ABS 0x1234, size 8).
const AX = SHF_ALLOC | SHF_EXECINSTR;
const WA = SHF_ALLOC | SHF_WRITE;

export function std(relocations: ObjRelocation[] = [], extra: Partial<ObjectSpec> = {}, moreSymbols: ObjSymbol[] = []): ObjectSpec {
  return {
    endian: 'little', machine: EM_X86_64,
    sections: [
      { name: '.text', flags: AX, data: new Uint8Array(0x20).fill(0xcc), addralign: 16n },
      { name: '.data', flags: WA, data: new Uint8Array(0x10).fill(0x11), addralign: 8n },
      { name: '.bss', type: SHT_NOBITS, flags: WA, size: 0x40n, addralign: 32n },
    ],
    symbols: [
      { name: 'fn', section: '.text', value: 0n, type: STT_FUNC, size: 0x20n },
      { name: 'var', section: '.data', value: 8n, type: STT_OBJECT, size: 8n },
      { name: 'lvar', section: '.data', value: 0n, type: STT_OBJECT, size: 8n, bind: STB_LOCAL },
      { name: 'wvar', section: '.data', value: 0n, type: STT_OBJECT, size: 8n, bind: STB_WEAK },
      { name: 'bssvar', section: '.bss', value: 0n, type: STT_OBJECT, size: 8n },
      { name: 'absv', section: SHN_ABS, value: 0x1234n, size: 8n },
      ...moreSymbols,
    ],
    relocations, ...extra,
  };
}
