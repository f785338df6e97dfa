// INTERIM: a minimal batch runner for oracle/PROTOCOL.md, used by src/oracle/kernel.ts only until
// the project's generic batch runner (helper A's, in src/oracle/) lands; then kernel.ts switches to
// it and this file is deleted. Kept deliberately small: pipelined requests over one process,
// crash/timeout of the oldest outstanding request, restart and resend of the rest.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { RefOutcome } from '../compare/compare.ts';
import type { LoadRequest } from '../types.ts';

const REQ_MAGIC = 0x51524f50;
const END_MAGIC = 0x444e4550;
const RESP_MAGIC = 0x53524f50;

/** Encode one request record (header included), every integer little-endian. */
export function encodeRequest(id: number, req: LoadRequest): Uint8Array {
  const enc = new TextEncoder();
  const syms = req.symbols.map((s) => ({ name: enc.encode(s.name), bytes: s.bytes }));
  const symLen = syms.reduce((n, s) => n + 8 + s.name.length + s.bytes.length, 0);
  const body = 36 + req.elf.length + symLen;
  const out = new Uint8Array(8 + body);
  const v = new DataView(out.buffer);
  v.setUint32(0, REQ_MAGIC, true);
  v.setUint32(4, body, true);
  v.setUint32(8, id, true);
  v.setUint32(12, 0, true);
  v.setBigUint64(16, BigInt.asUintN(64, req.base), true);
  out[24] = req.fill & 0xff;
  v.setUint32(28, syms.length, true);
  v.setUint32(32, req.elf.length, true);
  out.set(req.elf, 36);
  let o = 36 + req.elf.length;
  for (const s of syms) {
    v.setUint32(o, s.name.length, true);
    out.set(s.name, o + 4);
    o += 4 + s.name.length;
    v.setUint32(o, s.bytes.length, true);
    out.set(s.bytes, o + 4);
    o += 4 + s.bytes.length;
  }
  return out;
}

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** Decode one response body (after magic and length). */
export function decodeResponse(rec: Uint8Array): { id: number; outcome: RefOutcome } {
  const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  const need = (n: number, what: string): void => {
    if (n > rec.length) throw new ProtocolError(`response too short for ${what} (${rec.length} bytes)`);
  };
  need(8, 'id and status');
  const id = v.getUint32(0, true);
  const status = v.getUint32(4, true);
  if (status === 1) {
    need(16, 'errno and msg_len');
    const len = v.getUint32(12, true);
    need(16 + len, 'message');
    const message = new TextDecoder().decode(rec.subarray(16, 16 + len));
    return { id, outcome: { kind: 'rejected', errno: v.getInt32(8, true), message } };
  }
  if (status !== 0) throw new ProtocolError(`unknown status ${status}`);
  need(44, 'fixed ok fields');
  const shnum = v.getUint32(40, true);
  need(44 + 8 * shnum + 4, 'sh_addr');
  const shAddr: bigint[] = [];
  for (let i = 0; i < shnum; i++) shAddr.push(v.getBigUint64(44 + 8 * i, true));
  const o = 44 + 8 * shnum;
  const ilen = v.getUint32(o, true);
  need(o + 4 + ilen, 'image');
  return {
    id,
    outcome: {
      kind: 'ok', relAddr: v.getBigUint64(8, true), relSize: v.getBigUint64(16, true),
      entry: v.getBigUint64(24, true), hostBuf: v.getBigUint64(32, true), shAddr,
      image: rec.slice(o + 4, o + 4 + ilen),
    },
  };
}

export interface InterimRunnerOptions {
  /** Per-request time limit, from when it becomes the oldest outstanding request. */
  timeoutMs?: number;
}

/** One oracle process at a time; runMany pipelines a batch through it. */
export class InterimBatchRunner {
  private proc: ChildProcessWithoutNullStreams | null = null;
  private buf = new Uint8Array(0);
  private stderrTail = '';
  private nextId = 1;
  private readonly timeoutMs: number;

  constructor(private readonly binary: string, private readonly args: string[] = [], opts: InterimRunnerOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async runMany(reqs: LoadRequest[]): Promise<RefOutcome[]> {
    const results: RefOutcome[] = new Array(reqs.length);
    let next = 0;
    while (next < reqs.length) next = await this.runFrom(reqs, next, results);
    return results;
  }

  /** Sends reqs[from..] and collects answers until the batch ends or the process dies. */
  private runFrom(reqs: LoadRequest[], from: number, results: RefOutcome[]): Promise<number> {
    return new Promise((resolveBatch, rejectBatch) => {
      const proc = this.ensureProcess();
      const ids = reqs.slice(from).map(() => this.nextId++);
      let done = from;
      let timer: NodeJS.Timeout | undefined;
      const arm = (): void => {
        clearTimeout(timer);
        if (done < reqs.length) timer = setTimeout(onTimeout, this.timeoutMs);
      };
      const finish = (next: number): void => {
        clearTimeout(timer);
        proc.stdout.off('data', onData);
        proc.off('exit', onExit);
        resolveBatch(next);
      };
      const onData = (chunk: Buffer): void => {
        const merged = new Uint8Array(this.buf.length + chunk.length);
        merged.set(this.buf);
        merged.set(chunk, this.buf.length);
        this.buf = merged;
        try {
          while (this.buf.length >= 8) {
            const v = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
            if (v.getUint32(0, true) !== RESP_MAGIC) throw new ProtocolError('bad response magic');
            const len = v.getUint32(4, true);
            if (this.buf.length < 8 + len) break;
            const { id, outcome } = decodeResponse(this.buf.subarray(8, 8 + len));
            this.buf = this.buf.slice(8 + len);
            if (id !== ids[done - from]) throw new ProtocolError(`response id ${id}, expected ${ids[done - from]}`);
            results[done++] = outcome;
            arm();
          }
        } catch (e) {
          this.kill();
          clearTimeout(timer);
          rejectBatch(e);
          return;
        }
        if (done === reqs.length) finish(done);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        this.proc = null;
        this.buf = new Uint8Array(0);
        if (done < reqs.length) {
          const message = this.stderrTail.trim() || undefined;
          results[done] = { kind: 'crashed', signal: signal ?? `exit ${code}`, ...(message ? { message } : {}) };
          done++;
        }
        finish(done);
      };
      const onTimeout = (): void => {
        results[done] = { kind: 'timeout', ms: this.timeoutMs };
        done++;
        proc.stdout.off('data', onData);
        proc.off('exit', onExit);
        proc.once('exit', () => resolveBatch(done));
        this.kill();
      };
      proc.stdout.on('data', onData);
      proc.on('exit', onExit);
      this.stderrTail = '';
      for (let i = from; i < reqs.length; i++) proc.stdin.write(encodeRequest(ids[i - from]!, reqs[i]!));
      arm();
      if (from === reqs.length) finish(from);
    });
  }

  private ensureProcess(): ChildProcessWithoutNullStreams {
    if (this.proc) return this.proc;
    const p = spawn(this.binary, this.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    p.stdin.on('error', () => { /* EPIPE after a crash: reported through 'exit' */ });
    p.stderr.on('data', (c: Buffer) => { this.stderrTail = (this.stderrTail + c.toString('utf8')).slice(-4096); });
    this.proc = p;
    return p;
  }

  private kill(): void {
    this.proc?.kill('SIGKILL');
    this.proc = null;
    this.buf = new Uint8Array(0);
  }

  async close(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = null;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      const end = new Uint8Array(8);
      new DataView(end.buffer).setUint32(0, END_MAGIC, true);
      p.stdin.end(end);
      setTimeout(() => p.kill('SIGKILL'), 2000).unref();
    });
  }
}
