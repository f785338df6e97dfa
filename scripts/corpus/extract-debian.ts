// Extracts the purgatory objects that Debian's build machines produced:
//   - from kexec-tools binary packages (the purgatory embedded in sbin/kexec), amd64, ppc64el, arm64, s390x;
//   - from kernel images: kexec_purgatory inside the amd64 bzImage's vmlinux, and whatever
//     purgatory the ppc64el vmlinux carries.
// Downloads go through scripts/debian-apt.sh into the cache; results go into corpus/elf and
// corpus/manifest.json (entries with a Debian origin, and this script's failures).
//
// Usage: npx tsx scripts/corpus/extract-debian.ts [--only kexec|kernel] [--suite S]... [--arch DEBARCH]... [--dry-run] [--no-cache]

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { EM_AARCH64, EM_PPC64, EM_S390, EM_X86_64, ET_DYN, ET_EXEC, ET_REL, SHT_NOBITS } from '../../src/elf/constants.ts';
import type { ElfFile } from '../../src/elf/reader.ts';
import { appendedSize, parseBzImage, readCorpusElf, scanEmbeddedElfs, sniffCompression, type EmbeddedElf } from '../../src/corpus/extract.ts';
import { entryFromElf, safeId, sha256, type ManifestEntry, type ManifestFailure, type Origin } from '../../src/corpus/manifest.ts';
import { CACHE, CORPUS_ELF, REPO, CommandError, isMain, log, mergeManifest, run, runOk, tail } from './common.ts';

const APT = join(REPO, 'scripts/debian-apt.sh');
const DEB_DIR = join(CACHE, 'corpus/debs');
const WORK = join(CACHE, 'corpus/unpack');

export const KEXEC_SUITES = ['bullseye', 'bookworm', 'trixie', 'sid'];
export const KEXEC_ARCHES = ['amd64', 'ppc64el', 'arm64', 's390x'];
/** The purgatory's e_machine in each Debian architecture's kexec-tools. */
const KEXEC_MACHINES: Record<string, number> = { amd64: EM_X86_64, ppc64el: EM_PPC64, arm64: EM_AARCH64, s390x: EM_S390 };
/** Kernel images: the brief's versions (5.10, 6.1, 6.12) on amd64; ppc64el for bookworm and trixie. */
export const KERNEL_TASKS: { suite: string; debArch: string; series: string }[] = [
  { suite: 'bullseye', debArch: 'amd64', series: '5.10' },
  { suite: 'bookworm', debArch: 'amd64', series: '6.1' },
  { suite: 'trixie', debArch: 'amd64', series: '6.12' },
  { suite: 'bookworm', debArch: 'ppc64el', series: '6.1' },
  { suite: 'trixie', debArch: 'ppc64el', series: '6.12' },
];

const EXIT_MEANING: Record<number, string> = {
  1: 'usage or local error',
  2: 'network or mirror failure (after retries)',
  3: 'package or version not found',
  4: 'verification or unpack failure',
};

/** A failure to report: the stage it happened in and the full reason. */
export class StageError extends Error {
  override readonly name = 'StageError';
  constructor(
    readonly stage: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Runs debian-apt.sh; returns its last stdout line, or throws StageError naming the exit meaning. */
export function apt(stage: string, args: string[]): string {
  const r = run('bash', [APT, ...args]);
  if (r.status !== 0) {
    throw new StageError(stage, `debian-apt.sh ${args.join(' ')} exited ${r.status} (${EXIT_MEANING[r.status] ?? 'unknown'}):\n${tail(r.stderr, 20)}`);
  }
  const lines = r.stdout.toString('utf8').trim().split('\n');
  return lines[lines.length - 1] ?? '';
}

/** Set by --no-cache: always fetch from the mirror, even when the .deb is already in the cache. */
export const options = { useCache: true };

/**
 * When `show` fails for a whole suite/arch, read the suite's signed Release file in the private
 * APT directory: a mirror that dropped an architecture lists it no more.
 */
function explainSuite(suite: string, debArch: string): string {
  const r = run('bash', [APT, 'dir', suite, debArch]);
  const dir = join(r.stdout.toString('utf8').trim(), 'lists');
  if (r.status !== 0 || !existsSync(dir)) return '';
  const rel = readdirSync(dir).find((f) => f.endsWith(`_dists_${suite}_InRelease`) || f.endsWith(`_dists_${suite}_Release`));
  if (!rel) return '';
  const text = readFileSync(join(dir, rel), 'utf8');
  const field = (k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(text)?.[1] ?? '?';
  const arches = field('Architectures').split(' ');
  const head = `the mirror's ${suite} Release (Suite ${field('Suite')}, Version ${field('Version')}, Date ${field('Date')}) lists Architectures: ${arches.join(' ')}`;
  return arches.includes(debArch) ? `${head}` : `${head} -- ${debArch} is not among them, so the suite has no ${debArch} packages any more`;
}

export function download(suite: string, debArch: string, pkg: string, version?: string): { deb: string; version: string } {
  let v = version;
  if (v === undefined) {
    try {
      v = apt('show', ['show', suite, debArch, pkg]);
    } catch (e) {
      const why = e instanceof StageError ? explainSuite(suite, debArch) : '';
      if (why && e instanceof StageError) throw new StageError(e.stage, `${why}\n${e.message}`, { cause: e });
      throw e;
    }
  }
  const dest = join(DEB_DIR, `${suite}-${debArch}`);
  if (options.useCache && existsSync(dest)) {
    // apt names files pkg_<version with ':' as %3a>_<arch>.deb
    const want = `${pkg}_${v.replace(':', '%3a')}_`;
    const hit = readdirSync(dest).find((f) => f.startsWith(want) && f.endsWith('.deb'));
    if (hit) return { deb: join(dest, hit), version: v };
  }
  const deb = apt('download', ['download', suite, debArch, `${pkg}=${v}`, dest]);
  if (!existsSync(deb)) throw new StageError('download', `debian-apt.sh printed ${deb}, which does not exist`);
  return { deb, version: v };
}

/** `dpkg-deb -x` into a fresh directory; with `members`, only those paths (tar wildcards). */
export function unpack(deb: string, members?: string[]): string {
  const dir = join(WORK, basename(deb, '.deb'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    if (!members) {
      runOk('dpkg-deb', ['-x', deb, dir]);
    } else {
      // The kernel packages carry hundreds of MB of modules: take only what is needed.
      const tar = runOk('dpkg-deb', ['--fsys-tarfile', deb]);
      runOk('tar', ['-x', '-C', dir, '--wildcards', ...members], { input: tar.stdout });
    }
  } catch (e) {
    throw new StageError('unpack', e instanceof Error ? e.message : String(e), { cause: e });
  }
  return dir;
}

function stripEpoch(v: string): string {
  return v.replace(/^\d+:/, '');
}

function findFile(root: string, candidates: string[]): string {
  for (const c of candidates) {
    const p = join(root, c);
    if (existsSync(p)) return c;
  }
  throw new StageError('unpack', `none of ${candidates.join(', ')} in the package`);
}

function findGlob(root: string, dir: string, prefix: string): string {
  const d = join(root, dir);
  const hits = existsSync(d) ? readdirSync(d).filter((f) => f.startsWith(prefix)) : [];
  if (hits.length !== 1) throw new StageError('unpack', `expected one ${dir}/${prefix}* in the package, found [${hits.join(', ')}]`);
  return `${dir}/${hits[0]}`;
}

function scanBoth(buf: Uint8Array, machine: number): { found: EmbeddedElf[]; rejected: string[] } {
  const rejected: string[] = [];
  const found = scanEmbeddedElfs(buf, { type: ET_REL, machine, onReject: (o, e) => rejected.push(`0x${o.toString(16)}: ${e.message}`) });
  return { found, rejected };
}

export interface Extracted {
  bytes: Uint8Array;
  origin: Origin;
  note?: string;
}

/** The purgatory inside one kexec-tools binary package. */
export function extractKexec(suite: string, debArch: string, version?: string): Extracted {
  const { deb, version: v } = download(suite, debArch, 'kexec-tools', version);
  const root = unpack(deb);
  const path = findFile(root, ['sbin/kexec', 'usr/sbin/kexec']);
  const bin = readFileSync(join(root, path));
  const machine = KEXEC_MACHINES[debArch];
  if (machine === undefined) throw new StageError('scan', `no purgatory machine known for Debian architecture ${debArch}`);
  const { found, rejected } = scanBoth(bin, machine);
  if (found.length !== 1) {
    throw new StageError('scan', `expected one ET_REL e_machine=${machine} object in ${path}, found ${found.length} at [${found.map((f) => `0x${f.offset.toString(16)}`).join(', ')}]; rejected candidates: [${rejected.join('; ')}]`);
  }
  const hit = found[0]!;
  return {
    bytes: new Uint8Array(hit.bytes),
    origin: { kind: 'debian-kexec-tools-binary', package: 'kexec-tools', version: v, debArch, suite, path, offset: hit.offset, debSha256: sha256(readFileSync(deb)) },
  };
}

/** Decompresses a bzImage payload with the Debian tool for its format. */
export function decompress(payload: Uint8Array, compression: string): Buffer {
  const tools: Record<string, [string, string[]]> = {
    gzip: ['gzip', ['-dc']],
    xz: ['xz', ['-dc', '--single-stream']],
    lz4: ['lz4', ['-dc']],
    zstd: ['zstd', ['-dc']],
    bzip2: ['bzip2', ['-dc']],
    lzma: ['xz', ['--format=lzma', '-dc']],
  };
  const t = tools[compression];
  if (!t) throw new StageError('decompress', `no decompressor for payload compression '${compression}'`);
  const r = run(t[0], t[1], { input: payload });
  const want = appendedSize(payload);
  const out = r.stdout;
  const isElf = out.length > 4 && out.readUInt32BE(0) === 0x7f454c46;
  // The kernel appends the decompressed size as a u32; some tools call that trailing garbage.
  if (r.status === 0 || (isElf && out.length === want)) {
    if (!isElf) throw new StageError('decompress', `${t[0]} output does not start with an ELF header`);
    if (r.status !== 0) log(`  ${t[0]} exited ${r.status} but produced the full ${out.length}-byte vmlinux (appended size matches): ${r.stderr.trim()}`);
    return out;
  }
  throw new StageError('decompress', `${t[0]} ${t[1].join(' ')} exited ${r.status}, ${out.length} bytes out (appended size ${want}):\n${tail(r.stderr, 10)}`);
}

/** Resolves the versioned kernel image package behind the linux-image-<flavour> metapackage. */
export function kernelPackage(suite: string, debArch: string): string {
  const meta = debArch === 'amd64' ? 'linux-image-amd64' : 'linux-image-powerpc64le';
  const { deb } = download(suite, debArch, meta);
  const depends = runOk('dpkg-deb', ['-f', deb, 'Depends']).stdout.toString('utf8').trim();
  const m = /(linux-image-[0-9][^\s,(]*)/.exec(depends);
  if (!m?.[1]) throw new StageError('show', `${meta} in ${suite} depends on no versioned image: '${depends}'`);
  const signed = m[1];
  // Prefer the unsigned image when it exists (same kernel, without the Secure Boot signature).
  const unsigned = signed.endsWith('-unsigned') ? signed : `${signed}-unsigned`;
  for (const name of debArch === 'amd64' ? [unsigned, signed] : [signed]) {
    const r = run('bash', [APT, 'show', suite, debArch, name]);
    if (r.status === 0) return name;
    if (r.status !== 3) throw new StageError('show', `debian-apt.sh show ${suite} ${debArch} ${name} exited ${r.status}:\n${tail(r.stderr, 10)}`);
  }
  throw new StageError('show', `neither ${unsigned} nor ${signed} is in ${suite}/${debArch}`);
}

/** Why a kernel has no purgatory: its config, and what its symbol table says. */
function kexecFileEvidence(root: string, vmlinux: Uint8Array): string[] {
  const out: string[] = [];
  const boot = join(root, 'boot');
  const config = existsSync(boot) ? readdirSync(boot).find((f) => f.startsWith('config-')) : undefined;
  if (config) {
    const lines = readFileSync(join(boot, config), 'utf8').split('\n').filter((l) => /\bCONFIG_KEXEC(_FILE|_SIG|)\b/.test(l));
    out.push(`boot/${config}: ${lines.join('; ') || 'no CONFIG_KEXEC* lines'}`);
  }
  if (sniffCompression(vmlinux) === 'none-elf') {
    const tmp = join(WORK, 'vmlinux.nm.tmp');
    writeFileSync(tmp, vmlinux);
    const r = run('nm', [tmp]);
    rmSync(tmp, { force: true });
    const syms = r.stdout.toString('utf8').split('\n').filter((l) => /\s(kexec_purgatory|kexec_purgatory_size|sys_kexec_file_load|vdso64_start|vdso32_start)$/.test(l));
    out.push(`vmlinux symbols: ${syms.map((l) => l.trim()).join('; ') || 'none of kexec_purgatory, sys_kexec_file_load'} (nm: W = weak cond_syscall stub)`);
  }
  return out;
}

export interface KernelResult {
  extracted: Extracted[];
  /** What was found instead, when there is no ET_REL purgatory. */
  findings: string[];
}

/** The purgatory objects inside one kernel image package. */
export function extractKernel(suite: string, debArch: string, pkg?: string, version?: string): KernelResult {
  const name = pkg ?? kernelPackage(suite, debArch);
  const { deb, version: v } = download(suite, debArch, name, version);
  const debSha256 = sha256(readFileSync(deb));
  const root = unpack(deb, ['./boot/vmlinu*', './boot/config-*']);
  const findings: string[] = [];
  let vmlinux: Uint8Array;
  let compression: string;
  let path: string;
  let machine: number;
  if (debArch === 'amd64') {
    path = findGlob(root, 'boot', 'vmlinuz-');
    const bz = parseBzImage(readFileSync(join(root, path)));
    compression = bz.compression;
    log(`  ${path}: setup_sects=${bz.setupSects} payload at 0x${bz.payloadFileOffset.toString(16)}, ${bz.payloadLength} bytes, ${compression}`);
    vmlinux = decompress(bz.payload, compression);
    machine = EM_X86_64;
  } else {
    path = findGlob(root, 'boot', 'vmlinux-');
    const raw = readFileSync(join(root, path));
    const c = sniffCompression(raw);
    compression = c === 'none-elf' ? 'none' : c;
    vmlinux = c === 'none-elf' ? raw : decompress(raw, c);
    machine = EM_PPC64;
  }
  log(`  vmlinux: ${vmlinux.length} bytes`);
  const { found, rejected } = scanBoth(vmlinux, machine);
  if (rejected.length > 0) findings.push(`rejected ET_REL candidates: ${rejected.join('; ')}`);
  if (found.length === 0) {
    // Say what is there instead: every embedded ELF of this machine except the vmlinux itself.
    let outer: ElfFile | undefined;
    try {
      outer = readCorpusElf(vmlinux);
    } catch {
      /* not an ELF vmlinux: offsets stay file offsets */
    }
    for (const t of [ET_EXEC, ET_DYN]) {
      for (const f of scanEmbeddedElfs(vmlinux, { type: t, machine }).filter((x) => x.offset !== 0)) {
        const at = BigInt(f.offset);
        const s = outer?.sections.find((x) => x.type !== SHT_NOBITS && x.addr !== 0n && at >= x.offset && at < x.offset + x.size);
        const where = s && outer ? ` (vaddr 0x${(s.addr + at - s.offset).toString(16)} in ${outer.sectionName(s.index)})` : '';
        const names = f.elf.sections.map((x) => f.elf.sectionName(x.index));
        const soname = names.includes('.dynsym') ? ', has .dynsym' : '';
        findings.push(`embedded e_type=${t === ET_DYN ? 'ET_DYN' : 'ET_EXEC'} object at file offset 0x${f.offset.toString(16)}${where}, ${f.length} bytes${soname}, sections [${names.filter(Boolean).join(' ')}]`);
      }
    }
    findings.push(`no ET_REL e_machine=${machine} object in ${path}'s vmlinux`);
    findings.push(...kexecFileEvidence(root, vmlinux));
  }
  const extracted = found.map((hit) => ({
    bytes: new Uint8Array(hit.bytes),
    origin: { kind: 'debian-kernel-image', package: name, version: v, suite, debArch, path, compression, offset: hit.offset, debSha256 } as Origin,
  }));
  return { extracted, findings };
}

function entryFor(id: string, x: Extracted): ManifestEntry {
  return entryFromElf(id, x.bytes, x.origin);
}

export function idFor(o: Origin, index = 0): string {
  if (o.kind === 'debian-kexec-tools-binary') return safeId(`debian-kexec-tools-${stripEpoch(o.version)}-${o.debArch}`);
  if (o.kind === 'debian-kernel-image') return safeId(`debian-linux-${stripEpoch(o.version)}-${o.debArch}${index > 0 ? `-${index}` : ''}`);
  throw new Error('not a Debian origin');
}

export const isDebianEntry = (e: ManifestEntry) => e.origin.kind === 'debian-kexec-tools-binary' || e.origin.kind === 'debian-kernel-image';

function errorText(e: unknown): { stage: string; error: string } {
  if (e instanceof StageError) return { stage: e.stage, error: e.message };
  if (e instanceof CommandError) return { stage: 'command', error: e.message };
  return { stage: 'internal', error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
}

async function main(argv: string[]): Promise<number> {
  let only: string | undefined;
  const suites: string[] = [];
  const arches: string[] = [];
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') only = argv[++i];
    else if (a === '--suite') suites.push(argv[++i] ?? '');
    else if (a === '--arch') arches.push(argv[++i] ?? '');
    else if (a === '--dry-run') dryRun = true;
    else if (a === '--no-cache') options.useCache = false;
    else {
      log(`unknown argument ${a}\nusage: extract-debian.ts [--only kexec|kernel] [--suite S]... [--arch DEBARCH]... [--dry-run] [--no-cache]`);
      return 1;
    }
  }
  const wantSuite = (s: string) => suites.length === 0 || suites.includes(s);
  const wantArch = (a: string) => arches.length === 0 || arches.includes(a);
  const entries: ManifestEntry[] = [];
  const failures: ManifestFailure[] = [];
  const files = new Map<string, Uint8Array>();
  const t0 = Date.now();

  if (only === undefined || only === 'kexec') {
    for (const suite of KEXEC_SUITES.filter(wantSuite)) {
      for (const debArch of KEXEC_ARCHES.filter(wantArch)) {
        const what = `kexec-tools ${suite}/${debArch}`;
        const t = Date.now();
        try {
          const x = extractKexec(suite, debArch);
          const id = idFor(x.origin);
          const same = entries.find((e) => e.sha256 === sha256(x.bytes));
          if (same && same.origin.kind === 'debian-kexec-tools-binary') {
            (same.origin.alsoSuites ??= []).push(suite);
            log(`${what}: ${x.origin.kind === 'debian-kexec-tools-binary' ? x.origin.version : ''} identical to ${same.id}; recorded as also in ${suite}`);
            continue;
          }
          if (entries.some((e) => e.id === id)) throw new StageError('scan', `id ${id} already taken by a different object`);
          entries.push(entryFor(id, x));
          files.set(id, x.bytes);
          log(`${what}: ${id} (${x.bytes.length} bytes) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
        } catch (e) {
          const { stage, error } = errorText(e);
          failures.push({ producer: 'extract-debian', what, stage, error });
          log(`${what}: FAILED at ${stage}: ${error}`);
        }
      }
    }
  }
  if (only === undefined || only === 'kernel') {
    for (const k of KERNEL_TASKS.filter((k) => wantSuite(k.suite) && wantArch(k.debArch))) {
      const what = `linux-image ${k.series} ${k.suite}/${k.debArch}`;
      const t = Date.now();
      try {
        const r = extractKernel(k.suite, k.debArch);
        for (const f of r.findings) log(`${what}: ${f}`);
        if (r.extracted.length === 0) {
          failures.push({ producer: 'extract-debian', what, stage: 'scan', error: r.findings.join('\n') });
          continue;
        }
        r.extracted.forEach((x, i) => {
          const id = idFor(x.origin, i);
          entries.push(entryFor(id, x));
          files.set(id, x.bytes);
          log(`${what}: ${id} (${x.bytes.length} bytes) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
        });
        if (!r.extracted.every((x) => x.origin.kind === 'debian-kernel-image' && x.origin.version.startsWith(k.series))) {
          log(`${what}: WARNING: package version is not in the ${k.series} series`);
        }
      } catch (e) {
        const { stage, error } = errorText(e);
        failures.push({ producer: 'extract-debian', what, stage, error });
        log(`${what}: FAILED at ${stage}: ${error}`);
      }
    }
  }

  if (dryRun) {
    log(`dry run: ${entries.length} entries, ${failures.length} failures`);
    return failures.length > 0 ? 2 : 0;
  }
  mkdirSync(CORPUS_ELF, { recursive: true });
  // With a partial run (--only/--suite/--arch), keep the Debian entries this run did not redo.
  const partial = only !== undefined || suites.length > 0 || arches.length > 0;
  const redone = (e: ManifestEntry) =>
    isDebianEntry(e) &&
    (!partial ||
      entries.some((n) => n.id === e.id) ||
      ((only === undefined || (only === 'kexec') === (e.origin.kind === 'debian-kexec-tools-binary')) && 'suite' in e.origin && wantSuite(e.origin.suite) &&
        (!('debArch' in e.origin) || wantArch(e.origin.debArch))));
  for (const e of entries) writeFileSync(join(REPO, e.file), files.get(e.id)!);
  const inScope = (what: string) => {
    const [kind, ...rest] = what.split(' ');
    const [suite = '', debArch = ''] = rest[rest.length - 1]?.split('/') ?? [];
    return (only === undefined || (only === 'kexec') === (kind === 'kexec-tools')) && wantSuite(suite) && wantArch(debArch);
  };
  const m = mergeManifest(redone, 'extract-debian', entries, failures, (f) => !partial || inScope(f.what));
  // Remove Debian files that no entry names any more.
  const named = new Set(m.entries.map((e) => basename(e.file)));
  for (const f of readdirSync(CORPUS_ELF)) {
    if (f.startsWith('debian-') && !named.has(f)) {
      unlinkSync(join(CORPUS_ELF, f));
      log(`removed stale ${f}`);
    }
  }
  log(`wrote ${entries.length} Debian entries (manifest now ${m.entries.length} entries, ${m.failures.length} failures) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return failures.length > 0 ? 2 : 0;
}

if (isMain(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
