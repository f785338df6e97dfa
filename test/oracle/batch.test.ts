// The generic batch runner against a fake oracle process (fixtures/fake-oracle.mjs): order of
// pipelined responses, crash → restart → resend, timeout, protocol failure, stderr attribution.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BatchOracle, type BatchOptions } from '../../src/oracle/batch.ts';
import type { LoadRequest } from '../../src/types.ts';

const FAKE = fileURLToPath(new URL('./fixtures/fake-oracle.mjs', import.meta.url));
const enc = new TextEncoder();

function fake(opts: BatchOptions = {}, args: string[] = []): BatchOracle {
  return new BatchOracle({ file: process.execPath, args: [FAKE, ...args], label: 'fake' }, opts);
}
const req = (kind: string, base = 0x1000n): LoadRequest => ({ elf: enc.encode(kind), base, fill: 0, symbols: [] });

describe('BatchOracle', () => {
  it('returns pipelined responses in request order', async () => {
    const o = fake({ maxInFlight: 16 });
    const reqs = Array.from({ length: 300 }, (_, i) => (i % 7 === 3 ? req(`Dno ${i}`) : req(`O${i}`, BigInt(i))));
    const out = await o.runMany(reqs);
    out.forEach((r, i) => {
      if (i % 7 === 3) expect(r).toEqual({ kind: 'rejected', errno: 0, message: `no ${i}` });
      else {
        expect(r.kind).toBe('ok');
        if (r.kind === 'ok') {
          expect(r.relAddr).toBe(BigInt(i));
          expect(new TextDecoder().decode(r.image)).toBe(`O${i}`);
        }
      }
    });
    expect(o.stats.starts).toBe(1);
    await o.close();
  });

  it('reports a crash for that request only, restarts and resends the rest', async () => {
    const o = fake({ maxInFlight: 8 });
    const kinds = ['O1', 'S', 'O2', 'O3', 'S', 'S', 'O4'];
    const out = await o.runMany(kinds.map((k) => req(k)));
    expect(out.map((r) => r.kind)).toEqual(['ok', 'crashed', 'ok', 'ok', 'crashed', 'crashed', 'ok']);
    expect(out[1]).toMatchObject({ kind: 'crashed', signal: 'SIGSEGV' });
    expect(o.stats).toMatchObject({ requests: 7, ok: 4, crashed: 3, starts: 4 });
    await o.close();
  });

  it('times out a hung request, then carries on', async () => {
    const o = fake({ timeoutMs: 300 });
    const out = await o.runMany([req('O1'), req('H'), req('O2')]);
    expect(out.map((r) => r.kind)).toEqual(['ok', 'timeout', 'ok']);
    expect(out[1]).toEqual({ kind: 'timeout', ms: 300 });
    await o.close();
  });

  it('fails every outstanding request on a protocol error instead of inventing a result', async () => {
    const o = fake();
    const first = o.run(req('O1'));
    const bad = o.run(req('X'));
    const after = o.run(req('O2'));
    expect((await first).kind).toBe('ok');
    await expect(bad).rejects.toThrow(/malformed.*protocol error: fake/);
    await expect(after).rejects.toThrow(/malformed/);
    await expect(o.run(req('O3'))).rejects.toThrow(/malformed/);
    o.kill();
  });

  it('attributes marked stderr to its request', async () => {
    const o = fake({ markStderr: true }, ['--mark-stderr']);
    const out = await o.runMany([req('O1'), req('E'), req('O2')]);
    expect(out[0]).not.toHaveProperty('diagnostics');
    expect(out[1]).toMatchObject({ kind: 'ok', diagnostics: 'runtime error: fake finding\n' });
    expect(out[2]).not.toHaveProperty('diagnostics');
    await o.close();
  });

  it('sends a repeated ELF once with FLAG_SAME_ELF, and in full again after a restart', async () => {
    const o = fake({ sameElf: true });
    const c = enc.encode('C-elf');
    const copy = c.slice();
    const out = await o.runMany([req('O1'), { ...req('x'), elf: c }, { ...req('x'), elf: copy }, { ...req('x'), elf: c }]);
    // the 3rd and 4th carry the same bytes as the 2nd (the 3rd as a different array)
    expect(out.slice(1).map((r) => (r.kind === 'rejected' ? r.message : r.kind))).toEqual(['same-elf 0', 'same-elf 1', 'same-elf 2']);
    const after = await o.runMany([req('S'), { ...req('x'), elf: c }]);
    expect(after[0]!.kind).toBe('crashed');
    expect(after[1]).toMatchObject({ kind: 'rejected', message: 'same-elf 0' }); // new process: full ELF
    await o.close();
  });

  it('reports an oracle that cannot start as an error, not as a crash', async () => {
    const o = new BatchOracle({ file: '/nonexistent/oracle', args: [], label: 'missing' });
    await expect(o.run(req('O'))).rejects.toThrow(/cannot start/);
  });

  it('close() sends PEND after the outstanding work and the process exits', async () => {
    const o = fake();
    const p = o.runMany([req('O1'), req('O2')]);
    await o.close();
    expect((await p).map((r) => r.kind)).toEqual(['ok', 'ok']);
    await expect(o.run(req('O3'))).rejects.toThrow(/closed/);
  });
});
