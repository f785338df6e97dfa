// The caller's bytes as the load models read them (kexec-tools and kernel): a private copy per
// caller's array, and the parses of that copy (one per profile).
import { Buffer } from 'node:buffer';
import type { Profile } from './profile.ts';

/** What the models keep per caller's array: a private copy of its bytes, and the parses of that copy (each model's own kind, keyed by its profiles). */
export interface Snapshot {
  bytes: Uint8Array;
  parses: Map<Profile, unknown>;
}
/** Arrays loaded more than once (validate, the fuzz memo, the bench): their snapshots, for as long as the array lives. */
const snapshots = new WeakMap<Uint8Array, Snapshot>();
/**
 * The array loaded last, if it was new, and its snapshot: an array enters `snapshots` when it is
 * loaded a second time in a row (validate loads each file at several bases in a row, a fuzz
 * confirmation loads its case again under another profile). A fuzz campaign loads each generated
 * array once: a WeakMap entry per array kept its snapshot and whole parse alive through the
 * young-generation collections, which copied and promoted them at more than the parse's cost
 * (x86_64, seed 1, a fresh load 50-55 -> 25-30 us). Two plain variables, not an object holding
 * both: with a { array, snap } object per load the parses were promoted as before (10 full
 * collections instead of 2 in 30,000 cases).
 */
let lastArray: Uint8Array | undefined;
let lastSnap: Snapshot | undefined;

/**
 * The caller's bytes as this model reads them: a private copy, reused for as long as the caller's
 * array holds the same bytes (compared in full on every load), so no load ever sees a stale parse
 * and the lazy relocation log replays over exactly the bytes that were loaded.
 */
export function snapshotOf(bytes: Uint8Array): Snapshot {
  const kept = snapshots.get(bytes);
  if (kept && unchanged(kept, bytes)) return kept;
  if (lastArray === bytes) {
    const snap = lastSnap!;
    lastArray = lastSnap = undefined;
    if (unchanged(snap, bytes)) {
      snapshots.set(bytes, snap); // loaded again: kept from now on
      return snap;
    }
  }
  const fresh: Snapshot = { bytes: privateCopy(bytes), parses: new Map() };
  if (kept) snapshots.set(bytes, fresh); // changed in place: its new bytes replace the old
  else {
    lastArray = bytes;
    lastSnap = fresh;
  }
  return fresh;
}

/**
 * A copy of the caller's bytes, never written (a load that writes into its file copies it again:
 * CMem.writable). A small one is carved from Node's shared allocation pool (Buffer.allocUnsafe),
 * as a plain Uint8Array view (a Buffer's slice() would be a view, not a copy): most generated fuzz
 * cases are under 4 KiB, and a buffer of their own each cost an allocation and its sweep.
 */
function privateCopy(bytes: Uint8Array): Uint8Array {
  const b = Buffer.allocUnsafe(bytes.length);
  const copy = new Uint8Array(b.buffer, b.byteOffset, bytes.length);
  copy.set(bytes);
  return copy;
}

function unchanged(s: Snapshot, bytes: Uint8Array): boolean {
  return s.bytes.length === bytes.length && Buffer.compare(s.bytes, bytes) === 0;
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
