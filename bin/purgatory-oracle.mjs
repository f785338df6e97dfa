#!/usr/bin/env node
// Launcher. Runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` runs through
// `prepare`) when it is at least as new as every source file; otherwise runs the TypeScript
// sources through tsx, so an edited checkout never runs stale code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist', 'cli.js');

function newestSource(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestSource(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

let mod;
if (existsSync(dist) && statSync(dist).mtimeMs >= newestSource(join(root, 'src'))) {
  mod = await import(pathToFileURL(dist).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import(pathToFileURL(join(root, 'src', 'cli.ts')).href);
}
process.exitCode = await mod.main(process.argv.slice(2));
