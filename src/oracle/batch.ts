// A generic runner for oracle processes that speak oracle/PROTOCOL.md (the kexec-tools harness,
// the kernel harness): one long-lived process, requests pipelined ahead of the responses,
// per-request timeout, crash detection with restart and resend, clean shutdown.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { PurgatoryOracleError } from '../errors.ts';
import type { LoadRequest, RefOutcome } from '../types.ts';
import { encodeEnd, encodeRequestParts, FLAG_DETAILS, FLAG_IMAGE_DELTA, FLAG_SAME_ELF, ProtocolError, ResponseReader, type WireResponse } from './protocol.ts';

/**
 * What a live oracle reported for one request: a RefOutcome whose ok and rejected arms may carry
 * the sanitizer (or other) reports the oracle wrote on stderr for this request.
 */
export type OracleResponse =
  | (Extract<RefOutcome, { kind: 'ok' | 'rejected' }> & { diagnostics?: string })
  | Exclude<RefOutcome, { kind: 'ok' | 'rejected' }>;

/** How to start an oracle process. */
export interface OracleCommand {
  /** Executable: the oracle itself, or the emulator that runs it. */
  file: string;
  args: string[];
  env?: Record<string, string>;
  /** For messages: e.g. "kexec-tools-2.0.25/ppc64". */
  label: string;
}

export interface BatchOptions {
  /** Per-request timeout, from the moment the request is the oldest one outstanding. */
  timeoutMs?: number;
  /** Requests written ahead of their responses (default 64). */
  maxInFlight?: number;
  /** Request bytes written ahead of their responses (default 16 MiB). */
  maxInFlightBytes?: number;
  /**
   * The oracle writes "@@po-begin <id>" / "@@po-end <id>" lines on stderr around each request
   * (kexec-tools harness: --mark-stderr). Stderr text between them is attached to that response
   * as `diagnostics` (sanitizer reports), and a crash message is the text since the last begin.
   */
  markStderr?: boolean;
  /**
   * Extra time allowed for the first request after a (re)start, for process start-up (qemu-user
   * start-up is tens of milliseconds, more on a loaded machine). Default 10 s.
   */
  startupMs?: number;
  /**
   * Use the optional FLAG_SAME_ELF extension: a request whose ELF equals the previous one written
   * to the same process is sent without it. Only for oracles that support it (kexec-tools).
   */
  sameElf?: boolean;
  /**
   * Use the optional FLAG_IMAGE_DELTA extension: the oracle may send an ok image as a delta
   * against the previous one (most of a purgatory's bytes are the same from one case to the
   * next). Only for oracles that support it (kexec-tools).
   */
  imageDelta?: boolean;
  /**
   * Use the optional FLAG_DETAILS extension for requests that carry `probes`: the ok response then
   * has the load's details. Only for oracles that support it (feature "details": kexec-tools, kernel);
   * without it a request's probes are not sent and its response has no details.
   */
  details?: boolean;
  /**
   * Start the oracle with --fork-server (kexec-tools harness, feature "fork-server"): a request
   * whose load kills the serving child comes back as `crashed` from the same process, which
   * forks a fresh child for the requests behind it; no process restart, nothing resent.
   */
  forkServer?: boolean;
}

export interface BatchStats {
  requests: number;
  ok: number;
  rejected: number;
  crashed: number;
  timeouts: number;
  /** Processes started (1 + restarts). */
  starts: number;
}

/** The oracle process could not be started, or the runner hit an internal error. */
export class OracleProcessError extends PurgatoryOracleError {}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** The largest ELF a fork server keeps for FLAG_SAME_ELF across children (harness.c SHARED_ELF_MAX). */
const FORK_SHARED_ELF_MAX = 64 * 1024 * 1024;

/** A fork server's crash report as the name a process exit would have: SIGSEGV, resource-limit, exit N. */
function crashName(signal: number, exitStatus: number): string {
  if (signal > 0) return Object.entries(osConstants.signals).find(([, n]) => n === signal)?.[0] ?? `signal ${signal}`;
  return exitStatus === EXIT_RESOURCE_LIMIT ? 'resource-limit' : `exit ${exitStatus}`;
}

/** The process ended with a status that means "no such request was processed" (not a crash). */
const EXIT_PROTOCOL = 3;
const EXIT_RESOURCE_LIMIT = 77;
const STDERR_TAIL = 16 * 1024;

interface Job {
  id: number;
  req: LoadRequest;
  /** Bytes of the encoded record as last written (re-encoded when resent to a new process). */
  size?: number;
  resolve: (r: OracleResponse) => void;
  reject: (e: unknown) => void;
  /** A response arrived; with markStderr we still wait for its @@po-end line. */
  answer?: OracleResponse;
  stderrDone?: boolean;
  diag?: string[];
}

type Proc = ChildProcessByStdio<Writable, Readable, Readable> & { exited: Promise<void> };

/**
 * Oracle processes still running. They exit on their own at stdin EOF when this process ends;
 * one exit hook (not one per spawn: a fuzz campaign restarts the oracle after every crash) kills
 * any that are stuck in a request.
 */
const live = new Set<Proc>();
let exitHook = false;
function track(p: Proc): void {
  live.add(p);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const q of live) q.kill('SIGKILL');
  });
}

export class BatchOracle {
  readonly command: OracleCommand;
  readonly stats: BatchStats = { requests: 0, ok: 0, rejected: 0, crashed: 0, timeouts: 0, starts: 0 };
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly lowWater: number;
  private readonly maxInFlightBytes: number;
  private readonly markStderr: boolean;
  private readonly startupMs: number;
  private readonly sameElf: boolean;
  private readonly imageDelta: boolean;
  /** Requests with probes are sent with FLAG_DETAILS (BatchOptions.details). */
  readonly details: boolean;
  private readonly forkServer: boolean;
  /** The ELF of the last request written to the current process (a view of lastElfBuf). */
  private lastElf?: Uint8Array;
  private lastElfBuf = new Uint8Array(0);
  /** No response yet from the current process: the head's timer includes start-up. */
  private fresh = true;

  private proc?: Proc;
  private procGen = 0;
  private reader: ResponseReader;
  /** Jobs not yet written: queue[qHead..] (a head index instead of O(n) shift). */
  private queue: Job[] = [];
  private qHead = 0;
  private inflight: Job[] = [];
  private inflightBytes = 0;
  private waitingDrain = false;
  private nextId = 1;
  private timer?: NodeJS.Timeout;
  private timerHead?: Job;
  private timerDeadline = 0;
  private timedOut?: Job;
  private stderrTail = '';
  private stderrLine = '';
  private sinceCrash = '';
  private stderrJob?: Job;
  private closing = false;
  private closed = false;
  private fatal?: unknown;
  private idleWaiters: (() => void)[] = [];

  constructor(command: OracleCommand, opts: BatchOptions = {}) {
    this.command = command;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 64);
    this.lowWater = this.maxInFlight >> 1;
    this.maxInFlightBytes = Math.max(1, opts.maxInFlightBytes ?? 16 * 1024 * 1024);
    this.markStderr = opts.markStderr ?? false;
    this.startupMs = Math.max(0, opts.startupMs ?? 10_000);
    this.sameElf = opts.sameElf ?? false;
    this.imageDelta = opts.imageDelta ?? false;
    this.details = opts.details ?? false;
    this.forkServer = opts.forkServer ?? false;
    this.reader = new ResponseReader({ delta: this.imageDelta });
  }

  /**
   * Run one request. Responses of concurrent calls come back in request order. The request's
   * buffers are written without copying: do not modify them until the promise settles.
   */
  run(req: LoadRequest): Promise<OracleResponse> {
    if (this.closing || this.closed) return Promise.reject(new OracleProcessError(`${this.command.label}: oracle is closed`));
    if (this.fatal) return Promise.reject(this.fatal);
    return new Promise<OracleResponse>((resolve, reject) => {
      const id = this.nextId;
      this.nextId = this.nextId >= 0xffff_fffe ? 1 : this.nextId + 1;
      this.queue.push({ id, req, resolve, reject });
      this.stats.requests++;
      this.pump();
    });
  }

  /** Process id of the running oracle process, if one is running (for CPU accounting in benchmarks). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Run many requests, pipelined; the result array is in request order. */
  runMany(reqs: readonly LoadRequest[]): Promise<OracleResponse[]> {
    return Promise.all(reqs.map((r) => this.run(r)));
  }

  /** Wait for outstanding requests, send PEND and wait for the process to exit. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    if (this.queued() || this.inflight.length) await new Promise<void>((r) => this.idleWaiters.push(r));
    this.closed = true;
    this.clearTimer();
    const proc = this.proc;
    this.proc = undefined;
    if (!proc) return;
    try {
      proc.stdin.write(encodeEnd());
      proc.stdin.end();
    } catch {
      /* the process is already gone */
    }
    const killer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await proc.exited;
    clearTimeout(killer);
  }

  /** Kill the process now; outstanding requests are rejected. */
  kill(): void {
    this.closed = true;
    this.closing = true;
    this.clearTimer();
    const proc = this.proc;
    this.proc = undefined;
    proc?.kill('SIGKILL');
    this.failAll(new OracleProcessError(`${this.command.label}: oracle killed`));
  }

  // ---- process management ----------------------------------------------------------------

  private start(): Proc {
    this.procGen++;
    const gen = this.procGen;
    this.reader = new ResponseReader({ delta: this.imageDelta });
    this.stderrTail = '';
    this.stderrLine = '';
    this.sinceCrash = '';
    this.stderrJob = undefined;
    this.waitingDrain = false;
    this.fresh = true;
    this.lastElf = undefined;
    this.stats.starts++;
    // node:child_process directly: execa's per-spawn machinery (signal-exit hooks, abort
    // controllers, result promises) cost more than the oracle's own start-up, per crash
    const args = this.forkServer ? [...this.command.args, '--fork-server'] : this.command.args;
    const proc = spawn(this.command.file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: this.command.env ? { ...process.env, ...this.command.env } : process.env,
    }) as Proc;
    let resolveExited!: () => void;
    proc.exited = new Promise<void>((r) => (resolveExited = r));
    this.proc = proc;
    track(proc);
    proc.stdin.on('error', () => {
      /* EPIPE after a crash: the exit handler deals with it */
    });
    proc.stdout.on('data', (chunk: Buffer) => {
      if (gen === this.procGen) this.onStdout(chunk);
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      if (gen === this.procGen) this.onStderr(chunk);
    });
    let ended = false;
    proc.on('error', (err: NodeJS.ErrnoException) => {
      if (ended || proc.pid !== undefined) return; // a kill() that failed, or similar: 'close' follows
      // could not spawn at all
      ended = true;
      live.delete(proc);
      resolveExited();
      if (gen !== this.procGen) return;
      this.proc = undefined;
      const e = new OracleProcessError(`${this.command.label}: cannot start ${this.command.file}: ${err.message}`, { cause: err });
      this.fatal = e;
      this.failAll(e);
    });
    // 'close': the process has exited and its stdout and stderr are drained, so every response
    // written before a crash has been read
    proc.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      if (ended) return;
      ended = true;
      live.delete(proc);
      resolveExited();
      if (gen !== this.procGen) return;
      this.onExit(code ?? undefined, signal ?? undefined);
    });
    return proc;
  }

  private pump(): void {
    if (this.fatal) return;
    // Refill only once half the window has been answered: one writev carries many requests
    // (a system call per response costs more than the response itself).
    if (this.inflight.length > this.lowWater) return;
    // cork: the requests written in one pump go out in one writev instead of one write each
    let corked: Writable | undefined;
    while (this.queued() && this.inflight.length < this.maxInFlight && (this.inflight.length === 0 || this.inflightBytes < this.maxInFlightBytes) && !this.waitingDrain) {
      const proc = this.proc ?? this.start();
      const job = this.dequeue();
      let parts: Uint8Array[];
      try {
        // a fork server keeps the shared ELF for its next child up to SHARED_ELF_MAX
        const same = this.sameElf && this.lastElf !== undefined && (!this.forkServer || job.req.elf.length <= FORK_SHARED_ELF_MAX) && sameBytes(this.lastElf, job.req.elf);
        parts = encodeRequestParts(job.id, job.req, (same ? FLAG_SAME_ELF : 0) | (this.imageDelta ? FLAG_IMAGE_DELTA : 0) | (this.details && job.req.probes ? FLAG_DETAILS : 0));
        // a copy (the caller may reuse its buffer for the next request), into one buffer kept
        // for the purpose: a fuzz campaign sends a new ELF with nearly every request
        if (!same && this.sameElf) {
          const elf = job.req.elf;
          if (elf.length > this.lastElfBuf.length) this.lastElfBuf = new Uint8Array(Math.max(elf.length, this.lastElfBuf.length * 2, 4096));
          this.lastElfBuf.set(elf);
          this.lastElf = this.lastElfBuf.subarray(0, elf.length);
        }
      } catch (e) {
        job.reject(e);
        continue;
      }
      job.size = parts.reduce((n, p) => n + p.length, 0);
      this.inflight.push(job);
      this.inflightBytes += job.size!;
      if (this.inflight.length === 1) this.armTimer();
      const stdin = proc.stdin as Writable;
      if (corked !== stdin) {
        corked?.uncork();
        stdin.cork();
        corked = stdin;
      }
      let ok = true;
      for (const p of parts) ok = stdin.write(p);
      if (!ok) {
        this.waitingDrain = true;
        const gen = this.procGen;
        proc.stdin.once('drain', () => {
          if (gen !== this.procGen) return;
          this.waitingDrain = false;
          this.pump();
        });
      }
    }
    corked?.uncork();
    this.maybeIdle();
  }

  private onStdout(chunk: Uint8Array): void {
    this.reader.push(chunk);
    for (;;) {
      let r: WireResponse | undefined;
      try {
        r = this.reader.next();
      } catch (e) {
        this.protocolFailure(e);
        return;
      }
      if (!r) break;
      this.fresh = false;
      const job = this.inflight[0];
      if (!job || job.answer) {
        this.protocolFailure(new ProtocolError(`${this.command.label}: response for id ${r.id} but none is outstanding`));
        return;
      }
      if (job.id !== r.id) {
        this.protocolFailure(new ProtocolError(`${this.command.label}: response for id ${r.id}, expected ${job.id}`));
        return;
      }
      if (r.status === 0 && r.details && r.details.probes.length !== (job.req.probes?.length ?? 0)) {
        this.protocolFailure(new ProtocolError(`${this.command.label}: response ${r.id} has ${r.details.probes.length} probe results for ${job.req.probes?.length ?? 0} probes`));
        return;
      }
      job.answer =
        r.status === 0
          ? { kind: 'ok', relAddr: r.relAddr, relSize: r.relSize, entry: r.entry, hostBuf: r.hostBuf, shAddr: r.shAddr, image: r.image, ...(r.details ? { details: { ...r.details, probes: r.details.probes.map((p, i) => ({ ...p, name: job.req.probes?.[i]?.name ?? '' })) } } : {}) }
          : r.status === 1
            ? { kind: 'rejected', errno: r.errno, message: r.message }
            : { kind: 'crashed', signal: crashName(r.signal, r.exitStatus) };
      if (r.status === 3) this.stats.crashed++;
      this.inflight.shift();
      this.inflightBytes -= job.size!;
      // With markStderr, every answer waits for its @@po-end line; a fork server's crash report
      // waits for its @@po-crash line (its stderr is the crash message). Later answers queue
      // behind a waiting one: answers resolve in request order.
      const waits = this.markStderr || r.status === 3;
      if (waits || this.awaitingStderr.length) {
        if (!waits) job.stderrDone = true;
        this.awaitingStderr.push(job);
        this.releaseAnswered();
      } else {
        this.finish(job, job.answer);
      }
      this.armTimer();
    }
    this.pump();
  }

  private awaitingStderr: Job[] = [];

  private onStderr(chunk: Uint8Array): void {
    const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
    this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL);
    if (!this.markStderr && !this.forkServer) return;
    this.stderrLine += text;
    if (!this.markStderr) {
      this.onCrashMarks();
      return;
    }
    let nl: number;
    while ((nl = this.stderrLine.indexOf('\n')) >= 0) {
      const line = this.stderrLine.slice(0, nl + 1);
      this.stderrLine = this.stderrLine.slice(nl + 1);
      const m = /^@@po-(begin|end) (\d+)\n$/.exec(line);
      if (m) {
        const id = Number(m[2]);
        if (m[1] === 'begin') {
          this.stderrJob = this.inflight.find((j) => j.id === id) ?? this.awaitingStderr.find((j) => j.id === id);
          if (this.stderrJob) this.stderrJob.diag = [];
        } else {
          const job = this.awaitingStderr.find((j) => j.id === id) ?? this.inflight.find((j) => j.id === id);
          if (job) {
            job.stderrDone = true;
            this.releaseAnswered();
          }
          this.stderrJob = undefined;
        }
      } else if (this.stderrJob) {
        this.stderrJob.diag!.push(line);
      }
    }
  }

  /**
   * Fork server without markStderr: "@@po-crash <id>" closes the stderr of a request whose child
   * died; the text since the previous such line (or the start) is its crash message, as the whole
   * stderr of a process that died is without the fork server.
   */
  private onCrashMarks(): void {
    let nl: number;
    while ((nl = this.stderrLine.indexOf('\n')) >= 0) {
      const line = this.stderrLine.slice(0, nl + 1);
      this.stderrLine = this.stderrLine.slice(nl + 1);
      const m = /^@@po-crash (\d+)\n$/.exec(line);
      if (!m) {
        this.sinceCrash = (this.sinceCrash + line).slice(-STDERR_TAIL);
        continue;
      }
      const id = Number(m[1]);
      // the line may come before or after the response on stdout
      const job = this.awaitingStderr.find((j) => j.id === id) ?? this.inflight.find((j) => j.id === id);
      if (job) {
        job.diag = [this.sinceCrash];
        job.stderrDone = true;
      }
      this.sinceCrash = '';
      this.releaseAnswered();
    }
  }

  /** With markStderr: resolve answered jobs, in order, once their stderr is complete. */
  private releaseAnswered(force = false): void {
    while (this.awaitingStderr.length) {
      const job = this.awaitingStderr[0]!;
      if (!job.stderrDone && !force) break;
      this.awaitingStderr.shift();
      const diag = job.diag?.join('');
      const ans = job.answer!;
      if (ans.kind === 'crashed') {
        const message = diag?.trim().slice(-STDERR_TAIL);
        job.resolve(message && ans.message === undefined ? { ...ans, message } : ans);
        continue;
      }
      this.finish(job, diag && (ans.kind === 'ok' || ans.kind === 'rejected') ? { ...ans, diagnostics: diag } : ans);
    }
    this.maybeIdle();
  }

  private onExit(exitCode: number | undefined, signal: string | undefined): void {
    this.clearTimer();
    this.proc = undefined;
    this.waitingDrain = false;
    // Everything fully answered before the exit keeps its answer.
    this.releaseAnswered(true);
    if (this.closed) return;
    const head = this.inflight.shift();
    const rest = this.inflight;
    this.inflight = [];
    this.inflightBytes = 0;
    if (!head) {
      // exited between requests: nothing was lost; restart lazily
      if (exitCode !== 0 || signal) this.stderrNote(`exited between requests (${signal ?? `exit ${exitCode}`})`);
      this.requeue(rest);
      this.pump();
      return;
    }
    if (exitCode === EXIT_PROTOCOL && !signal) {
      this.protocolFailure(new ProtocolError(`${this.command.label}: the oracle rejected request ${head.id} as malformed: ${this.tailText()}`), [head, ...rest]);
      return;
    }
    if (this.timedOut === head) {
      this.timedOut = undefined;
      this.stats.timeouts++;
      head.resolve({ kind: 'timeout', ms: this.timeoutMs });
    } else {
      const sig = signal ?? (exitCode === EXIT_RESOURCE_LIMIT ? 'resource-limit' : `exit ${exitCode ?? '?'}`);
      this.stats.crashed++;
      const message = this.crashText(head);
      head.resolve(message ? { kind: 'crashed', signal: sig, message } : { kind: 'crashed', signal: sig });
    }
    // the rest were written to a process that never read them: send them again
    for (const j of rest) j.diag = undefined;
    this.requeue(rest);
    this.pump();
  }

  private stderrNote(what: string): void {
    if (process.env.PURGATORY_ORACLE_DEBUG) process.stderr.write(`${this.command.label}: ${what}\n${this.tailText()}\n`);
  }

  private crashText(job: Job): string {
    if (this.markStderr && job.diag) return (job.diag.join('') + this.stderrLine).trim().slice(-STDERR_TAIL);
    return this.tailText();
  }

  private tailText(): string {
    return this.stderrTail.trim();
  }

  private finish(job: Job, r: OracleResponse): void {
    if (r.kind === 'ok') this.stats.ok++;
    else if (r.kind === 'rejected') this.stats.rejected++;
    job.resolve(r);
  }

  /**
   * The head request's clock starts now. One timer serves many heads: it is not cleared and set
   * again per response, it re-arms itself for the current head's deadline when it fires early.
   */
  private armTimer(): void {
    const head = this.inflight[0];
    if (!head || !Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) {
      this.clearTimer();
      return;
    }
    this.timerHead = head;
    this.timerDeadline = performance.now() + this.timeoutMs + (this.fresh ? this.startupMs : 0);
    if (!this.timer) this.setTimer(this.timerDeadline - performance.now());
  }

  private setTimer(ms: number): void {
    this.timer = setTimeout(() => this.onTimer(), Math.max(1, Math.ceil(ms)));
    this.timer.unref?.();
  }

  private onTimer(): void {
    this.timer = undefined;
    const head = this.inflight[0];
    if (!head || !this.proc) return;
    if (head !== this.timerHead) {
      this.armTimer();
      return;
    }
    const left = this.timerDeadline - performance.now();
    if (left > 0) {
      this.setTimer(left);
      return;
    }
    this.timedOut = head;
    this.proc.kill('SIGKILL');
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerHead = undefined;
  }

  private protocolFailure(e: unknown, jobs?: Job[]): void {
    this.fatal = e;
    const proc = this.proc;
    this.procGen++;
    this.proc = undefined;
    this.clearTimer();
    proc?.kill('SIGKILL');
    for (const j of jobs ?? []) j.reject(e);
    this.failAll(e);
  }

  private failAll(e: unknown): void {
    const jobs = [...this.awaitingStderr, ...this.inflight, ...this.queue.slice(this.qHead)];
    this.awaitingStderr = [];
    this.inflight = [];
    this.queue = [];
    this.qHead = 0;
    this.inflightBytes = 0;
    for (const j of jobs) j.reject(e);
    this.maybeIdle();
  }

  private queued(): number {
    return this.queue.length - this.qHead;
  }

  private dequeue(): Job {
    const job = this.queue[this.qHead++]!;
    if (this.qHead === this.queue.length) {
      this.queue = [];
      this.qHead = 0;
    } else if (this.qHead >= 4096 && this.qHead * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.qHead);
      this.qHead = 0;
    }
    return job;
  }

  /** Put written-but-unanswered jobs back at the front, in order. */
  private requeue(jobs: Job[]): void {
    if (!jobs.length) return;
    this.queue = [...jobs, ...this.queue.slice(this.qHead)];
    this.qHead = 0;
  }

  private maybeIdle(): void {
    if (this.queued() || this.inflight.length || this.awaitingStderr.length) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }
}
