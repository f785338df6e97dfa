// Shared plumbing of the corpus scripts: paths, running commands, reading and merging the manifest.

import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { markDuplicates, type Manifest, type ManifestEntry, type ManifestFailure } from '../../src/corpus/manifest.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CACHE = process.env.PURGATORY_ORACLE_CACHE ?? join(REPO, '.cache');
export const CORPUS = join(REPO, 'corpus');
export const CORPUS_ELF = join(CORPUS, 'elf');
export const MANIFEST = join(CORPUS, 'manifest.json');

export function isMain(metaUrl: string): boolean {
  return process.argv[1] !== undefined && pathToFileURL(resolve(process.argv[1])).href === metaUrl;
}

export interface RunResult {
  status: number;
  signal: string | null;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly command: string,
    readonly result: RunResult,
  ) {
    super(`${command} exited ${result.signal ?? result.status}:\n${tail(result.stderr || result.stdout.toString('utf8'), 25)}`);
  }
}

export function tail(text: string, lines: number): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

export function run(cmd: string, args: string[], opts: SpawnSyncOptions & { input?: Uint8Array } = {}): RunResult {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 30, ...opts, encoding: 'buffer' });
  if (r.error) throw r.error;
  return {
    status: r.status ?? -1,
    signal: r.signal,
    stdout: r.stdout as Buffer,
    stderr: (r.stderr as Buffer).toString('utf8'),
    ms: Date.now() - t0,
  };
}

/** Runs and throws CommandError on a non-zero exit. */
export function runOk(cmd: string, args: string[], opts: SpawnSyncOptions & { input?: Uint8Array } = {}): RunResult {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new CommandError([cmd, ...args].join(' '), r);
  return r;
}

/** First line of `tool --version`, or undefined when the tool is missing. */
export function versionLine(tool: string[]): string | undefined {
  const [cmd, ...rest] = tool;
  if (!cmd) return undefined;
  try {
    const r = run(cmd, [...rest, '--version']);
    if (r.status !== 0) return undefined;
    return r.stdout.toString('utf8').split('\n')[0]?.trim();
  } catch {
    return undefined;
  }
}

export function loadManifest(): Manifest {
  if (!existsSync(MANIFEST)) {
    return { schema: 1, note: '', entries: [], failures: [] };
  }
  return JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;
}

export const MANIFEST_NOTE =
  'Purgatory ELF objects for the oracle corpus. Every file is listed with its origin and sha256; ' +
  'scripts/corpus/extract-debian.ts and scripts/corpus/build-from-source.ts produce them and ' +
  'scripts/corpus/verify.ts checks that they reproduce. Built from GPL-2.0 sources (kexec-tools, Linux); ' +
  'the corresponding source is the Debian source package named by each origin.';

/**
 * Replaces the entries a producer owns (`own`) and its failures (those `ownFailure` accepts: by
 * default all of them) and keeps the rest, then writes the manifest sorted by id (stable diffs).
 */
export function mergeManifest(
  own: (e: ManifestEntry) => boolean,
  producer: ManifestFailure['producer'],
  entries: ManifestEntry[],
  failures: ManifestFailure[],
  ownFailure: (f: ManifestFailure) => boolean = () => true,
): Manifest {
  const m = loadManifest();
  const kept = m.entries.filter((e) => !own(e));
  const ids = new Set(kept.map((e) => e.id));
  for (const e of entries) {
    if (ids.has(e.id)) throw new Error(`duplicate corpus id ${e.id}`);
    ids.add(e.id);
  }
  const out: Manifest = {
    schema: 1,
    note: MANIFEST_NOTE,
    entries: markDuplicates([...kept, ...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))),
    failures: [...m.failures.filter((f) => f.producer !== producer || !ownFailure(f)), ...failures].map((f) => ({ ...f, error: machineNeutral(f.error) })),
  };
  mkdirSync(CORPUS, { recursive: true });
  writeFileSync(`${MANIFEST}.tmp`, JSON.stringify(out, null, 2) + '\n');
  renameSync(`${MANIFEST}.tmp`, MANIFEST);
  return out;
}

/** Error texts go into a committed file: name the cache and the repository, not this machine's paths. */
export function machineNeutral(text: string): string {
  return text.split(CACHE).join('$CACHE').split(REPO).join('<repo>');
}

export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** Asynchronous run (for a small pool of parallel builds). Never rejects: look at the status. */
export function runAsync(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const t0 = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => resolvePromise({ status: -1, signal: null, stdout: Buffer.alloc(0), stderr: String(e), ms: Date.now() - t0 }));
    child.on('close', (code, signal) =>
      resolvePromise({ status: code ?? -1, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - t0 }),
    );
  });
}

/** Runs `fn` over `items` with at most `n` in flight; results in input order. */
export async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return results;
}
