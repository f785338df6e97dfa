// Benchmark of the live kexec-tools oracle: cases/s through the batched, pipelined protocol vs one
// process per request, end to end from TypeScript, plus the in-process C cost (bench-load).
//
//   npx tsx scripts/bench-oracle.ts [--version 2.0.25] [--targets x86_64,ppc64le]
//                                   [--cases N] [--single M] [--elf-x86_64 F] [--elf-ppc64le F] [--json]
//
// Defaults load the Debian kexec-tools 2.0.25 purgatories of the corpus (~40 KB each).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { BatchOracle } from '../src/oracle/batch.ts';
import { KexecToolsOracle } from '../src/oracle/kexec-tools.ts';
import { kexecToolsBuildDir, readKexecToolsBuild, REPO_DIR } from '../src/oracle/registry.ts';
import type { Arch, LoadRequest } from '../src/types.ts';

const DEFAULT_ELF: Partial<Record<Arch, string>> = {
  x86_64: 'corpus/elf/debian-kexec-tools-2.0.25-3_deb12u3-amd64.ro',
  ppc64: 'corpus/elf/src-kexec-tools-2.0.25-ppc64-gcc-O2.ro',
  ppc64le: 'corpus/elf/debian-kexec-tools-2.0.25-3_deb12u3-ppc64el.ro',
};

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

const version = arg('version', '2.0.25');
const targets = arg('targets', 'x86_64,ppc64le').split(',') as Arch[];
const json = process.argv.includes('--json');

interface Row {
  target: Arch;
  elf: string;
  elfBytes: number;
  mode: string;
  cases: number;
  seconds: number;
  casesPerSecond: number;
  note?: string;
}

const requests = (elf: Uint8Array, n: number): LoadRequest[] =>
  Array.from({ length: n }, (_, i) => ({ elf, base: 0x10_0000n + BigInt(i % 1024) * 0x1000n, fill: i & 0xff, symbols: [] }));

async function benchTarget(target: Arch): Promise<Row[]> {
  const elfPath = arg(`elf-${target}`, DEFAULT_ELF[target] ?? '');
  const abs = join(REPO_DIR, elfPath);
  if (!elfPath || !existsSync(abs)) throw new Error(`no ELF for ${target}: ${elfPath} (pass --elf-${target})`);
  const elf = new Uint8Array(readFileSync(abs));
  const build = readKexecToolsBuild(kexecToolsBuildDir(version, target), { version, target });
  const emulated = build.emulator !== null;
  const nBatch = Number(arg('cases', emulated ? '5000' : '20000'));
  const nSingle = Number(arg('single', emulated ? '40' : '200'));
  const rows: Row[] = [];
  const row = (mode: string, cases: number, seconds: number, note?: string): Row => ({ target, elf: elfPath, elfBytes: elf.length, mode, cases, seconds, casesPerSecond: cases / seconds, note });

  // sanity: the file loads
  {
    const o = KexecToolsOracle.fromBuild(build);
    const r = await o.run(requests(elf, 1)[0]!);
    await o.close();
    if (r.kind !== 'ok') throw new Error(`${elfPath} does not load on ${target}: ${JSON.stringify(r)}`);
  }

  // 1. batched + pipelined, one process, end to end (process start included); with the
  //    same-elf extension (the ELF crosses the pipe once) and without it (every request carries it)
  for (const sameElf of [true, false]) {
    const reqs = requests(elf, nBatch);
    const t0 = performance.now();
    const o = KexecToolsOracle.fromBuild(build, { sameElf });
    const out = await o.runMany(reqs);
    await o.close();
    const s = (performance.now() - t0) / 1000;
    const ok = out.filter((r) => r.kind === 'ok').length;
    rows.push(row(`batched, pipelined${sameElf ? ', same-elf' : ', full ELF'}`, nBatch, s, ok === nBatch ? undefined : `${nBatch - ok} not ok`));
  }

  // 2. one process per request (spawn, one request, PEND, exit)
  {
    const reqs = requests(elf, nSingle);
    const cmd = build.emulator ? { file: build.emulator, args: [build.oracle] } : { file: build.oracle, args: [] };
    const t0 = performance.now();
    for (const r of reqs) {
      const o = new BatchOracle({ ...cmd, label: 'single' });
      const res = await o.run(r);
      await o.close();
      if (res.kind !== 'ok') throw new Error(`single-process run failed: ${JSON.stringify(res)}`);
    }
    rows.push(row('one process per request', nSingle, (performance.now() - t0) / 1000));
  }

  // 3. in-process C only (bench-load: same objects, no IPC, no process start)
  if (build.benchLoad) {
    const n = emulated ? 2000 : 20000;
    const cmd = build.emulator ? [build.emulator, build.benchLoad] : [build.benchLoad];
    const outText = execFileSync(cmd[0]!, [...cmd.slice(1), abs, String(n)], { encoding: 'utf8' });
    const res = JSON.parse(outText) as { ns_per_load: number; status: string };
    rows.push(row('in-process C (bench-load)', n, (res.ns_per_load * n) / 1e9, res.status === 'ok' ? undefined : res.status));
  }
  return rows;
}

const all: Row[] = [];
const load0 = loadavg()[0]!;
for (const t of targets) all.push(...(await benchTarget(t)));
if (json) {
  process.stdout.write(`${JSON.stringify({ version, loadavg: load0, rows: all }, null, 2)}\n`);
} else {
  console.log(`kexec-tools ${version} oracle benchmark (load average at start ${load0.toFixed(2)}, ${(await import('node:os')).cpus().length} CPUs)`);
  for (const r of all) {
    console.log(
      `${r.target.padEnd(8)} ${r.mode.padEnd(32)} ${String(r.cases).padStart(6)} cases ${r.seconds.toFixed(2).padStart(8)} s ${r.casesPerSecond.toFixed(0).padStart(9)} cases/s  (${r.elfBytes} B ELF)${r.note ? ` ${r.note}` : ''}`,
    );
  }
}
