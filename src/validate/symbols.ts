// Symbol addresses in a loaded image, for attributing symbol writes in reports.
import { ElfFile } from '../elf/reader.ts';
import { SHT_SYMTAB, STB_GLOBAL } from '../elf/constants.ts';
import type { LoadedImage, LoadRequest, Outcome } from '../types.ts';
import type { SymbolRange } from '../compare/compare.ts';

/** Address of a global symbol in the loaded image (section address + st_value), or undefined. */
export function getAddrSafe(elfBytes: Uint8Array, img: LoadedImage, name: string): bigint | undefined {
  try {
    const elf = new ElfFile(elfBytes);
    for (const s of elf.sections) {
      if (s.type !== SHT_SYMTAB) continue;
      for (const sym of elf.symbols(s.index)) {
        if (sym.bind !== STB_GLOBAL || !sym.name) continue;
        if (elf.stringAt(s.link, sym.name) !== name) continue;
        const sec = img.sections[sym.shndx];
        return sec ? sec.addr + sym.value : undefined;
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Where each symbol write of the request landed in the TS image (image offsets). */
export function symbolRangesOf(req: LoadRequest, ts: Outcome): SymbolRange[] {
  if (ts.kind !== 'ok') return [];
  const out: SymbolRange[] = [];
  for (const s of req.symbols) {
    const addr = getAddrSafe(req.elf, ts.image, s.name);
    if (addr === undefined) continue;
    const start = Number(addr - ts.image.base);
    out.push({ name: s.name, start, end: start + s.bytes.length });
  }
  return out;
}
