// The only file that parses argv. Every command returns an exit code; nothing here calls
// process.exit, so main() can be driven from tests.
import { Command, CommanderError, Option } from 'commander';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { isPurgatoryOracleError, UsageError } from './errors.ts';
import { PROFILE_IDS } from './load/profile.ts';
import { hex } from './bytes.ts';
import type { Arch, Outcome, SymbolWrite } from './types.ts';
import type { ValidateReport } from './validate/validate.ts';
import type { LiveOpener, LiveOracle } from './validate/sources.ts';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import type { ImageManifest } from './image.ts';
import type { OracleResponse } from './oracle/batch.ts';
import type { OracleListing } from './oracle/commands.ts';
import type { OracleSpec } from './fuzz/oracles.ts';

// Subcommands load their modules on demand, so `--help` and `--version` start fast.
const engineMod = () => import('./engine.ts');
const imageMod = () => import('./image.ts');
const validateMod = () => import('./validate/validate.ts');
const sourcesMod = () => import('./validate/sources.ts');
const reportMod = () => import('./validate/report.ts');
const oracleMod = () => import('./oracle/commands.ts');

export const EXIT = { ok: 0, rejected: 1, differ: 1, usage: 2, unavailable: 2, internal: 3 } as const;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}
const defaultIo: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

export function parseBigint(s: string, what: string): bigint {
  const t = s.trim().replace(/_/g, '');
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(t)) throw new UsageError(`${what}: '${s}' is not a number (use 0x… or decimal)`);
  const v = BigInt(t);
  if (v >= 1n << 64n) throw new UsageError(`${what}: '${s}' does not fit in 64 bits`);
  return v;
}

/** `NAME=HEX` → a symbol write of those bytes (hex string, in memory order). */
export function parseSymbolWrite(s: string): SymbolWrite {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set '${s}': expected NAME=HEXBYTES`);
  const hexs = s.slice(eq + 1).replace(/^0x/i, '');
  if (!/^([0-9a-f]{2})*$/i.test(hexs)) throw new UsageError(`--set '${s}': value must be an even number of hex digits (the bytes in memory order)`);
  return { name: s.slice(0, eq), bytes: Uint8Array.from(Buffer.from(hexs, 'hex')) };
}

function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

function writeOutput(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

/**
 * An outcome as `relocate` prints it. `relocationLog: false` (a live oracle's outcome, which has no
 * relocation log) says so instead of counting the relocations applied.
 */
export function formatOutcome(o: Outcome, imageManifest: (img: Extract<Outcome, { kind: 'ok' }>['image'], host?: bigint) => ImageManifest, opts: { relocationLog?: boolean } = {}): string {
  switch (o.kind) {
    case 'ok': {
      const m = imageManifest(o.image, o.hostAddress);
      const lines = [
        `ok: base ${m.base} bufsz ${hex(m.bufsz)} memsz ${m.memsz} entry ${m.entry} sha256 ${m.sha256}`,
        ...m.sections.filter((s) => s.alloc).map((s) => `  [${String(s.index).padStart(2)}] ${s.name.padEnd(24)} ${s.addr} size ${s.size}${s.nobits ? ' (nobits)' : ''}`),
        opts.relocationLog === false ? '  relocation log: not reported by the oracle' : `  ${m.relocations.length} relocation(s) applied`,
      ];
      return lines.join('\n') + '\n';
    }
    case 'rejected':
      return `rejected (${o.code}): ${o.message.trim()}\n`;
    case 'crashed':
      return `crashed: ${o.signal}${o.message ? ` ${o.message}` : ''}\n`;
    case 'timeout':
      return `timeout after ${o.ms} ms\n`;
  }
}

function build(io: Io, setCode: (c: number) => void): Command {
  const program = new Command('purgatory-oracle')
    .description('Compatibility oracle for kexec purgatory loading (kexec-tools and kernel loaders, x86_64/ppc64/ppc64le)')
    .version(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version)
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError();

  const collect = (v: string, acc: string[]) => [...acc, v];

  program
    .command('relocate')
    .description('load and relocate FILE as the chosen loader would, and print or write the image')
    .argument('<file>', 'purgatory ELF (ET_REL)')
    .requiredOption('--base <addr>', 'load base (aligned up as add_buffer would)')
    .option('--set <name=hex>', 'elf_rel_set_symbol after load (repeatable)', collect, [])
    .addOption(new Option('--profile <id>', 'loader profile').choices([...PROFILE_IDS]).default('kexec-tools'))
    .addOption(new Option('--target <arch>', 'target the reference loader was built for (default: from the file)').choices(['x86_64', 'ppc64', 'ppc64le']))
    .option('--host-address <addr>', 'host address of the image buffer (kexec-tools ppc64 REL32)', '0')
    .option('--fill <byte>', 'byte that fills fresh allocations (kexec-tools never zeroes its buffer)', '0')
    .option('-o, --output <image.bin>', 'write the image; the manifest goes beside it as .json')
    .option('--json', 'print the outcome as JSON')
    .action(async (file: string, o: { base: string; set: string[]; profile: string; target?: Arch; hostAddress: string; fill: string; output?: string; json?: boolean }) => {
      const { load } = await engineMod();
      const { imageManifest, outcomeJson } = await imageMod();
      const fill = Number(parseBigint(o.fill, '--fill'));
      if (fill > 255) throw new UsageError('--fill must be a byte (0..255)');
      const outcome = load(
        { elf: readInput(file), base: parseBigint(o.base, '--base'), fill, symbols: o.set.map(parseSymbolWrite) },
        { profile: o.profile, target: o.target, hostAddress: parseBigint(o.hostAddress, '--host-address') },
      );
      if (o.output && outcome.kind === 'ok') {
        writeOutput(o.output, outcome.image.bytes);
        writeOutput(o.output.replace(/(\.bin)?$/, '.json'), JSON.stringify(imageManifest(outcome.image, outcome.hostAddress), null, 2) + '\n');
      }
      io.out(o.json ? JSON.stringify(outcomeJson(outcome), null, 2) + '\n' : formatOutcome(outcome, imageManifest));
      setCode(outcome.kind === 'ok' ? EXIT.ok : EXIT.rejected);
    });

  program
    .command('inspect')
    .description('readelf-like summary and relocation-type histogram')
    .argument('<file>')
    .option('--json', 'JSON output')
    .action(async (file: string, o: { json?: boolean }) => {
      const { inspect, formatInspection } = await import('./inspect.ts');
      const i = inspect(readInput(file));
      io.out(o.json ? JSON.stringify(i, null, 2) + '\n' : formatInspection(i) + '\n');
    });

  const parity = (name: 'validate' | 'gate') =>
    program
      .command(name)
      .argument('[corpus]', 'corpus directory (default: the bundled corpus)')
      .option('--json', 'print the report as JSON')
      .option('--stored-only', 'use stored references only, even where live oracles are built')
      .option('--only <ids>', 'comma-separated corpus entry ids')
      .option('--max-reports <n>', 'rendered diffs per oracle', '5')
      .option('-v, --verbose', 'also render explained differences');

  const runParity = async (corpus: string | undefined, o: { json?: boolean; storedOnly?: boolean; only?: string; maxReports: string; allowMissing?: boolean; verbose?: boolean }, requireLive: boolean): Promise<ValidateReport> => {
    const { validate, DEFAULT_CORPUS } = await validateMod();
    const { planSources } = await sourcesMod();
    const corpusDir = corpus ?? DEFAULT_CORPUS;
    const only = o.only ? new Set(o.only.split(',')) : undefined;
    // The live-oracle modules (execa, the oracle drivers) load only when live oracles are wanted.
    const openLive: LiveOpener = async () => (await liveOpener())();
    const plan = await planSources(corpusDir, openLive, { requireLive, storedOnly: o.storedOnly, only });
    const report = await validate({ corpusDir, sources: plan.sources, maxReports: Number(o.maxReports) });
    report.missing = plan.missing;
    return report;
  };

  parity('validate')
    .description('compare the TS engine with every available reference over the corpus (live where built, stored otherwise)')
    .action(async (corpus: string | undefined, o) => {
      const { formatJson, formatText } = await reportMod();
      const report = await runParity(corpus, o, false);
      io.out(o.json ? formatJson(report) : formatText(report, o.verbose));
      if (!report.sources.length) io.err('purgatory-oracle: no reference available: no live oracle is built and the corpus has no stored references\n');
      setCode(report.unexplained || report.missing.length || !report.sources.length ? EXIT.differ : EXIT.ok);
    });

  parity('gate')
    .description('validate with CI semantics: exit 0 parity, 1 unexplained difference, 2 required oracle missing')
    .option('--allow-missing', 'do not fail when a required live oracle is unavailable')
    .option('--require-live', 'require every referenced oracle to be live (default when CI=true)')
    .option('--junit <path>', 'write JUnit XML')
    .option('--summary <path>', 'write a Markdown summary (also to $GITHUB_STEP_SUMMARY when set)')
    .option('--kexec-tools <path>', "build the oracle from this kexec-tools checkout or tarball first, and gate it alone (against the newest kexec-tools model)")
    .addOption(new Option('--target <arch>', 'with --kexec-tools: the target(s) to build').choices(['x86_64', 'ppc64', 'ppc64le', 'all']).default('all'))
    .action(async (corpus: string | undefined, o) => {
      const requireLive = Boolean(o.requireLive) || (process.env.CI === 'true' && !o.allowMissing);
      const { formatJson, formatJunit, formatMarkdown, formatText } = await reportMod();
      let report: ValidateReport;
      if (o.kexecTools) {
        const { validate, DEFAULT_CORPUS, loadManifest } = await validateMod();
        const { liveSource } = await sourcesMod();
        const corpusDir = corpus ?? DEFAULT_CORPUS;
        const built = await buildUserKexecTools(o.kexecTools, o.target, io);
        const only = o.only ? new Set<string>(o.only.split(',')) : undefined;
        const entries = loadManifest(corpusDir).filter((e) => !only || only.has(e.id));
        report = await validate({ corpusDir, sources: built.map((l) => liveSource(corpusDir, l, entries)), maxReports: Number(o.maxReports) });
      } else {
        report = await runParity(corpus, o, requireLive);
      }
      if (o.junit) writeOutput(o.junit, formatJunit(report));
      const md = formatMarkdown(report);
      if (o.summary) writeOutput(o.summary, md);
      if (process.env.GITHUB_STEP_SUMMARY) writeFileSync(process.env.GITHUB_STEP_SUMMARY, md, { flag: 'a' });
      io.out(o.json ? formatJson(report) : formatText(report, o.verbose));
      if (report.unexplained) setCode(EXIT.differ);
      else if ((report.missing.length && !o.allowMissing) || !report.sources.length) {
        io.err(`purgatory-oracle: required oracle(s) unavailable: ${report.missing.join(', ')} (build them with: purgatory-oracle oracle build, or pass --allow-missing)\n`);
        setCode(EXIT.unavailable);
      } else setCode(EXIT.ok);
    });

  program
    .command('fuzz')
    .description('differential fuzzing: generated purgatories through the TS engine and live oracles; with no --oracle, TS-only robustness')
    .option('--oracle <id>', 'kexec-tools-<version>/<target>[+sanitize], kernel-<version>/<target>, or all (repeatable)', collect, [])
    .option('--seed <n>', 'campaign seed: the same seed gives the same cases', '1')
    .option('--cases <n>', 'length of the case stream (default 1000 unless --time)')
    .option('--time <duration>', 'fuzzing time per oracle, e.g. 60s, 5m (triage not counted)')
    .option('--shard <i/n>', 'run only the cases k with k mod n == i', '0/1')
    .option('--mode <modes>', 'structured, mutate, malformed (comma-separated), or all', 'all')
    .option('--out <dir>', 'reproducer directory, one subdirectory per signature (default: corpus/regressions)')
    .option('--jobs <n|auto>', 'parallel jobs per oracle: worker threads, each with its own oracle process, merged into one summary (default 1; auto = CPUs)')
    .option('--workers <n>', 'TS-only: worker threads (default: CPUs, at most 8; 0 = inline)')
    .option('--replay <path>', 'replay raw ELF inputs (files, or directories such as a libFuzzer/AFL++ crash or queue directory) through the differential instead of generating cases (repeatable; needs --oracle)', collect, [])
    .option('--base <addr>', '--replay: load address of every replayed input (default 0x100000, as fuzz-entry.c)')
    .option('--fill <byte>', '--replay: heap fill byte (default 0)')
    .option('--no-minimize', 'write findings without minimizing them')
    .option('--overwrite', 'rewrite reproducers whose signature directory already exists')
    .option('--json', 'print the summary as JSON (no progress output)')
    .action(async (o) => {
      const { parseFuzzOptions, runFuzz, formatFuzzSummary } = await import('./fuzz/run.ts');
      const summary = await runFuzz(parseFuzzOptions(o), { ...io, isTTY: process.stderr.isTTY });
      io.out(formatFuzzSummary(summary, o.json));
      setCode(summary.unavailable.length ? EXIT.unavailable : summary.findings ? EXIT.differ : EXIT.ok);
    });

  program
    .command('census')
    .description('relocation types and sites per purgatory, ET_REL against PIE, and which loaders handle each type')
    .argument('<files...>', 'purgatory ELF files (ET_REL .ro and/or PIE)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text'))
    .option('--json', 'same as --format json')
    .action(async (files: string[], o: { format: 'text' | 'markdown' | 'json'; json?: boolean }) => {
      const { census, formatCensusText, formatCensusMarkdown, formatCensusJson } = await import('./pie/census.ts');
      const c = census(files.map((f) => ({ name: f.replace(/^.*\//, ''), bytes: readInput(f) })));
      const format = o.json ? 'json' : o.format;
      io.out(format === 'json' ? formatCensusJson(c) : format === 'markdown' ? formatCensusMarkdown(c) : formatCensusText(c));
      setCode(c.entries.some((e) => e.error) ? EXIT.rejected : EXIT.ok);
    });

  const findings = program.command('findings').description('defects found in the reference loaders: upstream-ready reports (docs/findings/) with patches proven by the tool');
  findings
    .command('list')
    .description('id, loader, versions, severity, status and summary of every finding (the registry joined with the reports)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { loadFindings, formatFindingsList } = await import('./findings/findings.ts');
      io.out(formatFindingsList(loadFindings(), o.json));
      setCode(EXIT.ok);
    });
  findings
    .command('show')
    .description("the finding's minimized inputs through the released oracle, against the profile the fix must match: the wrong bytes, or the crash (exit 1 when they differ, as gate)")
    .argument('<id>', 'finding id (see findings list)')
    .action(async (id: string) => {
      const { loadFindings } = await import('./findings/findings.ts');
      const { showFinding } = await import('./findings/verify.ts');
      const f = loadFindings().find((x) => x.id === id);
      if (!f) throw new UsageError(`unknown finding '${id}' (see: purgatory-oracle findings list)`);
      const r = await showFinding(f);
      io.out(r.text);
      setCode(r.differing ? EXIT.differ : EXIT.ok);
    });
  findings
    .command('verify')
    .description("apply each finding's patch to a scratch copy of the fetched source, build it as an oracle in a scratch cache, and prove it: the finding's inputs now behave as the expected profile, and no other corpus case changed (C against C)")
    .option('--id <id>', 'only this finding (repeatable)', collect, [])
    .option('--scratch <dir>', 'keep patched trees and oracle builds here (default: a temporary directory, removed afterwards)')
    .option('--json', 'print JSON')
    .action(async (o: { id: string[]; scratch?: string; json?: boolean }) => {
      const { loadFindings } = await import('./findings/findings.ts');
      const { verifyFindings, formatVerdicts } = await import('./findings/verify.ts');
      const vs = await verifyFindings(loadFindings(), { ids: o.id, scratch: o.scratch, log: o.json ? undefined : (l) => io.err(`${l}\n`) });
      io.out(formatVerdicts(vs, o.json));
      setCode(vs.every((v) => v.ok) ? EXIT.ok : EXIT.differ);
    });

  program
    .command('matrix')
    .description('where the reference implementations disagree with each other (kexec-tools versions, kernel), over the corpus')
    .argument('[corpus]', 'corpus directory (default: the bundled corpus)')
    .option('--stored-only', 'use stored references only')
    .option('--only <ids>', 'comma-separated corpus entry ids')
    .option('--json', 'JSON output')
    .action(async (corpus: string | undefined, o: { storedOnly?: boolean; only?: string; json?: boolean }) => {
      const { DEFAULT_CORPUS } = await validateMod();
      const { planSources } = await sourcesMod();
      const { crossMatrix, formatMatrix } = await import('./validate/matrix.ts');
      const corpusDir = corpus ?? DEFAULT_CORPUS;
      const plan = await planSources(corpusDir, await liveOpener(), { requireLive: false, storedOnly: o.storedOnly, only: o.only ? new Set(o.only.split(',')) : undefined });
      const rows = await crossMatrix(plan.sources);
      io.out(o.json ? JSON.stringify(rows, null, 2) + '\n' : formatMatrix(rows));
    });

  addOracleCommands(program, io, setCode, collect);
  return program;
}

/** `oracle setup|build|build-kernel|list|run`: the live oracles (src/oracle/commands.ts does the work). */
function addOracleCommands(program: Command, io: Io, setCode: (c: number) => void, collect: (v: string, acc: string[]) => string[]): void {
  const oracle = program.command('oracle').description('set up, build, list and run the live oracles (the real C loaders)');
  const log = (line: string) => io.err(`${line}\n`);

  oracle
    .command('setup')
    .description('install the toolchains (scripts/setup-toolchains.sh) and fetch kexec-tools sources from Debian (scripts/fetch-kexec-tools.sh)')
    .option('--kexec-tools <version>', 'a kexec-tools version to fetch (repeatable; default: every known version)', collect, [])
    .option('--json', 'print what was fetched as JSON')
    .action(async (o: { kexecTools: string[]; json?: boolean }) => {
      const { KEXEC_TOOLS_VERSIONS } = await import('./oracle/registry.ts');
      const known = Object.keys(KEXEC_TOOLS_VERSIONS);
      for (const v of o.kexecTools) if (!known.includes(v)) throw new UsageError(`--kexec-tools '${v}': known versions are ${known.join(', ')} (a local tree is built with: oracle build --kexec-tools PATH)`);
      const { oracleSetup } = await oracleMod();
      const r = await oracleSetup({ versions: o.kexecTools.length ? o.kexecTools : undefined, log });
      if (o.json) io.out(JSON.stringify(r, null, 2) + '\n');
      else {
        for (const f of r.fetched) io.out(`fetched kexec-tools ${f.version}: ${f.path}\n`);
        for (const f of r.failed) io.out(`not fetched kexec-tools ${f.version} (exit ${f.exitCode}): ${f.message.split('\n').pop()}\n`);
      }
      setCode(r.failed.length ? EXIT.unavailable : EXIT.ok);
    });

  oracle
    .command('build')
    .description('build the kexec-tools oracle (scripts/build-oracle.sh) from a Debian version, fetched on demand, or from your tree or tarball; prints each oracle built')
    .option('--kexec-tools <version|path>', 'upstream version (see oracle setup), all (every fetched version), or a kexec-tools tree or tarball', '2.0.25')
    .addOption(new Option('--target <arch>', 'target to build').choices(['x86_64', 'ppc64', 'ppc64le', 'all']).default('all'))
    .option('--sanitize', 'the ASan+UBSan build (x86_64 only)')
    .option('--force', 'rebuild even when up to date')
    .action(async (o: { kexecTools: string; target: Arch | 'all'; sanitize?: boolean; force?: boolean }) => {
      const { oracleBuild } = await oracleMod();
      // The script runs in the repository: a path is made absolute here, a version is passed as is.
      const version = /^(\d+\.\d+\.\d+|all)$/.test(o.kexecTools) ? o.kexecTools : resolve(o.kexecTools);
      const built = await oracleBuild({ version, target: o.target, sanitize: o.sanitize, force: o.force, log });
      for (const p of built) io.out(`${p}\n`);
    });

  oracle
    .command('build-kernel')
    .description("build the kernel's kexec_file purgatory loader as an oracle (scripts/build-kernel-oracle.sh), from Debian's linux sources or your checkout")
    .argument('[version]', 'kernel version: 5.10, 6.1, 6.12 or all', 'all')
    .addOption(new Option('--variant <variant>', 'x86_64 (the x86_64 loader) or ppc64le (the generic loader, 64K pages)').choices(['x86_64', 'ppc64le', 'all']).default('all'))
    .option('--kernel-src <path>', 'take the sources from this kernel checkout (one version)')
    .action(async (version: string, o: { variant: 'x86_64' | 'ppc64le' | 'all'; kernelSrc?: string }) => {
      const { KERNEL_VERSIONS } = await import('./oracle/kernel.ts');
      const v = ([...KERNEL_VERSIONS, 'all'] as const).find((x) => x === version);
      if (!v) throw new UsageError(`kernel version '${version}': expected ${KERNEL_VERSIONS.join(', ')} or all`);
      if (o.kernelSrc && v === 'all') throw new UsageError('--kernel-src builds one version: name it (5.10, 6.1 or 6.12)');
      const { oracleBuildKernel } = await oracleMod();
      const built = await oracleBuildKernel({ version: v, variant: o.variant, kernelSrc: o.kernelSrc ? resolve(o.kernelSrc) : undefined, log });
      for (const k of built) io.out(`${k.binary}\n`);
    });

  oracle
    .command('list')
    .description('the built oracles: id, version, target, features, emulator, paths')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => {
      const { oracleList } = await oracleMod();
      const list = await oracleList();
      io.out(o.json ? JSON.stringify(list, null, 2) + '\n' : formatOracleList(list));
      if (!list.length) io.err('purgatory-oracle: no oracle is built; build one with: purgatory-oracle oracle build (kexec-tools) or oracle build-kernel\n');
    });

  oracle
    .command('run')
    .description('load FILE in one live oracle and print its outcome as `relocate` prints the TS engine\'s')
    .argument('<file>', 'purgatory ELF (ET_REL)')
    .requiredOption('--oracle <id>', 'kexec-tools-<version>/<target>[+sanitize] or kernel-<version>/<target> (see oracle list)')
    .requiredOption('--base <addr>', 'load base (aligned up as add_buffer would)')
    .option('--set <name=hex>', 'elf_rel_set_symbol after load (repeatable)', collect, [])
    .option('--fill <byte>', 'byte that fills fresh allocations (kexec-tools never zeroes its buffer)', '0')
    .option('--json', 'print the outcome as JSON')
    .action(async (file: string, o: { oracle: string; base: string; set: string[]; fill: string; json?: boolean }) => {
      const { parseOracleSpec } = await import('./fuzz/oracles.ts');
      const target = parseOracleSpec(o.oracle);
      const fill = Number(parseBigint(o.fill, '--fill'));
      if (fill > 255) throw new UsageError('--fill must be a byte (0..255)');
      const elf = readInput(file);
      const req = { elf, base: parseBigint(o.base, '--base'), fill, symbols: o.set.map(parseSymbolWrite) };
      const { oracleRunOne } = await oracleMod();
      const { spec, response } = await oracleRunOne(target, req);
      const view = await oracleOutcomeView(spec, response, elf);
      if (response.kind !== 'crashed' && response.kind !== 'timeout' && response.diagnostics) io.err(response.diagnostics.endsWith('\n') ? response.diagnostics : `${response.diagnostics}\n`);
      io.out(o.json ? JSON.stringify(view.json, null, 2) + '\n' : view.text);
      setCode(response.kind === 'ok' ? EXIT.ok : EXIT.rejected);
    });
}

export function formatOracleList(list: OracleListing[]): string {
  const rows = list.map((b) => [
    b.id,
    b.emulator ? `under ${b.emulator}` : 'native',
    `page ${b.pageSize ?? '?'}`,
    b.features.length ? `features ${b.features.join(',')}` : 'features -',
    b.local ? `local ${b.source ?? ''}` : (b.source ?? ''),
    b.oracle,
  ]);
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ') + '\n').join('');
}

/**
 * A live oracle's response in `relocate`'s form: an ok image with its sections named and sized from
 * the ELF (the C loaders report only their addresses), a rejection by the class compareOutcomes
 * gives it (its die() line), crashes and timeouts as they are.
 */
async function oracleOutcomeView(spec: OracleSpec, r: OracleResponse, elf: Uint8Array): Promise<{ text: string; json: unknown }> {
  const { imageManifest, outcomeJson } = await imageMod();
  const head = { oracle: spec.id, profile: spec.profile };
  if (r.kind === 'rejected') {
    const { refRejectionClass, refRejectionText } = await import('./compare/compare.ts');
    const text = refRejectionText(r);
    const cls = refRejectionClass(text, spec.refClasses);
    return { text: `rejected (${cls}): ${text.trim()}\n`, json: { ...head, kind: 'rejected', code: cls, message: r.message, errno: r.errno } };
  }
  const { responseToOutcome } = await import('./oracle/kexec-tools.ts');
  const outcome = responseToOutcome(r);
  if (outcome.kind !== 'ok') return { text: formatOutcome(outcome, imageManifest), json: { ...head, ...(outcomeJson(outcome) as object) } };
  await nameSections(outcome.image.sections, elf);
  const { relocations: _none, ...image } = imageManifest(outcome.image, outcome.hostAddress);
  return { text: formatOutcome(outcome, imageManifest, { relocationLog: false }), json: { ...head, kind: 'ok', image } };
}

/** Section names, sizes and flags from the file's headers, where they can be read. */
async function nameSections(sections: { index: number; name: string; size: bigint; alloc: boolean; nobits: boolean }[], elf: Uint8Array): Promise<void> {
  const { ElfFile } = await import('./elf/reader.ts');
  const { SHF_ALLOC, SHT_NOBITS } = await import('./elf/constants.ts');
  let file: InstanceType<typeof ElfFile>;
  try {
    file = new ElfFile(elf);
  } catch (e) {
    if (isPurgatoryOracleError(e)) return;
    throw e;
  }
  for (const s of sections) {
    const h = file.sections[s.index];
    if (!h) continue;
    s.size = h.size;
    s.alloc = (h.flags & BigInt(SHF_ALLOC)) !== 0n;
    s.nobits = h.type === SHT_NOBITS;
    try {
      s.name = file.sectionName(s.index);
    } catch (e) {
      if (!isPurgatoryOracleError(e)) throw e;
    }
  }
}

/** Build the kexec-tools oracle from a user's tree with scripts/build-oracle.sh and open it. */
async function buildUserKexecTools(path: string, target: string, io: Io): Promise<LiveOracle[]> {
  const { execa } = await import('execa');
  const { KexecToolsOracle } = await import('./oracle/kexec-tools.ts');
  const { OracleUnavailableError, readKexecToolsBuild } = await import('./oracle/registry.ts');
  const script = fileURLToPath(new URL('../scripts/build-oracle.sh', import.meta.url));
  const r = await execa('bash', [script, '--kexec-tools', resolve(path), '--target', target], { reject: false, stderr: 'pipe', stdout: 'pipe' });
  io.err(r.stderr ? r.stderr + '\n' : '');
  if (r.exitCode !== 0) throw new OracleUnavailableError(`building the kexec-tools oracle from ${path} failed (exit ${r.exitCode})`, `bash ${script} --kexec-tools ${path} --target ${target}`);
  const dirs = String(r.stdout).split('\n').filter((l) => l.endsWith('/oracle')).map((l) => dirname(l));
  return dirs.map((d) => KexecToolsOracle.fromBuild(readKexecToolsBuild(d)));
}

let liveOpenerOverride: LiveOpener | undefined;
const liveOpener = async (): Promise<LiveOpener> => liveOpenerOverride ?? (await import('./validate/live.ts')).openLiveOracles;
/** Tests swap the live-oracle discovery (e.g. to simulate a missing oracle); undefined restores it. */
export function setLiveOpener(f: LiveOpener | undefined): void {
  liveOpenerOverride = f;
}

/** Run the CLI; returns the exit code. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = build(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (isPurgatoryOracleError(e)) {
      io.err(`purgatory-oracle: ${(e as Error).message}\n`);
      // A missing oracle, or a setup/build script that failed (OracleCommandError): unavailable.
      const name = (e as Error).name;
      return name === 'OracleUnavailableError' || name === 'OracleCommandError' || e instanceof UsageError ? EXIT.usage : EXIT.rejected;
    }
    io.err(`purgatory-oracle: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return EXIT.internal;
  }
}

// Run directly (`npx tsx src/cli.ts …`, the replay line of a fuzz reproducer's report, `npm run
// validate`): the same main() the bin/ launcher calls. Imported as a module, nothing runs.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
