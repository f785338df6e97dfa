// The same seed gives the same cases: the first 2000 requests of seed 5 per target hash to the
// values stored in fixtures/case-hashes-seed5.json, computed with the generator as it was before
// its speed-ups (see the file's provenance). A change here changes every campaign's cases.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caseFor } from '../../src/fuzz/campaign.ts';
import { FUZZ_MODES, requestOf } from '../../src/fuzz/desc.ts';
import { REPO_ROOT } from '../../src/fuzz/run.ts';

const stored = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'case-hashes-seed5.json'), 'utf8')) as { cases: number; hashes: Record<string, string[]> };

describe.each(['x86_64', 'ppc64le', 'ppc64'] as const)('generated cases are stable (seed 5, %s)', (target) => {
  it(`the first ${stored.cases} requests hash to the stored values`, () => {
    const got: string[] = [];
    for (let k = 0; k < stored.cases; k++) {
      const h = createHash('sha256');
      try {
        const r = requestOf(caseFor(5, k, FUZZ_MODES, target, REPO_ROOT));
        h.update(r.elf);
        h.update(`${r.base}:${r.fill}:${r.symbols.map((s) => `${s.name}=${Buffer.from(s.bytes).toString('hex')}`).join(',')}`);
      } catch {
        h.update('error');
      }
      got.push(h.digest('hex').slice(0, 32));
    }
    const first = got.findIndex((x, k) => x !== stored.hashes[target]![k]);
    expect(first, `case ${first} differs`).toBe(-1);
  });
});
