// The checked-in list of equivalent mutants (corpus/mutation/equivalent.json): per mutant id, the
// source context hash and the argument why no input can tell the mutant from the original. An
// entry that matches no generated mutant (its code changed, or the generator did) is stale, and is
// reported, never dropped silently.
import { existsSync, readFileSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import type { Arch } from '../types.ts';
import type { Mutant } from './mutants.ts';

export const EQUIVALENTS_FORMAT = 'purgatory-oracle/mutation-equivalents@1';

export interface EquivalentEntry {
  id: string;
  contextHash: string;
  /** The targets it is equivalent on (default: every target the mutant is built for). */
  targets?: Arch[];
  argument: string;
}

export function readEquivalents(path: string): EquivalentEntry[] {
  if (!existsSync(path)) return [];
  const j = JSON.parse(readFileSync(path, 'utf8')) as { format?: string; entries?: EquivalentEntry[] };
  if (j.format !== EQUIVALENTS_FORMAT) throw new UsageError(`${path}: not a ${EQUIVALENTS_FORMAT} file`);
  const seen = new Set<string>();
  for (const e of j.entries ?? []) {
    if (!e.id || !e.contextHash || !e.argument?.trim()) throw new UsageError(`${path}: every entry needs id, contextHash and a written argument (${e.id ?? '?'})`);
    if (seen.has(e.id)) throw new UsageError(`${path}: ${e.id} is listed twice`);
    seen.add(e.id);
  }
  return j.entries ?? [];
}

/**
 * Match entries to generated mutants by id and context hash. `inScope`: entries of files and
 * functions this run generated (the others are neither matched nor stale).
 */
export function matchEquivalents(entries: EquivalentEntry[], mutants: Mutant[], inScope: (e: EquivalentEntry) => boolean): { byId: Map<string, EquivalentEntry>; stale: EquivalentEntry[] } {
  const ids = new Map(mutants.map((m) => [m.id, m]));
  const byId = new Map<string, EquivalentEntry>();
  const stale: EquivalentEntry[] = [];
  for (const e of entries) {
    if (!inScope(e)) continue;
    const m = ids.get(e.id);
    if (m && m.contextHash === e.contextHash) byId.set(e.id, e);
    else stale.push(e);
  }
  return { byId, stale };
}
