// The sources of a baseline commit, for the *-unchanged proofs (engine, validate, fuzz): src/,
// package.json and tsconfig.json taken with `git archive` into a temporary directory (no worktree is
// touched), with this checkout's node_modules linked in.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Baseline {
  /** The commit's full sha. */
  sha: string;
  /** Where its sources are. */
  dir: string;
  /** Remove the directory. */
  remove(): void;
}

/** Check out `ref` of the repository at `root` into a new temporary directory named after `purpose`. */
export function checkoutBaseline(root: string, ref: string, purpose: string): Baseline {
  const dir = mkdtempSync(join(tmpdir(), `${purpose}-`));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const sha = execFileSync('git', ['-C', root, 'rev-parse', ref], { encoding: 'utf8' }).trim();
    const tar = execFileSync('git', ['-C', root, 'archive', sha, 'src', 'package.json', 'tsconfig.json'], { maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    return { sha, dir, remove };
  } catch (e) {
    remove();
    throw e;
  }
}
