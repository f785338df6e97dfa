// The only file that parses argv. Every command returns an exit code; nothing here calls
// process.exit, so main() can be driven from tests.
import { Command, CommanderError, Option } from 'commander';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { isPurgatoryOracleError, requireMatches, UsageError } from './errors.ts';
import { ALL_TARGETS } from './arch/targets.ts';
import { KEXEC_TOOLS_TARGETS } from './oracle/registry.ts';
import { PROFILE_IDS } from './load/profile.ts';
import { hex } from './bytes.ts';
import type { Arch, Outcome, SymbolWrite } from './types.ts';
import type { ValidateReport } from './validate/validate.ts';
import type { GateReport } from './gate/gate.ts';
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

/** A validate/gate run that checked no case is an error (exit 2), never a pass: says why on stderr. */
function emptyRun(report: ValidateReport, io: Io): boolean {
  if (report.sources.reduce((n, s) => n + s.cases, 0) > 0) return false;
  io.err(report.sources.length
    ? `purgatory-oracle: 0 cases checked: no selected corpus entry has the architecture of the selected oracles (${report.sources.map((s) => s.oracle).join(', ')})\n`
    : 'purgatory-oracle: 0 cases checked: no reference available (no live oracle is built and the corpus has no stored references for the selection)\n');
  return true;
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
    .addOption(new Option('--target <arch>', 'target the reference loader was built for (default: from the file)').choices([...ALL_TARGETS]))
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
      .option('--oracle <ids>', 'only these reference oracles (comma-separated or repeatable, see oracle list): a build of a local tree is used only when named here', collect, [])
      .option('--max-reports <n>', 'root causes whose representative is rendered in full', '5')
      .option('--html <path>', 'write a self-contained HTML report (root causes, image maps, registry coverage)')
      .option('-v, --verbose', 'also render explained differences');

  const idSet = (v: string | string[] | undefined): Set<string> | undefined => {
    const ids = (Array.isArray(v) ? v : v ? [v] : []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
    return ids.length ? new Set(ids) : undefined;
  };
  const planParity = async (corpus: string | undefined, o: { storedOnly?: boolean; only?: string; oracle?: string[] }, requireLive: boolean) => {
    const { DEFAULT_CORPUS } = await validateMod();
    const { planSources } = await sourcesMod();
    const corpusDir = corpus ?? DEFAULT_CORPUS;
    // The live-oracle modules (execa, the oracle drivers) load only when live oracles are wanted.
    let live: LiveOracle[] = [];
    const openLive: LiveOpener = async (sel) => (live = await (await liveOpener())(sel));
    const plan = await planSources(corpusDir, openLive, { requireLive, storedOnly: o.storedOnly, only: idSet(o.only), oracles: idSet(o.oracle) });
    return { corpusDir, plan, live };
  };
  const writeHtml = async (path: string | undefined, report: ValidateReport) => {
    if (path) writeOutput(path, (await import('./report/html.ts')).formatHtml(report));
  };
  const runParity = async (corpus: string | undefined, o: { storedOnly?: boolean; only?: string; oracle?: string[]; maxReports: string; html?: string }, requireLive: boolean): Promise<ValidateReport> => {
    const { validate } = await validateMod();
    const { corpusDir, plan } = await planParity(corpus, o, requireLive);
    const report = await validate({ corpusDir, sources: plan.sources, maxReports: Number(o.maxReports), imageMaps: Boolean(o.html) });
    report.missing = plan.missing;
    return report;
  };

  parity('validate')
    .description('compare the TS engine with every available reference over the corpus (live where built, stored otherwise)')
    .action(async (corpus: string | undefined, o) => {
      const { formatJson, formatText } = await reportMod();
      const report = await runParity(corpus, o, false);
      await writeHtml(o.html, report);
      io.out(o.json ? formatJson(report) : formatText(report, o.verbose));
      if (emptyRun(report, io)) return setCode(EXIT.usage);
      setCode(report.unexplained || report.missing.length ? EXIT.differ : EXIT.ok);
    });

  parity('gate')
    .description('validate with CI semantics, then a seeded structured fuzz campaign against each gated live oracle: exit 0 parity, 1 unexplained difference or fuzz finding, 2 required oracle missing')
    .option('--allow-missing', 'do not fail when a required live oracle is unavailable')
    .option('--require-live', 'require every referenced oracle to be live (default when CI=true)')
    .option('--junit <path>', 'write JUnit XML')
    .option('--summary <path>', 'write a Markdown summary (also to $GITHUB_STEP_SUMMARY when set)')
    .option('--kexec-tools <path>', "build the oracle from this kexec-tools checkout or tarball first, and gate it alone (against the newest kexec-tools model)")
    .option('--kernel-src <path>', "build the kernel oracle from this Linux tree (5.10, 6.1 or 6.12; only its loader files are copied) into a scratch cache, and gate it alone (against that version's kernel model)")
    .addOption(new Option('--target <arch>', 'with --kexec-tools or --kernel-src: the target(s) to build').choices([...ALL_TARGETS, 'all']).default('all'))
    .option('--baseline <version>', 'with --kexec-tools: also compare your tree with this released kexec-tools (its live oracle, else its stored references), case by case; informational unless --fail-on-change')
    .option('--fail-on-change', 'with --baseline: exit 1 when your tree changes any case against the baseline')
    .option('--fuzz-cases <n>', 'fuzz stage: cases per live oracle (runs by default with --kexec-tools and when CI=true; giving it runs it)')
    .option('--fuzz-seed <n>', 'fuzz stage: campaign seed (the same seed gives the same cases)')
    .option('--fuzz-out <dir>', 'fuzz stage: where reproducers of findings go (the first 3 per oracle minimized; default: purgatory-oracle-reproducers in the temporary directory)')
    .option('--no-fuzz', 'skip the fuzz stage')
    .action(async (corpus: string | undefined, o) => {
      const requireLive = Boolean(o.requireLive) || (process.env.CI === 'true' && !o.allowMissing);
      const { formatJson, formatJunit, formatMarkdown, formatText } = await reportMod();
      const gate = await import('./gate/gate.ts');
      const fuzzWanted = o.fuzz !== false && (Boolean(o.kexecTools) || Boolean(o.kernelSrc) || process.env.CI === 'true' || o.fuzzCases !== undefined);
      if (o.kexecTools && o.kernelSrc) throw new UsageError('--kexec-tools and --kernel-src each gate one tree: give one of them');
      const fuzz = fuzzWanted ? {
        seed: o.fuzzSeed !== undefined ? Number(parseBigint(o.fuzzSeed, '--fuzz-seed')) : gate.DEFAULT_GATE_FUZZ_SEED,
        cases: o.fuzzCases !== undefined ? Number(parseBigint(o.fuzzCases, '--fuzz-cases')) : gate.DEFAULT_GATE_FUZZ_CASES,
        out: o.fuzzOut ? resolve(o.fuzzOut) : join(tmpdir(), 'purgatory-oracle-reproducers'),
      } : null;
      if (fuzz && fuzz.cases < 1) throw new UsageError('--fuzz-cases must be at least 1 (to skip the fuzz stage: --no-fuzz)');
      let baseline: import('./validate/baseline.ts').BaselineReport | undefined;
      const bl = o.baseline || o.failOnChange ? await import('./validate/baseline.ts') : undefined;
      if (bl && !o.kexecTools) throw new UsageError('--baseline and --fail-on-change compare a tree built with --kexec-tools PATH against a released kexec-tools: give --kexec-tools');
      if (o.failOnChange && !o.baseline) throw new UsageError('--fail-on-change needs --baseline VERSION');
      if (bl && o.baseline) bl.checkBaselineVersion(o.baseline);
      let report: GateReport;
      if (o.kernelSrc) {
        if (bl) throw new UsageError('--baseline compares kexec-tools trees; with --kernel-src the tree is gated against its version\'s kernel model');
        report = await gateKernelTree(corpus, o.kernelSrc, o.target, Number(o.maxReports), Boolean(o.html), fuzz, idSet(o.only), io);
      } else if (o.kexecTools) {
        const { DEFAULT_CORPUS, loadManifest } = await validateMod();
        const { liveSource } = await sourcesMod();
        const corpusDir = corpus ?? DEFAULT_CORPUS;
        const built = await buildUserKexecTools(o.kexecTools, o.target, io);
        const only = idSet(o.only);
        if (only) requireMatches('--only', only, loadManifest(corpusDir).map((e) => e.id), `corpus entry in ${corpusDir}`);
        const entries = loadManifest(corpusDir).filter((e) => !only || only.has(e.id));
        const treeCases = new Map<Arch, { oracle: string; cases: import('./validate/validate.ts').ValidateCase[] }>();
        const sources = built.map((l) => {
          const src = liveSource(corpusDir, l, entries);
          if (!bl) return src;
          const t = { oracle: `kexec-tools-${l.oracle.version}/${l.oracle.target}`, cases: [] };
          treeCases.set(l.oracle.target, t);
          return bl.teeSource(src, t.cases);
        });
        report = await gate.runGate({
          corpusDir, sources, maxReports: Number(o.maxReports), imageMaps: Boolean(o.html),
          fuzzTargets: built.map((l) => gate.kexecToolsGateTarget(l.build)), fuzz,
        });
        if (bl) baseline = await bl.compareWithBaseline({ corpusDir, version: o.baseline, tree: built[0]?.oracle.version ?? '?', treeCases, entries });
      } else {
        const { corpusDir, plan, live } = await planParity(corpus, o, requireLive);
        const { oracleId } = await import('./validate/references.ts');
        const liveIds = new Set(plan.sources.filter((s) => s.live).map((s) => oracleId(s.oracle)));
        const fuzzTargets = live.filter((l) => liveIds.has(oracleId(l.oracle))).flatMap((l) => gate.gateTargetOf(l) ?? []);
        report = await gate.runGate({ corpusDir, sources: plan.sources, fuzzTargets, fuzz, maxReports: Number(o.maxReports), imageMaps: Boolean(o.html) });
        report.missing = plan.missing;
      }
      // The baseline is its own section in every format (src/validate/baseline.ts).
      if (o.junit) writeOutput(o.junit, baseline && bl ? bl.addBaselineJunit(formatJunit(report), baseline, !!o.failOnChange) : formatJunit(report));
      await writeHtml(o.html, report);
      const md = formatMarkdown(report) + (baseline && bl ? bl.formatBaselineMarkdown(baseline) : '');
      if (o.summary) writeOutput(o.summary, md);
      if (process.env.GITHUB_STEP_SUMMARY) writeFileSync(process.env.GITHUB_STEP_SUMMARY, md, { flag: 'a' });
      io.out(o.json
        ? (baseline ? JSON.stringify({ ...JSON.parse(formatJson(report)), baseline: bl!.baselineJson(baseline) }, null, 2) + '\n' : formatJson(report))
        : formatText(report, o.verbose) + (baseline && bl ? bl.formatBaselineText(baseline) : ''));
      const baselineVerdict = baseline && bl ? bl.baselineVerdict(baseline) : 'ok';
      if (baselineVerdict === 'empty') io.err(`purgatory-oracle: --baseline ${o.baseline}: 0 cases compared${baseline!.missing.length ? ` (${baseline!.missing.join('; ')}; build it with: npx purgatory-oracle oracle build --kexec-tools ${o.baseline})` : ''}\n`);
      if (emptyRun(report, io) || baselineVerdict === 'empty') setCode(EXIT.usage);
      else if (gate.gateFailed(report) || (baselineVerdict === 'changed' && o.failOnChange)) setCode(EXIT.differ);
      else if (report.missing.length && !o.allowMissing) {
        io.err(`purgatory-oracle: required oracle(s) unavailable: ${report.missing.join(', ')} (build them with: purgatory-oracle oracle build, or pass --allow-missing)\n`);
        setCode(EXIT.unavailable);
      } else if (o.failOnChange && baseline?.missing.length && !o.allowMissing) {
        io.err(`purgatory-oracle: --fail-on-change: no baseline for ${baseline.missing.join('; ')} (build it with: npx purgatory-oracle oracle build --kexec-tools ${o.baseline}, or pass --allow-missing)\n`);
        setCode(EXIT.unavailable);
      } else setCode(EXIT.ok);
    });

  const fuzz = program
    .command('fuzz')
    .description('differential fuzzing: generated purgatories through the TS engine and live oracles; with no --oracle, TS-only robustness')
    .option('--oracle <id>', 'kexec-tools-<version>/<target>[+sanitize], kernel-<version>/<target>, or all (repeatable)', collect, [])
    .option('--seed <n>', 'campaign seed: the same seed gives the same cases', '1')
    .option('--cases <n>', 'length of the case stream (default 1000 unless --time)')
    .option('--time <duration>', 'fuzzing time per oracle, e.g. 60s, 5m (triage not counted)')
    .option('--shard <i/n>', 'run only the cases k with k mod n == i', '0/1')
    .option('--mode <modes>', 'structured, mutate, malformed (comma-separated), or all', 'all')
    .option('--out <dir>', 'reproducer directory, one subdirectory per signature (default: corpus/regressions in a checkout, ./purgatory-oracle-reproducers for an installed package)')
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
      const checked = summary.campaigns.reduce((n, c) => n + c.cases, 0) + (summary.robustness?.cases ?? 0);
      if (!checked && !summary.unavailable.length) io.err('purgatory-oracle: fuzz checked 0 cases (see --cases, --time, --shard, --replay)\n');
      setCode(summary.unavailable.length || !checked ? EXIT.unavailable : summary.findings ? EXIT.differ : EXIT.ok);
    });

  fuzz
    .command('merge')
    .description('merge the --json summaries of the shards of one campaign (fuzz --shard I/N) into one summary')
    .argument('<summaries...>', 'summary files written by fuzz --json')
    .option('--allow-partial', 'merge even when some of the N shards are missing')
    .option('-o, --output <file>', 'also write the merged summary as JSON to FILE')
    .option('--json', 'print the merged summary as JSON')
    .action(async (files: string[], o: { allowPartial?: boolean; output?: string; json?: boolean }, cmd: Command) => {
      // `fuzz` has its own --json, which commander gives to the parent command.
      const json = Boolean(o.json ?? cmd.parent?.opts().json);
      const { mergeFuzzSummaries } = await import('./fuzz/merge.ts');
      const { formatFuzzSummary } = await import('./fuzz/run.ts');
      const parts = files.map((f) => {
        try {
          return JSON.parse(new TextDecoder().decode(readInput(f)));
        } catch (e) {
          if (e instanceof SyntaxError) throw new UsageError(`${f} is not a JSON fuzz summary: ${e.message}`, { cause: e });
          throw e;
        }
      });
      const merged = mergeFuzzSummaries(parts, { allowPartial: o.allowPartial });
      if (o.output) writeOutput(o.output, formatFuzzSummary(merged, true));
      io.out(formatFuzzSummary(merged, json));
      setCode(merged.unavailable.length ? EXIT.unavailable : merged.findings ? EXIT.differ : EXIT.ok);
    });

  program
    .command('mutate')
    .description("mutation testing of the reference C code: each mutant is built as an oracle in a scratch cache and gated like gate --kexec-tools; prints the score and every survivor's diff")
    .option('--kexec-tools <tree|version>', 'a kexec-tools checkout (copied, never edited) or a fetched version (e.g. 2.0.32)')
    .option('--kernel <version>', "the kernel's x86_64 loader of a fetched version (5.10, 6.1, 6.12)")
    .option('--kernel-src <path>', 'with --kernel: take the sources from this kernel checkout')
    .addOption(new Option('--target <arch>', 'target(s) to build the mutants for').choices([...ALL_TARGETS, 'all']).default('all'))
    .option('--function <name>', 'mutate only this function (repeatable)', collect, [])
    .option('--mutant <id>', 'run only this mutant (repeatable; e.g. the survivors of an earlier run)', collect, [])
    .option('--jobs <n>', 'mutants built and gated at once', '1')
    .option('--limit <n>', 'run only the first N mutants')
    .option('--fuzz-cases <n>', "the gate's fuzz stage size (default: the gate's)")
    .option('--fuzz-seed <n>', "the gate's fuzz stage seed (default: the gate's)")
    .option('--equivalents <path>', 'the argued equivalent mutants (default corpus/mutation/equivalent.json)')
    .option('--out <dir>', 'also write report.json, survivors.diff and summary.txt there, and results.jsonl as each mutant is decided')
    .option('--resume', 'with --out: keep the results in <dir>/results.jsonl of an interrupted run and run only the others')
    .option('--json', 'print the report as JSON')
    .option('-v, --verbose', 'log each mutant on stderr')
    .action(async (o: { kexecTools?: string; kernel?: string; kernelSrc?: string; target: string; function: string[]; mutant: string[]; jobs: string; limit?: string; fuzzCases?: string; fuzzSeed?: string; equivalents?: string; out?: string; resume?: boolean; json?: boolean; verbose?: boolean }) => {
      const { runMutate } = await import('./mutate/run.ts');
      const { formatMutationText } = await import('./mutate/format.ts');
      const { KERNEL_VERSIONS } = await import('./oracle/kernel.ts');
      if (o.kernelSrc && !o.kernel) throw new UsageError('--kernel-src needs --kernel VERSION');
      if (o.kernel && !(KERNEL_VERSIONS as readonly string[]).includes(o.kernel)) throw new UsageError(`--kernel ${o.kernel}: expected ${KERNEL_VERSIONS.join(', ')}`);
      const num = (v: string | undefined, what: string) => (v === undefined ? undefined : Number(parseBigint(v, what)));
      if (o.resume && !o.out) throw new UsageError('--resume needs --out DIR (it reads DIR/results.jsonl)');
      const resultsFile = o.out ? resolve(o.out, 'results.jsonl') : undefined;
      const resume = o.resume && resultsFile && existsSync(resultsFile)
        ? readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as import('./mutate/run.ts').MutantResult)
        : undefined;
      if (resultsFile && !o.resume) writeOutput(resultsFile, '');
      const report = await runMutate({
        resultsFile, resume,
        kexecTools: o.kexecTools, kernel: o.kernel as '6.12' | undefined, kernelSrc: o.kernelSrc,
        targets: o.target === 'all' ? (o.kernel ? ['x86_64'] : undefined) : [o.target as Arch],
        functions: o.function, ids: o.mutant.length ? o.mutant : undefined, jobs: num(o.jobs, '--jobs'), limit: num(o.limit, '--limit'),
        fuzzCases: num(o.fuzzCases, '--fuzz-cases'), fuzzSeed: num(o.fuzzSeed, '--fuzz-seed'),
        equivalentsPath: o.equivalents ? resolve(o.equivalents) : undefined,
        log: (l) => { if (o.verbose) io.err(`${l}\n`); },
      });
      const text = formatMutationText(report);
      const json = JSON.stringify(report, null, 2) + '\n';
      if (o.out) {
        writeOutput(resolve(o.out, 'report.json'), json);
        writeOutput(resolve(o.out, 'summary.txt'), text);
        writeOutput(resolve(o.out, 'survivors.diff'), report.survivors.map((s) => `# ${s.target} ${s.id}\n${s.diff ?? ''}`).join('\n'));
      }
      io.out(o.json ? json : text);
      setCode(report.survivors.length ? EXIT.differ : EXIT.ok);
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
    .option('--oracle <ids>', 'only these reference oracles (comma-separated or repeatable); a build of a local tree is used only when named', collect, [])
    .option('--json', 'JSON output')
    .action(async (corpus: string | undefined, o: { storedOnly?: boolean; only?: string; oracle: string[]; json?: boolean }) => {
      const { DEFAULT_CORPUS } = await validateMod();
      const { planSources } = await sourcesMod();
      const { crossMatrix, formatMatrix } = await import('./validate/matrix.ts');
      const corpusDir = corpus ?? DEFAULT_CORPUS;
      const plan = await planSources(corpusDir, await liveOpener(), { requireLive: false, storedOnly: o.storedOnly, only: idSet(o.only), oracles: idSet(o.oracle) });
      const rows = await crossMatrix(plan.sources);
      io.out(o.json ? JSON.stringify(rows, null, 2) + '\n' : formatMatrix(rows));
      if (!rows.reduce((n, r) => n + r.cases, 0)) {
        io.err('purgatory-oracle: matrix compared 0 cases: it needs two references of one target over the selected entries\n');
        setCode(EXIT.usage);
      }
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
    .addOption(new Option('--target <arch>', 'target to build').choices([...KEXEC_TOOLS_TARGETS, 'all']).default('all'))
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

  // Internal: the generation step of scripts/build-kernel-oracle.sh, compiled so that an installed package needs no tsx.
  oracle
    .command('gen-kernel-sources', { hidden: true })
    .requiredOption('--cache <dir>', 'the oracle cache')
    .option('--versions <list>', 'kernel versions', '5.10,6.1,6.12')
    .option('--variants <list>', 'x86_64,ppc64le', 'x86_64,ppc64le')
    .action(async (o: { cache: string; versions: string; variants: string }) => {
      const { KERNEL_VARIANTS } = await import('./oracle/kernel.ts');
      const variants = o.variants.split(',').map((v) => {
        const k = KERNEL_VARIANTS.find((x) => x === v);
        if (!k) throw new UsageError(`unknown variant ${v}: expected ${KERNEL_VARIANTS.join(', ')}`);
        return k;
      });
      const { writeKernelSources } = await import('./oracle/kernel-gen.ts');
      for (const w of writeKernelSources(resolve(o.cache), o.versions.split(','), variants)) {
        const where = w.functions.map((f) => `${f.name}@${f.file}:${f.startLine}`).join(' ');
        io.err(`gen-kernel-sources: ${w.version} ${w.variant}: ${w.changed ? 'written' : 'unchanged'}; ${where}\n`);
      }
    });

  oracle
    .command('list')
    .description('the built oracles: id, version, target, features, emulator, paths')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => {
      const { oracleList } = await oracleMod();
      const list = await oracleList();
      io.out(o.json ? JSON.stringify(list, null, 2) + '\n' : formatOracleList(list));
      const local = list.filter((b) => !b.released);
      if (local.length && !o.json) io.err(`purgatory-oracle: ${local.length} local build(s): used only when named (gate --kexec-tools PATH, --oracle ID); remove old ones with: purgatory-oracle oracle prune\n`);
      if (!list.length) io.err('purgatory-oracle: no oracle is built; build one with: purgatory-oracle oracle build (kexec-tools) or oracle build-kernel\n');
    });

  oracle
    .command('prune')
    .description('remove builds of local trees (--kexec-tools PATH): by default all but the newest $PURGATORY_ORACLE_KEEP_LOCAL (5); released builds only when named with --oracle')
    .option('--local', 'local builds only (the default; released builds are removed only when named with --oracle)')
    .option('--keep <n>', 'keep the builds of the newest N local trees (a tree: all its targets)')
    .option('--older-than <duration>', 'remove local builds older than this (30m, 12h, 7d, 2w); with --keep, those beyond the newest N and older')
    .option('--oracle <id>', 'remove exactly this build, released or local (repeatable; see oracle list)', collect, [])
    .option('--dry-run', 'say what would be removed, remove nothing')
    .option('--json', 'JSON output')
    .action(async (o: { keep?: string; olderThan?: string; oracle: string[]; dryRun?: boolean; json?: boolean }) => {
      const { pruneBuilds, parseAge, formatPrune } = await import('./oracle/prune.ts');
      if (o.keep !== undefined && !/^\d+$/.test(o.keep)) throw new UsageError(`--keep '${o.keep}': expected a non-negative integer`);
      const r = await pruneBuilds({
        keep: o.keep === undefined ? undefined : Number(o.keep),
        olderThanMs: o.olderThan === undefined ? undefined : parseAge(o.olderThan),
        oracles: o.oracle.flatMap((x) => x.split(',')).filter(Boolean), dryRun: o.dryRun,
      });
      io.out(o.json ? JSON.stringify(r, null, 2) + '\n' : formatPrune(r));
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
    b.released ? 'released' : 'local',
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
/**
 * gate --kernel-src: build the tree's kernel oracles into a scratch cache (removed afterwards; the
 * shared cache is never touched) and gate each alone, corpus and fuzz stages.
 */
async function gateKernelTree(corpus: string | undefined, tree: string, target: string, maxReports: number, imageMaps: boolean,
  fuzz: import('./gate/gate.ts').FuzzStageOptions | null, only: Set<string> | undefined, io: Io): Promise<GateReport> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { DEFAULT_CORPUS, loadManifest } = await validateMod();
  const { liveSource } = await sourcesMod();
  const { buildKernelTree } = await oracleMod();
  const { KERNEL_VARIANTS, openKernelOracle } = await import('./oracle/kernel.ts');
  const gate = await import('./gate/gate.ts');
  const variant = target === 'all' ? 'all' : KERNEL_VARIANTS.find((v) => v === target);
  if (!variant) throw new UsageError(`--kernel-src --target ${target}: the kernel oracles are ${KERNEL_VARIANTS.join(', ')} (or all)`);
  const corpusDir = corpus ?? DEFAULT_CORPUS;
  if (only) requireMatches('--only', only, loadManifest(corpusDir).map((e) => e.id), `corpus entry in ${corpusDir}`);
  const entries = loadManifest(corpusDir).filter((e) => !only || only.has(e.id));
  const scratch = mkdtempSync(join(tmpdir(), 'purgatory-oracle-kernel-src-'));
  try {
    const builds = await buildKernelTree(resolve(tree), variant, scratch, (line) => io.err(`${line}\n`));
    return await gate.runGate({
      corpusDir, sources: builds.map((b) => liveSource(corpusDir, openKernelOracle(b), entries)), maxReports, imageMaps,
      fuzzTargets: builds.map((b) => gate.kernelGateTarget(b)), fuzz,
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function buildUserKexecTools(path: string, target: string, io: Io): Promise<import('./oracle/kexec-tools.ts').KexecToolsOracle[]> {
  const { execa } = await import('execa');
  const { KexecToolsOracle } = await import('./oracle/kexec-tools.ts');
  const { OracleUnavailableError, readKexecToolsBuild } = await import('./oracle/registry.ts');
  const script = fileURLToPath(new URL('../scripts/build-oracle.sh', import.meta.url));
  const r = await execa('bash', [script, '--kexec-tools', resolve(path), '--target', target], { reject: false, stderr: 'pipe', stdout: 'pipe' });
  io.err(r.stderr ? r.stderr + '\n' : '');
  if (r.exitCode !== 0) throw new OracleUnavailableError(`building the kexec-tools oracle from ${path} failed (exit ${r.exitCode})`, `bash ${script} --kexec-tools ${path} --target ${target}`);
  const dirs = String(r.stdout).split('\n').filter((l) => l.endsWith('/oracle')).map((l) => dirname(l));
  const builds = dirs.map((d) => readKexecToolsBuild(d));
  const { autoPruneLocal } = await import('./oracle/prune.ts');
  await autoPruneLocal(builds.map((b) => b.version), (line) => io.err(`${line}\n`));
  return builds.map((b) => KexecToolsOracle.fromBuild(b));
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
