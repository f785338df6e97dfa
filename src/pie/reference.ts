// The linker as the reference for the PIE loader. The objects a PIE purgatory was linked from are
// linked again *at the chosen base*, and the bytes the TS PIE loader produces (the PIE linked at 0,
// loaded at B) are compared with what the linker produced itself:
// - 'pie-at-base': the same `-pie` link with the image based at B (GNU ld: -Ttext-segment=B;
//   lld: --image-base=B --apply-dynamic-relocs). The load bias of that output is 0, so applying its
//   dynamic relocations is writing values the linker computed: lld writes them all
//   (--apply-dynamic-relocs); GNU ld leaves symbolic text-relocation fields at 0, so those are
//   placed here from the linker's own numbers (r_addend, .dynsym st_value), by a writer that shares
//   no code with the loader.
// - 'static-at-layout': a non-PIE static link with every allocated section placed at B + its
//   address in the PIE (--section-start), so the linker resolves every field itself, text
//   relocations included.
// Bytes that legitimately differ (dynamic-linking metadata holding link-time addresses, and the
// linker's code rewriting in a non-PIC link) are excluded by name, from corpus/known-divergences.json.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hex } from '../bytes.ts';
import { ElfFile } from '../elf/reader.ts';
import { PT_LOAD, SHF_ALLOC, SHT_DYNSYM, SHT_NOBITS } from '../elf/constants.ts';
import { isPurgatoryOracleError } from '../errors.ts';
import { makeProfile } from '../load/profile.ts';
import { archModuleOf, loadPie } from '../load/pie.ts';
import type { Arch } from '../types.ts';

export type LinkerId = 'bfd' | 'lld';
export type ReferenceKind = 'pie-at-base' | 'static-at-layout';

export const TRIPLETS: Record<Arch, string> = {
  x86_64: 'x86_64-linux-gnu',
  ppc64: 'powerpc64-linux-gnu',
  ppc64le: 'powerpc64le-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  s390x: 's390x-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
};

export function linkerCommand(linker: LinkerId, target: Arch): string {
  return linker === 'bfd' ? `${TRIPLETS[target]}-ld` : 'ld.lld';
}

/** `<tool> --version` runs: the toolchain is present. */
export function toolAvailable(cmd: string): boolean {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

export interface LinkResult {
  ok: boolean;
  command: string;
  args: string[];
  bytes?: Uint8Array;
  stderr: string;
}

function runLinker(cmd: string, args: string[], cwd: string): LinkResult {
  const dir = mkdtempSync(join(tmpdir(), 'pie-ref-'));
  const out = join(dir, 'out.elf');
  try {
    const full = [...args, '-o', out];
    const r = spawnSync(cmd, full, { cwd, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    const stderr = (r.stderr ?? '') + (r.error ? String(r.error) : '');
    if (r.status !== 0) return { ok: false, command: cmd, args: full, stderr };
    const size = statSync(out).size;
    if (size > 1 << 28) return { ok: false, command: cmd, args: full, stderr: `${stderr}\noutput of ${size} bytes: the layout is not what was asked for` };
    return { ok: true, command: cmd, args: full, bytes: new Uint8Array(readFileSync(out)), stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The corpus helper's PIE link (scripts/corpus/build-from-source.ts), at a base when one is given. */
export function linkPie(linker: LinkerId, target: Arch, objs: string[], cwd: string, base?: bigint): LinkResult {
  const args = ['-pie', '--no-dynamic-linker', '-e', 'purgatory_start'];
  if (linker === 'lld') args.push('-z', 'notext');
  if (base !== undefined) {
    if (linker === 'bfd') args.push(`-Ttext-segment=${hex(base)}`);
    else args.push(`--image-base=${hex(base)}`, '--apply-dynamic-relocs');
  }
  return runLinker(linkerCommand(linker, target), [...args, ...objs], cwd);
}

/** A non-PIE static link with the given sections placed at the given addresses. */
export function linkStaticAt(linker: LinkerId, target: Arch, objs: string[], cwd: string, base: bigint, sections: { name: string; addr: bigint }[]): LinkResult {
  // The headers' segment starts at B too, so the file does not span from the default base up to B.
  const args = ['-static', '-no-pie', '-e', 'purgatory_start', linker === 'bfd' ? `-Ttext-segment=${hex(base)}` : `--image-base=${hex(base)}`,
    ...sections.map((s) => `--section-start=${s.name}=${hex(s.addr)}`)];
  return runLinker(linkerCommand(linker, target), [...args, ...objs], cwd);
}

// ---------------------------------------------------------------------------------------------
// Reference images: bytes by link-time offset from B, with a mask of the bytes the reference defines.

export interface SparseImage {
  /** Address of bytes[0]. */
  start: bigint;
  bytes: Uint8Array;
  /** 1 where the reference defines the byte. */
  known: Uint8Array;
}

function sparse(start: bigint, size: number): SparseImage {
  return { start, bytes: new Uint8Array(size), known: new Uint8Array(size) };
}

export interface AppliedDynamic {
  relative: number;
  symbolic: number;
  /** Sites whose field already held the value before it was written (GNU ld writes RELATIVE addends in place). */
  alreadyHeld: number;
  unknown: string[];
}

/**
 * The loaded image of a PIE the linker based at `start` (load bias 0): its PT_LOAD bytes, zero to
 * p_memsz, with the dynamic relocations applied from the linker's own numbers.
 */
export function imageFromPieAtBase(bytes: Uint8Array, start: bigint, size: number): { image: SparseImage; applied: AppliedDynamic } {
  const elf = new ElfFile(bytes);
  const img = sparse(start, size);
  for (const p of elf.programHeaders) {
    if (p.type !== PT_LOAD) continue;
    const at = Number(p.vaddr - start);
    img.bytes.set(bytes.subarray(Number(p.offset), Number(p.offset + p.filesz)), at);
    img.known.fill(1, at, at + Number(p.memsz));
  }
  const applied: AppliedDynamic = { relative: 0, symbolic: 0, alreadyHeld: 0, unknown: [] };
  const arch = archModuleOf(elf.header.machine === 62 ? 'x86_64' : 'ppc64');
  const little = elf.endian === 'little';
  const dv = new DataView(img.bytes.buffer);
  const dynsym = elf.sections.find((s) => s.type === SHT_DYNSYM);
  const syms = dynsym ? elf.symbols(dynsym.index) : [];
  for (const s of elf.sections) {
    if (s.type !== 4 || !(s.flags & SHF_ALLOC)) continue; // SHT_RELA in the image: .rela.dyn
    for (const r of elf.relocations(s.index)) {
      const name = arch.typeName(r.type).replace(/^R_(X86_64|PPC64)_/, '');
      const off = Number(r.offset - start);
      let v: bigint;
      if (name === 'RELATIVE') {
        v = r.addend; // B + A with B = 0: the linker already added the base
        applied.relative++;
      } else {
        const sym = syms[r.sym];
        if (!sym || sym.shndx === 0) {
          applied.unknown.push(`${arch.typeName(r.type)} against undefined symbol ${r.sym}`);
          continue;
        }
        v = BigInt.asUintN(64, sym.value + r.addend);
        applied.symbolic++;
      }
      // An independent field writer (the loader's are in src/arch): the psABI field formulas.
      const u64 = BigInt.asUintN(64, v);
      const half = (x: bigint) => Number(x & 0xffffn);
      let before: bigint;
      switch (name) {
        case 'RELATIVE': case '64': case 'ADDR64': case 'UADDR64': case 'GLOB_DAT':
          before = dv.getBigUint64(off, little);
          dv.setBigUint64(off, u64, little);
          if (before === u64) applied.alreadyHeld++;
          break;
        case 'ADDR16_LO': case 'ADDR16_HI': case 'ADDR16_HA': case 'ADDR16_HIGHER': case 'ADDR16_HIGHEST': {
          const field = name === 'ADDR16_LO' ? half(u64) : name === 'ADDR16_HI' ? half(u64 >> 16n) : name === 'ADDR16_HA' ? half((u64 + 0x8000n) >> 16n)
            : name === 'ADDR16_HIGHER' ? half(u64 >> 32n) : half(u64 >> 48n);
          before = BigInt(dv.getUint16(off, little));
          dv.setUint16(off, field, little);
          if (before === BigInt(field)) applied.alreadyHeld++;
          break;
        }
        default:
          applied.unknown.push(arch.typeName(r.type));
      }
    }
  }
  return { image: img, applied };
}

/** The section contents of a static link (bytes by address), inside [start, start + size). */
export function imageFromSections(bytes: Uint8Array, start: bigint, size: number): SparseImage {
  const elf = new ElfFile(bytes);
  const img = sparse(start, size);
  for (const s of elf.sections) {
    if (!(s.flags & SHF_ALLOC) || s.size === 0n) continue;
    const at = Number(s.addr - start);
    if (at < 0 || at + Number(s.size) > size) continue;
    if (s.type !== SHT_NOBITS) img.bytes.set(elf.sectionData(s.index), at);
    img.known.fill(1, at, at + Number(s.size));
  }
  return img;
}

// ---------------------------------------------------------------------------------------------
// Comparison.

/** Names for every byte of a PIE's loaded span (ELF header, program headers, sections, gaps), with the region's start. */
export function regionNamer(pie0: Uint8Array): (off: number) => { name: string; start: number } {
  const elf = new ElfFile(pie0);
  const h = elf.header;
  const first = elf.programHeaders.find((p) => p.type === PT_LOAD && p.offset === 0n);
  const secs = elf.sections.filter((s) => (s.flags & SHF_ALLOC) !== 0n && s.size > 0n).map((s) => ({ name: elf.sectionName(s.index), lo: Number(s.addr), hi: Number(s.addr + s.size) }));
  const ehLo = first ? Number(first.vaddr) : -1;
  const phLo = first ? Number(first.vaddr + h.phoff) : -1;
  return (off) => {
    if (first && off >= ehLo && off < ehLo + h.ehsize) return { name: 'ELF header', start: ehLo };
    if (first && off >= phLo && off < phLo + h.phnum * h.phentsize) return { name: 'program headers', start: phLo };
    const s = secs.find((x) => off >= x.lo && off < x.hi);
    return s ? { name: s.name, start: s.lo } : { name: 'gap', start: off };
  };
}

/**
 * An exclusion from the byte comparison. Either named regions (optionally only some byte ranges of
 * them: [offset in region, length, stride]), or a rule that checks the bytes mean the same thing.
 */
export interface Exclusion {
  id: string;
  regions?: string[];
  ranges?: Record<string, [number, number, number?][]>;
  /**
   * 'elfv2-global-entry': the PIE's `addis r2,r12,hi; addi r2,r2,lo` against the static link's
   * `lis r2,hi'; addi r2,r2,lo'`, excluded only when both compute the same r2 at that address.
   */
  rule?: 'elfv2-global-entry';
}

export interface RegionDiff {
  region: string;
  /** Link-time offset of the first differing byte. */
  first: bigint;
  bytes: number;
  excludedBy?: string;
}

export type ComparisonClass = 'match' | 'match-with-exclusions' | 'mismatch' | 'both-rejected' | 'ts-rejected' | 'reference-failed';

export interface ReferenceComparison {
  target: Arch;
  linker: LinkerId;
  kind: ReferenceKind;
  base: bigint;
  cls: ComparisonClass;
  /** Bytes both sides define. */
  compared: number;
  differing: number;
  excluded: number;
  regions: RegionDiff[];
  /** Per exclusion id: the bytes it covered. */
  exclusions: Record<string, number>;
  note?: string;
  applied?: AppliedDynamic;
}

const sext16 = (x: number) => BigInt((x << 16) >> 16);

/** Byte offsets covered by the 'elfv2-global-entry' rule: both pairs compute the same r2. */
function globalEntryPairs(tsBytes: Uint8Array, ref: SparseImage, base: bigint, little: boolean, isText: (off: number) => boolean): Set<number> {
  const covered = new Set<number>();
  const a = new DataView(tsBytes.buffer, tsBytes.byteOffset, tsBytes.byteLength);
  const b = new DataView(ref.bytes.buffer, ref.bytes.byteOffset, ref.bytes.byteLength);
  const n = Math.min(tsBytes.length, ref.bytes.length) - 8;
  for (let i = 0; i <= n; i += 4) {
    if (!isText(i) || !ref.known[i] || !ref.known[i + 7]) continue;
    const w0 = a.getUint32(i, little), w1 = a.getUint32(i + 4, little);
    const r0 = b.getUint32(i, little), r1 = b.getUint32(i + 4, little);
    const addisR2R12 = (w0 & 0xffff0000) >>> 0 === 0x3c4c0000;
    const lisR2 = (r0 & 0xffff0000) >>> 0 === 0x3c400000;
    const addi = (w: number) => (w & 0xffff0000) >>> 0 === 0x38420000;
    if (!addisR2R12 || !lisR2 || !addi(w1) || !addi(r1)) continue;
    const p = base + BigInt(i); // r12 holds the global entry address
    const tsR2 = BigInt.asUintN(64, p + (sext16(w0 & 0xffff) << 16n) + sext16(w1 & 0xffff));
    const refR2 = BigInt.asUintN(64, (sext16(r0 & 0xffff) << 16n) + sext16(r1 & 0xffff));
    if (tsR2 === refR2) for (let k = 0; k < 8; k++) covered.add(i + k);
  }
  return covered;
}

/** Byte comparison of the TS PIE loader's image of `pie0` at `base` with a reference image. */
export function compareImages(pie0: Uint8Array, tsBytes: Uint8Array, ref: SparseImage, exclusions: Exclusion[], base = ref.start): Omit<ReferenceComparison, 'target' | 'linker' | 'kind' | 'base' | 'cls'> {
  const name = regionNamer(pie0);
  const elf = new ElfFile(pie0);
  const loaded = new Uint8Array(tsBytes.length);
  for (const p of elf.programHeaders) if (p.type === PT_LOAD) loaded.fill(1, Number(p.vaddr), Number(p.vaddr + p.memsz));
  const execSecs = elf.sections.filter((s) => (s.flags & SHF_ALLOC) !== 0n && (s.flags & 4n) !== 0n).map((s) => [Number(s.addr), Number(s.addr + s.size)] as const);
  const ruled = new Map<string, Set<number>>();
  for (const x of exclusions) {
    if (x.rule === 'elfv2-global-entry') ruled.set(x.id, globalEntryPairs(tsBytes, ref, base, elf.endian === 'little', (o) => execSecs.some(([lo, hi]) => o >= lo && o + 8 <= hi)));
  }
  const excludedBy = (region: { name: string; start: number }, off: number): string | undefined => {
    for (const x of exclusions) {
      if (x.rule) {
        if (ruled.get(x.id)?.has(off)) return x.id;
        continue;
      }
      if (!x.regions?.includes(region.name)) continue;
      const rs = x.ranges?.[region.name];
      if (!rs) return x.id;
      const rel = off - region.start;
      if (rs.some(([o, l, stride]) => (stride ? (rel - o) % stride >= 0 && (rel - o) % stride < l && rel >= o : rel >= o && rel < o + l))) return x.id;
    }
    return undefined;
  };
  const regions = new Map<string, RegionDiff>();
  const counts: Record<string, number> = {};
  let compared = 0, differing = 0, excluded = 0;
  const n = Math.min(tsBytes.length, ref.bytes.length);
  for (let i = 0; i < n; i++) {
    if (!loaded[i] || !ref.known[i]) continue;
    compared++;
    if (tsBytes[i] === ref.bytes[i]) continue;
    const region = name(i);
    const ex = excludedBy(region, i);
    const key = `${region.name}\u0000${ex ?? ''}`;
    let d = regions.get(key);
    if (!d) regions.set(key, (d = { region: region.name, first: BigInt(i), bytes: 0, ...(ex ? { excludedBy: ex } : {}) }));
    d.bytes++;
    if (ex) {
      excluded++;
      counts[ex] = (counts[ex] ?? 0) + 1;
    } else differing++;
  }
  return { compared, differing, excluded, regions: [...regions.values()], exclusions: counts };
}

export interface ReferenceCase {
  target: Arch;
  linker: LinkerId;
  kind: ReferenceKind;
  base: bigint;
  /** The PIE linked at 0 by this linker (what the TS loader loads). */
  pie0: Uint8Array;
  /** The reference link (undefined with `linkError` when the linker refused). */
  ref?: Uint8Array;
  linkError?: string;
}

/** Run the TS PIE loader on the case and compare it with the linker's image. */
export function judge(c: ReferenceCase, exclusions: Exclusion[]): ReferenceComparison {
  const head = { target: c.target, linker: c.linker, kind: c.kind, base: c.base };
  const ts = tryLoad(c.pie0, c.base, c.target);
  if (!c.ref) {
    const cls: ComparisonClass = 'error' in ts ? 'both-rejected' : 'reference-failed';
    return { ...head, cls, compared: 0, differing: 0, excluded: 0, regions: [], exclusions: {}, note: `${'error' in ts ? `TS: ${ts.error}; ` : ''}linker: ${firstLine(c.linkError ?? '')}` };
  }
  const size = 'bytes' in ts ? ts.bytes.length : spanOf(c.pie0);
  const { image, applied } = c.kind === 'pie-at-base' ? imageFromPieAtBase(c.ref, c.base, size) : { image: imageFromSections(c.ref, c.base, size), applied: undefined };
  if ('error' in ts) {
    return { ...head, cls: 'ts-rejected', compared: 0, differing: 0, excluded: 0, regions: [], exclusions: {}, note: `TS: ${ts.error}; the linker produced an image`, applied };
  }
  const r = compareImages(c.pie0, ts.bytes, image, exclusions, c.base);
  const cls: ComparisonClass = r.differing > 0 ? 'mismatch' : r.excluded > 0 ? 'match-with-exclusions' : 'match';
  return { ...head, cls, ...r, applied };
}

function firstLine(s: string): string {
  return s.split('\n').find((l) => /error|truncated|not supported|cannot/i.test(l))?.trim() ?? s.split('\n')[0]!.trim();
}

function spanOf(pie0: Uint8Array): number {
  const elf = new ElfFile(pie0);
  let hi = 0n;
  for (const p of elf.programHeaders) if (p.type === PT_LOAD && p.vaddr + p.memsz > hi) hi = p.vaddr + p.memsz;
  return Number(hi);
}

function tryLoad(pie0: Uint8Array, base: bigint, target: Arch): { bytes: Uint8Array } | { error: string } {
  try {
    const { image, state } = loadPie(pie0, base, makeProfile('pie', target), { log: false });
    if (state.layout.bias !== base) return { error: `base ${hex(base)} is not aligned to the PIE's p_align (bias ${hex(state.layout.bias)})` };
    return { bytes: image.bytes };
  } catch (e) {
    if (!isPurgatoryOracleError(e)) throw e;
    return { error: e.message };
  }
}

/** The allocated sections of a PIE that a static link can place (not the dynamic-linking ones). */
export const DYNAMIC_METADATA_SECTIONS = ['.interp', '.hash', '.gnu.hash', '.dynsym', '.dynstr', '.rela.dyn', '.rel.dyn', '.dynamic', '.gnu.version', '.gnu.version_d', '.gnu.version_r', '.relr.dyn'];

export function staticPlacement(pie0: Uint8Array, base: bigint): { name: string; addr: bigint }[] {
  const elf = new ElfFile(pie0);
  return elf.sections
    .filter((s) => (s.flags & SHF_ALLOC) !== 0n && !DYNAMIC_METADATA_SECTIONS.includes(elf.sectionName(s.index)))
    .map((s) => ({ name: elf.sectionName(s.index), addr: base + s.addr }));
}

// ---------------------------------------------------------------------------------------------
// Exclusions from the registry.

interface RegistryFile {
  entries: { id: string; handling: string; scope: { loader?: string; targets?: string[]; reference?: string[]; linkers?: string[]; regions?: string[]; ranges?: Record<string, [number, number, number?][]>; rule?: 'elfv2-global-entry' } }[];
}

/** The registry's 'excluded' entries for the PIE loader that apply to one comparison. */
export function exclusionsFor(registry: RegistryFile, target: Arch, linker: LinkerId, kind: ReferenceKind): Exclusion[] {
  return registry.entries
    .filter((e) => e.handling === 'excluded' && e.scope.loader === 'pie' && (e.scope.regions || e.scope.rule))
    .filter((e) => (!e.scope.targets || e.scope.targets.includes(target)) && (!e.scope.linkers || e.scope.linkers.includes(linker)) && (!e.scope.reference || e.scope.reference.includes(kind)))
    .map((e) => ({ id: e.id, ...(e.scope.regions ? { regions: e.scope.regions } : {}), ...(e.scope.ranges ? { ranges: e.scope.ranges } : {}), ...(e.scope.rule ? { rule: e.scope.rule } : {}) }));
}

export function formatComparison(r: ReferenceComparison): string {
  const what = `${r.target.padEnd(8)} ${r.linker.padEnd(3)} ${r.kind.padEnd(16)} base ${hex(r.base).padEnd(12)}`;
  const regions = r.regions.map((d) => `${d.region} ${d.bytes}B${d.excludedBy ? ` [${d.excludedBy}]` : ''}`).join(', ');
  return `${what} ${r.cls}${r.compared ? `: ${r.compared} bytes compared, ${r.differing} differ, ${r.excluded} excluded` : ''}${regions ? ` (${regions})` : ''}${r.note ? ` — ${r.note}` : ''}`;
}
