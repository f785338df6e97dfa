// A differential campaign against one live oracle: generate the shard's cases, send them to the
// oracle in pipelined batches (the next batch is in flight while this one is compared), run the TS
// engine under the oracle's profile, compare, apply the registry, dedup by signature, and minimize
// + write a reproducer for the first case of every signature. Modelled divergences the cases
// exercised are confirmed the same way (matching, and diverging with the switch off).
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { renderComparison } from '../compare/render.ts';
import { load } from '../engine.ts';
import type { OracleResponse } from '../oracle/batch.ts';
import type { Registry, RegistryEntry } from '../validate/registry.ts';
import type { Arch, LoadRequest, Outcome } from '../types.ts';
import { formatOutcomeLine } from './format.ts';
import { requestOf, type CaseDesc, type DescSize, type FuzzMode } from './desc.ts';
import { confirmationKey, divergesWithoutSwitch, evaluate, type Evaluation } from './evaluate.ts';
import { generateCase } from './generate.ts';
import { budget, minimizeDesc, type MinimizeResult } from './minimize.ts';
import type { FuzzOracle, OracleSpec } from './oracles.ts';
import { Rng } from './prng.ts';
import type { ProgressSink } from './progress.ts';
import { claimName, reproRequest, writeReproducer, type ReproKind } from './reproducer.ts';
import { diagnosticSignature, signatureDir, type Signature } from './signature.ts';

export interface Shard {
  index: number;
  count: number;
}

export interface CampaignOptions {
  seed: number;
  modes: FuzzMode[];
  /** Length of the global case stream (this shard runs the indices k < cases with k mod count == index). */
  cases?: number;
  /** Fuzzing time budget (minimization time is not counted). */
  timeMs?: number;
  shard: Shard;
  /** Where reproducers go (<out>/<signature>/); undefined: write nothing. */
  out?: string;
  /**
   * Directories of existing reproducers: a signature with a reproducer there is known (not
   * minimized or written again). A directory whose name ends in "-open" holds open findings:
   * unexplained divergences that are TS engine bugs, reported and awaiting a fix.
   * Default: [out, <out>-open].
   */
  known?: string[];
  /** Overwrite an existing reproducer directory of the same signature. */
  overwrite?: boolean;
  root: string;
  registry: Registry;
  batch: number;
  minimize: boolean;
  minimizeTests: number;
  minimizeMs: number;
  /** A TS load slower than this is a hang finding. */
  hangMs: number;
  confirm: boolean;
  progress?: ProgressSink;
  /**
   * A directory shared by the parallel jobs of this campaign (`fuzz --jobs`, parallel.ts): a job
   * minimizes and writes a signature's reproducer, or confirms a registry entry, only if it claims
   * it there first; a job that loses a signature marks it known. Used only with `out`.
   */
  claims?: string;
  /**
   * Replay: case k is replay[k] (inputs of a coverage-guided fuzzer, see replay.ts) instead of the
   * seeded generator's; `cases` must then be replay.length.
   */
  replay?: readonly CaseDesc[];
  /** Minimize at most this many signatures (the gate: a broken tree has many); the rest are written as found. */
  maxMinimized?: number;
  /** Stop after the first unexplained signature (the gate's early exit for mutants). */
  stopOnFinding?: boolean;
  /**
   * Generated cases and TS outcomes kept across campaigns of the same seed, modes, profile and
   * target (mutate gates hundreds of mutant oracles with the same stream): see CampaignMemo.
   */
  memo?: CampaignMemo;
  /**
   * Triage findings only (the gate): a signature the registry explains is counted, not checked in
   * a fresh process, minimized or written.
   */
  findingsOnly?: boolean;
}

/** What a campaign can reuse from an earlier one with the same `key` (seed, modes, profile, target). */
export interface CampaignMemo {
  key: string;
  /** Case k's description and request (null: the generator failed on it). */
  cases: Map<number, { desc: CaseDesc; req: LoadRequest } | null>;
  /** The TS outcome of case k at a host address ("k|host"). */
  ts: Map<string, Outcome>;
}

export const campaignMemoKey = (seed: number, modes: readonly FuzzMode[], spec: Pick<OracleSpec, 'profile' | 'target'>): string =>
  `${seed}|${modes.join(',')}|${spec.profile}|${spec.target}`;

export interface CaseRef {
  mode: FuzzMode;
  index: number;
}

export interface SignatureSummary {
  key: string;
  oracle: string;
  relocation: string;
  cls: string;
  detail: string;
  count: number;
  explainedBy: string[];
  /** Unexplained by the registry. */
  finding: boolean;
  /** A reproducer of this signature already existed (in out, or in the open-findings directory). */
  known?: 'regression' | 'open';
  first: CaseRef;
  note?: string;
  reproducer?: string;
  minimized?: { from: DescSize; to: DescSize; tests: number; ms: number };
}

export interface CampaignSummary {
  oracle: string;
  target?: Arch;
  cases: number;
  genErrors: number;
  fuzzMs: number;
  minimizeMs: number;
  casesPerSec: number;
  byClass: Record<string, number>;
  byMode: Record<string, number>;
  /**
   * Per registry entry: cases it explained; cases that exercised it (modelled entries: the TS
   * engine applied the quirk) and, of those, the ones that matched the oracle byte for byte.
   */
  registry: Record<string, { explained: number; exercised: number; matched: number }>;
  signatures: SignatureSummary[];
  confirmations: SignatureSummary[];
  /**
   * Divergences that did not reproduce in a fresh oracle process: collateral damage of an earlier
   * case's out-of-bounds write in the same long-lived process (heap corruption). Not findings.
   */
  collateral: Record<string, number>;
  diagnostics: { signature: string; count: number; first: CaseRef; excerpt: string }[];
  tsSlow: number;
  tsMaxMs: number;
  error?: string;
}

/**
 * Job j of `jobs` parallel jobs of a shard I/C: the indices k with k mod (C·jobs) == I + C·j. The
 * union over j is the shard, and the jobs are disjoint.
 */
export function jobShard(shard: Shard, jobs: number, j: number): Shard {
  return { index: shard.index + shard.count * j, count: shard.count * jobs };
}

export function* caseIndices(shard: Shard, cases?: number, startJ = 0): Generator<number> {
  for (let j = startJ; ; j++) {
    const k = shard.index + shard.count * j;
    if (cases !== undefined && k >= cases) return;
    yield k;
  }
}

/** Case k of a campaign for a target: the same for every oracle of that target and every shard. */
export function caseFor(seed: number, k: number, modes: readonly FuzzMode[], target: Arch | undefined, root: string): CaseDesc {
  const rng = Rng.forCase(seed, k, target ?? 'ts-only');
  const mode = rng.pick(modes);
  return generateCase(rng, mode, target, { root, tsOnly: target === undefined });
}

interface Item {
  k: number;
  desc: CaseDesc;
  req: LoadRequest;
}

export function emptySummary(oracle: string, target?: Arch): CampaignSummary {
  return {
    oracle, target, cases: 0, genErrors: 0, fuzzMs: 0, minimizeMs: 0, casesPerSec: 0, byClass: {}, byMode: {}, registry: {},
    signatures: [], confirmations: [], collateral: {}, diagnostics: [], tsSlow: 0, tsMaxMs: 0,
  };
}

const bump = (m: Record<string, number>, k: string, n = 1) => (m[k] = (m[k] ?? 0) + n);

export async function runOracleCampaign(oracle: FuzzOracle, opts: CampaignOptions, openFresh?: () => Promise<FuzzOracle>): Promise<CampaignSummary> {
  const spec = oracle.spec;
  const sum = emptySummary(spec.id, spec.target);
  const sigs = new Map<string, SignatureSummary>();
  const confirmed = new Map<string, SignatureSummary>();
  const diags = new Map<string, CampaignSummary['diagnostics'][number]>();
  const entries = new Map(opts.registry.entries.map((e) => [e.id, e]));
  const t0 = performance.now();
  const fuzzElapsed = () => performance.now() - t0 - sum.minimizeMs;
  const shardText = `${opts.shard.index}/${opts.shard.count}`;
  const found = () => {
    const keys = { findings: [] as string[], explained: [] as string[] };
    for (const s of sigs.values()) (s.finding ? keys.findings : keys.explained).push(s.key);
    return { findings: keys.findings.length, explained: keys.explained.length, keys };
  };
  const progress = () => opts.progress?.update({
    label: spec.id, cases: sum.cases, total: opts.cases !== undefined ? Math.ceil((opts.cases - opts.shard.index) / opts.shard.count) : undefined,
    timeMs: opts.timeMs, elapsedMs: fuzzElapsed(), shard: shardText, ...found(),
  });
  const claims = opts.out ? opts.claims : undefined;
  const claim = (name: string) => claims === undefined || claimName(claims, signatureDir(name));
  /** Registry entries whose confirmation another parallel job claimed: left to it. */
  const ceded = new Set<string>();

  const memo = opts.memo;
  if (memo && !opts.replay && memo.key !== campaignMemoKey(opts.seed, opts.modes, spec)) throw new Error(`campaign memo ${memo.key} used for ${campaignMemoKey(opts.seed, opts.modes, spec)}`);
  const it = caseIndices(opts.shard, opts.cases);
  const startBatch = (): { items: Item[]; refs: Promise<OracleResponse[]> } | undefined => {
    if (opts.timeMs !== undefined && fuzzElapsed() >= opts.timeMs) return undefined;
    const items: Item[] = [];
    while (items.length < opts.batch) {
      const n = it.next();
      if (n.done) break;
      const kept = memo && !opts.replay ? memo.cases.get(n.value) : undefined;
      if (kept !== undefined) {
        if (kept) items.push({ k: n.value, ...kept });
        else sum.genErrors++;
        continue;
      }
      const desc = opts.replay ? opts.replay[n.value]! : caseFor(opts.seed, n.value, opts.modes, spec.target, opts.root);
      try {
        const req = requestOf(desc);
        items.push({ k: n.value, desc, req });
        if (memo && !opts.replay) memo.cases.set(n.value, { desc, req });
      } catch {
        sum.genErrors++;
        if (memo && !opts.replay) memo.cases.set(n.value, null);
      }
    }
    if (!items.length) return undefined;
    return { items, refs: oracle.runMany(items.map((i) => i.req)) };
  };

  /** Evaluate candidate descriptions against the oracle (one pipelined batch). */
  const evalMany = async (cands: CaseDesc[]): Promise<({ req: LoadRequest; ref: OracleResponse; ev: Evaluation } | undefined)[]> => {
    const reqs = cands.map((d) => {
      try {
        return requestOf(d);
      } catch {
        return undefined;
      }
    });
    const valid = reqs.filter((r): r is LoadRequest => r !== undefined);
    const refs = await oracle.runMany(valid);
    let i = 0;
    return reqs.map((req) => {
      if (!req) return undefined;
      const ref = refs[i++]!;
      return { req, ref, ev: evaluate(spec, opts.registry, req, ref) };
    });
  };

  /** Run one request in a fresh oracle process (no heap state left by earlier cases). */
  const freshRun = async (req: LoadRequest): Promise<OracleResponse> => {
    if (!openFresh) return oracle.run(req);
    const o = await openFresh();
    try {
      return await o.run(req);
    } finally {
      await o.close().catch(() => o.kill());
    }
  };
  type Keep = (ev: Evaluation, req: LoadRequest, ref: OracleResponse) => boolean;
  const reproducesFresh = async (req: LoadRequest, keep: Keep): Promise<boolean> => {
    const ref = await freshRun(req);
    return keep(evaluate(spec, opts.registry, req, ref), req, ref);
  };

  let minimized = 0;
  const minimize = async (desc: CaseDesc, keep: Keep, verify: boolean): Promise<MinimizeResult | undefined> => {
    if (!opts.minimize || (opts.maxMinimized !== undefined && minimized >= opts.maxMinimized)) return undefined;
    minimized++;
    opts.progress?.update({ label: spec.id, cases: sum.cases, timeMs: opts.timeMs, elapsedMs: fuzzElapsed(), findings: 0, explained: 0, shard: shardText, phase: 'minimizing' });
    return minimizeDesc(desc, async (cands) => {
      const rs = await evalMany(cands);
      const res = rs.map((r) => (r ? keep(r.ev, r.req, r.ref) : false));
      if (!verify) return res;
      // ddmin takes the first interesting candidate: make sure it is interesting on its own, in a
      // fresh process, and not because an earlier candidate corrupted the oracle's heap.
      for (let i = 0; i < res.length; i++) {
        if (!res[i]) continue;
        if (await reproducesFresh(rs[i]!.req, keep)) return res.map((_x, j) => j === i);
        res[i] = false;
      }
      return res;
    }, budget(opts.minimizeTests, opts.minimizeMs));
  };
  /** Triage (fresh-process checks, minimization, writing) is not fuzzing time. */
  const triage = async <T>(f: () => Promise<T>): Promise<T> => {
    const tm = performance.now();
    try {
      return await f();
    } finally {
      sum.minimizeMs += performance.now() - tm;
    }
  };

  const knownDirs = opts.known ?? (opts.out ? [opts.out, `${opts.out}-open`] : []);
  const knownDir = (key: string): ['regression' | 'open', string] | undefined => {
    const name = signatureDir(key);
    for (const d of knownDirs) if (existsSync(join(d, name))) return [/-open\/?$/.test(d) ? 'open' : 'regression', join(d, name)];
    return undefined;
  };

  const record = async (kind: ReproKind, s: SignatureSummary, desc: CaseDesc, keep: Keep, registryIds: string[], verify: boolean) => {
    const known = kind === 'divergence' && !opts.overwrite ? knownDir(s.key) : undefined;
    if (known) {
      // Already reproduced and minimized by an earlier campaign.
      [s.known, s.reproducer] = known;
      return;
    }
    if (!opts.out && !opts.minimize) return;
    if (kind === 'divergence' && !claim(s.key)) {
      // Another job of this campaign is minimizing and writing it.
      s.known = 'regression';
      s.reproducer = join(opts.out!, signatureDir(s.key));
      return;
    }
    const min = await minimize(desc, keep, verify);
    let final = min?.desc ?? desc;
    let req = requestOf(final);
    let ref = await freshRun(req);
    let ev = evaluate(spec, opts.registry, req, ref);
    if (!keep(ev, req, ref) && min) {
      // The minimized case does not reproduce on its own: keep the original.
      final = desc;
      req = requestOf(final);
      ref = await freshRun(req);
      ev = evaluate(spec, opts.registry, req, ref);
      s.minimized = undefined;
    } else if (min) s.minimized = { from: min.from, to: min.to, tests: min.tests, ms: Math.round(min.ms) };
    const r = { req, ref, ev };
    if (kind === 'confirmation') s.key = confirmationKey(spec, entries.get(registryIds[0]!)!, r.ev.ts);
    if (!opts.out) return;
    const dir = join(opts.out, signatureDir(s.key));
    s.reproducer = dir;
    if (existsSync(dir) && !opts.overwrite) {
      s.known = 'regression';
      return;
    }
    const request = reproRequest({
      kind, signature: s.key,
      oracle: { id: spec.id, loader: spec.loader, version: spec.version, target: spec.target, sanitize: spec.sanitize },
      profile: spec.profile, target: spec.target, class: kind === 'confirmation' ? r.ev.cmp.cls : s.cls, relocation: s.relocation, detail: s.detail,
      registry: registryIds, found: { seed: opts.seed, index: s.first.index, mode: s.first.mode }, minimized: s.minimized,
      note: r.ev.cmp.note,
    }, r.req);
    const report = await reportText(s, request.registry, r.ev, r.ref, r.req, spec);
    if (!writeReproducer({ dir, request, elf: r.req.elf, desc: final, ref: r.ref, ts: r.ev.ts, report, overwrite: opts.overwrite })) s.known = 'regression';
  };

  let next = startBatch();
  let stop = false;
  while (next && !stop) {
    const cur = next;
    next = startBatch();
    const refs = await cur.refs;
    for (let i = 0; i < cur.items.length && !stop; i++) {
      const { k, desc, req } = cur.items[i]!;
      const ref = refs[i]!;
      const ev = evaluate(spec, opts.registry, req, ref, memo && !opts.replay ? (host) => {
        const key = `${k}|${host}`;
        let ts = memo.ts.get(key);
        if (!ts) memo.ts.set(key, (ts = load(req, { profile: spec.profile, target: spec.target, hostAddress: host })));
        return ts;
      } : undefined);
      sum.cases++;
      bump(sum.byMode, desc.mode);
      bump(sum.byClass, ev.sig?.cls === 'ts-exception' ? 'ts-exception' : ev.cmp.cls);
      sum.tsMaxMs = Math.max(sum.tsMaxMs, ev.tsMs);
      for (const id of ev.verdict.explainedBy) (sum.registry[id] ??= { explained: 0, exercised: 0, matched: 0 }).explained++;
      for (const x of ev.verdict.exercised) {
        const r = (sum.registry[x.id] ??= { explained: 0, exercised: 0, matched: 0 });
        r.exercised++;
        if (ev.cmp.cls === 'match') r.matched++;
      }
      const diagText = (ref.kind === 'ok' || ref.kind === 'rejected' ? ref.diagnostics : undefined) ?? (ref.kind === 'crashed' ? ref.message : undefined);
      const dsig = diagText ? diagnosticSignature(diagText) : undefined;
      if (dsig) {
        const d = diags.get(dsig);
        if (d) d.count++;
        else diags.set(dsig, { signature: dsig, count: 1, first: { mode: desc.mode, index: k }, excerpt: excerpt(diagText!) });
      }
      if (ev.tsMs > opts.hangMs) sum.tsSlow++;
      if (ev.agree) {
        if (!opts.confirm) continue;
        for (const x of ev.verdict.exercised) {
          const entry = entries.get(x.id);
          if (!entry || entry.handling !== 'modelled' || confirmed.has(entry.id)) continue;
          if (!divergesWithoutSwitch(spec, entry, req, ref)) continue;
          const s: SignatureSummary = {
            key: confirmationKey(spec, entry, ev.ts), oracle: spec.id, relocation: relocationsIn(ev.ts, entry), cls: 'confirms', detail: entry.id,
            count: 1, explainedBy: [entry.id], finding: false, first: { mode: desc.mode, index: k },
          };
          confirmed.set(entry.id, s);
          if (!claim(`${spec.id} confirms ${entry.id}`)) {
            ceded.add(entry.id);
            continue;
          }
          await triage(() => record('confirmation', s, desc, (e, rq, rf) => e.agree && e.verdict.exercised.some((y) => y.id === entry.id) && divergesWithoutSwitch(spec, entry, rq, rf), [entry.id], false));
        }
        continue;
      }
      const sig = ev.sig!;
      let s = sigs.get(sig.key);
      if (s) {
        s.count++;
        continue;
      }
      if (opts.findingsOnly && !ev.finding) {
        sigs.set(sig.key, summaryOf(sig, ev, { mode: desc.mode, index: k }));
        continue;
      }
      // First of its kind: does it reproduce in a fresh process? If not, an earlier case in this
      // process corrupted the heap; count it and let a later case of the same kind try again.
      const same: Keep = (e) => e.sig?.key === sig.key;
      if (openFresh && !(await triage(() => reproducesFresh(req, same)))) {
        bump(sum.collateral, sig.key);
        continue;
      }
      s = summaryOf(sig, ev, { mode: desc.mode, index: k });
      sigs.set(sig.key, s);
      await triage(() => record('divergence', s!, desc, same, ev.verdict.explainedBy, sig.cls === 'oracle-crashed' || sig.cls === 'oracle-timeout'));
      progress();
      if (s.finding && opts.stopOnFinding) stop = true;
    }
    progress();
  }
  // The batch in flight when the campaign stopped early: its answers are not used.
  if (next) await next.refs.catch(() => undefined);
  sum.fuzzMs = Math.round(fuzzElapsed());
  sum.minimizeMs = Math.round(sum.minimizeMs);
  sum.casesPerSec = sum.fuzzMs > 0 ? Math.round((sum.cases * 1000) / sum.fuzzMs) : 0;
  sum.signatures = [...sigs.values()].sort((a, b) => Number(b.finding) - Number(a.finding) || a.key.localeCompare(b.key));
  sum.confirmations = [...confirmed.entries()].filter(([id]) => !ceded.has(id)).map(([, s]) => s);
  sum.diagnostics = [...diags.values()].sort((a, b) => b.count - a.count);
  opts.progress?.done({ label: spec.id, cases: sum.cases, timeMs: opts.timeMs, elapsedMs: sum.fuzzMs, shard: shardText, ...found() });
  return sum;
}

function relocationsIn(ts: Outcome, entry: RegistryEntry): string {
  const scope = entry.scope.relocation === undefined ? [] : Array.isArray(entry.scope.relocation) ? entry.scope.relocation : [entry.scope.relocation];
  if (ts.kind !== 'ok') return '-';
  return [...new Set(ts.image.relocations.map((r) => r.typeName).filter((t) => scope.includes(t)))].sort().join('+') || '-';
}

function summaryOf(sig: Signature, ev: Evaluation, first: CaseRef): SignatureSummary {
  return {
    key: sig.key, oracle: sig.oracle, relocation: sig.relocation, cls: sig.cls, detail: sig.detail, count: 1,
    explainedBy: ev.verdict.explainedBy, finding: ev.finding, first, note: ev.cmp.note?.split('\n')[0]?.slice(0, 300),
  };
}

function excerpt(text: string): string {
  const lines = text.split('\n').filter((l) => /runtime error|ERROR: AddressSanitizer|SUMMARY|#[0-3] /.test(l));
  return lines.slice(0, 6).join('\n').slice(0, 1200);
}

async function reportText(s: SignatureSummary, registry: string[], ev: Evaluation, ref: OracleResponse, req: LoadRequest, spec: OracleSpec): Promise<string> {
  const lines = [
    `signature: ${s.key}`,
    `oracle:    ${spec.id} (TS profile ${spec.profile}, target ${spec.target})`,
    `class:     ${ev.cmp.cls}${ev.cmp.note ? ` — ${ev.cmp.note}` : ''}`,
    `registry:  ${registry.length ? registry.join(', ') : 'NOT EXPLAINED (new finding)'}`,
    `found:     ${s.first.mode} case ${s.first.index}`,
    s.minimized ? `minimized: sections ${s.minimized.from.sections}→${s.minimized.to.sections}, symbols ${s.minimized.from.symbols}→${s.minimized.to.symbols}, relocations ${s.minimized.from.relocations}→${s.minimized.to.relocations}, patches ${s.minimized.from.patches}→${s.minimized.to.patches}, ${s.minimized.from.bytes}→${s.minimized.to.bytes} bytes${s.minimized.to.zeroed ? ` (${s.minimized.to.zeroed} zeroed)` : ''} (${s.minimized.tests} tests, ${s.minimized.ms} ms)` : 'minimized: no',
    `request:   base 0x${req.base.toString(16)} fill 0x${req.fill.toString(16)}${req.symbols.length ? ` symbols ${req.symbols.map((x) => `${x.name}(${x.bytes.length})`).join(' ')}` : ''}`,
    '',
    `TS:     ${formatOutcomeLine(ev.ts)}`,
    `oracle: ${formatOutcomeLine(ref)}`,
    '',
    `replay: npx tsx src/cli.ts relocate case.elf --base 0x${req.base.toString(16)} --profile ${spec.profile} --target ${spec.target} --fill ${req.fill}${ref.kind === 'ok' ? ` --host-address 0x${ref.hostBuf.toString(16)}` : ''}`,
  ];
  if (ev.cmp.cls === 'mismatch-bytes' || ev.cmp.cls === 'mismatch-layout') {
    lines.push('', await renderComparison(ev.cmp));
  }
  const diag = ref.kind === 'crashed' ? ref.message : ref.kind === 'ok' || ref.kind === 'rejected' ? ref.diagnostics : undefined;
  if (diag) lines.push('', 'oracle stderr:', diag.slice(0, 4000));
  return lines.join('\n');
}
