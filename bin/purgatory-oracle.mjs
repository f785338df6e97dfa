#!/usr/bin/env node
// Launcher. Runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` runs through
// `prepare`). In a checkout where a source file is newer than dist/ and tsx (a devDependency) is
// installed, it runs the TypeScript sources through tsx instead, so an edited checkout never runs
// stale code. An installed package has no tsx: it always runs dist/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist', 'cli.js');
const src = join(root, 'src');

function newestSource(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestSource(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

async function tsxRegister() {
  try {
    return (await import('tsx/esm/api')).register;
  } catch (e) {
    if (e?.code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw e;
  }
}

const haveDist = existsSync(dist);
let mod;
if (haveDist && (!existsSync(src) || statSync(dist).mtimeMs >= newestSource(src))) {
  mod = await import(pathToFileURL(dist).href);
} else {
  const register = await tsxRegister();
  if (register) {
    register();
    mod = await import(pathToFileURL(join(src, 'cli.ts')).href);
  } else if (haveDist) {
    process.stderr.write('purgatory-oracle: dist/ is older than src/ and tsx is not installed; running dist/ (rebuild it with: npm run build)\n');
    mod = await import(pathToFileURL(dist).href);
  } else {
    process.stderr.write('purgatory-oracle: dist/ is missing and tsx is not installed; build it with: npm run build\n');
    process.exit(3);
  }
}
process.exitCode = await mod.main(process.argv.slice(2));
