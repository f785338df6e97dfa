// Relocation census of purgatories, ET_REL against PIE, with the loaders that handle each type
// (src/pie/census.ts). Until `purgatory-oracle census` is wired into the CLI this is its driver.
//
// Usage: npx tsx scripts/pie/census.ts [--text|--markdown|--json] [--version V] [FILE...]
//   without FILEs: the corpus' kexec-tools source builds of version V (default 2.0.25), ET_REL and PIE.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { census, formatCensusJson, formatCensusMarkdown, formatCensusText } from '../../src/pie/census.ts';
import { REPO, isMain } from '../corpus/common.ts';

function main(argv: string[]): number {
  let format: 'text' | 'markdown' | 'json' = 'text';
  let version = '2.0.25';
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--text') format = 'text';
    else if (a === '--markdown') format = 'markdown';
    else if (a === '--json') format = 'json';
    else if (a === '--version') version = argv[++i]!;
    else files.push(a);
  }
  if (files.length === 0) {
    const dir = join(REPO, 'corpus/elf');
    for (const f of readdirSync(dir).sort()) if (f.startsWith(`src-kexec-tools-${version}-`)) files.push(join(dir, f));
  }
  const c = census(files.map((f) => ({ name: f.replace(/^.*\//, ''), bytes: new Uint8Array(readFileSync(f)) })));
  process.stdout.write(format === 'json' ? formatCensusJson(c) : format === 'markdown' ? formatCensusMarkdown(c) : formatCensusText(c));
  return c.entries.some((e) => e.error) ? 1 : 0;
}

if (isMain(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
