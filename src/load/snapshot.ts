// The caller's bytes as the load models read them: a private copy per caller's array, and the
// parses of that copy (one per profile), shared by the kexec-tools and kernel models.
import { Buffer } from 'node:buffer';
import type { Profile } from './profile.ts';

/** What the models keep per caller's array: a private copy of its bytes, and the parses of that copy (each model's own kind, keyed by its profiles). */
export interface Snapshot {
  bytes: Uint8Array;
  parses: Map<Profile, unknown>;
}

/**
 * The snapshots of the last RECENT arrays loaded, most recent first (strong references: a few
 * arrays and their copies). Not a WeakMap keyed by the caller's array: measured, an entry per
 * input (with its copy and parses) cost a load of a fresh array, as in a fuzz campaign, 10-40 us
 * more in the collector (debian-linux-6.1 under kernel-6.1: 72 us per load with it, 44 without).
 */
const RECENT = 8;
const recentKeys: Uint8Array[] = [];
const recentSnaps: Snapshot[] = [];

/**
 * The caller's bytes as this model reads them: a private copy, reused for as long as the caller's
 * array holds the same bytes (compared in full on every load) and is one of the last RECENT arrays
 * loaded, so no load ever sees a stale parse and the lazy relocation log replays over exactly the
 * bytes that were loaded.
 */
export function snapshotOf(bytes: Uint8Array): Snapshot {
  const i = recentKeys.indexOf(bytes);
  if (i === 0) {
    const s = recentSnaps[0]!;
    if (s.bytes.length === bytes.length && Buffer.compare(s.bytes, bytes) === 0) return s;
  } else if (i > 0) {
    recentKeys.splice(i, 1);
    const [s] = recentSnaps.splice(i, 1);
    if (s!.bytes.length === bytes.length && Buffer.compare(s!.bytes, bytes) === 0) {
      recentKeys.unshift(bytes);
      recentSnaps.unshift(s!);
      return s!;
    }
  }
  const fresh: Snapshot = { bytes: copyOf(bytes), parses: new Map() };
  if (i === 0) recentSnaps[0] = fresh;
  else {
    recentKeys.unshift(bytes);
    recentSnaps.unshift(fresh);
    if (recentKeys.length > RECENT) {
      recentKeys.pop();
      recentSnaps.pop();
    }
  }
  return fresh;
}

/** Copies up to this size share slabs of SLAB bytes (a fuzz campaign's inputs are fresh arrays, mostly loaded once). */
const SHARED_MAX = 1 << 16;
const SLAB = 1 << 19;
let slab: ArrayBuffer | undefined;
let slabUsed = 0;

/**
 * A private copy of `bytes`. A small one is a view into a shared slab: one ArrayBuffer (and one
 * external allocation for the collector to track) per SLAB bytes instead of one per input. A slab
 * lives as long as one of its copies; no copy is ever handed to a caller.
 */
function copyOf(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  let copy: Uint8Array;
  if (n > SHARED_MAX) copy = uninitialised(n);
  else {
    if (!slab || slabUsed + n > SLAB) {
      slab = Buffer.allocUnsafeSlow(SLAB).buffer;
      slabUsed = 0;
    }
    copy = new Uint8Array(slab, slabUsed, n);
    slabUsed += (n + 7) & ~7; // 8-byte aligned starts
  }
  copy.set(bytes);
  return copy;
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
