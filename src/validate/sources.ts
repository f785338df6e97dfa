// Choosing reference sources: live oracles where built, stored references otherwise.
import { readFileSync } from 'node:fs';
import { casesFor, requestOf } from './cases.ts';
import { loadManifest, storedSources, type CorpusEntry, type ReferenceSource, type ValidateCase } from './validate.ts';
import { oracleId, type OracleIdentity } from './references.ts';
import { resolve } from 'node:path';
import type { RefOutcome } from '../compare/compare.ts';
import type { LoadRequest } from '../types.ts';

/** A live oracle as validate needs it: run a batch of requests, in order. */
export interface LiveOracle {
  oracle: OracleIdentity;
  runMany(reqs: LoadRequest[]): Promise<RefOutcome[]>;
  close(): Promise<void>;
}

export type LiveOpener = () => Promise<LiveOracle[]>;

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
        const reqs = specs.map((c) => requestOf(f.bytes, c));
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
 * also be live (CI mode); those that are not are listed as missing.
 */
export async function planSources(corpusDir: string, openLive: LiveOpener, opts: { requireLive: boolean; storedOnly?: boolean; only?: Set<string> }): Promise<SourcePlan> {
  const missing: string[] = [];
  const stored = storedSources(corpusDir, opts.only, missing);
  const live = opts.storedOnly ? [] : await openLive();
  const liveIds = new Set(live.map((l) => oracleId(l.oracle)));
  const entries = loadManifest(corpusDir).filter((e) => !opts.only || opts.only.has(e.id));
  const sources: ReferenceSource[] = live.map((l) => liveSource(corpusDir, l, entries));
  for (const s of stored) {
    const id = oracleId(s.oracle);
    if (liveIds.has(id)) continue;
    if (opts.requireLive) missing.push(id);
    sources.push(s);
  }
  return { sources, missing };
}
