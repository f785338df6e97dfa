// TS-only robustness: cases through load() with no oracle. load() must return an Outcome (only
// the engine's typed errors become rejections; anything else escaping is an internal bug), never
// hang, and never grow memory without bound. Cases run in worker threads so a watchdog can stop a
// hung case (Worker.terminate interrupts a busy loop) and a heap limit turns runaway allocation
// into a finding; `workers: 0` runs inline (no hang interruption, elapsed time only).
import { join } from 'node:path';
import v8 from 'node:v8';
import { load } from '../engine.ts';
import { isPurgatoryOracleError } from '../errors.ts';
import type { Outcome } from '../types.ts';
import { requestOf, toJson, fromJson, type CaseDesc, type FuzzMode } from './desc.ts';
import { caseFor, type CaseRef, type Shard } from './campaign.ts';
import { budget, minimizeDesc } from './minimize.ts';
import type { Progress } from './progress.ts';
import { reproRequest, writeReproducer } from './reproducer.ts';
import { makeKey, signatureDir } from './signature.ts';
import { existsSync } from 'node:fs';
import { startFuzzWorker } from './threads.ts';

export interface TsCaseResult {
  k: number;
  mode: FuzzMode;
  ms: number;
  /** Outcome kind / rejection class, 'gen-error' (generator bug), or 'exception' (engine bug). */
  outcome: string;
  error?: { name: string; message: string; stack?: string };
}

/** One TS-only case. Never throws: the engine's failure is the result. */
export function runTsCase(seed: number, k: number, modes: readonly FuzzMode[], root: string): TsCaseResult {
  let desc: CaseDesc;
  let req;
  try {
    desc = caseFor(seed, k, modes, undefined, root);
    req = requestOf(desc);
  } catch (e) {
    return { k, mode: 'structured', ms: 0, outcome: 'gen-error', error: errInfo(e) };
  }
  const t0 = performance.now();
  try {
    const o: Outcome = load(req, { profile: desc.profile, target: desc.arch });
    return { k, mode: desc.mode, ms: performance.now() - t0, outcome: o.kind === 'rejected' ? `rejected:${o.code}` : o.kind };
  } catch (e) {
    return { k, mode: desc.mode, ms: performance.now() - t0, outcome: 'exception', error: errInfo(e) };
  }
}

function errInfo(e: unknown): { name: string; message: string; stack?: string } {
  if (e instanceof Error) return { name: isPurgatoryOracleError(e) ? `typed:${e.name}` : e.name, message: e.message, stack: e.stack };
  return { name: typeof e, message: String(e) };
}

/** "TypeError: x is undefined @ src/load/kexec-tools.ts:123" */
export function exceptionKey(err: { name: string; message: string; stack?: string }): string {
  const frame = err.stack?.split('\n').find((l) => /src\/.*\.ts:\d+/.test(l));
  const at = frame ? /(src\/[^:)]+:\d+)/.exec(frame)?.[1] : undefined;
  return `${err.name}: ${err.message.split('\n')[0]!.replace(/\d+/g, 'N').slice(0, 120)}${at ? ` @ ${at}` : ''}`;
}

// ---------------------------------------------------------------------------------------------

export interface RobustnessOptions {
  seed: number;
  modes: FuzzMode[];
  cases?: number;
  timeMs?: number;
  shard: Shard;
  root: string;
  /** 0: inline in this thread. */
  workers: number;
  /** A case slower than this is a hang finding (default 1000 ms). */
  hangMs: number;
  /** A case still running after this is stopped (worker terminated) and reported as a hang. */
  killMs: number;
  /** Worker heap limit (MiB): exceeding it is a memory finding. */
  heapLimitMiB: number;
  out?: string;
  overwrite?: boolean;
  minimize: boolean;
  progress?: Progress;
  /** Test only: case k spins forever (worker mode), to exercise the watchdog. */
  injectHang?: number;
}

export interface RobustnessFinding {
  key: string;
  kind: 'ts-exception' | 'ts-hang' | 'ts-memory';
  count: number;
  first: CaseRef;
  ms?: number;
  message?: string;
  reproducer?: string;
}

export interface RobustnessSummary {
  cases: number;
  ms: number;
  casesPerSec: number;
  workers: number;
  genErrors: number;
  untypedExceptions: number;
  hangs: number;
  hangMs: number;
  memoryFindings: number;
  slowestMs: number;
  slowestCase: number;
  outcomes: Record<string, number>;
  heap: { startMiB: number; maxMiB: number; endMiB: number; floorGrowthMiB: number; unbounded: boolean; samples: number };
  findings: RobustnessFinding[];
}

/** What workers report (cumulative since the worker started). */
interface WorkerStats {
  cases: number;
  outcomes: Record<string, number>;
  slowestMs: number;
  slowestCase: number;
  heapMiB: number;
}

type WorkerMsg =
  | { type: 'progress' | 'done'; stats: WorkerStats }
  | { type: 'case'; result: TsCaseResult };

export interface WorkerInput {
  seed: number;
  modes: FuzzMode[];
  cases?: number;
  deadline: number;
  shard: Shard;
  root: string;
  hangMs: number;
  /** Worker w of W runs j = startJ.. with k = shard.index + shard.count * (w + W * j). */
  worker: number;
  workers: number;
  startJ: number;
  heartbeat: SharedArrayBuffer;
  injectHang?: number;
}

const mib = (n: number) => Math.round((n / 1048576) * 10) / 10;

/** The loop a worker (or the inline runner) executes. `post` receives results and progress. */
export function workerLoop(w: WorkerInput, post: (m: WorkerMsg) => void, shouldStop: () => boolean = () => false): void {
  const hb = new Float64Array(w.heartbeat);
  const stats: WorkerStats = { cases: 0, outcomes: {}, slowestMs: 0, slowestCase: -1, heapMiB: 0 };
  let lastPost = performance.now();
  for (let j = w.startJ; ; j++) {
    const k = w.shard.index + w.shard.count * (w.worker + w.workers * j);
    if (w.cases !== undefined && k >= w.cases) break;
    if (Date.now() >= w.deadline || shouldStop()) break;
    hb[2 * w.worker] = k;
    hb[2 * w.worker + 1] = Date.now();
    if (k === w.injectHang) for (;;); // test only: a hang the watchdog must stop
    const r = runTsCase(w.seed, k, w.modes, w.root);
    hb[2 * w.worker + 1] = 0;
    stats.cases++;
    stats.outcomes[r.outcome] = (stats.outcomes[r.outcome] ?? 0) + 1;
    if (r.ms > stats.slowestMs) {
      stats.slowestMs = r.ms;
      stats.slowestCase = k;
    }
    if (r.outcome === 'exception' || r.outcome === 'gen-error' || r.ms > w.hangMs) post({ type: 'case', result: r });
    if ((stats.cases & 255) === 0 && performance.now() - lastPost > 250) {
      lastPost = performance.now();
      stats.heapMiB = mib(v8.getHeapStatistics().used_heap_size);
      post({ type: 'progress', stats: { ...stats, outcomes: { ...stats.outcomes } } });
    }
  }
  stats.heapMiB = mib(v8.getHeapStatistics().used_heap_size);
  post({ type: 'done', stats });
}

export async function runRobustness(opts: RobustnessOptions): Promise<RobustnessSummary> {
  const t0 = performance.now();
  const deadline = opts.timeMs !== undefined ? Date.now() + opts.timeMs : Number.MAX_SAFE_INTEGER;
  const W = Math.max(0, opts.workers);
  const slots = Math.max(1, W);
  const heartbeat = new SharedArrayBuffer(8 * 2 * slots);
  const hb = new Float64Array(heartbeat);
  const sum: RobustnessSummary = {
    cases: 0, ms: 0, casesPerSec: 0, workers: W, genErrors: 0, untypedExceptions: 0, hangs: 0, hangMs: opts.hangMs, memoryFindings: 0,
    slowestMs: 0, slowestCase: -1, outcomes: {}, heap: { startMiB: 0, maxMiB: 0, endMiB: 0, floorGrowthMiB: 0, unbounded: false, samples: 0 }, findings: [],
  };
  const findings = new Map<string, RobustnessFinding>();
  /** Per worker slot: stats of finished worker incarnations + the live one. */
  const done: WorkerStats[] = [];
  const live = new Map<number, WorkerStats>();
  const heapSeries: number[][] = Array.from({ length: slots }, () => []);
  const pending: { key: string; kind: RobustnessFinding['kind']; k: number; mode: FuzzMode }[] = [];

  const addFinding = (kind: RobustnessFinding['kind'], key: string, k: number, mode: FuzzMode, extra: Partial<RobustnessFinding> = {}) => {
    const f = findings.get(key);
    if (f) {
      f.count++;
      return;
    }
    findings.set(key, { key, kind, count: 1, first: { mode, index: k }, ...extra });
    pending.push({ key, kind, k, mode });
  };
  const onCase = (r: TsCaseResult) => {
    if (r.outcome === 'gen-error') sum.genErrors++;
    if (r.outcome === 'exception') {
      sum.untypedExceptions++;
      addFinding('ts-exception', makeKey('ts-only', '-', 'ts-exception', exceptionKey(r.error!)), r.k, r.mode, { message: r.error?.stack?.slice(0, 2000) });
    }
    if (r.ms > opts.hangMs) {
      sum.hangs++;
      addFinding('ts-hang', makeKey('ts-only', '-', 'ts-hang', `case ${r.k}`), r.k, r.mode, { ms: r.ms });
    }
  };
  const total = () => {
    const all = [...done, ...live.values()];
    return { cases: all.reduce((n, s) => n + s.cases, 0) };
  };
  const shardText = `${opts.shard.index}/${opts.shard.count}`;
  const progress = (final = false) => {
    const st = {
      label: 'ts-only', cases: total().cases, total: opts.cases !== undefined ? Math.ceil((opts.cases - opts.shard.index) / opts.shard.count) : undefined,
      timeMs: opts.timeMs, elapsedMs: performance.now() - t0, findings: findings.size, explained: 0, shard: shardText,
    };
    if (final) opts.progress?.done(st);
    else opts.progress?.update(st);
  };

  if (W === 0) {
    const input: WorkerInput = { seed: opts.seed, modes: opts.modes, cases: opts.cases, deadline, shard: opts.shard, root: opts.root, hangMs: opts.hangMs, worker: 0, workers: 1, startJ: 0, heartbeat };
    // Inline: run in slices so progress can print between them.
    let startJ = 0;
    let finished = false;
    while (!finished) {
      const sliceEnd = performance.now() + 200;
      let last: WorkerStats | undefined;
      workerLoop({ ...input, startJ }, (m) => {
        if (m.type === 'case') onCase(m.result);
        else last = m.stats;
      }, () => performance.now() > sliceEnd);
      const s = last!;
      done.push(s);
      heapSeries[0]!.push(s.heapMiB);
      startJ += s.cases;
      const k = opts.shard.index + opts.shard.count * startJ;
      finished = s.cases === 0 || (opts.cases !== undefined && k >= opts.cases) || Date.now() >= deadline;
      progress();
      await new Promise((r) => setImmediate(r));
    }
  } else {
    let tick: NodeJS.Timeout | undefined;
    await new Promise<void>((resolveAll, rejectAll) => {
      let running = 0;
      const spawn = (slot: number, startJ: number) => {
        const input: WorkerInput = { seed: opts.seed, modes: opts.modes, cases: opts.cases, deadline, shard: opts.shard, root: opts.root, hangMs: opts.hangMs, worker: slot, workers: W, startJ, heartbeat, injectHang: opts.injectHang };
        hb[2 * slot] = -1;
        hb[2 * slot + 1] = 0;
        const worker = startFuzzWorker('worker', input, { resourceLimits: { maxOldGenerationSizeMb: opts.heapLimitMiB } });
        running++;
        let stats: WorkerStats = { cases: 0, outcomes: {}, slowestMs: 0, slowestCase: -1, heapMiB: 0 };
        live.set(slot, stats);
        let ended = false;
        const end = (restartAfterK?: number) => {
          if (ended) return;
          ended = true;
          clearInterval(watch);
          live.delete(slot);
          done.push(stats);
          running--;
          if (restartAfterK !== undefined) {
            // Resume this worker's stride after the case that was stopped.
            const j = Math.floor(((restartAfterK - opts.shard.index) / opts.shard.count - slot) / W) + 1;
            spawn(slot, j);
          } else if (running === 0) resolveAll();
        };
        worker.on('message', (m: WorkerMsg) => {
          if (m.type === 'case') onCase(m.result);
          else {
            stats = m.stats;
            live.set(slot, stats);
            heapSeries[slot]!.push(m.stats.heapMiB);
            if (m.type === 'done') {
              void worker.terminate();
              end();
            }
          }
        });
        worker.on('error', (e: Error & { code?: string }) => {
          const k = hb[2 * slot]!;
          if (k < 0) {
            // The worker failed before its first case: a runner failure, not a finding.
            clearInterval(watch);
            clearInterval(tick);
            rejectAll(new Error(`fuzz worker ${slot} failed to start: ${e.message}`, { cause: e }));
            return;
          }
          const res = makeResult(k);
          if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') {
            sum.memoryFindings++;
            addFinding('ts-memory', makeKey('ts-only', '-', 'ts-memory', `heap over ${opts.heapLimitMiB} MiB`), k, res.mode, { message: e.message });
          } else {
            sum.untypedExceptions++;
            addFinding('ts-exception', makeKey('ts-only', '-', 'ts-exception', `worker: ${e.name}: ${e.message.split('\n')[0]}`), k, res.mode, { message: e.stack });
          }
          end(k);
        });
        worker.on('exit', () => end());
        // The watchdog: a case running past killMs is stopped and reported as a hang.
        const watch = setInterval(() => {
          const started = hb[2 * slot + 1]!;
          if (started && Date.now() - started > opts.killMs) {
            const k = hb[2 * slot]!;
            sum.hangs++;
            addFinding('ts-hang', makeKey('ts-only', '-', 'ts-hang', `case ${k} stopped after ${opts.killMs} ms`), k, makeResult(k).mode, { ms: Date.now() - started });
            void worker.terminate();
            end(k);
          }
        }, 100);
      };
      const makeResult = (k: number) => {
        try {
          return { mode: caseFor(opts.seed, k, opts.modes, undefined, opts.root).mode };
        } catch {
          return { mode: 'structured' as FuzzMode };
        }
      };
      for (let w = 0; w < W; w++) spawn(w, 0);
      tick = setInterval(() => progress(), 500);
    });
    clearInterval(tick);
  }
  // Totals
  for (const s of done) {
    sum.cases += s.cases;
    for (const [k, v] of Object.entries(s.outcomes)) sum.outcomes[k] = (sum.outcomes[k] ?? 0) + v;
    if (s.slowestMs > sum.slowestMs) {
      sum.slowestMs = s.slowestMs;
      sum.slowestCase = s.slowestCase;
    }
  }
  sum.ms = Math.round(performance.now() - t0);
  sum.casesPerSec = sum.ms ? Math.round((sum.cases * 1000) / sum.ms) : 0;
  sum.heap = heapTrend(heapSeries);
  // Minimize and write reproducers for the exceptions (inline, in this thread).
  for (const p of pending) {
    const f = findings.get(p.key)!;
    if (!opts.out) continue;
    const desc0 = caseFor(opts.seed, p.k, opts.modes, undefined, opts.root);
    let desc = desc0;
    let minimized;
    if (p.kind === 'ts-exception' && opts.minimize) {
      const still = (d: CaseDesc) => {
        const r = runDesc(d);
        return r.outcome === 'exception' && makeKey('ts-only', '-', 'ts-exception', exceptionKey(r.error!)) === p.key;
      };
      const m = await minimizeDesc(desc0, async (cands) => cands.map(still), budget(2000, 20_000));
      desc = m.desc;
      minimized = { from: m.from, to: m.to, tests: m.tests, ms: Math.round(m.ms) };
    }
    const dir = join(opts.out, signatureDir(p.key));
    f.reproducer = dir;
    if (existsSync(dir) && !opts.overwrite) continue;
    let req;
    try {
      req = requestOf(desc);
    } catch {
      continue;
    }
    const request = reproRequest({
      kind: 'robustness', signature: p.key, profile: desc.profile ?? 'kexec-tools', target: desc.arch, class: p.kind, relocation: '-',
      detail: p.key, registry: [], found: { seed: opts.seed, index: p.k, mode: p.mode }, minimized, note: f.message?.split('\n')[0],
    }, req);
    writeReproducer({ dir, request, elf: req.elf, desc, overwrite: opts.overwrite, report: `${p.key}\n\n${f.message ?? ''}\nfound: ${p.mode} case ${p.k} seed ${opts.seed}\n` });
  }
  sum.findings = [...findings.values()];
  progress(true);
  return sum;
}

function runDesc(d: CaseDesc): TsCaseResult {
  try {
    const req = requestOf(d);
    const t0 = performance.now();
    try {
      const o = load(req, { profile: d.profile, target: d.arch });
      return { k: -1, mode: d.mode, ms: performance.now() - t0, outcome: o.kind };
    } catch (e) {
      return { k: -1, mode: d.mode, ms: performance.now() - t0, outcome: 'exception', error: errInfo(e) };
    }
  } catch (e) {
    return { k: -1, mode: d.mode, ms: 0, outcome: 'gen-error', error: errInfo(e) };
  }
}

/**
 * Heap trend over the samples of every worker: the floor (the minimum of a window, i.e. after
 * garbage collection) of the last quarter against the floor of the second quarter (after warm-up).
 */
export function heapTrend(series: number[][]): RobustnessSummary['heap'] {
  const all = series.flat();
  const out = { startMiB: all[0] ?? 0, maxMiB: all.length ? Math.max(...all) : 0, endMiB: 0, floorGrowthMiB: 0, unbounded: false, samples: all.length };
  let growth = 0;
  let end = 0;
  for (const s of series) {
    if (!s.length) continue;
    end += s[s.length - 1]!;
    if (s.length < 8) continue;
    const q = Math.floor(s.length / 4);
    const early = Math.min(...s.slice(q, 2 * q));
    const late = Math.min(...s.slice(s.length - q));
    growth = Math.max(growth, late - early);
  }
  out.endMiB = Math.round(end * 10) / 10;
  out.floorGrowthMiB = Math.round(growth * 10) / 10;
  out.unbounded = growth > 128;
  return out;
}

export { toJson, fromJson };
