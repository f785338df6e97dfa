// Choosing reference sources: live oracles where built, stored references otherwise.
import { readFileSync } from 'node:fs';
import { casesFor, requestOf } from './cases.ts';
import { loadManifest, storedSources, type CorpusEntry, type ReferenceSource, type ValidateCase } from './validate.ts';
import { oracleId, type OracleIdentity } from './references.ts';
import { resolve } from 'node:path';
import type { RefOutcome } from '../compare/compare.ts';
import type { LoadRequest } from '../types.ts';
import { requireMatches } from '../errors.ts';
import { symbolProbes } from '../load/kexec-tools-details.ts';

/** A live oracle as validate needs it: run a batch of requests, in order. */
export interface LiveOracle {
  oracle: OracleIdentity;
  runMany(reqs: LoadRequest[]): Promise<RefOutcome[]>;
  /** It reports a load's details (FLAG_DETAILS): its requests carry symbol probes. */
  readonly details?: boolean;
  close(): Promise<void>;
}

/** Which live oracles to open: the released ones (default), or `all` built ones (local builds included). */
export interface LiveSelection {
  all?: boolean;
}

export type LiveOpener = (sel?: LiveSelection) => Promise<LiveOracle[]>;

/** Which corpus entries an oracle can load: same arch as its target. */
export function entriesFor(entries: CorpusEntry[], o: OracleIdentity): CorpusEntry[] {
  return entries.filter((e) => e.arch === o.target);
}

export function liveSource(corpusDir: string, live: LiveOracle, entries: CorpusEntry[], files?: { id: string; bytes: Uint8Array; bases?: string[] }[]): ReferenceSource {
  return {
    oracle: live.oracle,
    live: true,
    async *cases(): AsyncIterable<ValidateCase> {
      const items = files ?? entriesFor(entries, live.oracle).map((e) => ({ id: e.id, bytes: new Uint8Array(readFileSync(resolve(corpusDir, '..', e.file))), bases: e.bases }));
      for (const f of items) {
        const specs = casesFor(f.bytes, f.bases);
        const probes = live.details ? symbolProbes(f.bytes, live.oracle.loader) : undefined;
        const reqs = specs.map((c) => (probes ? { ...requestOf(f.bytes, c), probes } : requestOf(f.bytes, c)));
        const outs = await live.runMany(reqs);
        for (let i = 0; i < specs.length; i++) yield { entry: f.id, caseId: specs[i]!.id, req: reqs[i]!, ref: outs[i]! };
      }
    },
    close: () => live.close(),
  };
}

export interface SourcePlan {
  sources: ReferenceSource[];
  /** Oracles that were required live but are not built. */
  missing: string[];
}

/**
 * Live where built, stored otherwise. `requireLive`: every oracle that has stored references must
 * also be live (CI mode); those that are not are listed as missing. With no `oracles`, the live
 * oracles are the released ones (builds of local trees are not opened); `oracles` names exactly
 * which to use, local builds included. An `only` entry or an `oracles` id that matches nothing is a
 * NoMatchError (a usage error), listing what exists.
 */
export async function planSources(corpusDir: string, openLive: LiveOpener, opts: { requireLive: boolean; storedOnly?: boolean; only?: Set<string>; oracles?: Set<string> }): Promise<SourcePlan> {
  const manifest = loadManifest(corpusDir);
  if (opts.only) requireMatches('--only', opts.only, manifest.map((e) => e.id), `corpus entry in ${corpusDir}`);
  const missing: string[] = [];
  const stored = storedSources(corpusDir, opts.only, missing);
  let live = opts.storedOnly ? [] : await openLive(opts.oracles ? { all: true } : {});
  if (opts.oracles) {
    const named = opts.oracles;
    const what = `oracle${opts.storedOnly ? ' with stored references' : ' (built, or with stored references)'}`;
    try {
      requireMatches('--oracle', named, [...live, ...stored].map((s) => oracleId(s.oracle)), what);
    } finally {
      // Processes start with their first request: closing the ones not named costs nothing.
      await Promise.all(live.filter((l) => !named.has(oracleId(l.oracle))).map((l) => l.close()));
    }
    live = live.filter((l) => named.has(oracleId(l.oracle)));
  }
  const liveIds = new Set(live.map((l) => oracleId(l.oracle)));
  const entries = manifest.filter((e) => !opts.only || opts.only.has(e.id));
  const sources: ReferenceSource[] = live.map((l) => liveSource(corpusDir, l, entries));
  for (const s of stored) {
    const id = oracleId(s.oracle);
    if (liveIds.has(id) || (opts.oracles && !opts.oracles.has(id))) continue;
    if (opts.requireLive) missing.push(id);
    sources.push(s);
  }
  return { sources, missing };
}
