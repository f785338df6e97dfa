// Stored references: regenerate them from the live oracles and compare with what is committed.
//
//   npx tsx scripts/references.ts verify            # fail (exit 1) if any stored reference is stale
//   npx tsx scripts/references.ts write [--oracle ID]…  # (re)write corpus/references from live oracles
//   … [--only IDS]   # only these corpus entries (comma-separated; `cov-*` matches a prefix): verify
//                    # checks just them; write replaces just their cases and keeps every other stored
//                    # case (and the file's provenance) as it is, recording the partial write
//
// A stored case is stale when the live oracle now reports a different outcome, layout or image.
// The host buffer address is compared only when the images differ (x86_64 native runs under ASLR,
// so its heap moves between runs; no x86_64 relocation depends on it).
import { readFileSync } from 'node:fs';
import { execaSync } from 'execa';
import { resolve } from 'node:path';
import { DEFAULT_CORPUS, loadManifest } from '../src/validate/validate.ts';
import { casesFor, requestOf } from '../src/validate/cases.ts';
import { entriesFor } from '../src/validate/sources.ts';
import { openLiveOracles } from '../src/validate/live.ts';
import {
  decodeOutcome, encodeOutcome, loadReferenceFiles, oracleId, symbolsJson, writeReferenceFile, type ReferenceFile, type StoredCase,
} from '../src/validate/references.ts';
import { sha256 } from '../src/image.ts';
import { listKexecToolsOracles } from '../src/oracle/registry.ts';
import type { RefOutcome } from '../src/compare/compare.ts';

const [mode = 'verify', ...rest] = process.argv.slice(2);
const onlyOracles = new Set(rest.filter((_, i) => rest[i - 1] === '--oracle'));
const onlyPatterns = rest.filter((_, i) => rest[i - 1] === '--only').flatMap((x) => x.split(',')).filter((x) => x);
const selected = (id: string) => !onlyPatterns.length || onlyPatterns.some((p) => (p.endsWith('*') ? id.startsWith(p.slice(0, -1)) : id === p));
const corpusDir = DEFAULT_CORPUS;

function sameOutcome(a: RefOutcome, b: RefOutcome): string | undefined {
  if (a.kind !== b.kind) return `outcome ${a.kind} vs ${b.kind}`;
  if (a.kind === 'rejected' && b.kind === 'rejected') return a.message === b.message ? undefined : `message '${a.message.trim()}' vs '${b.message.trim()}'`;
  if (a.kind === 'ok' && b.kind === 'ok') {
    if (a.relAddr !== b.relAddr || a.relSize !== b.relSize || a.entry !== b.entry) return 'layout';
    if (a.shAddr.join() !== b.shAddr.join()) return 'section addresses';
    if (sha256(a.image) !== sha256(b.image)) return `image (host buffer ${a.hostBuf.toString(16)} vs ${b.hostBuf.toString(16)})`;
  }
  return undefined;
}

let harnessRevision = 'unknown';
try {
  harnessRevision = execaSync('git', ['rev-parse', 'HEAD']).stdout.trim();
} catch { /* not a checkout */ }

const entries = loadManifest(corpusDir).filter((e) => selected(e.id));
if (!entries.length) {
  console.error(`references: --only ${onlyPatterns.join(',')} matches no corpus entry`);
  process.exit(2);
}
const builds = new Map(listKexecToolsOracles().map((b) => [oracleId({ loader: 'kexec-tools', version: b.version, target: b.target }), b]));
// Released oracles by default; a local build only when named with --oracle.
const opened = await openLiveOracles(onlyOracles.size ? { all: true } : {});
if (onlyOracles.size) {
  const known = opened.map((l) => oracleId(l.oracle));
  const unknown = [...onlyOracles].filter((id) => !known.includes(id));
  if (unknown.length) {
    console.error(`references: --oracle ${unknown.map((u) => `'${u}'`).join(', ')}: no such built oracle; built: ${known.sort().join(', ') || 'none'}`);
    process.exit(2);
  }
}
const live = opened.filter((l) => !onlyOracles.size || onlyOracles.has(oracleId(l.oracle)));
if (!live.length) {
  console.error('references: no live oracle is built (run: bash scripts/ci-oracles.sh)');
  process.exit(2);
}
const stored = new Map(loadReferenceFiles(corpusDir).map((r) => [oracleId(r.oracle), r]));
let stale = 0;
let checked = 0;
for (const o of live) {
  const id = oracleId(o.oracle);
  if (mode !== 'write' && !stored.has(id)) {
    // e.g. an oracle built from a developer's tree: nothing stored to be stale against.
    console.log(`not checked: ${id} has no stored references (write them with npm run references:write -- --oracle ${id})`);
    await o.close();
    continue;
  }
  const build = builds.get(id);
  const cases: StoredCase[] = [];
  for (const e of entriesFor(entries, o.oracle)) {
    const elf = new Uint8Array(readFileSync(resolve(corpusDir, '..', e.file)));
    const specs = casesFor(elf, e.bases);
    const outs = await o.runMany(specs.map((c) => requestOf(elf, c)));
    specs.forEach((c, i) => {
      cases.push({
        entry: e.id, elfSha256: e.sha256, case: c.id, base: '0x' + c.base.toString(16), fill: c.fill,
        symbols: symbolsJson(c.symbols), outcome: mode === 'write' ? encodeOutcome(corpusDir, outs[i]!) : { kind: 'timeout', ms: -1 },
      });
      if (mode !== 'write') {
        checked++;
        const old = stored.get(id)?.cases.find((x) => x.entry === e.id && x.case === c.id);
        if (!old) { stale++; console.log(`STALE ${id} ${e.id} ${c.id}: no stored reference`); return; }
        const why = sameOutcome(decodeOutcome(corpusDir, old.outcome), outs[i]!);
        if (why) { stale++; console.log(`STALE ${id} ${e.id} ${c.id}: ${why}`); }
      }
    });
  }
  await o.close();
  if (mode === 'write' && onlyPatterns.length) {
    // Partial write: every stored case of another entry stays byte for byte.
    const old = stored.get(id);
    const kept = (old?.cases ?? []).filter((c) => !selected(c.entry));
    const file: ReferenceFile = old
      ? {
          ...old,
          provenance: {
            ...old.provenance,
            partialWrites: [
              ...((old.provenance.partialWrites as unknown[] | undefined) ?? []).filter((w) => JSON.stringify((w as { only?: unknown }).only) !== JSON.stringify(onlyPatterns)),
              { generatedBy: 'scripts/references.ts --only', harnessRevision, only: onlyPatterns, cases: cases.length },
            ],
          },
          cases: [...kept, ...cases],
        }
      : { format: 'purgatory-oracle/references@1', oracle: o.oracle, provenance: { generatedBy: 'scripts/references.ts --only', harnessRevision }, cases };
    console.log(`wrote ${writeReferenceFile(corpusDir, file)} (${cases.length} cases replaced or added, ${kept.length} kept)`);
  } else if (mode === 'write') {
    const file: ReferenceFile = {
      format: 'purgatory-oracle/references@1',
      oracle: o.oracle,
      provenance: {
        generatedBy: 'scripts/references.ts',
        harnessRevision,
        build: build
          ? { ...build.build, source_path: undefined, source_meta: undefined }
          : (o as { build?: { info?: unknown } }).build?.info,
        note: 'hostBuf is the harness heap address of the image buffer: deterministic under qemu-user (static, no ASLR), varies natively (ASLR); kexec-tools ppc64 REL32 depends on it',
      },
      cases,
    };
    console.log(`wrote ${writeReferenceFile(corpusDir, file)} (${cases.length} cases)`);
  }
}
if (mode !== 'write') {
  console.log(`${checked} stored cases checked live, ${stale} stale`);
  // Nothing passes vacuously: checking no stored case is an error.
  process.exitCode = !checked ? 2 : stale ? 1 : 0;
}
