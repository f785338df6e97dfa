// Proof that a change leaves `validate --stored-only` reports as they were: runs the CLI of this
// checkout and that of a baseline commit over the same corpus, and compares the reports with their
// timing removed (JSON: `wallMs`; text: the seconds on the last line).
//
//   npx tsx scripts/validate-unchanged.ts [BASE_REF] [CORPUS_DIR]
//
// BASE_REF defaults to where this branch left main (git merge-base HEAD main); CORPUS_DIR to ./corpus.
//
// The baseline's sources are taken with `git archive` into a temporary directory (no worktree is
// touched) and run through tsx; this checkout runs through bin/ (dist/ when fresh). Exit 0 when
// every report is identical, 1 otherwise (the first differing lines are printed).
import { checkoutBaseline } from './baseline.ts';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [refArg, corpusArg] = process.argv.slice(2);
const baseRef = refArg ?? execFileSync('git', ['-C', root, 'merge-base', 'HEAD', 'main'], { encoding: 'utf8' }).trim();
const corpus = resolve(corpusArg ?? join(root, 'corpus'));

/** The report variants compared: arguments after `validate CORPUS --stored-only`. */
const VARIANTS: { name: string; args: string[] }[] = [
  { name: 'json', args: ['--json'] },
  { name: 'text', args: [] },
  { name: 'text --verbose', args: ['--verbose'] },
  { name: 'json --max-reports 1000', args: ['--json', '--max-reports', '1000'] },
];

function normalise(name: string, out: string): string {
  if (name.startsWith('json')) {
    const r = JSON.parse(out) as { wallMs?: number };
    delete r.wallMs;
    return JSON.stringify(r, null, 2);
  }
  // "N cases, M unexplained[ cases in K root causes], S.SS s"
  return out.replace(/^(\d+ cases, \d+ unexplained.*), [\d.]+ s$/m, '$1, <time> s');
}

function run(cmd: string[], cwd: string): string {
  const r = spawnSync(process.execPath, cmd, { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const baseline = checkoutBaseline(root, baseRef, 'validate-unchanged');
const baseDir = baseline.dir;
const sha = baseline.sha;
let differ = 0;
try {
  const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  if (!existsSync(tsx)) throw new Error(`tsx not found at ${tsx}`);
  console.log(`baseline ${baseRef} (${sha.slice(0, 12)}) vs this checkout, corpus ${corpus}`);
  for (const v of VARIANTS) {
    const base = normalise(v.name, run([tsx, join(baseDir, 'src', 'cli.ts'), 'validate', corpus, '--stored-only', ...v.args], baseDir));
    const head = normalise(v.name, run([join(root, 'bin', 'purgatory-oracle.mjs'), 'validate', corpus, '--stored-only', ...v.args], root));
    if (base === head) {
      console.log(`  ${v.name}: identical (${head.length} characters)`);
      continue;
    }
    differ++;
    const a = base.split('\n');
    const b = head.split('\n');
    const i = a.findIndex((l, k) => l !== b[k]);
    console.log(`  ${v.name}: DIFFERS from line ${i + 1}:\n    base: ${a.slice(i, i + 5).join('\n          ')}\n    head: ${b.slice(i, i + 5).join('\n          ')}`);
  }
} finally {
  baseline.remove();
}
process.exitCode = differ ? 1 : 0;
