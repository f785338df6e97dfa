// Stored references: the live oracles' results, committed with provenance, so a machine with no
// toolchain can still check the TS engine. Images are stored gzip-compressed and content-addressed.
import { gunzip, gunzipSync, gzipSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hex } from '../bytes.ts';
import { sha256 } from '../image.ts';
import { PurgatoryOracleError } from '../errors.ts';
import type { RefOutcome } from '../compare/compare.ts';
import type { Arch, SymbolWrite } from '../types.ts';

export interface OracleIdentity {
  loader: 'kexec-tools' | 'kernel';
  version: string;
  target: Arch;
}

export const oracleId = (o: OracleIdentity): string => `${o.loader}-${o.version}/${o.target}`;
export const profileIdOf = (o: OracleIdentity): string => `${o.loader}-${o.version}`;

export interface StoredOutcomeOk {
  kind: 'ok';
  relAddr: string;
  relSize: string;
  entry: string;
  hostBuf: string;
  shAddr: string[];
  imageSha256: string;
  imageLength: number;
}
export type StoredOutcome =
  | StoredOutcomeOk
  | { kind: 'rejected'; errno: number; message: string }
  | { kind: 'crashed'; signal: string; message?: string }
  | { kind: 'timeout'; ms: number };

export interface StoredCase {
  entry: string;
  elfSha256: string;
  case: string;
  base: string;
  fill: number;
  symbols: { name: string; hex: string }[];
  outcome: StoredOutcome;
}

export interface ReferenceFile {
  format: 'purgatory-oracle/references@1';
  oracle: OracleIdentity;
  provenance: Record<string, unknown>;
  cases: StoredCase[];
}

export class ReferenceError extends PurgatoryOracleError {}

const gunzipAsync = promisify(gunzip);

export const referencesDir = (corpusDir: string) => join(corpusDir, 'references');
const blobPath = (corpusDir: string, sha: string) => join(referencesDir(corpusDir), 'blobs', `${sha}.gz`);
const fileName = (o: OracleIdentity) => `${o.loader}-${o.version}.${o.target}.json`;

export function encodeOutcome(corpusDir: string, o: RefOutcome): StoredOutcome {
  if (o.kind !== 'ok') return o;
  const sha = sha256(o.image);
  const p = blobPath(corpusDir, sha);
  if (!existsSync(p)) {
    mkdirSync(join(referencesDir(corpusDir), 'blobs'), { recursive: true });
    writeFileSync(p, gzipSync(o.image, { level: 9 }));
  }
  return {
    kind: 'ok', relAddr: hex(o.relAddr), relSize: hex(o.relSize), entry: hex(o.entry), hostBuf: hex(o.hostBuf),
    shAddr: o.shAddr.map((a) => hex(a)), imageSha256: sha, imageLength: o.image.length,
  };
}

// Decoded (and hash-checked) images by path: many cases share one image (content-addressed).
const blobCache = new Map<string, Uint8Array>();

function readBlob(corpusDir: string, sha: string): Uint8Array {
  const p = blobPath(corpusDir, sha);
  let image = blobCache.get(p);
  if (image) return image;
  if (!existsSync(p)) throw new ReferenceError(`stored reference image ${sha} is missing (${p}); regenerate with npm run references:write`);
  image = new Uint8Array(gunzipSync(readFileSync(p)));
  if (sha256(image) !== sha) throw new ReferenceError(`stored reference image ${p} does not match its sha256`);
  if (blobCache.size > 4096) blobCache.clear();
  blobCache.set(p, image);
  return image;
}

// Images being read and decompressed in the background (zlib's thread pool), by path.
const blobPending = new Map<string, Promise<Uint8Array>>();

/**
 * Start reading and decompressing stored images off the main thread, so that validate's engine
 * runs meanwhile; decodeOutcomeAsync() takes them from here. Errors surface where the image is
 * used, as readBlob() would raise them there.
 */
export function prefetchBlobs(corpusDir: string, shas: Iterable<string>): void {
  for (const sha of new Set(shas)) {
    const p = blobPath(corpusDir, sha);
    if (blobCache.has(p) || blobPending.has(p)) continue;
    const pending = (async () => {
      if (!existsSync(p)) return readBlob(corpusDir, sha); // the missing-image error, as readBlob() raises it
      const image = new Uint8Array(await gunzipAsync(await readFile(p)));
      if (sha256(image) !== sha) throw new ReferenceError(`stored reference image ${p} does not match its sha256`);
      if (blobCache.size > 4096) blobCache.clear();
      blobCache.set(p, image);
      return image;
    })();
    pending.catch(() => {}); // reported when used
    blobPending.set(p, pending);
  }
}

async function readBlobAsync(corpusDir: string, sha: string): Promise<Uint8Array> {
  const p = blobPath(corpusDir, sha);
  const pending = blobPending.get(p);
  if (!pending) return readBlob(corpusDir, sha);
  try {
    return await pending;
  } finally {
    blobPending.delete(p);
  }
}

/** decodeOutcome(), taking the image from prefetchBlobs() where it was started. */
export async function decodeOutcomeAsync(corpusDir: string, o: StoredOutcome): Promise<RefOutcome> {
  if (o.kind !== 'ok') return o;
  const image = await readBlobAsync(corpusDir, o.imageSha256);
  return {
    kind: 'ok', relAddr: BigInt(o.relAddr), relSize: BigInt(o.relSize), entry: BigInt(o.entry), hostBuf: BigInt(o.hostBuf),
    shAddr: o.shAddr.map((a) => BigInt(a)), image,
  };
}

export function decodeOutcome(corpusDir: string, o: StoredOutcome): RefOutcome {
  if (o.kind !== 'ok') return o;
  const image = readBlob(corpusDir, o.imageSha256);
  return {
    kind: 'ok', relAddr: BigInt(o.relAddr), relSize: BigInt(o.relSize), entry: BigInt(o.entry), hostBuf: BigInt(o.hostBuf),
    shAddr: o.shAddr.map((a) => BigInt(a)), image,
  };
}

export const symbolsJson = (s: SymbolWrite[]) => s.map((x) => ({ name: x.name, hex: Buffer.from(x.bytes).toString('hex') }));
export const symbolsOf = (s: { name: string; hex: string }[]): SymbolWrite[] => s.map((x) => ({ name: x.name, bytes: Uint8Array.from(Buffer.from(x.hex, 'hex')) }));

export function loadReferenceFiles(corpusDir: string): ReferenceFile[] {
  const dir = referencesDir(corpusDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as ReferenceFile;
      if (r.format !== 'purgatory-oracle/references@1') throw new ReferenceError(`${f}: unknown reference format ${String(r.format)}`);
      return r;
    });
}

export function writeReferenceFile(corpusDir: string, r: ReferenceFile): string {
  mkdirSync(referencesDir(corpusDir), { recursive: true });
  const p = join(referencesDir(corpusDir), fileName(r.oracle));
  writeFileSync(p, JSON.stringify(r, null, 1) + '\n');
  return p;
}
