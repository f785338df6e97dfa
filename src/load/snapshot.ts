// The caller's bytes as the load models read them: a private copy per caller's array, and the
// parses of that copy (one per profile), shared by the kexec-tools and kernel models.
import { Buffer } from 'node:buffer';
import type { Profile } from './profile.ts';

/** What the models keep per caller's array: a private copy of its bytes, and the parses of that copy (each model's own kind, keyed by its profiles). */
export interface Snapshot {
  bytes: Uint8Array;
  parses: Map<Profile, unknown>;
}
const snapshots = new WeakMap<Uint8Array, Snapshot>();

/**
 * The caller's bytes as this model reads them: a private copy, reused for as long as the caller's
 * array holds the same bytes (compared in full on every load), so no load ever sees a stale parse
 * and the lazy relocation log replays over exactly the bytes that were loaded.
 */
export function snapshotOf(bytes: Uint8Array): Snapshot {
  const s = snapshots.get(bytes);
  if (s && s.bytes.length === bytes.length && Buffer.compare(s.bytes, bytes) === 0) return s;
  const copy = uninitialised(bytes.length);
  copy.set(bytes);
  const fresh: Snapshot = { bytes: copy, parses: new Map() };
  snapshots.set(bytes, fresh);
  return fresh;
}

/** A new array whose every byte the caller writes before it is read (cheaper than a zeroed one). */
export function uninitialised(n: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
}

/** The parse a model keeps of a snapshot under `profile`: make()'s, once (a parse that fails is not kept: it throws again). */
export function parseOf<T>(snap: Snapshot, profile: Profile, make: (bytes: Uint8Array) => T): T {
  let p = snap.parses.get(profile) as T | undefined;
  if (p === undefined) {
    p = make(snap.bytes);
    if (snap.parses.size >= 8) snap.parses.clear(); // callers that build a new Profile per load
    snap.parses.set(profile, p);
  }
  return p;
}
