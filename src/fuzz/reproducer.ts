// Reproducers: one directory per signature, holding everything needed to replay the case without
// the oracle: the ELF, the request, the description it was built from, and both outcomes.
//
//   <dir>/case.elf            the minimized ELF
//   <dir>/request.json        request (base, fill, symbol writes), oracle, profile, signature, provenance
//   <dir>/desc.json           the structured description (bigints as {"$big": "0x…"})
//   <dir>/oracle-outcome.json the reference outcome (+ oracle-image.bin when ok)
//   <dir>/ts-outcome.json     the TS engine's outcome when the reproducer was written
//   <dir>/report.txt          a human summary
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { hex } from '../bytes.ts';
import { outcomeJson } from '../image.ts';
import { PurgatoryOracleError } from '../errors.ts';
import type { OracleResponse } from '../oracle/batch.ts';
import type { Arch, LoadRequest, Outcome, SymbolWrite } from '../types.ts';
import { toJson, type CaseDesc, type DescSize } from './desc.ts';

export const REPRO_FORMAT = 'purgatory-oracle/fuzz-regression@1';

export type ReproKind =
  /** The oracle and the TS engine disagree (explained by the registry, or a new finding). */
  | 'divergence'
  /** A modelled divergence verified live: the case matches, and would not without the profile switch. */
  | 'confirmation'
  /** TS-only: the engine threw an untyped exception, hung, or ran out of memory. */
  | 'robustness';

export interface ReproRequest {
  format: typeof REPRO_FORMAT;
  kind: ReproKind;
  signature: string;
  oracle?: { id: string; loader: 'kexec-tools' | 'kernel'; version: string; target: Arch; sanitize: boolean };
  profile: string;
  target: Arch;
  class: string;
  relocation: string;
  detail: string;
  /** Registry entries that explained the divergence (or that it confirms). */
  registry: string[];
  base: string;
  fill: number;
  symbols: { name: string; hex: string }[];
  found: { seed: number; index: number; mode: string };
  minimized?: { from: DescSize; to: DescSize; tests: number; ms: number };
  note?: string;
}

export type StoredRef =
  | { kind: 'ok'; relAddr: string; relSize: string; entry: string; hostBuf: string; shAddr: string[]; imageFile: string; imageLength: number; diagnostics?: string }
  | { kind: 'rejected'; errno: number; message: string; diagnostics?: string }
  | { kind: 'crashed'; signal: string; message?: string }
  | { kind: 'timeout'; ms: number };

export class ReproducerError extends PurgatoryOracleError {}

const symbolsJson = (s: SymbolWrite[]) => s.map((x) => ({ name: x.name, hex: Buffer.from(x.bytes).toString('hex') }));

export interface WriteReproducer {
  dir: string;
  request: ReproRequest;
  elf: Uint8Array;
  desc: CaseDesc;
  ref?: OracleResponse;
  ts?: Outcome;
  report: string;
  /** Replace a directory that already exists (otherwise it is left as it is). */
  overwrite?: boolean;
}

export function reproRequest(base: Omit<ReproRequest, 'format' | 'base' | 'fill' | 'symbols'>, req: LoadRequest): ReproRequest {
  return { format: REPRO_FORMAT, ...base, base: hex(req.base), fill: req.fill, symbols: symbolsJson(req.symbols) };
}

/**
 * Write a reproducer directory atomically: the files go into a temporary sibling that is then
 * renamed into place, so a reader (or another writer) never sees a half-written directory. When
 * the directory exists already and `overwrite` is not set — another writer (a parallel job,
 * another process) got there first — nothing is written and the result is false.
 */
export function writeReproducer(w: WriteReproducer): boolean {
  const parent = dirname(w.dir);
  mkdirSync(parent, { recursive: true });
  // mkdir, not mkdtemp: the directory gets the usual mode (mkdtemp's is 0700)
  const tmp = join(parent, `.${basename(w.dir)}.tmp-${randomUUID()}`);
  mkdirSync(tmp);
  try {
    writeFiles(tmp, w);
    if (tryRename(tmp, w.dir)) return true;
    if (!w.overwrite) return false;
    // Move the old directory aside, put the new one in its place, then delete the old one.
    for (let attempt = 0; attempt < 5; attempt++) {
      const old = `${tmp}.old${attempt}`;
      tryRename(w.dir, old, true);
      const placed = tryRename(tmp, w.dir);
      rmSync(old, { recursive: true, force: true });
      if (placed) return true;
    }
    throw new ReproducerError(`${w.dir}: could not replace the directory (another writer keeps recreating it)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** rename(2); false when the target is an existing non-empty directory (or, with missingOk, the source is gone). */
function tryRename(from: string, to: string, missingOk = false): boolean {
  try {
    renameSync(from, to);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || (missingOk && code === 'ENOENT')) return false;
    throw new ReproducerError(`${to}: cannot rename ${from} into place: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Claim a name among the parallel jobs of one campaign, which share the directory `claims`: true
 * for the first caller only (mkdir(2) is atomic). The job that claims a signature minimizes it and
 * writes its reproducer; the others leave it to that job.
 */
export function claimName(claims: string, name: string): boolean {
  try {
    mkdirSync(join(claims, name));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new ReproducerError(`${claims}: cannot claim ${name}: ${(e as Error).message}`, { cause: e });
  }
}

function writeFiles(dir: string, w: WriteReproducer): void {
  writeFileSync(join(dir, 'case.elf'), w.elf);
  writeFileSync(join(dir, 'request.json'), JSON.stringify(w.request, null, 2) + '\n');
  writeFileSync(join(dir, 'desc.json'), JSON.stringify(toJson(w.desc), null, 1) + '\n');
  if (w.ref) {
    let stored: StoredRef;
    if (w.ref.kind === 'ok') {
      writeFileSync(join(dir, 'oracle-image.bin'), w.ref.image);
      stored = {
        kind: 'ok', relAddr: hex(w.ref.relAddr), relSize: hex(w.ref.relSize), entry: hex(w.ref.entry), hostBuf: hex(w.ref.hostBuf),
        shAddr: w.ref.shAddr.map((a) => hex(a)), imageFile: 'oracle-image.bin', imageLength: w.ref.image.length,
        ...(w.ref.diagnostics ? { diagnostics: w.ref.diagnostics } : {}),
      };
    } else stored = w.ref;
    writeFileSync(join(dir, 'oracle-outcome.json'), JSON.stringify(stored, null, 2) + '\n');
  }
  if (w.ts) writeFileSync(join(dir, 'ts-outcome.json'), JSON.stringify(outcomeJson(w.ts), null, 2) + '\n');
  writeFileSync(join(dir, 'report.txt'), w.report.endsWith('\n') ? w.report : w.report + '\n');
}

export interface Reproducer {
  dir: string;
  request: ReproRequest;
  req: LoadRequest;
  ref?: OracleResponse;
}

export function readReproducer(dir: string): Reproducer {
  const read = (f: string) => readFileSync(join(dir, f));
  let request: ReproRequest;
  try {
    request = JSON.parse(read('request.json').toString('utf8')) as ReproRequest;
  } catch (e) {
    throw new ReproducerError(`${dir}: unreadable request.json: ${(e as Error).message}`, { cause: e });
  }
  if (request.format !== REPRO_FORMAT) throw new ReproducerError(`${dir}: request.json is not ${REPRO_FORMAT}`);
  const req: LoadRequest = {
    elf: new Uint8Array(read('case.elf')),
    base: BigInt(request.base),
    fill: request.fill,
    symbols: request.symbols.map((s) => ({ name: s.name, bytes: Uint8Array.from(Buffer.from(s.hex, 'hex')) })),
  };
  let ref: OracleResponse | undefined;
  if (existsSync(join(dir, 'oracle-outcome.json'))) {
    const s = JSON.parse(read('oracle-outcome.json').toString('utf8')) as StoredRef;
    if (s.kind === 'ok') {
      const image = new Uint8Array(read(s.imageFile));
      if (image.length !== s.imageLength) throw new ReproducerError(`${dir}: ${s.imageFile} has ${image.length} bytes, expected ${s.imageLength}`);
      ref = {
        kind: 'ok', relAddr: BigInt(s.relAddr), relSize: BigInt(s.relSize), entry: BigInt(s.entry), hostBuf: BigInt(s.hostBuf),
        shAddr: s.shAddr.map((a) => BigInt(a)), image, ...(s.diagnostics ? { diagnostics: s.diagnostics } : {}),
      };
    } else ref = s;
  }
  return { dir, request, req, ref };
}

/** Every reproducer directory under `root` (sorted). */
export function listReproducers(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'request.json')))
    .map((d) => join(root, d.name))
    .sort();
}
