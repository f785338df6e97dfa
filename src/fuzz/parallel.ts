// `fuzz --jobs N`: one oracle's differential campaign as N parallel jobs, each a worker thread with
// its own oracle process running the campaign on its part of the shard (jobShard), merged into one
// summary (mergeSummaries). The jobs post their progress to this thread, which shows one line.
// Reproducers: the jobs share a claims directory, so each signature is minimized and written by
// one job only (CampaignOptions.claims).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOracleUnavailableError } from '../oracle/registry.ts';
import { loadRegistry } from '../validate/registry.ts';
import { emptySummary, jobShard, runOracleCampaign, type CampaignOptions, type CampaignSummary } from './campaign.ts';
import { setCorpusRoot } from './desc.ts';
import { mergeSummaries } from './merge.ts';
import { openOracle, parseOracleSpec, type FuzzOracle, type OracleSpec } from './oracles.ts';
import { aggregateProgress, type ProgressSink, type ProgressState } from './progress.ts';
import { startFuzzWorker } from './threads.ts';

/** The campaign options a job receives (the registry is loaded from registryPath in the job). */
export type JobCampaignOptions = Omit<CampaignOptions, 'registry' | 'progress' | 'claims'>;

export interface ParallelCampaignOptions {
  spec: OracleSpec;
  jobs: number;
  /** The whole campaign (its shard is split between the jobs). */
  campaign: JobCampaignOptions;
  registryPath: string;
  progress?: ProgressSink;
  /** Test only: this job throws after opening its oracle. */
  injectError?: number;
}

export interface ParallelCampaignResult {
  summary: CampaignSummary;
  /** The oracle is not available (every job failed to open it, as a campaign in one thread would). */
  unavailable?: { message: string; fix?: string };
}

/** What a job receives (workerData). */
export interface CampaignJobInput {
  oracle: string;
  job: number;
  jobs: number;
  campaign: JobCampaignOptions;
  claims?: string;
  registryPath: string;
  /** Minimum interval between progress messages. */
  progressMs: number;
  injectError?: boolean;
}

/** What a job posts to the parent; exactly one of done, unavailable and error ends it. */
export type CampaignJobMessage =
  | { type: 'progress'; state: ProgressState }
  | { type: 'done'; summary: CampaignSummary }
  | { type: 'unavailable'; message: string; fix?: string }
  | { type: 'error'; message: string };

/** A job: open the oracle, run the campaign on the job's part of the shard, close it. Never throws: a failure is posted. */
export async function runCampaignJob(input: CampaignJobInput, post: (m: CampaignJobMessage) => void): Promise<void> {
  try {
    setCorpusRoot(input.campaign.root);
    const spec = parseOracleSpec(input.oracle);
    const registry = loadRegistry(input.registryPath);
    let oracle: FuzzOracle;
    try {
      oracle = await openOracle(spec);
    } catch (e) {
      if (!isOracleUnavailableError(e)) throw e;
      post({ type: 'unavailable', message: (e as Error).message, fix: (e as { fix?: string }).fix });
      return;
    }
    let summary: CampaignSummary;
    try {
      if (input.injectError) throw new Error(`injected failure (test)`);
      summary = await runOracleCampaign(oracle, {
        ...input.campaign, shard: jobShard(input.campaign.shard, input.jobs, input.job), registry, claims: input.claims, progress: progressPoster(post, input.progressMs),
      }, () => openOracle(spec));
    } finally {
      await oracle.close().catch(() => oracle.kill());
    }
    post({ type: 'done', summary });
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
}

/** A job's progress, posted at most every `everyMs` (and whenever its phase changes). */
function progressPoster(post: (m: CampaignJobMessage) => void, everyMs: number): ProgressSink {
  let last = -Infinity;
  let phase: string | undefined;
  const send = (state: ProgressState) => {
    last = performance.now();
    phase = state.phase;
    post({ type: 'progress', state });
  };
  return {
    update: (s) => {
      if (s.phase !== phase || performance.now() - last >= everyMs) send(s);
    },
    done: send,
  };
}

export async function runParallelCampaign(opts: ParallelCampaignOptions): Promise<ParallelCampaignResult> {
  const { spec, jobs, campaign } = opts;
  const shard = campaign.shard;
  const line = {
    label: spec.id, shard: `${shard.index}/${shard.count}`, jobs, timeMs: campaign.timeMs,
    total: campaign.cases !== undefined ? Math.max(0, Math.ceil((campaign.cases - shard.index) / shard.count)) : undefined,
  };
  const states: ProgressState[] = [];
  const claims = campaign.out ? mkdtempSync(join(tmpdir(), 'po-claims-')) : undefined;
  type JobResult = { summary: CampaignSummary } | { unavailable: { message: string; fix?: string } } | { error: string };
  const runJob = (job: number) => new Promise<JobResult>((resolve) => {
    const input: CampaignJobInput = {
      oracle: spec.id, job, jobs, campaign, claims, registryPath: opts.registryPath, progressMs: 250,
      ...(opts.injectError === job ? { injectError: true } : {}),
    };
    const worker = startFuzzWorker('campaign-worker', input);
    let settled = false;
    const settle = (r: JobResult) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    worker.on('message', (m: CampaignJobMessage) => {
      if (m.type === 'progress') {
        // a state without keys (the minimizing phase) keeps the job's last ones
        states[job] = { ...m.state, keys: m.state.keys ?? states[job]?.keys };
        opts.progress?.update(aggregateProgress(states.filter(Boolean), line));
        return;
      }
      settle(m.type === 'done' ? { summary: m.summary } : m.type === 'unavailable' ? { unavailable: { message: m.message, fix: m.fix } } : { error: m.message });
      // the job is over: make sure the thread ends even if something in it still holds the event loop
      void worker.terminate();
    });
    worker.on('error', (e) => settle({ error: e.message }));
    worker.on('exit', (code) => settle({ error: `the worker exited (code ${code}) before reporting` }));
  });
  let results: JobResult[];
  try {
    results = await Promise.all(Array.from({ length: jobs }, (_x, j) => runJob(j)));
  } finally {
    if (claims) rmSync(claims, { recursive: true, force: true });
  }
  const summaries = results.flatMap((r) => ('summary' in r ? [r.summary] : []));
  const unavailable = results.flatMap((r) => ('unavailable' in r ? [r.unavailable] : []))[0];
  const errors = results.flatMap((r, j) => ('error' in r ? [`job ${j}/${jobs}: ${r.error}`] : 'unavailable' in r ? [r.unavailable.message] : []));
  const merged = mergeSummaries(summaries.length ? summaries : [emptySummary(spec.id, spec.target)], { errors });
  if (summaries.length) opts.progress?.done(aggregateProgress(states.filter(Boolean), line));
  return { summary: merged, ...(unavailable ? { unavailable } : {}) };
}
