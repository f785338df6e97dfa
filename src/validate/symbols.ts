// Symbol addresses in a loaded image, for attributing symbol writes in reports.
import { ElfFile } from '../elf/reader.ts';
import { SHT_SYMTAB, STB_GLOBAL } from '../elf/constants.ts';
import type { LoadedImage, LoadRequest, Outcome } from '../types.ts';
import type { SymbolRange } from '../compare/compare.ts';

/** A symbol as getAddrSafe() finds it: its section index and st_value. */
interface FoundSymbol {
  shndx: number;
  value: bigint;
}

/**
 * Symbol look-ups in one ELF, parsed once and memoised by name. The bytes must not change while
 * the finder is in use (validate's corpus files are read once and never written).
 */
export class SymbolFinder {
  /** First occurrences by name, of the symbols read before the scan ended (see find()). */
  private names: Map<string, FoundSymbol> | undefined;

  constructor(readonly bytes: Uint8Array) {}

  /**
   * The first STB_GLOBAL symbol with a name, over the SHT_SYMTAB sections in index order, whose
   * name is `name`; undefined when there is none, or when the file, a symbol table or a name read
   * before the match is unreadable. One scan serves every name: it records each name's first
   * symbol and stops at the first unreadable table or name, past which no search gets.
   */
  find(name: string): FoundSymbol | undefined {
    this.names ??= this.scan();
    return this.names.get(name);
  }

  private scan(): Map<string, FoundSymbol> {
    const names = new Map<string, FoundSymbol>();
    try {
      const elf = new ElfFile(this.bytes);
      for (const s of elf.sections) {
        if (s.type !== SHT_SYMTAB) continue;
        for (const sym of elf.symbols(s.index)) {
          if (sym.bind !== STB_GLOBAL || !sym.name) continue;
          const name = elf.stringAt(s.link, sym.name);
          if (!names.has(name)) names.set(name, { shndx: sym.shndx, value: sym.value });
        }
      }
    } catch {
      // unreadable from here on: names not yet seen are not found
    }
    return names;
  }

  /** Address of the symbol in the loaded image (section address + st_value), or undefined. */
  addrIn(img: LoadedImage, name: string): bigint | undefined {
    const sym = this.find(name);
    if (!sym) return undefined;
    const sec = img.sections[sym.shndx];
    return sec ? sec.addr + sym.value : undefined;
  }
}

/** Address of a global symbol in the loaded image (section address + st_value), or undefined. */
export function getAddrSafe(elfBytes: Uint8Array, img: LoadedImage, name: string): bigint | undefined {
  return new SymbolFinder(elfBytes).addrIn(img, name);
}

/**
 * Where each symbol write of the request landed in the TS image (image offsets). `finder` must be
 * over req.elf; pass a long-lived one to parse each file once (validate does).
 */
export function symbolRangesOf(req: LoadRequest, ts: Outcome, finder?: SymbolFinder): SymbolRange[] {
  if (ts.kind !== 'ok') return [];
  const out: SymbolRange[] = [];
  if (!req.symbols.length) return out;
  if (finder && finder.bytes !== req.elf) throw new Error('symbolRangesOf: the finder is over another file (internal)');
  const f = finder ?? new SymbolFinder(req.elf);
  for (const s of req.symbols) {
    const addr = f.addrIn(ts.image, s.name);
    if (addr === undefined) continue;
    const start = Number(addr - ts.image.base);
    out.push({ name: s.name, start, end: start + s.bytes.length });
  }
  return out;
}
