// Progress: a live cli-progress line on a TTY; a plain line every few seconds otherwise (CI logs).
import cliProgress from 'cli-progress';

export interface ProgressState {
  label: string;
  cases: number;
  /** Cases planned (--cases), or undefined for a time budget. */
  total?: number;
  /** Time budget (ms), for a time-based bar. */
  timeMs?: number;
  elapsedMs: number;
  findings: number;
  explained: number;
  shard: string;
  /** Parallel jobs of the campaign (`fuzz --jobs`); shown when more than one. */
  jobs?: number;
  phase?: string;
  /** The signatures found so far (the campaign's), so that parallel jobs' findings can be counted without duplicates. */
  keys?: { findings: string[]; explained: string[] };
}

/** Where a campaign reports its progress: a Progress, or a worker's channel to its parent. */
export interface ProgressSink {
  update(s: ProgressState): void;
  done(s: ProgressState): void;
}

export type ProgressMode = 'tty' | 'plain' | 'none';

export interface ProgressIo {
  err: (s: string) => void;
  isTTY?: boolean;
}

const jobs = (s: ProgressState) => (s.jobs !== undefined && s.jobs > 1 ? `, jobs ${s.jobs}` : '');
const rate = (s: ProgressState) => (s.elapsedMs > 0 ? Math.round((s.cases * 1000) / s.elapsedMs) : 0);

export function progressLine(s: ProgressState): string {
  const of = s.total !== undefined ? `/${s.total}` : '';
  const t = s.timeMs !== undefined ? ` ${Math.round(s.elapsedMs / 1000)}s/${Math.round(s.timeMs / 1000)}s` : ` ${Math.round(s.elapsedMs / 1000)}s`;
  return `fuzz ${s.label}: ${s.cases}${of} cases, ${rate(s)}/s, findings ${s.findings} (+${s.explained} explained), shard ${s.shard}${jobs(s)}${t}${s.phase ? ` [${s.phase}]` : ''}`;
}

export class Progress implements ProgressSink {
  private bar?: cliProgress.SingleBar;
  private lastPlain = 0;

  constructor(private readonly io: ProgressIo, private readonly mode: ProgressMode, private readonly plainEveryMs = 5000) {}

  static modeFor(io: ProgressIo, requested: ProgressMode | 'auto' = 'auto'): ProgressMode {
    if (requested !== 'auto') return requested;
    return io.isTTY ? 'tty' : 'plain';
  }

  update(s: ProgressState): void {
    if (this.mode === 'none') return;
    if (this.mode === 'tty') {
      const total = s.total ?? (s.timeMs !== undefined ? Math.max(1, Math.round(s.timeMs / 1000)) : 0);
      const value = s.total !== undefined ? s.cases : Math.round(s.elapsedMs / 1000);
      const payload = { label: s.label, cases: s.cases, rate: rate(s), findings: s.findings, explained: s.explained, shard: s.shard + jobs(s), phase: s.phase ?? '' };
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar({
          format: 'fuzz {label} |{bar}| {cases} cases | {rate}/s | findings {findings} (+{explained} explained) | shard {shard} {phase}',
          hideCursor: true, stream: process.stderr, fps: 5, clearOnComplete: false,
        }, cliProgress.Presets.shades_classic);
        this.bar.start(total, value, payload);
      } else this.bar.update(Math.min(value, total), payload);
      return;
    }
    const now = performance.now();
    if (now - this.lastPlain >= this.plainEveryMs) {
      this.lastPlain = now;
      this.io.err(progressLine(s) + '\n');
    }
  }

  /** Final line (always printed in plain mode), and the TTY bar stopped. */
  done(s: ProgressState): void {
    if (this.mode === 'none') return;
    if (this.bar) {
      this.update(s);
      this.bar.stop();
      this.bar = undefined;
      return;
    }
    this.io.err(progressLine(s) + ' done\n');
  }
}

/**
 * One line for the parallel jobs of a campaign, from each job's latest state: cases summed, the
 * longest elapsed fuzzing time (the jobs run at the same time), findings counted once per
 * signature, and a phase if any job is in one.
 */
export function aggregateProgress(states: readonly ProgressState[], line: Omit<ProgressState, 'cases' | 'elapsedMs' | 'findings' | 'explained' | 'keys'>): ProgressState {
  const findings = new Set(states.flatMap((s) => s.keys?.findings ?? []));
  const explained = new Set(states.flatMap((s) => s.keys?.explained ?? []));
  const phases = [...new Set(states.flatMap((s) => (s.phase ? [s.phase] : [])))];
  return {
    ...line,
    cases: states.reduce((n, s) => n + s.cases, 0),
    elapsedMs: states.reduce((m, s) => Math.max(m, s.elapsedMs), 0),
    findings: findings.size,
    explained: explained.size,
    ...(phases.length && line.phase === undefined ? { phase: phases.join(', ') } : {}),
  };
}
