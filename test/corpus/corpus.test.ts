// The committed corpus agrees with its manifest, and the reader's relocation names agree with binutils.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeElf, sha256, type Manifest } from '../../src/corpus/manifest.ts';
import { ElfFile } from '../../src/elf/reader.ts';
import { SHT_REL, SHT_RELA } from '../../src/elf/constants.ts';
import { relocationHistogram } from '../../src/inspect.ts';

const REPO = resolve(import.meta.dirname, '../..');
const manifestPath = join(REPO, 'corpus/manifest.json');
const manifest: Manifest = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest) : { schema: 1, note: '', entries: [], failures: [] };
const entries = manifest.entries;
const hasReadelf = spawnSync('readelf', ['--version']).status === 0;

describe('corpus manifest', () => {
  it('covers every target, with Debian-built entries among them', () => {
    expect(entries.length).toBeGreaterThanOrEqual(30);
    expect(new Set(entries.map((e) => e.arch))).toEqual(new Set(['x86_64', 'ppc64', 'ppc64le', 'arm64', 's390x', 'riscv64']));
    // Debian's own kexec-tools binaries for the kexec-tools targets that ship a purgatory (riscv64's does not).
    const debian = new Set(entries.filter((e) => e.origin.kind === 'debian-kexec-tools-binary').map((e) => e.arch));
    expect(debian).toEqual(new Set(['x86_64', 'ppc64le', 'arm64', 's390x']));
    expect(entries.filter((e) => e.origin.kind !== 'kexec-tools-source').length).toBeGreaterThanOrEqual(8);
  });

  it('has unique ids, and file names made from them', () => {
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    for (const e of entries) expect(e.file).toMatch(new RegExp(`^corpus/elf/${e.id.replace(/[.]/g, '\\.')}\\.(ro|pie)$`));
  });

  it('lists every file in corpus/elf', () => {
    const listed = new Set(entries.map((e) => e.file));
    const onDisk = readdirSync(join(REPO, 'corpus/elf')).map((f) => `corpus/elf/${f}`);
    expect(onDisk.filter((f) => !listed.has(f))).toEqual([]);
  });

  it('records every failure with a producer, a stage and an error', () => {
    for (const f of manifest.failures) {
      expect(f.producer).toMatch(/^(extract-debian|build-from-source|coverage)$/);
      expect(f.stage.length).toBeGreaterThan(0);
      expect(f.error.length).toBeGreaterThan(0);
    }
  });
});

describe.each(entries.map((e) => [e.id, e] as const))('%s', (_id, e) => {
  const bytes = new Uint8Array(readFileSync(join(REPO, e.file)));

  it('matches its sha256, size and description', () => {
    expect(sha256(bytes)).toBe(e.sha256);
    expect(bytes.length).toBe(e.size);
    const d = describeElf(bytes, e.malformed);
    expect({ arch: d.arch, abi: d.abi, elfType: d.elfType, relocations: d.relocations, undefinedSymbols: d.undefinedSymbols }).toEqual({
      // A foreign coverage object (for a machine check) is listed under the arch of the loaders it is fed to.
      arch: (e.origin.kind === 'coverage-generator' && e.origin.objectArch) || e.arch,
      abi: e.abi,
      elfType: e.elfType,
      relocations: e.relocations,
      undefinedSymbols: e.undefinedSymbols,
    });
  });

  it.skipIf(!hasReadelf)('has the relocations readelf -rW lists, by the same names', () => {
    const r = spawnSync('readelf', ['-rW', join(REPO, e.file)], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    // readelf rows: offset, info, type name, ...; count per name.
    const fromReadelf = new Map<string, number>();
    for (const line of r.stdout.split('\n')) {
      const m = /^[0-9a-f]{8,16}\s+[0-9a-f]{8,16}\s+(R_\S+)/.exec(line);
      if (m?.[1]) fromReadelf.set(m[1], (fromReadelf.get(m[1]) ?? 0) + 1);
    }
    const ours = relocationHistogram(new ElfFile(bytes));
    // A type readelf has no name for ("unrecognized: ffffffff") is ours by number (R_<ARCH>_<n>).
    const unrecognized = new Map<number, number>();
    for (const line of r.stdout.split('\n')) {
      const u = /^[0-9a-f]{8,16}\s+[0-9a-f]{8,16}\s+unrecognized:\s+([0-9a-f]+)/.exec(line);
      if (u?.[1]) unrecognized.set(parseInt(u[1], 16), (unrecognized.get(parseInt(u[1], 16)) ?? 0) + 1);
    }
    for (const [n, count] of unrecognized) {
      const name = Object.keys(ours).find((k) => k.endsWith(`_${n}`) && !fromReadelf.has(k));
      expect(name, `our name for unrecognized type ${n}`).toBeDefined();
      fromReadelf.set(name!, count);
    }
    const elf = new ElfFile(bytes);
    const shnum = elf.sections.length;
    // sh_link exactly e_shnum: readelf prints no warning, and no rows either.
    const symtabLinkPast = elf.sections.some((s) => (s.type === SHT_REL || s.type === SHT_RELA) && (elf.sections[s.link]?.link ?? 0) >= shnum);
    if (/out of range sh_link/.test(r.stderr) || symtabLinkPast) {
      // A deliberately malformed coverage object (a symbol table whose sh_link is out of range):
      // readelf lists the section's entry count but not its rows; compare the counts.
      expect(e.origin.kind).toBe('coverage-generator');
      const counts = [...r.stdout.matchAll(/contains (\d+) entr(?:y|ies)/g)].reduce((n, m) => n + Number(m[1]), 0);
      expect(Object.values(ours).reduce((a, b) => a + b, 0)).toBe(counts);
      return;
    }
    expect(ours).toEqual(Object.fromEntries([...fromReadelf].sort()));
  });
});
