// Generates, per kernel version and variant, the C file that puts the kernel's own purgatory
// loader functions (extracted unmodified from the fetched sources) in front of our shim, plus
// functions.json recording which function came from which file:line.
//
//   npx tsx scripts/kernel/gen-kernel-oracle.ts --cache DIR --versions 5.10,6.1,6.12 \
//       --variants x86_64,ppc64le
//
// Writes $CACHE/build/kernel-<ver>-<variant>/{kernel_functions.c,functions.json}, rewriting a file
// only when its content changes (so the build script can skip compiling).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generate, type Variant } from '../../src/oracle/kernel-gen.ts';

export { generate, type Variant, type Generated, type FunctionRecord } from '../../src/oracle/kernel-gen.ts';

function writeIfChanged(path: string, content: string): boolean {
  if (existsSync(path) && readFileSync(path, 'utf8') === content) return false;
  writeFileSync(path, content);
  return true;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      cache: { type: 'string' },
      versions: { type: 'string', default: '5.10,6.1,6.12' },
      variants: { type: 'string', default: 'x86_64,ppc64le' },
    },
  });
  if (!values.cache) throw new Error('--cache DIR is required');
  for (const ver of values.versions.split(',')) {
    const srcDir = join(values.cache, 'kernel', 'src', ver);
    for (const variant of values.variants.split(',') as Variant[]) {
      if (variant !== 'x86_64' && variant !== 'ppc64le') throw new Error(`unknown variant ${variant}`);
      const out = join(values.cache, 'build', `kernel-${ver}-${variant}`);
      mkdirSync(out, { recursive: true });
      const g = generate(srcDir, variant);
      const changed = writeIfChanged(join(out, 'kernel_functions.c'), g.c);
      writeIfChanged(join(out, 'functions.json'), JSON.stringify(g.functions, null, 2) + '\n');
      const where = g.functions.map((f) => `${f.name}@${f.file}:${f.startLine}`).join(' ');
      process.stderr.write(`gen-kernel-oracle: ${ver} ${variant}: ${changed ? 'written' : 'unchanged'}; ${where}\n`);
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (e) {
    process.stderr.write(`gen-kernel-oracle: error: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
