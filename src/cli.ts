// The only file that parses argv. Every command returns an exit code; nothing here calls
// process.exit, so main() can be driven from tests.
import { Command, CommanderError, Option } from 'commander';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { load } from './engine.ts';
import { imageManifest, outcomeJson } from './image.ts';
import { formatInspection, inspect } from './inspect.ts';
import { isPurgatoryOracleError, UsageError } from './errors.ts';
import { PROFILE_IDS } from './load/profile.ts';
import { hex } from './bytes.ts';
import type { Arch, Outcome, SymbolWrite } from './types.ts';

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

export function formatOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'ok': {
      const m = imageManifest(o.image, o.hostAddress);
      const lines = [
        `ok: base ${m.base} bufsz ${hex(m.bufsz)} memsz ${m.memsz} entry ${m.entry} sha256 ${m.sha256}`,
        ...m.sections.filter((s) => s.alloc).map((s) => `  [${String(s.index).padStart(2)}] ${s.name.padEnd(24)} ${s.addr} size ${s.size}${s.nobits ? ' (nobits)' : ''}`),
        `  ${m.relocations.length} relocation(s) applied`,
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
    .action((file: string, o: { base: string; set: string[]; profile: string; target?: Arch; hostAddress: string; fill: string; output?: string; json?: boolean }) => {
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
      io.out(o.json ? JSON.stringify(outcomeJson(outcome), null, 2) + '\n' : formatOutcome(outcome));
      setCode(outcome.kind === 'ok' ? EXIT.ok : EXIT.rejected);
    });

  program
    .command('inspect')
    .description('readelf-like summary and relocation-type histogram')
    .argument('<file>')
    .option('--json', 'JSON output')
    .action((file: string, o: { json?: boolean }) => {
      const i = inspect(readInput(file));
      io.out(o.json ? JSON.stringify(i, null, 2) + '\n' : formatInspection(i) + '\n');
    });

  return program;
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
      return (e as Error).name === 'OracleUnavailableError' || e instanceof UsageError ? EXIT.usage : EXIT.rejected;
    }
    io.err(`purgatory-oracle: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return EXIT.internal;
  }
}
