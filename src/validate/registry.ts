// The known-divergence registry: a committed data file. Each entry says where it applies, its
// evidence, and how it is handled. Reports count the bytes and cases each entry covered; an
// entry that covered nothing in a full run is reported as stale. Nothing is excluded silently.
import { readFileSync } from 'node:fs';
import { PurgatoryOracleError } from '../errors.ts';
import type { CaseComparison } from '../compare/compare.ts';
import { abiSemantics, type Profile } from '../load/profile.ts';
import { relocationTypesOf } from '../load/kexec-tools.ts';

const ABI = abiSemantics();
import type { LoadedImage, Outcome, RejectionCode } from '../types.ts';

/**
 * What an entry is: 'defect' (the reference loader is wrong by the ABI or by its own stated intent;
 * docs/findings/<id>.md reports it with a patch that `findings verify` proves), 'artefact' (our
 * harness, not the loader), 'by-design' (a deliberate difference in a loader or a reference),
 * 'version-difference' (versions of one reference loader differ: one lacks a case another has; the
 * model reproduces each version through its profile, so model and oracle agree, and the entry says
 * where the versions part and counts the cases that show it).
 */
export const REGISTRY_KINDS = ['defect', 'artefact', 'by-design', 'version-difference'] as const;
export type RegistryKind = (typeof REGISTRY_KINDS)[number];

export interface RegistryEntry {
  id: string;
  kind: RegistryKind;
  scope: {
    loader?: 'kexec-tools' | 'kernel' | 'abi';
    versions?: string[];
    targets?: string[];
    relocation?: string | string[];
    /**
     * 'outcome' entries: ts-out-of-bounds: the TS model rejects an access the C code makes outside
     * its buffers (undefined behaviour); oracle-resource-limit: the oracle harness refused an
     * allocation over its limit (exit 77, reported as crashed 'resource-limit'): no C outcome.
     */
    condition?: 'ts-out-of-bounds' | 'oracle-resource-limit';
    /**
     * ts-out-of-bounds only: which accesses the entry explains. 'below-buffer': the access starts
     * below its buffer (a pointer formed with a 64-bit offset that wrapped, where.access.offset < 0);
     * 'not-below-buffer': every other out-of-bounds rejection. Unset: all of them.
     */
    access?: 'below-buffer' | 'not-below-buffer';
    /**
     * 'modelled' entries: the rejection codes the modelled behaviour produces. A case whose TS
     * outcome is a rejection with one of these codes exercises the entry (with scope.relocation also
     * set, only when the rejection names one of its types, where.relocation): a behaviour that
     * refuses inputs is covered by its refusals, not only by applied relocations.
     */
    rejection?: RejectionCode[];
  };
  handling: 'modelled' | 'excluded' | 'outcome';
  /** For 'modelled': the profile switch that reproduces it. */
  switch?: string;
  evidence: { file: string; line: number; code?: string; reasoning: string };
}

export interface Registry {
  entries: RegistryEntry[];
}

export class RegistryError extends PurgatoryOracleError {}

export function loadRegistry(path: string): Registry {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new RegistryError(`cannot read the known-divergence registry ${path}: ${(e as Error).message}`, { cause: e });
  }
  const r = raw as { format?: string; entries?: RegistryEntry[] };
  if (r.format !== 'purgatory-oracle/known-divergences@1' || !Array.isArray(r.entries)) throw new RegistryError(`${path}: not a purgatory-oracle/known-divergences@1 file`);
  const ids = new Set<string>();
  for (const e of r.entries) {
    if (!e.id || ids.has(e.id)) throw new RegistryError(`${path}: duplicate or missing id '${e.id}'`);
    ids.add(e.id);
    if (!(REGISTRY_KINDS as readonly string[]).includes(e.kind)) throw new RegistryError(`${path}: entry ${e.id} has kind '${e.kind}' (one of ${REGISTRY_KINDS.join(', ')})`);
    if (!['modelled', 'excluded', 'outcome'].includes(e.handling)) throw new RegistryError(`${path}: entry ${e.id} has unknown handling '${e.handling}'`);
    if (!e.evidence?.file || !e.evidence.reasoning) throw new RegistryError(`${path}: entry ${e.id} has no evidence`);
    if (e.kind === 'version-difference' && (e.handling !== 'modelled' || !e.scope.versions?.length)) {
      throw new RegistryError(`${path}: entry ${e.id}: a version-difference is 'modelled' and names the versions it applies to (scope.versions)`);
    }
    if (e.scope.rejection !== undefined && (e.handling !== 'modelled' || !Array.isArray(e.scope.rejection) || !e.scope.rejection.length)) {
      throw new RegistryError(`${path}: entry ${e.id}: scope.rejection is a non-empty list of rejection codes on a 'modelled' entry`);
    }
    if (e.scope.access !== undefined && (e.scope.condition !== 'ts-out-of-bounds' || !['below-buffer', 'not-below-buffer'].includes(e.scope.access))) {
      throw new RegistryError(`${path}: entry ${e.id}: scope.access '${e.scope.access}' needs condition ts-out-of-bounds and is 'below-buffer' or 'not-below-buffer'`);
    }
  }
  return { entries: r.entries };
}

export interface Coverage {
  cases: number;
  bytes: number;
}

const list = (x: string | string[] | undefined): string[] | undefined => (x === undefined ? undefined : Array.isArray(x) ? x : [x]);

function inScope(e: RegistryEntry, profile: Profile): boolean {
  const s = e.scope;
  if (s.loader && s.loader !== profile.loader) return false;
  if (s.versions && !(profile.version && s.versions.includes(profile.version))) return false;
  if (s.targets && !s.targets.includes(profile.target)) return false;
  return true;
}

/** A profile switch that is actually on in this profile (differs from the ABI-correct default). */
function switchOn(e: RegistryEntry, profile: Profile): boolean {
  switch (e.switch) {
    case undefined: return true;
    case 'zeroImage': return !profile.zeroImage;
    case 'alignZeroAsOne': return !profile.alignZeroAsOne;
    case 'localEntry': return profile.sem.localEntry !== 'e_flags';
    default: {
      // The quirk is active where this profile's switch differs from the ABI-correct value.
      const key = e.switch as keyof Profile['sem'];
      return profile.sem[key] !== ABI[key];
    }
  }
}

const byTypeCache = new WeakMap<LoadedImage, Map<string, { count: number; bytes: number }>>();

/** The relocation log summed by type name (count, bytes written), once per image (logs are never changed after the load); a kexec-tools load keeps it beside its log. */
function relocationsByType(img: LoadedImage): ReadonlyMap<string, { count: number; bytes: number }> {
  if (img.relocationTypes) return img.relocationTypes;
  const kept = relocationTypesOf(img);
  if (kept) return kept;
  let m = byTypeCache.get(img);
  if (m) return m;
  m = new Map();
  for (const r of img.relocations) {
    const h = m.get(r.typeName);
    if (h) {
      h.count++;
      h.bytes += r.width;
    } else m.set(r.typeName, { count: 1, bytes: r.width });
  }
  byTypeCache.set(img, m);
  return m;
}

const applicableCache = new WeakMap<Registry, WeakMap<Profile, RegistryEntry[]>>();

/**
 * The entries that apply to a profile (in scope, switch on), in registry order: what a run under it
 * can cover. Once per registry and profile (both are read-only).
 */
export function entriesInScope(reg: Registry, profile: Profile): readonly RegistryEntry[] {
  let byProfile = applicableCache.get(reg);
  if (!byProfile) applicableCache.set(reg, (byProfile = new WeakMap()));
  let list = byProfile.get(profile);
  if (!list) byProfile.set(profile, (list = reg.entries.filter((e) => inScope(e, profile) && switchOn(e, profile))));
  return list;
}

/**
 * Whether applyRegistry() reads the relocation log of an ok outcome under this profile for a case
 * whose bytes match: a modelled entry scoped to relocation types applies to it. (When bytes
 * differ, the comparison's attributions read the log in any case.)
 */
export function needsRelocationLog(reg: Registry, profile: Profile): boolean {
  // (A rejection's coverage reads only its code and where, never the log.)
  return reg.entries.some((e) => e.handling === 'modelled' && list(e.scope.relocation) !== undefined && inScope(e, profile) && switchOn(e, profile));
}

export interface CaseVerdict {
  /** Registry entries that explain a non-matching case (empty if unexplained or matching). */
  explainedBy: string[];
  /** Entries whose modelled behaviour was exercised in this case (with bytes). */
  exercised: { id: string; bytes: number }[];
}

/**
 * Apply the registry to one compared case. `ts` is the TS outcome (for the relocation log).
 * `fill` is the case's fill byte; padding coverage counts only when it is non-zero.
 */
export function applyRegistry(reg: Registry, profile: Profile, ts: Outcome, cmp: CaseComparison, fill: number): CaseVerdict {
  const exercised: { id: string; bytes: number }[] = [];
  const explainedBy: string[] = [];
  for (const e of entriesInScope(reg, profile)) {
    if (e.handling === 'modelled' && ts.kind === 'ok') {
      const rels = list(e.scope.relocation);
      if (rels) {
        const byType = relocationsByType(ts.image);
        let hits = 0;
        let bytes = 0;
        for (const t of new Set(rels)) {
          const h = byType.get(t);
          if (h) {
            hits += h.count;
            bytes += h.bytes;
          }
        }
        if (hits) exercised.push({ id: e.id, bytes });
      } else if (e.switch === 'zeroImage') {
        if (fill !== 0) {
          const covered = ts.image.sections.filter((s) => s.alloc && !s.nobits).reduce((n, s) => n + Number(s.size), 0);
          const pad = ts.image.bytes.length - covered;
          if (pad > 0) exercised.push({ id: e.id, bytes: pad });
        }
      }
    }
    if (e.handling === 'modelled' && ts.kind === 'rejected' && e.scope.rejection?.includes(ts.code as RejectionCode)) {
      const rels = list(e.scope.relocation);
      if (!rels || (ts.where?.relocation !== undefined && rels.includes(ts.where.relocation))) exercised.push({ id: e.id, bytes: 0 });
    }
    if (cmp.cls === 'match' || cmp.cls === 'both-rejected') continue;
    const rels = list(e.scope.relocation);
    if (e.handling === 'excluded' && cmp.cls === 'mismatch-bytes' && rels) {
      const all = cmp.ranges.every((r) => r.attributions.length > 0 && r.attributions.every((a) => a.kind === 'relocation' && rels.includes(a.type)));
      if (all) {
        explainedBy.push(e.id);
        exercised.push({ id: e.id, bytes: cmp.differingBytes });
      }
    }
    if (e.handling === 'outcome' && e.scope.condition === 'ts-out-of-bounds' && ts.kind === 'rejected' && ts.code === 'out-of-bounds') {
      const below = (ts.where?.access?.offset ?? 0n) < 0n;
      if (e.scope.access === undefined || (e.scope.access === 'below-buffer') === below) explainedBy.push(e.id);
    }
    if (e.handling === 'outcome' && e.scope.condition === 'oracle-resource-limit' && cmp.cls === 'oracle-crashed' && /^resource-limit\b/.test(cmp.note ?? '')) {
      explainedBy.push(e.id);
    }
  }
  return { explainedBy, exercised };
}
