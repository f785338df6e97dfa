// The package as users get it (issue 16): `npm pack`, the tarball installed into an empty project
// (dependencies from the npm cache first: --prefer-offline), then, from that project and in plain
// Node (no tsx: it is a devDependency and must not be installed), the API imported as ESM, the
// README's "Use as a library" example type-checked with `tsc --strict` and run, and the CLI's
// `validate` (stored references) and TS-only `fuzz` (worker threads) run through `npx`.
// Expected values: the stored reference of the example's case (corpus/references, written by the
// live kexec-tools 2.0.32 oracle), kexec-tools' own die() text (kexec-elf-rel.c), and the same
// validate run in this checkout.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-run.ts';
import { CI } from './live-oracle.ts';
import { cacheDir } from '../src/oracle/registry.ts';

const ROOT = resolve(import.meta.dirname, '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; devDependencies: Record<string, string> };
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

// npm's lifecycle variables of the surrounding `npm test` would describe this checkout, not the app.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_package_|npm_lifecycle_|INIT_CWD$)/.test(k)));

function run(cmd: string, args: string[], cwd: string, extra: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env: { ...env, ...extra }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}
function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The code block of the README section "Use as a library". */
function readmeLibraryExample(readme: string): string {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Use as a library\n'));
  if (!section) throw new Error('README.md has no section "## Use as a library"');
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('the README section "Use as a library" has no ```ts block');
  return m[1]!;
}

/** Whether every src/**.ts has its dist .js and .d.ts, at least as new (npm ci's `prepare` built them). */
function distFresh(): boolean {
  return (readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => f.endsWith('.ts')).every((f) => {
    const t = statSync(join(ROOT, 'src', f)).mtimeMs;
    return ['.js', '.d.ts'].every((ext) => {
      const d = join(ROOT, 'dist', f.replace(/\.ts$/, ext));
      return existsSync(d) && statSync(d).mtimeMs >= t;
    });
  });
}

let dir = '';
let app = '';
let tarball = '';
const emptyCache = (): string => join(dir, 'empty-cache');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'po-package-'));
  // dist/ must be the build of this checkout: npm pack runs `prepare` (the build) unless dist/ is
  // already newer than every source file (after npm ci, which ran it).
  const scripts = distFresh() ? ['--ignore-scripts'] : [];
  const packed = JSON.parse(ok(run('npm', ['pack', ...scripts, '--json', '--pack-destination', dir], ROOT), 'npm pack')) as { filename: string }[];
  tarball = join(dir, packed[0]!.filename);
  app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  ok(run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, `@types/node@${PKG.devDependencies['@types/node']}`], app), 'npm install');
  mkdirSync(emptyCache());
}, 300_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('carries the compiled library, the CLI and what its commands read, and no tests or dev scripts', () => {
    const files = new Set(execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, '')));
    for (const f of [
      'package.json', 'README.md', 'bin/purgatory-oracle.mjs', 'dist/index.js', 'dist/index.d.ts', 'dist/index.d.ts.map', 'dist/cli.js',
      'dist/fuzz/worker.js', 'src/index.ts', 'corpus/manifest.json', 'corpus/known-divergences.json',
      'corpus/references/kexec-tools-2.0.32.x86_64.json', 'corpus/elf/debian-kexec-tools-2.0.32-3-amd64.ro', 'corpus/mutation/equivalent.json',
      'docs/findings/kt-heap-padding.md', 'docs/findings/kt-heap-padding.patch',
      'scripts/build-oracle.sh', 'scripts/build-kernel-oracle.sh', 'scripts/fetch-kexec-tools.sh', 'scripts/debian-apt.sh',
      'scripts/setup-toolchains.sh', 'oracle/kexec-tools/harness.c', 'oracle/kernel/harness.c',
    ]) expect(files, f).toContain(f);
    const stray = [...files].filter((f) => /^(test|docs\/(?!findings\/)|corpus\/regressions|scripts\/.*\.ts$|\.ci|\.github|node_modules)/.test(f));
    expect(stray).toEqual([]);
  });

  it('installs without tsx, and package.json points exports and types at dist', () => {
    expect(existsSync(join(app, 'node_modules', 'purgatory-oracle', 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules', 'tsx'))).toBe(false);
    const installed = JSON.parse(readFileSync(join(app, 'node_modules', 'purgatory-oracle', 'package.json'), 'utf8'));
    expect(installed.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(installed.types).toBe('./dist/index.d.ts');
  });

  it('imports from plain Node as ESM', () => {
    const out = ok(run(process.execPath, ['--input-type=module', '-e', `
      import * as po from 'purgatory-oracle';
      console.log(JSON.stringify({
        fns: ['load', 'parseElf', 'makeProfile', 'isLoadError', 'inspect', 'census', 'buildObject', 'loadKernel', 'loadPie'].filter((n) => typeof po[n] === 'function'),
        profiles: po.PROFILE_IDS.includes('kexec-tools-2.0.32'),
        where: import.meta.resolve('purgatory-oracle'),
      }));`], app), 'node -e import');
    const r = JSON.parse(out);
    expect(r.fns).toEqual(['load', 'parseElf', 'makeProfile', 'isLoadError', 'inspect', 'census', 'buildObject', 'loadKernel', 'loadPie']);
    expect(r.profiles).toBe(true);
    expect(r.where).toMatch(/\/node_modules\/purgatory-oracle\/dist\/index\.js$/);
  });

  it("the README's library example type-checks with tsc --strict and prints the stored reference's image; a consumer's type error is caught", () => {
    const example = readmeLibraryExample(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    writeFileSync(join(app, 'example.ts'), example);
    // The declarations are checked, not any: this consumer must fail to type-check.
    writeFileSync(join(app, 'wrong.ts'), [
      "import { load } from 'purgatory-oracle';",
      'const kind: number = load({ elf: new Uint8Array(0), base: 0n, fill: 0, symbols: [] }).kind;',
      'export { kind };',
    ].join('\n'));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], skipLibCheck: false, outDir: 'out' },
      files: ['example.ts', 'wrong.ts'],
    }));
    // One tsc run for both (it still emits out/example.js when wrong.ts has an error).
    const tsc = run(process.execPath, [TSC, '-p', '.'], app);
    expect(tsc.stdout.split('\n').filter((l) => / error TS\d+:/.test(l))).toEqual([
      "wrong.ts(2,7): error TS2322: Type 'string' is not assignable to type 'number'.",
    ]);
    const printed = ok(run(process.execPath, ['out/example.js'], app), 'node out/example.js').trim().split('\n');

    const refs = JSON.parse(readFileSync(join(ROOT, 'corpus', 'references', 'kexec-tools-2.0.32.x86_64.json'), 'utf8')) as {
      cases: { entry: string; case: string; outcome: { kind: string; entry: string; imageLength: number; imageSha256: string } }[];
    };
    const ref = refs.cases.find((c) => c.entry === 'debian-kexec-tools-2.0.32-3-amd64' && c.case === 'low/none/fill00')!.outcome;
    expect(ref.kind).toBe('ok');
    const expected = [
      `ok: entry ${ref.entry}, ${ref.imageLength} bytes, sha256 ${ref.imageSha256}`,
      // kexec-tools 2.0.32 kexec/kexec-elf-rel.c:516, die("Symbol: %s not found cannot set\n", name)
      'rejected: symbol-not-found: "Symbol: no_such_symbol not found cannot set\\n"',
    ];
    expect(printed).toEqual(expected);
    // The output the README shows under the example is the output it prints.
    expect(example.split('\n').filter((l) => /^\/\/ (ok|rejected): /.test(l)).map((l) => l.slice(3))).toEqual(expected);
  });

  it('npx purgatory-oracle validate (stored references) gives the same report as this checkout', async () => {
    const extra = { PURGATORY_ORACLE_CACHE: emptyCache() };
    type Report = { sources: { oracle: string; mode: string; cases: number; byClass: Record<string, number>; unexplained: number }[]; unexplained: number; missing: string[] };
    const pick = (r: Report) => r.sources.map((s) => ({ oracle: s.oracle, mode: s.mode, cases: s.cases, byClass: s.byClass, unexplained: s.unexplained }));
    const installed = JSON.parse(ok(run('npx', ['--no-install', 'purgatory-oracle', 'validate', '--stored-only', '--json'], app, extra), 'npx purgatory-oracle validate')) as Report;
    const here = await runCli(['validate', '--stored-only', '--json'], extra);
    expect(here.code).toBe(0);
    const checkout = JSON.parse(here.out) as Report;
    expect(installed.sources.reduce((n, s) => n + s.cases, 0)).toBeGreaterThan(0);
    expect(installed.unexplained).toBe(0);
    expect(installed.missing).toEqual([]);
    expect(pick(installed)).toEqual(pick(checkout));
  });

  // scripts/build-kernel-oracle.sh generates the kernel oracle's C file through the CLI: from an
  // installed package that is dist/, with no tsx. Reference: the C file the built oracle was compiled from.
  const kernelSrc = join(cacheDir(), 'kernel', 'src', '6.12');
  const kernelBuilt = join(cacheDir(), 'build', 'kernel-6.12-x86_64', 'kernel_functions.c');
  const haveKernel = existsSync(kernelSrc) && existsSync(kernelBuilt);
  if (!haveKernel && CI) throw new Error(`kernel 6.12 sources or oracle missing under ${cacheDir()} (CI builds them in .ci/run)`);
  it.skipIf(!haveKernel)('npx purgatory-oracle oracle gen-kernel-sources (build-kernel-oracle.sh) runs from dist', () => {
    const cache = join(dir, 'kernel-cache');
    mkdirSync(join(cache, 'kernel', 'src'), { recursive: true });
    symlinkSync(kernelSrc, join(cache, 'kernel', 'src', '6.12'));
    ok(run('npx', ['--no-install', 'purgatory-oracle', 'oracle', 'gen-kernel-sources', '--cache', cache, '--versions', '6.12', '--variants', 'x86_64'], app), 'gen-kernel-sources');
    const body = (f: string) => readFileSync(f, 'utf8').split('\n').slice(1).join('\n');
    expect(body(join(cache, 'build', 'kernel-6.12-x86_64', 'kernel_functions.c'))).toBe(body(kernelBuilt));
  });

  it('npx purgatory-oracle findings list reads the reports and inputs the package carries', async () => {
    const installed = ok(run('npx', ['--no-install', 'purgatory-oracle', 'findings', 'list', '--json'], app), 'findings list');
    const here = await runCli(['findings', 'list', '--json']);
    expect(here.code).toBe(0);
    const ids = (out: string) => (JSON.parse(out) as { id: string }[]).map((f) => f.id);
    expect(ids(installed).length).toBeGreaterThan(0);
    expect(ids(installed)).toEqual(ids(here.out));
  });

  it('npx purgatory-oracle fuzz runs its worker threads from dist (TS-only robustness)', () => {
    const out = join(dir, 'fuzz-out');
    const s = JSON.parse(ok(run('npx', ['--no-install', 'purgatory-oracle', 'fuzz', '--seed', '1', '--cases', '200', '--workers', '1', '--out', out, '--json'], app), 'npx purgatory-oracle fuzz'));
    expect(s.robustness.workers).toBe(1);
    expect(s.robustness.cases).toBe(200);
    expect(s.robustness.untypedExceptions).toBe(0);
    expect(s.findings).toBe(0);
  });
});
