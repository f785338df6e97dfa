// Builds small synthetic ELF64 objects for the corpus tests: enough structure (sections, names,
// one relocation table) for the scanner and ElfFile.validate() to accept or reject on purpose.

export interface SynthSection {
  name: string;
  type: number;
  data: Uint8Array;
  entsize?: number;
  info?: number;
  link?: number;
}

export interface SynthOptions {
  endian?: 'little' | 'big';
  type?: number;
  machine?: number;
  sections?: SynthSection[];
}

/** Encodes RELA entries (offset, type, sym, addend) in the given byte order. */
export function rela(entries: [bigint, number, number, bigint][], endian: 'little' | 'big'): Uint8Array {
  const out = new Uint8Array(entries.length * 24);
  const dv = new DataView(out.buffer);
  const le = endian === 'little';
  entries.forEach(([off, type, sym, add], i) => {
    dv.setBigUint64(i * 24, off, le);
    dv.setBigUint64(i * 24 + 8, (BigInt(sym) << 32n) | BigInt(type), le);
    dv.setBigInt64(i * 24 + 16, add, le);
  });
  return out;
}

/** Layout: ELF header, section contents in order, .shstrtab, then the section header table. */
export function synthElf(o: SynthOptions = {}): Uint8Array {
  const endian = o.endian ?? 'little';
  const le = endian === 'little';
  const secs: SynthSection[] = [
    ...(o.sections ?? [{ name: '.text', type: 1, data: Uint8Array.of(0xc3, 0x90, 0x90, 0x90) }]),
  ];
  const names = ['', ...secs.map((s) => s.name), '.shstrtab'];
  const nameOff: number[] = [];
  let strtab = '';
  for (const n of names) {
    nameOff.push(strtab.length);
    strtab += n + '\0';
  }
  const strBytes = new TextEncoder().encode(strtab);
  const all = [...secs, { name: '.shstrtab', type: 3, data: strBytes }];
  let off = 64;
  const offsets: number[] = [];
  for (const s of all) {
    off = (off + 7) & ~7;
    offsets.push(off);
    off += s.data.length;
  }
  const shoff = (off + 7) & ~7;
  const shnum = all.length + 1;
  const out = new Uint8Array(shoff + shnum * 64);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, le ? 1 : 2, 1], 0);
  dv.setUint16(16, o.type ?? 1, le);
  dv.setUint16(18, o.machine ?? 62, le);
  dv.setUint32(20, 1, le);
  dv.setBigUint64(40, BigInt(shoff), le);
  dv.setUint16(52, 64, le);
  dv.setUint16(58, 64, le);
  dv.setUint16(60, shnum, le);
  dv.setUint16(62, shnum - 1, le);
  all.forEach((s, i) => {
    const o2 = offsets[i]!;
    out.set(s.data, o2);
    const h = shoff + (i + 1) * 64;
    dv.setUint32(h, nameOff[i + 1]!, le);
    dv.setUint32(h + 4, s.type, le);
    dv.setBigUint64(h + 24, BigInt(o2), le);
    dv.setBigUint64(h + 32, BigInt(s.data.length), le);
    dv.setUint32(h + 40, s.link ?? 0, le);
    dv.setUint32(h + 44, s.info ?? 0, le);
    dv.setBigUint64(h + 48, 1n, le);
    dv.setBigUint64(h + 56, BigInt(s.entsize ?? 0), le);
  });
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
