// Pruning builds of local trees, on a throw-away cache of fake build directories (build.json +
// an executable `oracle`, as the registry reads them): what is chosen by --keep / --older-than /
// --oracle, that released builds survive unless named, dry runs, the local source records and
// unpacked tarballs freed with their last build, and the automatic limit.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { autoPruneLocal, parseAge, pruneBuilds } from '../../src/oracle/prune.ts';
import { isReleasedBuild, listOracles } from '../../src/oracle/registry.ts';
import { runCli as run } from '../cli-run.ts';

let cache: string;
const NOW = Date.parse('2026-12-06T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW - h * 3600e3).toISOString();

function fakeBuild(version: string, target: string, builtAt: string, extra: Record<string, unknown> = {}): string {
  const dir = join(cache, 'build', `kexec-tools-${version}-${target}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'build.json'), JSON.stringify({ oracle: 'kexec-tools', version, target, sanitize: false, built_at: builtAt, info: { pagesize: 4096 }, ...extra }));
  writeFileSync(join(dir, 'oracle'), '#!/bin/sh\nexit 1\n'.padEnd(1000, '#'));
  chmodSync(join(dir, 'oracle'), 0o755);
  return dir;
}

/** A released build, three local trees (one from a tarball unpacked in the cache) and a legacy unknown-local one. */
function populate(): Record<string, string> {
  const d: Record<string, string> = {};
  d.released = fakeBuild('2.0.25', 'x86_64', hoursAgo(24 * 90));
  d.legacy = fakeBuild('unknown-local-0123456789ab', 'x86_64', hoursAgo(72)); // before build.json had "local"
  d.aX = fakeBuild('2.0.32+git-aaaaaaa', 'x86_64', hoursAgo(48), { local: true });
  d.aP = fakeBuild('2.0.32+git-aaaaaaa', 'ppc64le', hoursAgo(47), { local: true });
  d.tar = fakeBuild('2.0.32+tar-cccccccccccc', 'x86_64', hoursAgo(10), { local: true });
  d.b = fakeBuild('2.0.32+git-bbbbbbb-dirty', 'x86_64', hoursAgo(1), { local: true });
  const local = join(cache, 'src', 'local');
  mkdirSync(join(local, 'cccccccccccccccc', 'tree'), { recursive: true });
  writeFileSync(join(local, 'cccccccccccccccc', 'tree', 'configure.ac'), 'AC_INIT([kexec-tools],[2.0.32])\n');
  writeFileSync(join(local, '2.0.32+tar-cccccccccccc.json'), JSON.stringify({ kind: 'local', version: '2.0.32+tar-cccccccccccc', path: join(local, 'cccccccccccccccc', 'tree') }));
  writeFileSync(join(local, '2.0.32+git-aaaaaaa.json'), JSON.stringify({ kind: 'local', version: '2.0.32+git-aaaaaaa', path: '/home/me/kexec-tools' }));
  return d;
}

beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), 'po-prune-'));
});
afterEach(() => {
  rmSync(cache, { recursive: true, force: true });
  delete process.env.PURGATORY_ORACLE_KEEP_LOCAL;
});

describe('released and local builds', () => {
  it('build.json "local", else a version outside KEXEC_TOOLS_VERSIONS, makes a build local', async () => {
    populate();
    const builds = await listOracles(cache);
    const kind = Object.fromEntries(builds.map((b) => [`${b.version}/${b.target}`, isReleasedBuild(b) ? 'released' : 'local']));
    expect(kind).toEqual({
      '2.0.25/x86_64': 'released',
      'unknown-local-0123456789ab/x86_64': 'local',
      '2.0.32+git-aaaaaaa/x86_64': 'local', '2.0.32+git-aaaaaaa/ppc64le': 'local',
      '2.0.32+tar-cccccccccccc/x86_64': 'local', '2.0.32+git-bbbbbbb-dirty/x86_64': 'local',
    });
  });

  it('a released version recorded as local (a tree at 2.0.32 built by path) is local', async () => {
    fakeBuild('2.0.32', 'x86_64', hoursAgo(1), { local: true });
    const [b] = await listOracles(cache);
    expect(b!.local).toBe(true);
    expect(isReleasedBuild(b!)).toBe(false);
  });
});

describe('pruneBuilds', () => {
  it('--keep 2 keeps the two newest local trees (all their targets) and every released build', async () => {
    const d = populate();
    const r = await pruneBuilds({ cache, keep: 2, now: NOW });
    expect(r.removed.map((x) => x.id).sort()).toEqual(['kexec-tools-2.0.32+git-aaaaaaa/ppc64le', 'kexec-tools-2.0.32+git-aaaaaaa/x86_64', 'kexec-tools-unknown-local-0123456789ab/x86_64']);
    for (const k of ['aX', 'aP', 'legacy']) expect(existsSync(d[k]!)).toBe(false);
    for (const k of ['released', 'tar', 'b']) expect(existsSync(d[k]!)).toBe(true);
    // The record of a removed checkout goes; the checkout itself is the user's and is not in the cache.
    expect(r.sources).toEqual([join(cache, 'src', 'local', '2.0.32+git-aaaaaaa.json')]);
    expect(existsSync(join(cache, 'src', 'local', '2.0.32+git-aaaaaaa.json'))).toBe(false);
    expect(r.localKept).toBe(2);
    expect(r.bytes).toBeGreaterThanOrEqual(3 * 1000);
  });

  it('--keep 0 removes every local build, and the unpacked tarball with its record', async () => {
    const d = populate();
    const r = await pruneBuilds({ cache, keep: 0, now: NOW });
    expect(r.removed).toHaveLength(5);
    expect(existsSync(d.released!)).toBe(true);
    expect(existsSync(join(cache, 'src', 'local', 'cccccccccccccccc'))).toBe(false);
    expect(r.sources).toContain(join(cache, 'src', 'local', 'cccccccccccccccc'));
  });

  it('--older-than 1d removes local trees last built more than a day ago, never the released one (90 days old)', async () => {
    const d = populate();
    const r = await pruneBuilds({ cache, olderThanMs: parseAge('1d'), now: NOW });
    expect(new Set(r.removed.map((x) => x.version))).toEqual(new Set(['2.0.32+git-aaaaaaa', 'unknown-local-0123456789ab']));
    expect(existsSync(d.released!)).toBe(true);
    expect(existsSync(d.tar!)).toBe(true);
  });

  it('--keep with --older-than removes only what is both beyond the newest N and older', async () => {
    populate();
    // Beyond the newest 1: tar (10 h), aaaaaaa (47 h), legacy (72 h); older than 2 d: legacy only.
    const r = await pruneBuilds({ cache, keep: 1, olderThanMs: parseAge('2d'), now: NOW, dryRun: true });
    expect(r.removed.map((x) => x.version)).toEqual(['unknown-local-0123456789ab']);
  });

  it('--dry-run reports and removes nothing', async () => {
    const d = populate();
    const r = await pruneBuilds({ cache, keep: 0, now: NOW, dryRun: true });
    expect(r.dryRun).toBe(true);
    expect(r.removed).toHaveLength(5);
    for (const dir of Object.values(d)) expect(existsSync(dir)).toBe(true);
  });

  it('--oracle removes exactly the named builds, a released one included; a name that matches nothing is a usage error', async () => {
    const d = populate();
    const r = await pruneBuilds({ cache, oracles: ['kexec-tools-2.0.25/x86_64'], now: NOW });
    expect(r.removed.map((x) => [x.id, x.local])).toEqual([['kexec-tools-2.0.25/x86_64', false]]);
    expect(existsSync(d.released!)).toBe(false);
    expect(existsSync(d.b!)).toBe(true);
    await expect(pruneBuilds({ cache, oracles: ['kexec-tools-9.9.9/x86_64'] })).rejects.toThrow(/--oracle 'kexec-tools-9\.9\.9\/x86_64': no such built oracle; known: kexec-tools-2\.0\.32\+git-aaaaaaa\/ppc64le, /);
  });

  it('protects the trees just built', async () => {
    populate();
    const r = await pruneBuilds({ cache, keep: 0, protect: ['2.0.32+git-aaaaaaa'], now: NOW, dryRun: true });
    expect(r.removed.map((x) => x.version)).not.toContain('2.0.32+git-aaaaaaa');
    expect(r.removed).toHaveLength(3);
  });

  it.each([['7x'], ['-1d'], ['']])('--older-than %j is a usage error', (s) => {
    expect(() => parseAge(s)).toThrow(/expected a duration like 30m, 12h, 7d or 2w/);
  });
});

describe('the automatic limit', () => {
  it('keeps the newest $PURGATORY_ORACLE_KEEP_LOCAL local trees besides the one just built, and says so', async () => {
    const d = populate();
    process.env.PURGATORY_ORACLE_KEEP_LOCAL = '1';
    const logs: string[] = [];
    const r = await autoPruneLocal(['2.0.32+git-aaaaaaa'], (l) => logs.push(l), cache);
    // Newest is b (1 h): kept by the limit; aaaaaaa is protected; tar and legacy go.
    expect(new Set(r!.removed.map((x) => x.version))).toEqual(new Set(['2.0.32+tar-cccccccccccc', 'unknown-local-0123456789ab']));
    expect(existsSync(d.aX!)).toBe(true);
    expect(logs.join('\n')).toMatch(/removed 2 build\(s\) of older local trees .*keeping the newest 1; set PURGATORY_ORACLE_KEEP_LOCAL=N or off/);
  });

  it('off disables it; the default keeps 5 trees', async () => {
    populate();
    process.env.PURGATORY_ORACLE_KEEP_LOCAL = 'off';
    expect(await autoPruneLocal([], () => {}, cache)).toBeUndefined();
    delete process.env.PURGATORY_ORACLE_KEEP_LOCAL;
    expect((await autoPruneLocal([], () => {}, cache))!.removed).toEqual([]); // 4 local trees ≤ 5
  });
});

describe('oracle prune / oracle list (CLI)', () => {
  it('prune --dry-run --json lists what would go; prune --keep 1 removes it; list shows released and local', async () => {
    populate();
    const env = { PURGATORY_ORACLE_CACHE: cache };
    const dry = await run(['oracle', 'prune', '--local', '--keep', '1', '--dry-run', '--json'], env);
    expect(dry.code).toBe(0);
    const j = JSON.parse(dry.out) as { dryRun: boolean; removed: { id: string }[] };
    expect(j.dryRun).toBe(true);
    expect(j.removed).toHaveLength(4);
    const list0 = await run(['oracle', 'list'], env);
    expect(list0.out).toMatch(/^kexec-tools-2\.0\.25\/x86_64\s+released\s/m);
    expect(list0.out).toMatch(/^kexec-tools-2\.0\.32\+git-aaaaaaa\/x86_64\s+local\s/m);
    expect(list0.err).toMatch(/5 local build\(s\): used only when named .*oracle prune/);
    const real = await run(['oracle', 'prune', '--keep', '1'], env);
    expect(real.code).toBe(0);
    expect(real.out).toMatch(/^removed kexec-tools-2\.0\.32\+tar-cccccccccccc\/x86_64  local /m);
    expect(real.out).toMatch(/freed .* in 4 build\(s\); 1 local build\(s\) kept/);
    const list = JSON.parse((await run(['oracle', 'list', '--json'], env)).out) as { id: string; released: boolean }[];
    expect(list.map((b) => [b.id, b.released])).toEqual([['kexec-tools-2.0.25/x86_64', true], ['kexec-tools-2.0.32+git-bbbbbbb-dirty/x86_64', false]]);
  });

  it.each([
    [['oracle', 'prune', '--keep', 'two'], /--keep 'two': expected a non-negative integer/],
    [['oracle', 'prune', '--older-than', 'soon'], /--older-than 'soon': expected a duration/],
    [['oracle', 'prune', '--oracle', 'kexec-tools-2.0.25/x86_64', '--keep', '1'], /--oracle removes the builds it names; it does not combine with --keep/],
    [['oracle', 'prune', '--oracle', 'nope/x86_64'], /--oracle 'nope\/x86_64': no such built oracle/],
  ])('%j: exit 2, nothing removed', async (argv, message) => {
    const d = populate();
    const r = await run(argv, { PURGATORY_ORACLE_CACHE: cache });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    for (const dir of Object.values(d)) expect(existsSync(dir)).toBe(true);
  });
});
