// Which live oracles a plain validate/gate opens: the released ones only; every build (local
// trees included, never the sanitizer builds) when oracles are named. On a throw-away cache of
// fake builds: opening is lazy, so no process starts.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLiveOracles } from '../../src/validate/live.ts';
import { oracleId } from '../../src/validate/references.ts';

const cache = mkdtempSync(join(tmpdir(), 'po-live-select-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

function fake(dirName: string, info: Record<string, unknown>): void {
  const dir = join(cache, 'build', dirName);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'build.json'), JSON.stringify(info));
  writeFileSync(join(dir, 'oracle'), '#!/bin/sh\nexit 1\n');
  chmodSync(join(dir, 'oracle'), 0o755);
}
const kt = (version: string, extra: Record<string, unknown> = {}) => ({ oracle: 'kexec-tools', version, target: 'x86_64', sanitize: false, info: {}, ...extra });
fake('kexec-tools-2.0.25-x86_64', kt('2.0.25'));
fake('kexec-tools-2.0.25-x86_64-sanitize', kt('2.0.25', { sanitize: true }));
fake('kexec-tools-2.0.32+git-1234567-x86_64', kt('2.0.32+git-1234567', { local: true }));
fake('kexec-tools-unknown-local-0123456789ab-x86_64', kt('unknown-local-0123456789ab'));
fake('kexec-tools-2.0.32-x86_64', kt('2.0.32', { local: true })); // a tree at 2.0.32 built by path: still local
fake('kernel-6.1-x86_64', { kernelVersion: '6.1', variant: 'x86_64', pageSize: 4096, source: 'debian', packageVersion: '6.1.176-1' });

async function ids(sel?: { all?: boolean }): Promise<string[]> {
  const saved = process.env.PURGATORY_ORACLE_CACHE;
  process.env.PURGATORY_ORACLE_CACHE = cache;
  try {
    const live = await openLiveOracles(sel);
    await Promise.all(live.map((l) => l.close()));
    return live.map((l) => oracleId(l.oracle)).sort();
  } finally {
    process.env.PURGATORY_ORACLE_CACHE = saved;
  }
}

describe('openLiveOracles', () => {
  it('by default: the released builds only (no local tree, no sanitizer build)', async () => {
    expect(await ids()).toEqual(['kernel-6.1/x86_64', 'kexec-tools-2.0.25/x86_64']);
  });

  it('all: every build but the sanitizer ones, local trees included', async () => {
    expect(await ids({ all: true })).toEqual([
      'kernel-6.1/x86_64', 'kexec-tools-2.0.25/x86_64', 'kexec-tools-2.0.32+git-1234567/x86_64', 'kexec-tools-2.0.32/x86_64', 'kexec-tools-unknown-local-0123456789ab/x86_64',
    ]);
  });
});
