// Pruning oracle builds of local trees (`oracle prune`, and the automatic limit applied after each
// local build). Released builds (src/oracle/registry.ts isReleasedBuild) are never chosen by age or
// count: they go only when named. Never exits; a name that matches nothing is a NoMatchError.
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { requireMatches, UsageError } from '../errors.ts';
import { cacheDir, isReleasedBuild, listOracles, oracleBuildId, type OracleBuild } from './registry.ts';

/** The environment variable that sets the automatic limit: how many local trees' builds to keep; `off` disables it. */
export const KEEP_LOCAL_ENV = 'PURGATORY_ORACLE_KEEP_LOCAL';
export const DEFAULT_KEEP_LOCAL = 5;

export interface PruneOptions {
  cache?: string;
  /** Keep the builds of the newest N local trees (versions: one tree's targets and sanitizer builds count as one). */
  keep?: number;
  /** Remove only local builds older than this (ms). With `keep` too, a build goes when it is both beyond the newest N and older. */
  olderThanMs?: number;
  /** Remove exactly these builds (oracle ids, see `oracle list`), released ones included. */
  oracles?: readonly string[];
  /** Versions that are never removed (the automatic limit protects the tree just built). */
  protect?: readonly string[];
  dryRun?: boolean;
  /** Time of the run (tests). */
  now?: number;
}

export interface PrunedBuild {
  id: string;
  version: string;
  local: boolean;
  dir: string;
  builtAt: string | null;
  bytes: number;
  reason: string;
}

export interface PruneResult {
  dryRun: boolean;
  removed: PrunedBuild[];
  /** Local source records and unpacked tarballs removed with their last build ($CACHE/src/local/…). */
  sources: string[];
  bytes: number;
  /** Local builds left. */
  localKept: number;
}

/** When a build was made: build.json's built_at/builtAt, else the mtime of build.json. */
function builtAtMs(b: OracleBuild): number {
  const info = b.build as { built_at?: unknown; builtAt?: unknown };
  const s = typeof info.built_at === 'string' ? info.built_at : typeof info.builtAt === 'string' ? info.builtAt : undefined;
  const t = s ? Date.parse(s) : NaN;
  return Number.isFinite(t) ? t : statSync(join(b.dir, 'build.json')).mtimeMs;
}

function treeBytes(p: string): number {
  const st = lstatSync(p);
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const f of readdirSync(p)) n += treeBytes(join(p, f));
  return n;
}

/** `30s`, `15m`, `12h`, `7d`, `2w` → ms. */
export function parseAge(s: string, what = '--older-than'): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/i.exec(s.trim());
  if (!m) throw new UsageError(`${what} '${s}': expected a duration like 30m, 12h, 7d or 2w`);
  const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 }[m[2]!.toLowerCase() as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

/**
 * Choose and remove builds. With `oracles`, exactly those; otherwise local kexec-tools builds by
 * `keep` and/or `olderThanMs` (neither: keep the newest $PURGATORY_ORACLE_KEEP_LOCAL, default 5).
 * Builds of a local kernel checkout are removed only when named.
 */
export async function pruneBuilds(opts: PruneOptions = {}): Promise<PruneResult> {
  const cache = opts.cache ?? cacheDir();
  const now = opts.now ?? Date.now();
  const builds = await listOracles(cache);
  const protect = new Set(opts.protect ?? []);
  const chosen: { b: OracleBuild; reason: string }[] = [];
  if (opts.oracles?.length) {
    if (opts.keep !== undefined || opts.olderThanMs !== undefined) throw new UsageError('oracle prune: --oracle removes the builds it names; it does not combine with --keep or --older-than');
    requireMatches('--oracle', opts.oracles, builds.map((b) => oracleBuildId(b)), 'built oracle');
    for (const b of builds) if (opts.oracles.includes(oracleBuildId(b))) chosen.push({ b, reason: 'named' });
  } else {
    const keep = opts.keep ?? (opts.olderThanMs === undefined ? keepLocalFromEnv() ?? DEFAULT_KEEP_LOCAL : undefined);
    if (keep !== undefined && (!Number.isSafeInteger(keep) || keep < 0)) throw new UsageError(`--keep: expected a non-negative integer, got ${keep}`);
    // One local tree = one version label: its targets and sanitizer builds are kept or removed together.
    const groups = new Map<string, { newest: number; builds: OracleBuild[] }>();
    for (const b of builds) {
      if (b.loader !== 'kexec-tools' || isReleasedBuild(b)) continue;
      const g = groups.get(b.version) ?? { newest: -Infinity, builds: [] };
      g.newest = Math.max(g.newest, builtAtMs(b));
      g.builds.push(b);
      groups.set(b.version, g);
    }
    const order = [...groups.entries()].sort((x, y) => y[1].newest - x[1].newest || x[0].localeCompare(y[0]));
    order.forEach(([version, g], rank) => {
      if (protect.has(version)) return;
      const beyond = keep === undefined || rank >= keep;
      const old = opts.olderThanMs === undefined || now - g.newest > opts.olderThanMs;
      if (!beyond || !old) return;
      const why = [keep !== undefined ? `not among the newest ${keep} local trees` : '', opts.olderThanMs !== undefined ? `built ${formatAge(now - g.newest)} ago` : ''].filter(Boolean).join(', ');
      for (const b of g.builds) chosen.push({ b, reason: why });
    });
  }
  const removed: PrunedBuild[] = chosen.map(({ b, reason }) => ({
    id: oracleBuildId(b), version: b.version, local: b.local, dir: b.dir,
    builtAt: new Date(builtAtMs(b)).toISOString(), bytes: treeBytes(b.dir), reason,
  }));
  const sources = localSourcesFreed(cache, builds, new Set(chosen.map((c) => c.b.dir)));
  const bytes = removed.reduce((n, r) => n + r.bytes, 0) + sources.reduce((n, p) => n + (existsSync(p) ? treeBytes(p) : 0), 0);
  if (!opts.dryRun) {
    for (const r of removed) rmSync(r.dir, { recursive: true, force: true });
    for (const p of sources) rmSync(p, { recursive: true, force: true });
  }
  const gone = new Set(removed.map((r) => r.dir));
  return { dryRun: !!opts.dryRun, removed, sources, bytes, localKept: builds.filter((b) => b.local && !gone.has(b.dir)).length };
}

/** $PURGATORY_ORACLE_KEEP_LOCAL as a count; undefined when unset; `off` → undefined too (see autoPruneLocal). */
function keepLocalFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env[KEEP_LOCAL_ENV]?.trim();
  if (!v || v === 'off') return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`${KEEP_LOCAL_ENV}='${v}': expected a number of local trees to keep, or off`);
  return Number(v);
}

/**
 * The automatic limit, applied after each build of a local tree: keep the builds of the newest
 * $PURGATORY_ORACLE_KEEP_LOCAL local trees (default 5; `off` disables it), never the ones just built.
 */
export async function autoPruneLocal(justBuilt: readonly string[], log: (line: string) => void, cache?: string): Promise<PruneResult | undefined> {
  if (process.env[KEEP_LOCAL_ENV]?.trim() === 'off') return undefined;
  const keep = keepLocalFromEnv() ?? DEFAULT_KEEP_LOCAL;
  const r = await pruneBuilds({ cache, keep, protect: justBuilt });
  if (r.removed.length) {
    log(`purgatory-oracle: removed ${r.removed.length} build(s) of older local trees (${formatBytes(r.bytes)}): ${[...new Set(r.removed.map((x) => x.version))].join(', ')} (keeping the newest ${keep}; set ${KEEP_LOCAL_ENV}=N or off)`);
  }
  return r;
}

/**
 * $CACHE/src/local records (<label>.json) whose label has no build left once `gone` is removed,
 * and the unpacked tarball trees ($CACHE/src/local/<hash>/) that only those records point to.
 */
function localSourcesFreed(cache: string, builds: OracleBuild[], gone: Set<string>): string[] {
  const dir = join(cache, 'src', 'local');
  if (!existsSync(dir)) return [];
  const left = new Set(builds.filter((b) => !gone.has(b.dir)).map((b) => b.version));
  const goneVersions = new Set(builds.filter((b) => gone.has(b.dir)).map((b) => b.version));
  const records = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => {
    let path: string | undefined;
    try {
      path = (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { path?: string }).path;
    } catch {
      path = undefined;
    }
    return { file: join(dir, f), version: f.slice(0, -'.json'.length), path };
  });
  const freed = records.filter((r) => goneVersions.has(r.version) && !left.has(r.version));
  const stillUsed = new Set(records.filter((r) => !freed.includes(r)).map((r) => r.path));
  const out = freed.map((r) => r.file);
  for (const r of freed) {
    if (!r.path || stillUsed.has(r.path)) continue;
    const rel = relative(dir, resolve(r.path));
    // An unpacked tarball lives at src/local/<hash>/tree: remove <hash>/. A checkout is the user's own.
    if (!rel.startsWith('..') && rel.split(sep).length === 2) {
      const top = join(dir, rel.split(sep)[0]!);
      if (!out.includes(top)) out.push(top);
    }
  }
  return out;
}

export function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

function formatAge(ms: number): string {
  const h = ms / 3600e3;
  return h >= 48 ? `${(h / 24).toFixed(0)} d` : h >= 1 ? `${h.toFixed(0)} h` : `${Math.max(0, ms / 60e3).toFixed(0)} min`;
}

export function formatPrune(r: PruneResult): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  const lines = r.removed.map((x) => `${verb} ${x.id}  ${x.local ? 'local' : 'RELEASED'}  ${formatBytes(x.bytes)}  built ${x.builtAt ?? '?'}  (${x.reason})  ${x.dir}`);
  for (const s of r.sources) lines.push(`${verb} ${s}`);
  lines.push(`${r.dryRun ? 'would free' : 'freed'} ${formatBytes(r.bytes)} in ${r.removed.length} build(s); ${r.localKept} local build(s) kept`);
  return lines.join('\n') + '\n';
}
