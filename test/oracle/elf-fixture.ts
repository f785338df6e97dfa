// Test fixtures for the live oracles: build small purgatory-like objects with the real (cross)
// compilers, and a minimal ELF64 reader/patcher to locate and corrupt relocations. Test-only code.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Arch } from '../../src/types.ts';

/** A C file with a function, a global pointer to another symbol, a call and a settable array. */
export const PURGATORY_C = `
unsigned long counter = 5;
unsigned long *ptr = &counter;
unsigned char sha256_digest[32] = { 1 };
unsigned long bss_word;
static int helper(int x) { return x * 3; }
int __attribute__((noinline)) other(int x) { return x + 1 + (int)bss_word; }
void purgatory(void) { counter = helper((int)counter) + other(2) + sha256_digest[0]; }
`;

export const COMPILERS: Record<Arch, { cc: string; flags: string[] }> = {
  x86_64: { cc: 'gcc', flags: ['-O2', '-fno-PIE', '-fno-stack-protector', '-fno-asynchronous-unwind-tables'] },
  // -mcmodel=small: data addresses through .toc entries, as kexec-tools' purgatory has a .toc
  ppc64: { cc: 'powerpc64-linux-gnu-gcc', flags: ['-O2', '-mcmodel=small', '-msoft-float', '-fno-exceptions', '-fno-asynchronous-unwind-tables'] },
  ppc64le: { cc: 'powerpc64le-linux-gnu-gcc', flags: ['-O2', '-mcmodel=small', '-msoft-float', '-fno-exceptions', '-fno-asynchronous-unwind-tables'] },
  // kexec-tools' own purgatory flags for these (purgatory/arch/*/Makefile): small code model, no FP/vector registers
  arm64: { cc: 'aarch64-linux-gnu-gcc', flags: ['-O2', '-fno-PIE', '-mcmodel=large', '-mgeneral-regs-only', '-fno-stack-protector', '-fno-asynchronous-unwind-tables'] },
  s390x: { cc: 's390x-linux-gnu-gcc', flags: ['-O2', '-fno-PIE', '-fno-stack-protector', '-fno-asynchronous-unwind-tables'] },
  riscv64: { cc: 'riscv64-linux-gnu-gcc', flags: ['-O2', '-fno-PIE', '-mcmodel=medany', '-fno-stack-protector', '-fno-asynchronous-unwind-tables'] },
};

export function haveCompiler(arch: Arch): boolean {
  try {
    execFileSync(COMPILERS[arch].cc, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Compile `source` for `arch` with -c; returns the object's bytes. */
export function compileObject(arch: Arch, source = PURGATORY_C): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'po-fixture-'));
  const c = join(dir, 'p.c');
  const o = join(dir, 'p.o');
  writeFileSync(c, source);
  execFileSync(COMPILERS[arch].cc, [...COMPILERS[arch].flags, '-c', c, '-o', o], { stdio: 'pipe' });
  return new Uint8Array(readFileSync(o));
}

export interface Section {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
  headerOffset: number;
}
export interface Sym {
  index: number;
  name: string;
  value: bigint;
  size: bigint;
  shndx: number;
  info: number;
  other: number;
}
export interface Rela {
  section: Section;
  index: number;
  /** Byte offset of this entry in the file. */
  at: number;
  offset: bigint;
  sym: number;
  type: number;
  addend: bigint;
}

/** A minimal, trusting ELF64 reader for objects we compiled ourselves. */
export class Elf64 {
  readonly le: boolean;
  readonly v: DataView;
  readonly sections: Section[] = [];
  constructor(readonly bytes: Uint8Array) {
    this.v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.le = bytes[5] === 1;
    const shoff = Number(this.u64(0x28));
    const shentsize = this.u16(0x3a);
    const shnum = this.u16(0x3c);
    const shstrndx = this.u16(0x3e);
    for (let i = 0; i < shnum; i++) {
      const h = shoff + i * shentsize;
      this.sections.push({
        index: i, name: '', type: this.u32(h + 4), flags: this.u64(h + 8), offset: Number(this.u64(h + 0x18)),
        size: Number(this.u64(h + 0x20)), link: this.u32(h + 0x28), info: this.u32(h + 0x2c), entsize: Number(this.u64(h + 0x38)), headerOffset: h,
      });
    }
    const strs = this.sections[shstrndx]!;
    for (const s of this.sections) s.name = this.cstr(strs.offset + this.u32(s.headerOffset));
  }
  u16(o: number): number { return this.v.getUint16(o, this.le); }
  u32(o: number): number { return this.v.getUint32(o, this.le); }
  u64(o: number): bigint { return this.v.getBigUint64(o, this.le); }
  setU32(o: number, x: number): void { this.v.setUint32(o, x, this.le); }
  setU64(o: number, x: bigint): void { this.v.setBigUint64(o, x, this.le); }
  cstr(o: number): string {
    let e = o;
    while (this.bytes[e] !== 0) e++;
    return new TextDecoder().decode(this.bytes.subarray(o, e));
  }
  section(name: string): Section {
    const s = this.sections.find((x) => x.name === name);
    if (!s) throw new Error(`no section ${name}`);
    return s;
  }
  symbols(): Sym[] {
    const tab = this.sections.find((s) => s.type === 2)!;
    const strs = this.sections[tab.link]!;
    const out: Sym[] = [];
    for (let i = 0; i * 24 < tab.size; i++) {
      const o = tab.offset + i * 24;
      out.push({ index: i, name: this.cstr(strs.offset + this.u32(o)), info: this.bytes[o + 4]!, other: this.bytes[o + 5]!, shndx: this.u16(o + 6), value: this.u64(o + 8), size: this.u64(o + 16) });
    }
    return out;
  }
  relas(): Rela[] {
    const out: Rela[] = [];
    for (const s of this.sections) {
      if (s.type !== 4) continue;
      for (let i = 0; i * 24 < s.size; i++) {
        const at = s.offset + i * 24;
        const info = this.u64(at + 8);
        out.push({ section: s, index: i, at, offset: this.u64(at), sym: Number(info >> 32n), type: Number(info & 0xffffffffn), addend: BigInt.asIntN(64, this.u64(at + 16)) });
      }
    }
    return out;
  }
  /** The relocations that apply to the SHF_ALLOC section `name`. */
  relasFor(name: string): Rela[] {
    const target = this.section(name).index;
    return this.relas().filter((r) => r.section.info === target);
  }
  setRelaInfo(r: Rela, sym: number, type: number): void {
    this.setU64(r.at + 8, (BigInt(sym) << 32n) | BigInt(type));
  }
  setRelaOffset(r: Rela, offset: bigint): void {
    this.setU64(r.at, offset);
  }
}

/** A patched copy. */
export function patched(bytes: Uint8Array, f: (e: Elf64) => void): Uint8Array {
  const copy = bytes.slice();
  f(new Elf64(copy));
  return copy;
}
