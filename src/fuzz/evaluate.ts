// One case against one reference: the TS engine under the oracle's profile (with the oracle's
// host address), compareOutcomes, the known-divergence registry, and the finding's signature.
import { load } from '../engine.ts';
import { compareOutcomes, type CaseComparison, type SymbolRange } from '../compare/compare.ts';
import { isLoadError, isPurgatoryOracleError } from '../errors.ts';
import { loadKexecTools } from '../load/kexec-tools.ts';
import { loadKernel } from '../load/kernel.ts';
import { abiSemantics, makeProfile, type Profile } from '../load/profile.ts';
import { applyRegistry, type CaseVerdict, type Registry, type RegistryEntry } from '../validate/registry.ts';
import { symbolRangesOf } from '../validate/symbols.ts';
import type { OracleResponse } from '../oracle/batch.ts';
import type { LoadRequest, Outcome } from '../types.ts';
import { dieText, type OracleSpec } from './oracles.ts';
import { makeKey, signatureOf, type Signature } from './signature.ts';

export interface Evaluation {
  ts: Outcome;
  cmp: CaseComparison;
  verdict: CaseVerdict;
  /** match or both-rejected. */
  agree: boolean;
  /** Not agreeing, and no registry entry explains it. */
  finding: boolean;
  sig?: Signature;
  tsMs: number;
  /** A TS exception that is not one of the engine's typed errors (an internal bug). */
  tsError?: unknown;
}

export { symbolRangesOf };

export function hostAddressOf(ref: OracleResponse): bigint {
  return ref.kind === 'ok' ? ref.hostBuf : 0n;
}

/** The reference outcome as compared: a kexec-tools rejection by its die() line (see dieText). */
export function comparable(spec: OracleSpec, ref: OracleResponse): OracleResponse {
  if (spec.loader !== 'kexec-tools' || ref.kind !== 'rejected') return ref;
  const message = dieText(ref.message);
  return message === ref.message ? ref : { ...ref, message };
}

/**
 * `loadTs`: where the TS outcome comes from (default: the engine). A campaign that runs the same
 * cases against many oracles of one profile (mutate) computes each outcome once.
 */
export function evaluate(spec: OracleSpec, reg: Registry, req: LoadRequest, ref0: OracleResponse, loadTs?: (hostAddress: bigint) => Outcome): Evaluation {
  const ref = comparable(spec, ref0);
  const profile = makeProfile(spec.profile, spec.target);
  const t0 = performance.now();
  let ts: Outcome;
  try {
    ts = loadTs ? loadTs(hostAddressOf(ref)) : load(req, { profile: spec.profile, target: spec.target, hostAddress: hostAddressOf(ref) });
  } catch (e) {
    const tsMs = performance.now() - t0;
    const name = e instanceof Error ? e.name : typeof e;
    const relocation = '-';
    const detail = `${name}: ${firstLine(e)}`;
    const cmp: CaseComparison = { cls: 'one-rejected', layout: [], ranges: [], differingBytes: 0, note: detail };
    return {
      ts: { kind: 'crashed', signal: 'exception', message: detail }, cmp, verdict: { explainedBy: [], exercised: [] }, agree: false, finding: true, tsMs, tsError: e,
      sig: { oracle: spec.id, relocation, cls: 'ts-exception', detail, key: makeKey(spec.id, relocation, 'ts-exception', detail) },
    };
  }
  const tsMs = performance.now() - t0;
  // Where the symbol writes landed only matters for attributing differing bytes: found (an ELF
  // parse per symbol) only when there are some. Cases that agree stay cheap.
  const exact = { exactMessages: spec.loader === 'kernel' };
  let cmp = compareOutcomes(ts, ref, [], spec.refClasses, exact);
  if (cmp.ranges.length && req.symbols.length) cmp = compareOutcomes(ts, ref, symbolRangesOf(req, ts), spec.refClasses, exact);
  const verdict = applyRegistry(reg, profile, ts, cmp, req.fill);
  const agree = cmp.cls === 'match' || cmp.cls === 'both-rejected';
  const ev: Evaluation = { ts, cmp, verdict, agree, finding: !agree && !verdict.explainedBy.length, tsMs };
  if (!agree) ev.sig = signatureOf(spec.id, req.elf, ts, ref, cmp);
  return ev;
}

export function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0]!.slice(0, 200);
}

// ---------------------------------------------------------------------------------------------
// Confirmations: a modelled divergence the case exercised, with the TS model matching the oracle,
// and the same case *not* matching once the profile switch is turned back to the ABI's value.

const flipped = new Map<string, Profile | null>();

/** The profile with one registry entry's switch set to the ABI-correct value (null: not a flippable switch). */
export function flippedProfile(profile: Profile, entry: RegistryEntry): Profile | null {
  const key = `${profile.id}/${profile.target}/${entry.id}`;
  if (flipped.has(key)) return flipped.get(key)!;
  const abi = abiSemantics();
  let p: Profile | null = null;
  const sw = entry.switch;
  if (sw === 'alignZeroAsOne') p = { ...profile, id: `${profile.id}~${sw}`, alignZeroAsOne: !profile.alignZeroAsOne };
  else if (sw && sw in abi && sw !== 'loader') {
    const k = sw as keyof typeof abi;
    p = { ...profile, id: `${profile.id}~${sw}`, sem: { ...profile.sem, [k]: abi[k] } };
  }
  flipped.set(key, p);
  return p;
}

/** engine.load() with an explicit Profile object (for flipped profiles only). */
export function loadWithProfile(req: LoadRequest, profile: Profile, hostAddress: bigint): Outcome {
  try {
    if (profile.loader === 'kernel') {
      const { image } = loadKernel(req.elf, req.base, profile, { symbols: req.symbols });
      return { kind: 'ok', image };
    }
    const { image } = loadKexecTools(req.elf, req.base, profile, { fill: req.fill, hostAddress, symbols: req.symbols });
    return { kind: 'ok', image, hostAddress };
  } catch (e) {
    if (isLoadError(e)) return { kind: 'rejected', code: e.code, message: e.cMessage, where: e.where };
    if (isPurgatoryOracleError(e)) return { kind: 'rejected', code: 'elf-format', message: e.message };
    throw e;
  }
}

/** Whether the case would diverge from the oracle with `entry`'s switch off (so it really exercises it). */
export function divergesWithoutSwitch(spec: OracleSpec, entry: RegistryEntry, req: LoadRequest, ref: OracleResponse): boolean {
  const p = flippedProfile(makeProfile(spec.profile, spec.target), entry);
  if (!p) return false;
  try {
    const ts = loadWithProfile(req, p, hostAddressOf(ref));
    const cls = compareOutcomes(ts, comparable(spec, ref), [], spec.refClasses, { exactMessages: spec.loader === 'kernel' }).cls; // symbol ranges do not change the class
    return cls !== 'match' && cls !== 'both-rejected';
  } catch {
    return false;
  }
}

export function confirmationKey(spec: OracleSpec, entry: RegistryEntry, ts: Outcome): string {
  const scope = entry.scope.relocation === undefined ? [] : Array.isArray(entry.scope.relocation) ? entry.scope.relocation : [entry.scope.relocation];
  const types = ts.kind === 'ok' ? [...new Set(ts.image.relocations.map((r) => r.typeName).filter((t) => scope.includes(t)))].sort().join('+') : '';
  return makeKey(spec.id, types || '-', 'confirms', entry.id);
}
