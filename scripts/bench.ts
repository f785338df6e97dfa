// Benchmark (not a test): TS engine vs the native C kexec-tools loader, in one run on one machine.
//   npm run bench [-- --quick]
// Prints a table and writes it to bench-results.md. Reports medians and TS/C ratios.
import { readFileSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { resolve } from 'node:path';
import { load } from '../src/engine.ts';
import { buildObject } from '../src/elf/writer.ts';
import { R_X86_64 } from '../src/arch/x86_64.ts';
import { listKexecToolsOracles } from '../src/oracle/registry.ts';
import { KexecToolsOracle } from '../src/oracle/kexec-tools.ts';
import { DEFAULT_CORPUS, loadManifest } from '../src/validate/validate.ts';
import tmp from 'tmp';

const quick = process.argv.includes('--quick');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: string[][] = [];
const row = (...r: (string | number)[]) => { rows.push(r.map(String)); console.log(r.join('\t')); };

function tsNsPerLoad(elf: Uint8Array, n: number): number {
  const req = { elf, base: 0x100000n, fill: 0, symbols: [] };
  for (let i = 0; i < Math.min(200, n); i++) load(req, { profile: 'kexec-tools-2.0.25', log: false });
  const samples: number[] = [];
  for (let s = 0; s < 5; s++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) load(req, { profile: 'kexec-tools-2.0.25', log: false });
    samples.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return median(samples);
}

async function cNsPerLoad(benchLoad: string, file: string, n: number): Promise<number> {
  const samples: number[] = [];
  for (let s = 0; s < 5; s++) {
    const { stdout } = await execa(benchLoad, [file, String(n)]);
    samples.push((JSON.parse(stdout) as { ns_per_load: number }).ns_per_load);
  }
  return median(samples);
}

function synthetic(nrel: number): Uint8Array {
  const textSize = 16 * 1024;
  return buildObject({
    endian: 'little', machine: 62,
    sections: [{ name: '.text', flags: 0x6n, data: new Uint8Array(textSize), addralign: 16n }],
    symbols: [{ name: 'f', section: '.text', value: 0x10n, type: 2 }],
    relocations: Array.from({ length: nrel }, (_, i) => ({ section: '.text', offset: BigInt((i * 8) % (textSize - 8)), type: R_X86_64['64'], symbol: 'f', addend: BigInt(i) })),
  });
}

const builds = listKexecToolsOracles();
const x86 = builds.find((b) => b.target === 'x86_64' && !b.sanitize && b.benchLoad);
const corpus = DEFAULT_CORPUS;
const entries = loadManifest(corpus).filter((e) => e.arch === 'x86_64' && e.file.endsWith('.ro')).slice(0, quick ? 2 : 6);
const dir = tmp.dirSync({ unsafeCleanup: true });

row('what', 'TS ns/load', 'C ns/load', 'TS/C');
for (const e of entries) {
  const file = resolve(corpus, '..', e.file);
  const elf = new Uint8Array(readFileSync(file));
  const ts = tsNsPerLoad(elf, quick ? 200 : 1000);
  const c = x86?.benchLoad ? await cNsPerLoad(x86.benchLoad, file, 20000) : NaN;
  row(e.id, ts.toFixed(0), c.toFixed(0), (ts / c).toFixed(1));
}
for (const n of quick ? [1000, 10000] : [1000, 10000, 100000, 1000000]) {
  const elf = synthetic(n);
  const file = resolve(dir.name, `syn-${n}.o`);
  writeFileSync(file, elf);
  const reps = Math.max(1, Math.floor(200000 / n));
  const ts = tsNsPerLoad(elf, reps);
  const c = x86?.benchLoad ? await cNsPerLoad(x86.benchLoad, file, Math.max(3, Math.floor(2000000 / n))) : NaN;
  row(`synthetic ${n} relocations`, ts.toFixed(0), c.toFixed(0), (ts / c).toFixed(1));
}

// Differential cases per second, end to end (oracle + TS engine), batched vs one process per request.
for (const target of ['x86_64', 'ppc64le'] as const) {
  const b = builds.find((x) => x.target === target && !x.sanitize);
  const e = loadManifest(corpus).find((x) => x.arch === target && x.file.endsWith('.ro'));
  if (!b || !e) continue;
  const elf = new Uint8Array(readFileSync(resolve(corpus, '..', e.file)));
  const reqs = Array.from({ length: quick ? 500 : 3000 }, (_, i) => ({ elf, base: 0x100000n + BigInt(i) * 0x10000n, fill: 0, symbols: [] }));
  const o = KexecToolsOracle.fromBuild(b);
  await o.runMany(reqs.slice(0, 10));
  const t0 = performance.now();
  const outs = await o.runMany(reqs);
  outs.forEach((r, i) => load(reqs[i]!, { profile: 'kexec-tools-2.0.25', target, hostAddress: r.kind === 'ok' ? r.hostBuf : 0n, log: false }));
  const batched = reqs.length / ((performance.now() - t0) / 1000);
  await o.close();
  const single = quick ? 10 : 30;
  const t1 = performance.now();
  for (let i = 0; i < single; i++) {
    const p = KexecToolsOracle.fromBuild(b);
    await p.run(reqs[i]!);
    await p.close();
  }
  const perProcess = single / ((performance.now() - t1) / 1000);
  row(`differential cases/s ${target} (batched | process per request)`, batched.toFixed(0), perProcess.toFixed(1), (batched / perProcess).toFixed(0) + 'x');
}

// validate wall time (stored references) and CLI cold start.
const cli = resolve(import.meta.dirname, '../bin/purgatory-oracle.mjs');
const v0 = performance.now();
await execa(cli, ['validate', '--stored-only'], { reject: false });
row('validate --stored-only wall ms', (performance.now() - v0).toFixed(0), '', '');
const cold: number[] = [];
for (let i = 0; i < 5; i++) {
  const c0 = performance.now();
  await execa(cli, ['--version']);
  cold.push(performance.now() - c0);
}
row('CLI cold start ms (median of 5)', median(cold).toFixed(0), '', '');

const md = ['| what | TS | C | ratio |', '| --- | ---: | ---: | ---: |', ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`)].join('\n');
writeFileSync('bench-results.md', `# purgatory-oracle benchmark\n\n${new Date().toISOString()} · node ${process.version} · ${process.arch}\n\n${md}\n`);
dir.removeCallback();
